"""People and their platform identities; binding by invite code or admin approval."""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from bot.core.event import UserRef
from bot.domain import identities
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.roles import ROLE_NAMES as ROLE_NAMES
from bot.domain.roles import ROLES as ROLES
from bot.services import units as units_svc
from config.settings import Settings
from storage.models import BindRequest, Identity, Invite, Person, Unit


@dataclass(frozen=True, slots=True)
class PersonInfo:
    id: int
    name: str
    role: str
    unit_id: int | None
    unit_name: str | None

    @property
    def actor(self) -> str:
        return f"person:{self.id}"


def known_platforms(settings: Settings) -> tuple[str, ...] | None:
    """The platforms identities may be on in this configuration: the built-ins, or any (None)
    when ``[service] adapters`` names an adapter of one's own, which brings its platform."""
    if any("." in name for name in settings.service.adapters):
        return None
    return identities.PLATFORMS


def parse_identity(text: str, platforms: Collection[str] | None = None) -> str:
    """An identity an admin typed (CLI, board, ``DUDAO_ADMINS``), normalised and checked;
    ``platforms`` as in ``identities.normalise`` (None: any well-formed platform)."""
    try:
        return identities.normalise(text, platforms)
    except identities.IdentityError as exc:
        raise InvalidInput(exc.message, log=f"bad identity {text!r}") from exc


def _event_identity(text: str) -> str:
    """An identity that came from an adapter: already canonical, any platform an adapter has."""
    try:
        return UserRef.parse(text.strip()).key
    except ValueError as exc:
        raise InvalidInput(f"身份格式不对：{text!r}，应写作 平台:号码，例如 qq:10001",
                           log=str(exc)) from exc


# Prebuilt: looked up for every inbound message (see bot/services/audit.py on why).
_BY_IDENTITY = (
    select(Person.id, Person.name, Person.role, Person.unit_id, Unit.name.label("unit_name"))
    .join(Identity, Identity.person_id == Person.id)
    .outerjoin(Unit, Unit.id == Person.unit_id)
    .where(Identity.identity == bindparam("identity"), Person.active.is_(True))
)


def by_identity(conn: Connection, identity: str) -> PersonInfo | None:
    r = conn.execute(_BY_IDENTITY, {"identity": identity}).first()
    if r is None:
        return None
    return PersonInfo(r.id, r.name, r.role, r.unit_id, r.unit_name)


_BY_IDENTITIES = (
    select(Identity.identity, Person.id, Person.name, Person.role, Person.unit_id,
           Unit.name.label("unit_name"))
    .join(Identity, Identity.person_id == Person.id)
    .outerjoin(Unit, Unit.id == Person.unit_id)
    .where(Identity.identity.in_(bindparam("identities", expanding=True)),
           Person.active.is_(True))
)


def by_identities(conn: Connection, identities: set[str]) -> dict[str, PersonInfo]:
    """Everyone behind these identities in one query (the dispatcher asks once per batch)."""
    if not identities:
        return {}
    rows = conn.execute(_BY_IDENTITIES, {"identities": sorted(identities)})
    return {r.identity: PersonInfo(r.id, r.name, r.role, r.unit_id, r.unit_name) for r in rows}


# Who is who changes rarely, but it can change in the middle of a batch of messages (绑定,
# 批准绑定). Every write to people or identities goes through this module and flags the
# connection, so a caller holding identities read earlier in the transaction knows to look again.
_CHANGED = "dudao.people_changed"


def mark_unchanged(conn: Connection) -> None:
    conn.info[_CHANGED] = False


def changed_since_marked(conn: Connection) -> bool:
    return bool(conn.info.get(_CHANGED, True))


def _changed(conn: Connection) -> None:
    conn.info[_CHANGED] = True


def get(conn: Connection, person_id: int) -> PersonInfo:
    r = conn.execute(
        select(Person.id, Person.name, Person.role, Person.unit_id, Unit.name.label("unit_name"))
        .outerjoin(Unit, Unit.id == Person.unit_id)
        .where(Person.id == person_id)
    ).one_or_none()
    if r is None:
        raise NotFound(f"没有编号为 {person_id} 的人员")
    return PersonInfo(r.id, r.name, r.role, r.unit_id, r.unit_name)


