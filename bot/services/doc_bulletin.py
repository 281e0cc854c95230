"""The progress bulletin (通报) as an official document, from a weekly bulletin draft.

The bulletin covers the year up to the moment its draft was made (the deadlines from 1 January
to then), counted as the statistics count (``stats.unit_stats`` over that window, as of now):
the overall figures, 表扬 (units with red flags, innovations) and 通报批评 (units with yellow
flags, each late assignment and by how much, each return and why, enforcement incidents), and a
per-unit table as its attachment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bot.core.env import ServiceEnv
from bot.domain import periods
from bot.domain.errors import InvalidInput
from bot.domain.gongwen import (
    AttachmentStart,
    Block,
    Document,
    Outline,
    Paragraph,
    cn_date,
    cn_month_day,
)
from bot.services import bulletins as bulletins_svc
from bot.services import doc_common as common
from bot.services import stats

KIND = "bulletin"
NAMES = 30  # units named in one list before "等N个单位" (as the chat bulletin)
TABLE_TITLE = "各单位工作推进情况统计表"


def bulletin_window(env: ServiceEnv, drafted_at: datetime) -> stats.Window:
    local = env.local(drafted_at)
    start = datetime(local.year, 1, 1, tzinfo=env.tz)
    return stats.Window(start, drafted_at,
                        f"{local.year}年1月1日至{local.month}月{local.day}日")


def week_window(env: ServiceEnv, drafted_at: datetime) -> stats.Window:
    """The bulletin's week: from Monday 00:00 to the moment its draft was made."""
    start = bulletins_svc.week_start(env, drafted_at)
    first, last = env.local(start).date(), env.local(drafted_at).date()
    return stats.Window(start, drafted_at, f"本周（{cn_month_day(first)}至{cn_month_day(last)}）")


def _week(period: str) -> periods.Period | None:
    """The ISO week a weekly bulletin was drafted in (its ``period``), if it names one."""
    try:
        found = periods.parse(period)
    except InvalidInput:
        return None
    return found if found.kind is periods.PeriodKind.WEEK else None


