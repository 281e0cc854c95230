"""Groups the bot is in, and which units each serves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from bot.core.event import ChatKind, ChatRef
from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.services import units as units_svc
from storage.models import Group, GroupUnit

PURPOSES = ("exchange", "admin")


@dataclass(frozen=True, slots=True)
class GroupInfo:
    id: int
    chat: str
    name: str
    purpose: str
    account: str | None
    unit_ids: tuple[int, ...] = ()


def parse_chat(text: str) -> ChatRef:
    try:
        ref = ChatRef.parse(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"群的写法不对：{text!r}，应写作 平台:group:群号，例如 qq:group:40001",
                           log=str(exc)) from exc
    if ref.kind is not ChatKind.GROUP:
        raise InvalidInput(f"{text} 不是群聊（应为 平台:group:群号）", log="group add with a user chat")
    return ref


def add(conn: Connection, *, chat: str, name: str, units_spec: str | None, purpose: str,
        account: str | None, webhook_key: str | None, now: datetime) -> GroupInfo:
    ref = parse_chat(chat)
    if purpose not in PURPOSES:
        raise InvalidInput(f"群用途“{purpose}”不存在，可选：exchange、admin", log=f"bad purpose {purpose}")
    old = conn.execute(select(Group.id, Group.active).where(Group.chat == ref.key)).first()
    if old is not None and old.active:
        raise Conflict(f"群 {ref.key} 已经登记过了", log=f"duplicate group {ref.key}")
    units = units_svc.resolve_scope(conn, units_spec)
    if old is not None:  # removed earlier: registered again, as given now
        conn.execute(update(Group).where(Group.id == old.id).values(
            name=name, purpose=purpose, account=account, webhook_key=webhook_key, active=True))
        conn.execute(delete(GroupUnit).where(GroupUnit.group_id == old.id))
        return GroupInfo(old.id, ref.key, name, purpose, account, _serve(conn, old.id, units))
    gid = conn.execute(
        insert(Group).returning(Group.id),
        {"chat": ref.key, "name": name, "purpose": purpose, "account": account,
         "webhook_key": webhook_key, "created_at": now, "active": True},
    ).scalar_one()
    return GroupInfo(gid, ref.key, name, purpose, account, _serve(conn, gid, units))


def set_units(conn: Connection, chat: str, units_spec: str) -> GroupInfo:
    """Change the units a group serves (``all``, ``kind:city``, ``郑州市,开封市``; empty: none):
    ``dudao group edit --units`` and the board's group page."""
    g = require(conn, chat)
    units = units_svc.resolve_scope(conn, units_spec)
    conn.execute(delete(GroupUnit).where(GroupUnit.group_id == g.id))
    return GroupInfo(g.id, g.chat, g.name, g.purpose, g.account, _serve(conn, g.id, units))


def _serve(conn: Connection, group_id: int, units: Sequence[units_svc.UnitInfo]
           ) -> tuple[int, ...]:
    """Make the group serve ``units`` (besides those it serves); returns their ids."""
    if units:
        conn.execute(insert(GroupUnit), [{"group_id": group_id, "unit_id": u.id} for u in units])
    return tuple(u.id for u in units)


# Prebuilt: every group message looks its group up (see bot/services/audit.py on why).
_BY_CHAT = select(Group.id, Group.chat, Group.name, Group.purpose, Group.account).where(
    Group.chat == bindparam("chat"), Group.active.is_(True))
_MEMBER_UNITS = select(GroupUnit.unit_id).where(GroupUnit.group_id == bindparam("group_id"))


def get_by_chat(conn: Connection, chat: str) -> GroupInfo | None:
    r = conn.execute(_BY_CHAT, {"chat": chat}).first()
    if r is None:
        return None
    ids = tuple(conn.execute(_MEMBER_UNITS, {"group_id": r.id}).scalars())
    return GroupInfo(r.id, r.chat, r.name, r.purpose, r.account, ids)


def webhook_key(conn: Connection, chat: str) -> str | None:
    """The WeCom robot key of an active group, if it has one."""
    key: str | None = conn.execute(
        select(Group.webhook_key).where(Group.chat == chat, Group.active.is_(True))).scalar()
    return key


def require(conn: Connection, chat: str) -> GroupInfo:
    g = get_by_chat(conn, chat)
    if g is None:
        raise NotFound(f"群 {chat} 没有登记", log=f"unknown group {chat}")
    return g


def chats(conn: Connection, purpose: str) -> list[tuple[str, str | None]]:
    """(chat, account) of the active groups of one purpose, oldest first: where a message to
    "the admin groups" or "every exchange group" goes."""
    return [(c, a) for c, a in conn.execute(
        select(Group.chat, Group.account).where(Group.purpose == purpose, Group.active.is_(True))
        .order_by(Group.id))]


def list_groups(conn: Connection, *, purpose: str | None = None) -> list[GroupInfo]:
    q = select(Group.id, Group.chat, Group.name, Group.purpose, Group.account).where(
        Group.active.is_(True))
    if purpose:
        q = q.where(Group.purpose == purpose)
    members: dict[int, list[int]] = {}
    for gid, uid in conn.execute(select(GroupUnit.group_id, GroupUnit.unit_id)):
        members.setdefault(gid, []).append(uid)
    return [GroupInfo(r.id, r.chat, r.name, r.purpose, r.account, tuple(members.get(r.id, ())))
            for r in conn.execute(q.order_by(Group.id))]


def edit(conn: Connection, chat: str, *, name: str | None = None, units_spec: str | None = None
         ) -> tuple[GroupInfo, dict[str, list[object]]]:
    """Rename a group or change the units it serves; returns it and what changed."""
    if name is None and units_spec is None:
        raise InvalidInput("没有要修改的内容：请给出新的群名或服务单位", log="group edit without changes")
    g = require(conn, parse_chat(chat).key)
    changes: dict[str, list[object]] = {}
    if name is not None and name.strip() != g.name:
        if len(name.strip()) > 128:
            raise InvalidInput("群名太长（最多 128 字）", log="group name too long")
        conn.execute(update(Group).where(Group.id == g.id).values(name=name.strip()))
        changes["name"] = [g.name, name.strip()]
    after = g
    if units_spec is not None:
        new_ids = {u.id for u in units_svc.resolve_scope(conn, units_spec)}
        if new_ids != set(g.unit_ids):
            after = set_units(conn, g.chat, units_spec)
            changes["units"] = [len(g.unit_ids), len(after.unit_ids)]
    if not changes:
        raise InvalidInput(f"群 {g.chat} 没有变化：给出的内容与现在相同", log="group edit changes nothing")
    return GroupInfo(g.id, g.chat, str(changes.get("name", [g.name, g.name])[1]), g.purpose,
                     g.account, after.unit_ids), changes


def remove(conn: Connection, chat: str) -> GroupInfo:
    """The bot no longer serves the group: nothing more is sent there, and a message from it is
    one from an unregistered group. The row stays (outbox and notices name it)."""
    g = require(conn, parse_chat(chat).key)
    conn.execute(update(Group).where(Group.id == g.id).values(active=False))
    return g


def chat_of(conn: Connection, group_id: int) -> str:
    """The chat of an active group (the board names groups by their id)."""
    chat = conn.execute(select(Group.chat).where(Group.id == group_id,
                                                 Group.active.is_(True))).scalar()
    if chat is None:
        raise NotFound(f"没有编号为 {group_id} 的群", log=f"unknown group {group_id}")
    return str(chat)