def add(conn: Connection, *, identity: str, unit: str | None, role: str, name: str, now: datetime,
        password_hash: str | None = None, typed: bool = True,
        platforms: Collection[str] | None = None) -> PersonInfo:
    """Register a person. ``typed``: the identity was typed by an admin and is normalised and
    checked (on ``platforms``, see ``known_platforms``); False for one that came from an adapter
    (a binding in chat)."""
    identity = parse_identity(identity, platforms) if typed else _event_identity(identity)
    if role not in ROLES:
        raise InvalidInput(f"角色“{role}”不存在，可选：{'、'.join(ROLES)}", log=f"bad role {role!r}")
    unit_info = units_svc.require(conn, unit) if unit else None
    if unit_info is None and role != "admin":
        raise InvalidInput("联络员和领导必须属于一个单位（--unit）", log="person without unit")
    if conn.execute(select(Identity.id).where(Identity.identity == identity)).first():
        raise Conflict(f"身份 {identity} 已经登记过了", log=f"duplicate identity {identity}")
    _changed(conn)
    pid = conn.execute(
        insert(Person).returning(Person.id),
        {"name": name, "role": role, "unit_id": unit_info.id if unit_info else None,
         "created_at": now, "password_hash": password_hash, "active": True},
    ).scalar_one()
    conn.execute(insert(Identity), {"identity": identity, "person_id": pid, "created_at": now})
    return PersonInfo(pid, name, role, unit_info.id if unit_info else None,
                      unit_info.name if unit_info else None)


def link_identity(conn: Connection, person_id: int, identity: str, *, now: datetime) -> None:
    """Give an existing person another platform identity (e.g. the official account)."""
    identity = _event_identity(identity)
    owner = conn.execute(select(Identity.person_id).where(Identity.identity == identity)).first()
    if owner is not None:
        if owner[0] == person_id:
            return
        raise Conflict("这个账号已经绑定到其他人了，如需更换请联系管理员",
                       log=f"identity {identity} belongs to person {owner[0]}")
    _changed(conn)
    conn.execute(insert(Identity), {"identity": identity, "person_id": person_id, "created_at": now})


def unlink_identity(conn: Connection, identity: str) -> bool:
    _changed(conn)
    res = conn.execute(delete(Identity).where(Identity.identity == identity))
    return bool(res.rowcount)


def admins(conn: Connection) -> list[PersonInfo]:
    rows = conn.execute(
        select(Person.id, Person.name, Person.role, Person.unit_id)
        .where(Person.role == "admin", Person.active.is_(True))
    )
    return [PersonInfo(r.id, r.name, r.role, r.unit_id, None) for r in rows]


def create_person_invite(conn: Connection, identity: str, *, now: datetime, days: int = 7) -> str:
    """A one-time code an already registered person sends to the official account to link it."""
    person = by_identity(conn, parse_identity(identity))
    if person is None:
        raise NotFound(f"身份 {identity} 还没有登记，请先 dudao person add", log="invite unknown person")
    code = units_svc._new_code()
    conn.execute(
        insert(Invite),
        {"code": code, "kind": "person", "person_id": person.id, "role": person.role,
         "created_at": now, "expires_at": now + timedelta(days=days), "uses_left": 1},
    )
    return code


def _take_invite(conn: Connection, code: str, now: datetime) -> Any:
    code = code.strip().upper()
    if not code:
        return None
    rows = conn.execute(select(Invite).where(Invite.expires_at > now, Invite.uses_left > 0)).all()
    # Compare every candidate in constant time rather than looking the code up by equality.
    match = None
    for inv in rows:
        if hmac.compare_digest(inv.code.encode(), code.encode()):
            match = inv
    if match is None:
        return None
    conn.execute(update(Invite).where(Invite.id == match.id).values(uses_left=Invite.uses_left - 1))
    return match


