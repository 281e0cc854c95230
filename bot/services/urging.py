"""Urging now, on an admin's word ("麻烦催一下没交的", "通知下谁还没回复收到", 催办): one message
per group listing the units that still owe a task (or have not acknowledged a notice), with their
liaisons @-mentioned — the same groups and the same one-message-per-group rule as the scheduled
reminders (bot/services/reminders.py, DESIGN §2). A task reminder's cause is ``task:ID``, so a
file sent in reply to it is a submission for that task; a notice reminder's is ``notice:ID``, so
收到 in reply to it acknowledges the notice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from bot.core.env import ServiceEnv
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.services import notices as notices_svc
from bot.services import outbox as outbox_svc
from bot.services import tasks as tasks_svc
from bot.services.reminders import (
    GroupRow,
    PersonRow,
    choose_groups,
    liaison_mentions,
    load_people,
)
from storage.models import Notice, NoticeDelivery, OutboxMessage, Unit

MAX_NAMES = 30


@dataclass(frozen=True)
class UrgeResult:
    owing: tuple[str, ...]  # the units urged (names)
    groups: int  # messages queued (one per group)
    unreached: tuple[str, ...]  # units owing that no group serves


def _names(conn: Connection, ids: list[int]) -> dict[int, str]:
    return dict(conn.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())


def _queue(conn: Connection, now: datetime, groups: dict[int, GroupRow],
           by_group: dict[int, list[int]], people: dict[int, list[PersonRow]],
           text_for: Callable[[list[int]], str], cause: str) -> int:
    rows = []
    for gid, uids in sorted(by_group.items()):
        g = groups[gid]
        mentions = liaison_mentions(people, uids, g.platform)
        text = text_for(uids)
        rows.append((OutgoingMessage.text(ChatRef.parse(g.chat), text, mentions=mentions),
                     "reminder", cause, g.account))
    outbox_svc.enqueue_many(conn, rows, now=now)
    return len(rows)


def _by_group(conn: Connection, owing: list[int], *, chats: list[str] | None = None
              ) -> tuple[dict[int, GroupRow], dict[int, list[int]], dict[int, list[PersonRow]],
                         list[int]]:
    people = load_people(conn, owing)
    group_of = choose_groups(conn, owing, people, chats=chats)
    groups: dict[int, GroupRow] = {}
    by_group: dict[int, list[int]] = defaultdict(list)
    unreached = []
    for uid in owing:
        g = group_of.get(uid)
        if g is None:
            unreached.append(uid)
            continue
        groups[g.id] = g
        by_group[g.id].append(uid)
    return groups, dict(by_group), people, unreached


def urge_task(conn: Connection, env: ServiceEnv, *, task_id: int, unit_ids: set[int] | None,
              now: datetime) -> UrgeResult:
    """Remind the units (of ``unit_ids``, or all) that have not submitted the task."""
    task = tasks_svc.get(conn, task_id)
    owing = [r.unit_id for r in tasks_svc.missing(conn, task_id, unit_ids=unit_ids)]
    if not owing:
        return UrgeResult((), 0, ())
    names = _names(conn, owing)
    groups, by_group, people, unreached = _by_group(conn, owing)
    late = task.due < now
    due = env.fmt(task.due)

    def text(uids: list[int]) -> str:
        shown = "、".join(names[u] for u in uids[:MAX_NAMES]) + (
            f"等 {len(uids)} 个单位" if len(uids) > MAX_NAMES else "")
        when = f"已于 {due} 截止" if late else f"将于 {due} 截止"
        return "\n".join([f"【催办】《{task.title}》{when}，以下单位尚未提交：{shown}",
                          "请联络员抓紧报送（回复本消息发送文件即可提交）。"])

    sent = _queue(conn, now, groups, by_group, people, text, f"task:{task_id}")
    return UrgeResult(tuple(names[u] for u in owing), sent, tuple(names[u] for u in unreached))


def urge_notice(conn: Connection, env: ServiceEnv, *, notice_id: int, unit_ids: set[int] | None,
                now: datetime) -> UrgeResult:
    """Remind the units (of ``unit_ids``, or all) that have not acknowledged the notice, in the
    groups it was delivered to."""
    n = conn.execute(select(Notice.text, Notice.targets, Notice.created_at)
                     .where(Notice.id == notice_id)).first()
    if n is None:
        return UrgeResult((), 0, ())
    chats = [c for (c,) in conn.execute(
        select(NoticeDelivery.chat).join(OutboxMessage, OutboxMessage.id == NoticeDelivery.outbox_id)
        .where(NoticeDelivery.notice_id == notice_id))]
    owing_set = notices_svc.target_unit_ids(conn, n.targets, chats) \
        - notices_svc.acked_unit_ids(conn, notice_id)
    if unit_ids is not None:
        owing_set &= unit_ids
    owing = sorted(owing_set)
    if not owing:
        return UrgeResult((), 0, ())
    names = _names(conn, owing)
    groups, by_group, people, unreached = _by_group(conn, owing, chats=chats)
    excerpt = " ".join(n.text.split())
    excerpt = excerpt[:40] + ("…" if len(excerpt) > 40 else "")
    sent_day = env.local(n.created_at)

    def text(uids: list[int]) -> str:
        shown = "、".join(names[u] for u in uids[:MAX_NAMES]) + (
            f"等 {len(uids)} 个单位" if len(uids) > MAX_NAMES else "")
        return "\n".join([
            f"【通知确认提醒】{sent_day.month}月{sent_day.day}日的通知（编号 {notice_id}）：“{excerpt}”",
            f"以下单位尚未确认：{shown}", "请联络员回复本消息“收到”确认。"])

    sent = _queue(conn, now, groups, by_group, people, text, f"notice:{notice_id}")
    return UrgeResult(tuple(names[u] for u in owing), sent, tuple(names[u] for u in unreached))
