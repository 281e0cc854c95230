"""The supervision recommendation letter (督导建议书) to a slow unit, as an official document.

It names, for the unit and the year so far (counted as ``stats`` counts): every yellow flag and
its reason, every assignment whose deadline passed without a version by then and how late, every
returned version and why, every rectification item (整改) due in the year that the unit still
owes — those past their deadline (``stats.overdue_rectifications``, the export's count) with how
late, the others as still within their time; then the demands (补报, 修改, 说明原因, 整改) and
the reply deadline (``bulletins.LETTER_REPLY_WORKDAYS`` working days).

The demands are also kept as data (``Document.meta["demands"]``, each with its text and due
date, and ``meta["reply_by"]``): when the letter is issued, the programme issue's rectification
items (整改) are created from them — see ``after_issue`` in ``bot/services/drafting.py``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from bot.core.env import ServiceEnv
from bot.domain.errors import InvalidInput
from bot.domain.gongwen import (
    Block,
    Document,
    Outline,
    Paragraph,
    cn_date,
    lateness,
    numbered_items,
)
from bot.domain.rectifications import RectState
from bot.services import doc_common as common
from bot.services import stats
from bot.services import units as units_svc
from bot.services.bulletins import LETTER_REPLY_WORKDAYS
from bot.services.rectifications import RectInfo

KIND = "letter"


def build(conn: Connection, env: ServiceEnv, unit_id: int, now: datetime, *,
          year: int | None = None) -> Document:
    unit = units_svc.get(conn, unit_id)
    cfg = env.settings.documents
    today = common.today(env, now)
    window = stats.year_window(env, year or today.year)
    ids = [unit_id]
    row = next(iter(stats.unit_stats(conn, env, window, now=now, unit_ids=ids)), None)
    c = row.completion if row else stats.Completion()
    yellow = stats.flag_lines(conn, window, colors=("yellow",), unit_ids=ids)
    late = stats.late_assignments(conn, window, now, unit_ids=ids)
    returns = stats.returned_versions(conn, window, unit_ids=ids)
    owed = [i for i in stats.rectifications(conn, window, unit_ids=ids)
            if RectState(i.status).owed]
    overdue = stats.overdue_rectifications(owed, now)
    pending = [i for i in owed if i not in overdue]
    if not (yellow or late or returns or overdue):
        raise InvalidInput(f"{unit.name}{window.label}没有黄旗、逾期、退回或逾期整改记录，无需督导建议书",
                           log=f"letter for unit {unit_id}: nothing to criticise")
    reply_by = env.calendar.add_workdays(today, LETTER_REPLY_WORKDAYS)
    late_in = [a for a in late if a.first_at is not None]
    missing = [a for a in late if a.first_at is None]
    # The returned versions still waiting for a new one (what Completion.returned counts).
    still_returned = list(dict.fromkeys(r.title for r in returns if r.waiting))
    o = Outline()
    body: list[Block] = [Paragraph(
        f"根据全省推进服务型行政执法建设“四项工作制度”，经督促检查，你单位{window.label}"
        "服务型行政执法建设工作存在以下问题，现提出督导建议如下。")]
    body.append(o.h(1, "存在的问题"))
    body.append(Paragraph(
        f"{window.label}，你单位承担督导任务{c.assigned}项，其中已到截止时间{c.due}项；"
        f"按时报送{c.on_time_due}项，逾期报送{len(late_in)}项，到期仍未报送{len(missing)}项；"
        f"材料被退回{len(returns)}次；被标注黄旗{len(yellow)}面。"))
    if yellow:
        # A yellow flag on a task that is late or missing is that task's entry in the list
        # below (with how late it is): it is counted here, not listed twice.
        late_tasks = {a.task_id for a in late}
        on_late = [f for f in yellow if f.task_id in late_tasks]
        others = [f for f in yellow if f.task_id not in late_tasks]
        body.append(o.h(2, f"被标注黄旗{len(yellow)}面"))
        if on_late:
            body.append(Paragraph(f"其中{len(on_late)}面为任务逾期或未报送所记，逐项见“未按时报送”部分"
                                  + ("；其余：" if others else "。")))
        body += numbered_items([_flag_text(env, f) for f in others])
    if late:
        body.append(o.h(2, f"未按时报送{len(late)}项"))
        body += numbered_items([common.late_text(env, a, now) + "。" for a in late])
    if returns:
        body.append(o.h(2, f"材料被退回{len(returns)}次"))
        body += numbered_items([common.return_text(env, r) + "。" for r in returns])
    if overdue:
        body.append(o.h(2, f"整改事项逾期未完成{len(overdue)}项"))
        body += numbered_items([_overdue_text(env, i, now) for i in overdue])
    if pending:
        if not overdue:
            body.append(o.h(2, f"整改事项尚未完成{len(pending)}项"))
        body.append(Paragraph(("另有" if overdue else "")
                              + f"整改事项{len(pending)}项尚在整改期限内："
                              + "；".join(_rect_head(env, i) for i in pending) + "。"))

    demands = _demands(missing, still_returned, late, overdue, reply_by)
    body.append(o.h(1, "督导建议"))
    body += numbered_items([d for d, _ in demands])
    body.append(o.h(1, "回复要求"))
    body.append(Paragraph(
        f"请于{cn_date(reply_by)}前将整改落实情况书面报送{cfg.issuer}。"
        "经督促指导后按要求纠正的，黄旗可改为蓝旗。"))
    return Document(
        kind=KIND, title=common.two_line_title(f"关于{unit.name}推进服务型行政执法",
                                               "建设工作的督导建议书"),
        body=tuple(body), mark=cfg.mark, addressee=f"{unit.name}{cfg.letter_to_suffix}",
        signature=cfg.issuer, date=today, seal=cfg.seal, copy_to=cfg.letter_copy_to,
        printer=cfg.issuer, print_date=today,
        meta={"unit_id": unit_id, "unit": unit.name, "reply_by": reply_by.isoformat(),
              "demands": [{"text": d, "due": due.isoformat()} for d, due in demands],
              "window": [window.start.isoformat(), window.end.isoformat()],
              "as_of": now.isoformat()},
    )


def _flag_text(env: ServiceEnv, f: stats.FlagLine) -> str:
    reason = f.reason.strip().rstrip("。") or "未按时完成，需要督促指导"
    if f.title is not None and f.due is not None:
        return f"《{f.title}》（{common.md(env, f.due)}截止）：{reason}。"
    return f"{reason}（{common.md(env, f.set_at)}记录）。"


def _rect_head(env: ServiceEnv, i: RectInfo) -> str:
    """#R3“台账不全”（11月30日截止，已退回，退回原因：缺少附件）."""
    why = f"，退回原因：{i.reason.strip().rstrip('。')}" if i.status == RectState.RETURNED else ""
    return f"{i.number}“{i.text.strip().rstrip('。')}”（{common.md(env, i.due)}截止，{i.label}{why}）"