def bind_with_code(conn: Connection, *, identity: str, code: str, unit_text: str | None, name: str,
                   now: datetime) -> PersonInfo:
    """``绑定 郑州市 CODE`` (unit invite) or ``绑定 CODE`` (person invite)."""
    existing = by_identity(conn, identity)
    invite = _take_invite(conn, code, now)
    if invite is None:
        raise NotAllowed("邀请码无效或已过期，请向管理员索取新的邀请码", log="bad or expired invite code")
    if invite.kind == "person":
        assert invite.person_id is not None
        link_identity(conn, invite.person_id, identity, now=now)
        return get(conn, invite.person_id)
    assert invite.unit_id is not None
    if unit_text:
        unit = units_svc.require(conn, unit_text)
        if unit.id != invite.unit_id:
            raise NotAllowed("这个邀请码不属于该单位", log="invite code for another unit")
    if existing is not None:
        if existing.unit_id == invite.unit_id:
            return existing
        raise Conflict(f"您已绑定到{existing.unit_name or '其他单位'}，如需更换请联系管理员",
                       log="identity already bound to another unit")
    unit_info = units_svc.get(conn, invite.unit_id)
    return add(conn, identity=identity, unit=unit_info.name, role=invite.role, name=name, now=now,
               typed=False)


def request_binding(conn: Connection, *, identity: str, unit_text: str, name: str, chat: str,
                    now: datetime) -> tuple[int, units_svc.UnitInfo]:
    unit = units_svc.require(conn, unit_text)
    existing = by_identity(conn, identity)
    if existing is not None:
        raise Conflict(f"您已绑定到{existing.unit_name or '本系统'}", log="already bound")
    rid = conn.execute(
        insert(BindRequest).returning(BindRequest.id),
        {"identity": identity, "name": name, "unit_id": unit.id, "chat": chat, "created_at": now},
    ).scalar_one()
    return rid, unit


def approve_binding(conn: Connection, request_id: int, *, admin_id: int,
                    now: datetime) -> tuple[PersonInfo, str]:
    req = conn.execute(select(BindRequest).where(BindRequest.id == request_id)).first()
    if req is None or req.status != "pending":
        raise NotFound(f"没有待处理的绑定申请 {request_id}")
    unit = units_svc.get(conn, req.unit_id)
    person = add(conn, identity=req.identity, unit=unit.name, role="liaison", name=req.name, now=now,
                 typed=False)
    conn.execute(update(BindRequest).where(BindRequest.id == request_id)
                 .values(status="approved", decided_by=admin_id))
    return person, req.chat


# -- corrections (DESIGN §5): edit, password, remove, list ----------------------------------------


def require_identity(conn: Connection, identity: str) -> PersonInfo:
    """The active person behind ``identity``, or a clear error."""
    key = parse_identity(identity)
    p = by_identity(conn, key)
    if p is None:
        raise NotFound(f"身份 {key} 没有登记（或已停用）", log=f"unknown person {key}")
    return p


