"""The half-year report (半年报告) to the office's leaders, and the yearly report section.

Both read ``stats`` over the period as of now (``half_year_report`` / ``year_stats`` and the
record lists): progress (completion and flags), what went well (commended units, innovations),
the problems (units with repeated yellow flags, late and returned work, enforcement incidents),
and a per-unit table as the attachment. The yearly section (推进情况、工作经验和存在的问题, for
the office's yearly report on law-based administration, item 五 of the 分析评价 system) is a draft
without number or signature.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from bot.core.env import ServiceEnv
from bot.domain.gongwen import AttachmentStart, Block, Document, Outline, Paragraph, cn_date
from bot.services import doc_common as common
from bot.services import stats
from storage.models import Dynamic, Unit

KIND_HALF = "halfyear"
KIND_YEARLY = "yearly"
TABLE_TITLE = "各单位工作推进情况统计表"
TOP = common.TOP


@dataclass(frozen=True, slots=True)
class _Period:
    """What the statistics say about a period, for the sections below."""

    label: str
    tasks: int
    units: list[stats.UnitYearStats]
    lines: list[stats.ScoreLine]
    late: list[stats.LateAssignment]
    returns: list[stats.ReturnedVersion]


def _progress(o: Outline, p: _Period) -> list[Block]:
    completion = sum((u.completion for u in p.units), start=stats.Completion())
    flags = sum((u.flags for u in p.units), start=stats.FlagCounts())
    out: list[Block] = [
        o.h(2, "任务完成情况"),
        Paragraph(f"{p.label}，" + common.completion_sentence(completion, p.tasks)),
    ]
    kinds = common.kind_summary(p.units)
    if kinds:
        out.append(Paragraph("分类别看，" + "，".join(kinds) + "。"))
    out += [o.h(2, "旗帜标注情况"), Paragraph(common.flags_sentence(flags))]
    return out


def _good(env: ServiceEnv, o: Outline, p: _Period) -> list[Block]:
    commended = stats.units_by_flag(p.units, "red")
    innovations = [x for x in p.lines if x.points > 0]
    out: list[Block] = [o.h(2, "成效显著的单位")]
    out.append(Paragraph(f"{len(commended)}个单位被标注红旗：{common.named(commended, '红旗')}。"
                         if commended else "没有被标注红旗的单位。"))
    out.append(o.h(2, "创新举措"))
    out.append(Paragraph(f"认定创新举措{len(innovations)}项："
                         + "；".join(common.score_lines(innovations, env, bonus=True)) + "。"
                         if innovations else "没有认定的创新举措。"))
    return out


def _problems(env: ServiceEnv, o: Outline, p: _Period) -> list[Block]:
    repeated = stats.units_by_flag(p.units, "yellow", stats.REPEATED_YELLOW)
    late_units = common.units_by_count(p.late)
    late_in = sum(1 for a in p.late if a.first_at is not None)
    incidents = [x for x in p.lines if x.points < 0]
    reasons = Counter(r.reason.strip().rstrip("。") or "未说明" for r in p.returns)
    out: list[Block] = [o.h(2, "多次被标注黄旗的单位")]
    out.append(Paragraph(
        f"{len(repeated)}个单位被标注黄旗{stats.REPEATED_YELLOW}面及以上：{common.named(repeated, '黄旗')}。"
        if repeated else f"没有被标注黄旗{stats.REPEATED_YELLOW}面及以上的单位。"))
    out.append(o.h(2, "逾期和退回情况"))
    text = (f"逾期报送{late_in}项，到期仍未报送{len(p.late) - late_in}项，"
            f"涉及{len(late_units)}个单位"
            + (f"，其中较多的是：{'、'.join(f'{u.name}（{u.count}项）' for u in late_units[:TOP])}"
               if late_units else "") + "。")
    text += f"材料被退回{len(p.returns)}次"
    if reasons:
        text += "，退回原因主要是：" + "；".join(f"{r}（{n}次）" for r, n in reasons.most_common(5))
    out.append(Paragraph(text + "。"))
    out.append(o.h(2, "执法问题"))
    out.append(Paragraph(f"通报批评粗暴执法、野蛮执法、趋利执法等问题{len(incidents)}起："
                         + "；".join(common.score_lines(incidents, env, bonus=False)) + "。"
                         if incidents else "没有通报批评的执法问题。"))
    return out


def build_halfyear(conn: Connection, env: ServiceEnv, year: int, half: int, now: datetime
                   ) -> Document:
    cfg = env.settings.documents
    report, units = stats.half_year_detail(conn, env, year, half, now=now)
    window = report.window
    late = stats.late_assignments(conn, window, now)
    returns = stats.returned_versions(conn, window)
    period = _Period(report.label, report.tasks, units,
                     [*report.innovations, *report.incidents], late, returns)
    o = Outline()
    today = common.today(env, now)
    as_of = "" if now >= window.end else f"（统计截至{cn_date(today)}）"
    body: list[Block] = [Paragraph(
        "根据《全省推进服务型行政执法建设四项工作制度（试行）》关于每半年汇报工作推进情况的要求，"
        f"现将{report.label}全省服务型行政执法建设工作推进情况报告如下{as_of}。")]
    body.append(o.h(1, "工作推进情况"))
    body += _progress(o, period)
    body.append(o.h(1, "工作成效"))
    body += _good(env, o, period)
    body.append(o.h(1, "存在的问题"))
    body += _problems(env, o, period)
    body += [o.h(1, "下一步工作打算"),
             Paragraph("对多次被标注黄旗、任务逾期较多的单位，下发督导建议书，督促限期整改，"
                       "必要时开展现场督导。"),
             Paragraph("总结推广创新举措和成效显著单位的经验做法，发挥示范带动作用。"),
             Paragraph("继续按月跟踪年度工作方案任务进度，定期通报，确保全年任务按时完成。")]
    body.append(Paragraph("特此报告。"))
    return Document(
        kind=KIND_HALF,
        title=common.two_line_title(f"关于{report.label}全省服务型行政执法",
                                    "建设工作推进情况的报告"),
        body=tuple(body),
        mark=cfg.mark, addressee=cfg.halfyear_to, attachment_note=(TABLE_TITLE,),
        signature=cfg.issuer, date=today, seal=cfg.seal,
        attachments=(AttachmentStart("附件", TABLE_TITLE),
                     Paragraph(f"统计范围：截止时间在{report.label}的任务；"
                               f"统计时间：{cn_date(today)}。"),
                     common.unit_table(units), Paragraph(common.UNIT_TABLE_NOTE)),
        copy_to=cfg.copy_to, printer=cfg.issuer, print_date=today,
        meta={"year": year, "half": half, "as_of": now.isoformat()},
    )


def build_yearly(conn: Connection, env: ServiceEnv, year: int, now: datetime) -> Document:
    window = stats.year_window(env, year)
    units = stats.unit_stats(conn, env, window, now=now)
    late = stats.late_assignments(conn, window, now)
    returns = stats.returned_versions(conn, window)
    lines = stats.score_lines(conn, window)
    n_tasks = stats.count_tasks(conn, window)
    featured = conn.execute(
        select(Unit.name, Dynamic.text).join(Unit, Unit.id == Dynamic.unit_id)
        .where(Dynamic.status == "featured", Dynamic.created_at >= window.start,
               Dynamic.created_at < window.end)
        .order_by(Dynamic.created_at, Dynamic.id)
    ).all()
    period = _Period(window.label, n_tasks, units, lines, late, returns)
    o = Outline()
    body: list[Block] = [o.h(1, "推进情况"), *_progress(o, period), o.h(1, "工作经验"),
                         *_good(env, o, period)]
    if featured:
        snippets = [f"{name}：{' '.join(text.split())[:40]}" for name, text in featured[:TOP]]
        body.append(o.h(2, "经验交流"))
        body.append(Paragraph(f"精选推送工作动态{len(featured)}条，"
                              "如" + "；".join(snippets) + "。"))
    body += [o.h(1, "存在的问题"), *_problems(env, o, period)]
    return Document(kind=KIND_YEARLY, title=f"{year}年服务型行政执法建设工作推进情况",
                    body=tuple(body), date=None,
                    meta={"year": year, "as_of": now.isoformat()})