def _overdue_text(env: ServiceEnv, i: RectInfo, now: datetime) -> str:
    """… 至12月31日仍未报送整改情况，已逾期31天."""
    again = "重新" if i.status == RectState.RETURNED else ""
    return (f"{_rect_head(env, i)}至{common.md(env, now)}仍未{again}报送整改情况，"
            f"已逾期{lateness(now - i.due)}。")


def _demands(missing: list[stats.LateAssignment], returned: list[str],
             late: list[stats.LateAssignment], overdue: list[RectInfo],
             reply_by: date) -> list[tuple[str, date]]:
    """What the unit is asked to do, each by the reply deadline."""
    by = cn_date(reply_by)
    out: list[tuple[str, date]] = []
    if missing:
        titles = "".join(f"《{a.title}》" for a in missing)
        out.append((f"于{by}前补报{titles}{'等' if len(missing) > 1 else ''}"
                    f"{len(missing)}项材料。", reply_by))
    if returned:
        titles = "".join(f"《{t}》" for t in returned)
        out.append((f"按退回意见修改{titles}，于{by}前重新报送。", reply_by))
    if overdue:
        numbers = "、".join(i.number for i in overdue)
        out.append((f"于{by}前完成整改事项{numbers}的整改，并报送整改情况。", reply_by))
    if late:
        out.append(("书面说明上述任务未按时完成的原因，明确责任领导和具体责任人，逐项制定整改措施。",
                    reply_by))
    out.append(("举一反三，建立本单位督导任务台账，确保后续任务按时保质完成。", reply_by))
    return out