def edit(conn: Connection, identity: str, *, name: str | None = None, unit: str | None = None,
         role: str | None = None) -> tuple[PersonInfo, dict[str, list[Any]]]:
    """Change a person's name, unit or role; returns them and what changed ([before, after])."""
    if name is None and unit is None and role is None:
        raise InvalidInput("没有要修改的内容：请给出新的姓名、单位或角色", log="person edit without changes")
    p = require_identity(conn, identity)
    values: dict[str, Any] = {}
    changes: dict[str, list[Any]] = {}
    if name is not None and name.strip() != p.name:
        if len(name.strip()) > 64:
            raise InvalidInput("姓名太长（最多 64 字）", log="name too long")
        values["name"] = name.strip()
        changes["name"] = [p.name, values["name"]]
    new_role = p.role
    if role is not None and role != p.role:
        if role not in ROLES:
            raise InvalidInput(f"角色“{role}”不存在，可选：{'、'.join(ROLES)}", log=f"bad role {role!r}")
        if p.role == "admin" and len(admins(conn)) <= 1:
            raise Conflict("这是最后一位管理员，不能改为其他角色", log="demoting the last admin")
        values["role"] = new_role = role
        changes["role"] = [p.role, role]
    unit_id, unit_name = p.unit_id, p.unit_name
    if unit is not None:
        u = units_svc.require(conn, unit) if unit.strip() else None
        if (u.id if u else None) != p.unit_id:
            unit_id, unit_name = (u.id, u.name) if u else (None, None)
            values["unit_id"] = unit_id
            changes["unit"] = [p.unit_name, unit_name]
    if unit_id is None and new_role != "admin":
        raise InvalidInput("联络员和领导必须属于一个单位（--unit）", log="person without unit")
    if not changes:
        raise InvalidInput(f"{parse_identity(identity)} 没有变化：给出的内容与现在相同",
                           log="person edit changes nothing")
    _changed(conn)
    conn.execute(update(Person).where(Person.id == p.id).values(**values))
    return PersonInfo(p.id, values.get("name", p.name), new_role, unit_id, unit_name), changes


def set_password(conn: Connection, identity: str, password_hash: str, *, now: datetime,
                 configured_admins: tuple[str, ...] = ()) -> PersonInfo:
    """Set the board password. An admin named only in the configuration (``DUDAO_ADMINS``) who
    has no record yet gets one."""
    key = parse_identity(identity)
    p = by_identity(conn, key)
    if p is None:
        configured = {parse_identity(a) for a in configured_admins}
        if key not in configured:
            raise NotFound(f"身份 {key} 没有登记（或已停用）", log=f"passwd for unknown {key}")
        p = add(conn, identity=key, unit=None, role="admin", name="", now=now)
    if p.role != "admin":
        raise InvalidInput(f"{key} 不是管理员：只有管理员可以登录看板", log="passwd for a non-admin")
    conn.execute(update(Person).where(Person.id == p.id).values(password_hash=password_hash))
    return p


def remove(conn: Connection, identity: str, *, now: datetime) -> PersonInfo:
    """Deactivate: no longer recognised in any role; their submissions and history stay."""
    p = require_identity(conn, identity)
    if p.role == "admin" and len(admins(conn)) <= 1:
        raise Conflict("这是最后一位管理员，不能停用", log="removing the last admin")
    _changed(conn)
    conn.execute(update(Person).where(Person.id == p.id).values(active=False, ended_at=now))
    return p


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str
    role: str
    unit_name: str | None
    identities: tuple[str, ...]
    has_password: bool


def list_people(conn: Connection, *, unit_id: int | None = None) -> list[PersonRow]:
    """Active people with their identities, by unit then id."""
    q = (select(Person.id, Person.name, Person.role, Person.password_hash,
                Unit.name.label("unit_name"), Unit.code)
         .outerjoin(Unit, Unit.id == Person.unit_id).where(Person.active.is_(True)))
    if unit_id is not None:
        q = q.where(Person.unit_id == unit_id)
    rows = conn.execute(q.order_by(Unit.code.is_not(None), Unit.code, Person.id)).all()
    idents: dict[int, list[str]] = {}
    if rows:
        for pid, ident in conn.execute(
                select(Identity.person_id, Identity.identity)
                .where(Identity.person_id.in_([r.id for r in rows])).order_by(Identity.id)):
            idents.setdefault(pid, []).append(ident)
    return [PersonRow(r.id, r.name, r.role, r.unit_name, tuple(idents.get(r.id, ())),
                      r.password_hash is not None) for r in rows]


def identity_of(conn: Connection, person_id: int) -> str:
    """The first identity of an active person (the board names people by their id)."""
    ident = conn.execute(
        select(Identity.identity).join(Person, Person.id == Identity.person_id)
        .where(Person.id == person_id, Person.active.is_(True)).order_by(Identity.id)).scalar()
    if ident is None:
        raise NotFound(f"没有编号为 {person_id} 的在册人员", log=f"unknown person {person_id}")
    return str(ident)