def build(conn: Connection, env: ServiceEnv, bulletin_id: int, now: datetime) -> Document:
    b = bulletins_svc.get(conn, bulletin_id)
    if b.kind != bulletins_svc.KIND_WEEKLY:
        hint = "督导建议书请用 dudao doc letter --unit 单位 生成" if b.kind == "letter" else ""
        raise InvalidInput(f"通报 {bulletin_id} 不是进度通报（类别：{b.kind}），不能生成通报文件。{hint}",
                           log=f"bulletin {bulletin_id} is a {b.kind}")
    cfg = env.settings.documents
    window = bulletin_window(env, b.created_at)
    units = stats.unit_stats(conn, env, window, now=now)
    late = stats.late_assignments(conn, window, now)
    returns = stats.returned_versions(conn, window)
    lines = stats.score_lines(conn, window)
    n_tasks = stats.count_tasks(conn, window)
    completion = sum((u.completion for u in units), start=stats.Completion())
    flags = sum((u.flags for u in units), start=stats.FlagCounts())
    commended = stats.units_by_flag(units, "red")
    yellow = stats.units_by_flag(units, "yellow")
    drafted_in = _week(b.period)
    subject = f"关于{(drafted_in or window).label}服务型行政执法"
    o = Outline()
    body: list[Block] = [Paragraph(
        f"根据全省推进服务型行政执法建设“四项工作制度”督促检查安排，现将{window.label}"
        "各单位服务型行政执法建设工作推进情况通报如下。")]
    body += [o.h(1, "总体情况"), Paragraph(
        f"{window.label}，" + common.completion_sentence(completion, n_tasks)
        + common.flags_sentence(flags))]
    kinds = common.kind_summary(units)
    if kinds:
        body.append(Paragraph("分类别看，" + "，".join(kinds) + "。"))

    body.append(o.h(1, "表扬"))
    body.append(o.h(2, "按时完成、成效显著的单位"))
    if commended:
        body.append(Paragraph(
            f"以下{len(commended)}个单位按时完成任务、成效显著，被标注红旗："
            f"{common.named(commended, '红旗', NAMES)}。"))
    else:
        body.append(Paragraph("本期没有被标注红旗的单位。"))
    innovations = [x for x in lines if x.points > 0]
    body.append(o.h(2, "创新举措"))
    if innovations:
        body.append(Paragraph(f"以下{len(innovations)}项创新举措被认定并加分："
                              + "；".join(common.score_lines(innovations, env, bonus=True))
                              + "。"))
    else:
        body.append(Paragraph("本期没有认定的创新举措。"))
    if commended or innovations:
        body.append(Paragraph("对上述单位予以通报表扬。"))

    body.append(o.h(1, "通报批评"))
    body.append(o.h(2, "被标注黄旗的单位"))
    if yellow:
        body.append(Paragraph(f"以下{len(yellow)}个单位未按时完成任务，被标注黄旗："
                              f"{common.named(yellow, '黄旗', NAMES)}。"))
    else:
        body.append(Paragraph("本期没有被标注黄旗的单位。"))
    body.append(o.h(2, "逾期和退回情况"))
    late_in = sum(1 for a in late if a.first_at is not None)
    missing = common.units_by_count(a for a in late if a.first_at is None)
    text = (f"{window.label}，逾期报送{late_in}项，到期仍未报送{len(late) - late_in}项，"
            f"材料被退回{len(returns)}次")
    if missing:
        text += ("；仍未报送较多的单位：" + "、".join(f"{u.name}（{u.count}项）"
                                                    for u in missing[:common.TOP]))
    body.append(Paragraph(text + "。"))
    # Each late assignment and return by name, for the tasks due this week (the year's would
    # run to hundreds of lines with 300 units; its figures are above and per unit attached).
    week = week_window(env, b.created_at)
    week_late = stats.late_assignments(conn, week, now)
    week_returns = stats.returned_versions(conn, week)
    per_unit = common.by_unit(env, week_late, week_returns, now)
    if per_unit:
        body.append(Paragraph(f"{week.label}截止的任务中，逾期或被退回的情况如下："))
        body += [Paragraph(f"{unit}：" + "；".join(items) + "。") for unit, items in per_unit]
    else:
        body.append(Paragraph(f"{week.label}截止的任务没有逾期或被退回的情况。"))
    incidents = [x for x in lines if x.points < 0]
    if incidents:
        body.append(o.h(2, "执法问题"))
        body.append(Paragraph(f"以下{len(incidents)}起粗暴执法、野蛮执法、趋利执法等问题被通报批评并扣分："
                              + "；".join(common.score_lines(incidents, env, bonus=False))
                              + "。"))
    if yellow or late or returns or incidents or per_unit:
        body.append(Paragraph("对上述单位予以通报批评。请相关单位认真分析原因，抓紧补报、按要求修改，"
                              "经督促指导后按要求纠正的，黄旗可改为蓝旗。"))

    body.append(o.h(1, "工作要求"))
    body += [
        Paragraph("各单位要对照年度工作方案，逐项梳理尚未完成的任务，明确责任人和完成时限，"
                  "确保按时保质完成。"),
        Paragraph("各单位报送的材料要符合任务要求，被退回的材料要按退回意见认真修改后重新报送。"),
    ]
    today = common.today(env, now)
    return Document(
        kind=KIND, title=common.two_line_title(subject, "建设工作推进情况的通报"),
        body=tuple(body), mark=cfg.mark, addressee=cfg.bulletin_to,
        attachment_note=(TABLE_TITLE,), signature=cfg.issuer, date=today, seal=cfg.seal,
        attachments=(AttachmentStart("附件", TABLE_TITLE),
                     Paragraph(f"统计范围：截止时间在{window.label}的任务；统计时间：{cn_date(today)}。"),
                     common.unit_table(units), Paragraph(common.UNIT_TABLE_NOTE)),
        copy_to=cfg.copy_to, printer=cfg.issuer, print_date=today,
        meta={"window": [window.start.isoformat(), window.end.isoformat()],
              "bulletin_id": bulletin_id, "as_of": now.isoformat()},
    )
