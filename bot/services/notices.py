"""Notices: an admin broadcast with per-group delivery and per-unit acknowledgements (回执)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.notice_reminders import NoticeReminderPolicy
from bot.services import groups as groups_svc
from bot.services import outbox as outbox_svc
from bot.services import units as units_svc
from storage.models import (
    Group,
    GroupUnit,
    Notice,
    NoticeAck,
    NoticeDelivery,
    OutboxMessage,
    Unit,
)

MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class NoticeResult:
    id: int
    groups: int
    units: int


def canonical_targets(conn: Connection, spec: str) -> str:
    """Group chats as given; scope words in their stored form ("全部" is ``all``: every group)."""
    spec = spec.strip()
    if not spec:
        return "all"
    if ":group:" in spec:
        return spec
    return units_svc.scope_spec(conn, spec) or "all"


def _target_groups(conn: Connection, spec: str) -> tuple[list[groups_svc.GroupInfo], set[int]]:
    groups = groups_svc.list_groups(conn)
    if spec == "all":
        units = {u for g in groups for u in g.unit_ids}
        return groups, units
    if ":group:" in spec:
        chosen = []
        for part in spec.split(","):
            g = groups_svc.get_by_chat(conn, part.strip())
            if g is None:
                raise NotFound(f"群 {part.strip()} 没有登记", log=f"notice to unknown group {part}")
            chosen.append(g)
        return chosen, {u for g in chosen for u in g.unit_ids}
    unit_ids = {u.id for u in units_svc.resolve_scope(conn, spec)}
    chosen = [g for g in groups if set(g.unit_ids) & unit_ids]
    return chosen, unit_ids


def send(conn: Connection, *, text: str, targets: str, created_by: int | None, now: datetime,
         remind: str = "") -> NoticeResult:
    """Queue the notice to its groups. ``remind``: reminder of units that have not acknowledged
    ("4x2", "none"; "" is ``[schedule] notice_remind``)."""
    remind = NoticeReminderPolicy.parse(remind).format() if remind.strip() else ""
    text = text.strip()
    if not text:
        raise InvalidInput("通知内容不能为空", log="empty notice")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"通知太长（最多 {MAX_TEXT} 字）", log="notice too long")
    targets = canonical_targets(conn, targets)
    groups, unit_ids = _target_groups(conn, targets)
    if not groups:
        raise InvalidInput("没有找到要通知的群：请先用 dudao group add 登记群并分配单位",
                           log=f"notice to {targets!r} reaches no group")
    nid = conn.execute(insert(Notice).returning(Notice.id),
                       {"text": text, "targets": targets, "created_by": created_by,
                        "created_at": now, "remind": remind}).scalar_one()
    body = f"【通知】{text}\n（请各单位联络员回复“收到”确认）"
    rows = [(OutgoingMessage.text(ChatRef.parse(g.chat), body), "notice", f"notice:{nid}",
             g.account) for g in groups]
    ids = outbox_svc.enqueue_many(conn, rows, now=now)
    conn.execute(insert(NoticeDelivery), [{"notice_id": nid, "chat": g.chat, "outbox_id": oid}
                                          for g, oid in zip(groups, ids, strict=True)])
    return NoticeResult(nid, len(groups), len(unit_ids))


def latest_for_chat(conn: Connection, chat: str) -> int | None:
    return conn.execute(select(func.max(NoticeDelivery.notice_id))
                        .where(NoticeDelivery.chat == chat)).scalar_one_or_none()


def latest(conn: Connection) -> int | None:
    return conn.execute(select(func.max(Notice.id))).scalar_one_or_none()


def acknowledge(conn: Connection, *, notice_id: int, unit_id: int, person_id: int,
                now: datetime) -> bool:
    """Record a 收到. Returns False when this person had already acknowledged."""
    try:
        with conn.begin_nested():
            conn.execute(insert(NoticeAck), {"notice_id": notice_id, "unit_id": unit_id,
                                             "person_id": person_id, "at": now})
    except IntegrityError:
        return False
    return True


def target_unit_ids(conn: Connection, targets: str, chats: list[str]) -> set[int]:
    """The units a notice addressed: those served by the groups it went to (``chats``), narrowed
    to its scope when it named units or kinds."""
    if not chats:
        return set()
    units = set(conn.execute(
        select(GroupUnit.unit_id).join(Group, Group.id == GroupUnit.group_id)
        .where(Group.chat.in_(chats))).scalars())
    if targets not in ("all", "") and ":group:" not in targets:
        with contextlib.suppress(NotFound):  # a unit renamed since: keep the groups' units
            units &= {u.id for u in units_svc.resolve_scope(conn, targets)}
    return units


def acked_unit_ids(conn: Connection, notice_id: int) -> set[int]:
    return set(conn.execute(select(NoticeAck.unit_id)
                            .where(NoticeAck.notice_id == notice_id)).scalars())


@dataclass(frozen=True, slots=True)
class AckStatus:
    notice_id: int
    text: str
    acked: list[str]
    missing: list[str]
    delivered: int
    pending: int
    failed: int = 0
    groups: int = 0  # groups it was queued to


def ack_status(conn: Connection, notice_id: int) -> AckStatus:
    n = conn.execute(select(Notice.text, Notice.targets).where(Notice.id == notice_id)).first()
    if n is None:
        raise NotFound(f"没有编号为 {notice_id} 的通知", log=f"unknown notice {notice_id}")
    chats = [c for (c,) in conn.execute(select(NoticeDelivery.chat)
                                        .where(NoticeDelivery.notice_id == notice_id))]
    target_units = target_unit_ids(conn, n.targets, chats)
    acked_ids = acked_unit_ids(conn, notice_id)
    names = dict(conn.execute(select(Unit.id, Unit.name)).all())
    states = dict(conn.execute(
        select(OutboxMessage.state, func.count()).join(
            NoticeDelivery, NoticeDelivery.outbox_id == OutboxMessage.id)
        .where(NoticeDelivery.notice_id == notice_id).group_by(OutboxMessage.state)
    ).all())
    return AckStatus(
        notice_id, n.text,
        [names[u] for u in sorted(target_units & acked_ids)],
        [names[u] for u in sorted(target_units - acked_ids)],
        int(states.get("sent", 0)), int(states.get("pending", 0)), int(states.get("failed", 0)),
        len(chats))
