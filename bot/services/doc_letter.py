"""The supervision recommendation letter (督导建议书) to a slow unit, as an official document.

It names, for the unit and the year so far (counted as ``stats`` counts): every yellow flag and
its reason, every assignment whose deadline passed without a version by then and how late, every
returned version and why; then the demands (补报, 修改, 说明原因, 整改) and the reply deadline
(``bulletins.LETTER_REPLY_WORKDAYS`` working days).

The demands are also kept as data (``Document.meta["demands"]``, each with its text and due
date, and ``meta["reply_by"]``): when the letter is issued, the programme issue's rectification
items (整改) are created from them — see ``after_issue`` in ``bot/services/drafting.py``. Overdue
rectifications will join the problems listed here once that feature exists.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from bot.core.env import ServiceEnv
from bot.domain.errors import InvalidInput
from bot.domain.gongwen import Block, Document, Outline, Paragraph, cn_date, numbered_items
from bot.services import doc_common as common
from bot.services import stats
from bot.services import units as units_svc
from bot.services.bulletins import LETTER_REPLY_WORKDAYS

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
    if not (yellow or late or returns):
        raise InvalidInput(f"{unit.name}{window.label}没有黄旗、逾期或退回记录，无需督导建议书",
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

    demands = _demands(missing, still_returned, late, reply_by)
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


def _demands(missing: list[stats.LateAssignment], returned: list[str],
             late: list[stats.LateAssignment], reply_by: date) -> list[tuple[str, date]]:
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
    if late:
        out.append(("书面说明上述任务未按时完成的原因，明确责任领导和具体责任人，逐项制定整改措施。",
                    reply_by))
    out.append(("举一反三，建立本单位督导任务台账，确保后续任务按时保质完成。", reply_by))
    return out
