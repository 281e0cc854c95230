"""Reminding the units that have not acknowledged a notice (回执提醒; DESIGN §2, §3).

Run by the minute sweep (bot/scheduler.py). In one transaction it
1. reads the notices recent enough to have a round due (``earliest_relevant``) whose policy
   (the notice's own ``remind`` or ``[schedule] notice_remind``) asks for reminders;
2. for each, the units it addressed that have not acknowledged, and the group each is reminded
   in — one of the groups the notice was *delivered* to (a notice still queued is not chased),
   chosen as for deadline reminders (``reminders.choose_groups``);
3. asks the pure rules which round is due, counted in working hours from the delivery to that
   group (``bot.domain.notice_reminders.due_round``);
4. claims (notice, unit, round) in ``notice_reminders`` and writes, in the same transaction, ONE
   message per group listing the units still to confirm and @-mentioning their liaisons. The
   message's cause is the notice, so a 收到 in reply to the reminder acknowledges the notice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from bot.core.env import ServiceEnv
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.domain.notice_reminders import NoticeReminderPolicy, due_round, earliest_relevant
from bot.services import ledger
from bot.services import notices as notices_svc
from bot.services import outbox as outbox_svc
from bot.services.reminders import (
    GroupRow,
    choose_groups,
    fmt_day,
    liaison_mentions,
    load_people,
    policy_or_default,
)
from storage.models import Notice, NoticeDelivery, NoticeReminder, OutboxMessage, Unit

log = logging.getLogger("dudao.notice_reminders")

KIND = "reminder"
EXCERPT = 40
MAX_NAMES = 40


@dataclass(frozen=True, slots=True)
class NoticeSweepResult:
    at: datetime
    claimed: tuple[tuple[int, int, int], ...] = ()  # (notice, unit, round) this call sent
    outbox_ids: tuple[int, ...] = ()

    @property
    def messages(self) -> int:
        return len(self.outbox_ids)


def _policy(text: str, default: NoticeReminderPolicy) -> NoticeReminderPolicy:
    return policy_or_default(text, NoticeReminderPolicy.parse, default, what="notice reminder",
                             logger=log)


def default_policy(env: ServiceEnv) -> NoticeReminderPolicy:
    return _policy(env.settings.schedule.notice_remind, NoticeReminderPolicy())


@dataclass(slots=True)
class _Due:
    notice_id: int
    group: GroupRow
    unit_ids: list[int]
    round: int


def sweep_notice_reminders(conn: Connection, env: ServiceEnv, now: datetime
                           ) -> NoticeSweepResult:
    cal = env.calendar
    if not cal.in_working_hours(now):
        return NoticeSweepResult(now)
    default = default_policy(env)
    policies = {default.format(): default}
    for text in conn.execute(select(Notice.remind).where(Notice.remind != "").distinct()
                             ).scalars():
        policies.setdefault(text, _policy(text, default))
    live = [p for p in policies.values() if not p.off]
    if not live:
        return NoticeSweepResult(now)
    lo = earliest_relevant(cal, now, max(p.reach for p in live))
    notices = conn.execute(
        select(Notice.id, Notice.text, Notice.targets, Notice.remind, Notice.created_at)
        .where(Notice.created_at >= lo).order_by(Notice.id)
    ).all()
    due: list[_Due] = []
    texts: dict[int, tuple[str, datetime]] = {}
    for n in notices:
        policy = policies.get(n.remind, default) if n.remind else default
        if policy.off:
            continue
        due.extend(_due_for_notice(conn, env, now, n.id, n.targets, policy))
        texts[n.id] = (n.text, n.created_at)
    if not due:
        return NoticeSweepResult(now)
    values = [{"notice_id": d.notice_id, "unit_id": u, "round": d.round, "sent_at": now}
              for d in due for u in d.unit_ids]
    got = ledger.insert_new(conn, NoticeReminder, ("notice_id", "unit_id", "round"), values)
    claimed: list[tuple[int, int, int]] = []
    rows: list[tuple[OutgoingMessage, str, str, str | None]] = []
    all_units = sorted({u for d in due for u in d.unit_ids})
    names = dict(conn.execute(select(Unit.id, Unit.name).where(Unit.id.in_(all_units))).all())
    people = load_people(conn, all_units)
    for d in due:
        units = [u for u in d.unit_ids if (d.notice_id, u, d.round) in got]
        if not units:
            continue  # another process (or an earlier tick) sent this round
        claimed.extend((d.notice_id, u, d.round) for u in units)
        text, created = texts[d.notice_id]
        body = _text(env, now, d.notice_id, text, created, [names[u] for u in units], d.round)
        msg = OutgoingMessage.text(ChatRef.parse(d.group.chat), body,
                                   mentions=liaison_mentions(people, units, d.group.platform))
        rows.append((msg, KIND, f"notice:{d.notice_id}", d.group.account))
    ids = outbox_svc.enqueue_many(conn, rows, now=now)
    if claimed:
        log.info("notice reminders at %s: %d units in %d messages", now.isoformat(),
                 len(claimed), len(ids))
    return NoticeSweepResult(now, tuple(claimed), tuple(ids))


def _due_for_notice(conn: Connection, env: ServiceEnv, now: datetime, notice_id: int,
                    targets: str, policy: NoticeReminderPolicy) -> list[_Due]:
    delivered = {chat: sent_at for chat, sent_at in conn.execute(
        select(NoticeDelivery.chat, OutboxMessage.sent_at)
        .join(OutboxMessage, OutboxMessage.id == NoticeDelivery.outbox_id)
        .where(NoticeDelivery.notice_id == notice_id, OutboxMessage.state == "sent"))}
    if not delivered:
        return []
    owing = notices_svc.target_unit_ids(conn, targets, list(delivered)) \
        - notices_svc.acked_unit_ids(conn, notice_id)
    if not owing:
        return []
    reminded = {(u, r) for u, r in conn.execute(
        select(NoticeReminder.unit_id, NoticeReminder.round)
        .where(NoticeReminder.notice_id == notice_id))}
    units = sorted(owing)
    group_of = choose_groups(conn, units, load_people(conn, units), chats=list(delivered))
    by_group: dict[tuple[int, int], list[int]] = defaultdict(list)
    groups: dict[int, GroupRow] = {}
    for uid in units:
        g = group_of.get(uid)
        sent_at = delivered.get(g.chat) if g is not None else None
        if g is None or sent_at is None:
            continue
        k = due_round(sent_at, policy, env.calendar, now)
        if k is None or (uid, k) in reminded:
            continue
        groups[g.id] = g
        by_group[g.id, k].append(uid)
    return [_Due(notice_id, groups[gid], uids, k) for (gid, k), uids in sorted(by_group.items())]


def _text(env: ServiceEnv, now: datetime, notice_id: int, text: str, created: datetime,
          names: list[str], round_: int) -> str:
    excerpt = " ".join(text.split())
    excerpt = excerpt[:EXCERPT] + ("…" if len(excerpt) > EXCERPT else "")
    shown = "、".join(names[:MAX_NAMES]) + (f"等 {len(names)} 个单位" if len(names) > MAX_NAMES
                                           else "")
    sent = env.local(created)
    return "\n".join([
        f"【通知确认提醒】{fmt_day(env.calendar, now)}（第 {round_} 次）",
        f"{sent.month}月{sent.day}日的通知（编号 {notice_id}）：“{excerpt}”",
        f"以下单位尚未确认：{shown}",
        "请联络员回复本消息“收到”确认。",
    ])
