"""Reminders for rectification items, by the task rules (DESIGN §4 "Reminders"): the same
working-day stages (``bot/domain/reminders.py``), only while the unit owes the item (open or
returned), to the unit's group (bot/services/unit_notify.py). Each (item, stage) is claimed in
``rectification_reminders`` in the transaction that writes the message, so a repeated tick, a
restart or a second process sends nothing new (bot/services/ledger.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from bot.core.env import ServiceEnv
from bot.domain.rectifications import RectState
from bot.domain.reminders import (
    Assignment,
    DueReminder,
    deadline_window,
    is_pre_deadline,
    reminders_due,
)
from bot.services import ledger, unit_notify
from bot.services.reminders import default_policy
from storage.models import Rectification, RectificationReminder, Unit

log = logging.getLogger("dudao.rectify")

CAUSE = "rectification:{}"


@dataclass(frozen=True, slots=True)
class RectSweepResult:
    at: datetime
    claimed: tuple[DueReminder, ...] = ()
    messages: int = 0


def sweep(conn: Connection, env: ServiceEnv, now: datetime) -> RectSweepResult:
    cal = env.calendar
    if not cal.in_working_hours(now):
        return RectSweepResult(now)
    policy = default_policy(env)
    lo, hi = deadline_window(now, policy, cal)
    owed = [s.value for s in RectState if s.owed]
    rows = conn.execute(
        select(Rectification.id, Rectification.unit_id, Rectification.due, Rectification.status,
               Rectification.text, Unit.name.label("unit"))
        .join(Unit, Unit.id == Rectification.unit_id)
        .where(Rectification.status.in_(owed), Rectification.due >= lo, Rectification.due < hi)
    ).all()
    if not rows:
        return RectSweepResult(now)
    by_id = {r.id: r for r in rows}
    sent = {(rid, by_id[rid].unit_id, stage) for rid, stage in conn.execute(
        select(RectificationReminder.rectification_id, RectificationReminder.stage)
        .where(RectificationReminder.rectification_id.in_(list(by_id))))}
    due = reminders_due(
        [Assignment(r.id, r.unit_id, r.due, policy, owes=True,
                    returned=r.status == RectState.RETURNED.value) for r in rows],
        sent, now, cal)
    got = ledger.insert_new(conn, RectificationReminder, ("rectification_id", "stage"),
                            [{"rectification_id": d.task_id, "stage": d.stage, "sent_at": now}
                             for d in due])
    claimed = [d for d in due if (d.task_id, d.stage) in got]
    messages = 0
    for d in claimed:
        r = by_id[d.task_id]
        messages += unit_notify.tell(conn, r.unit_id, _text(env, now, d, r.text, r.due, r.unit),
                                     cause=CAUSE.format(r.id), now=now, kind="reminder")
    if claimed:
        log.info("rectification sweep at %s: %d reminders, %d messages", now.isoformat(),
                 len(claimed), messages)
    return RectSweepResult(now, tuple(claimed), messages)


def _text(env: ServiceEnv, now: datetime, d: DueReminder, text: str, due: datetime,
          unit: str) -> str:
    cal = env.calendar
    short = text if len(text) <= 60 else text[:60] + "…"
    if d.escalate or not is_pre_deadline(d.stage):
        late = max(cal.workdays_between(cal.local(due).date(), cal.local(now).date()), 1)
        head = f"【整改催办】{unit}：整改事项 #R{d.task_id} 已于 {env.fmt(due)} 到期，已逾期 {late} 个工作日"
    else:
        head = f"【整改提醒】{unit}：整改事项 #R{d.task_id} 将于 {env.fmt(due)} 到期"
    again = "（已退回，请按意见重新整改）" if d.returned else ""
    return (f"{head}{again}\n整改要求：{short}\n"
            f"完成后请回复：整改 #R{d.task_id} 整改情况（可附文件）")
