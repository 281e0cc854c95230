"""Units: lookup by name, short name or alias; roster import; invite codes."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from bot.domain import names, scopes
from bot.domain.errors import InvalidInput, NotFound
from storage.models import Invite, Unit, UnitAlias

KINDS = ("city", "county", "department", "central", "office")
KIND_NAMES = {"city": "地市", "county": "直管县", "department": "省直部门", "central": "中央驻豫单位",
              "office": "办公室"}


@dataclass(frozen=True, slots=True)
class UnitInfo:
    id: int
    code: str
    name: str
    short_name: str
    kind: str
    parent_id: int | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RosterRow:
    code: str
    name: str
    short_name: str
    kind: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(Unit)).scalar_one())


def list_units(conn: Connection, *, kind: str | None = None) -> list[UnitInfo]:
    q = select(Unit.id, Unit.code, Unit.name, Unit.short_name, Unit.kind, Unit.parent_id).where(
        Unit.active.is_(True)
    )
    if kind:
        q = q.where(Unit.kind == kind)
    aliases: dict[int, list[str]] = {}
    for uid, alias in conn.execute(select(UnitAlias.unit_id, UnitAlias.alias)):
        aliases.setdefault(uid, []).append(alias)
    return [
        UnitInfo(r.id, r.code, r.name, r.short_name, r.kind, r.parent_id,
                 tuple(sorted(aliases.get(r.id, ()))))
        for r in conn.execute(q.order_by(Unit.id))
    ]


def get(conn: Connection, unit_id: int) -> UnitInfo:
    r = conn.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.short_name, Unit.kind, Unit.parent_id).where(
            Unit.id == unit_id
        )
    ).one_or_none()
    if r is None:
        raise NotFound(f"没有编号为 {unit_id} 的单位", log=f"unknown unit id {unit_id}")
    return UnitInfo(r.id, r.code, r.name, r.short_name, r.kind, r.parent_id)


def find(conn: Connection, text: str) -> UnitInfo | None:
    """A unit by name, short name, code or alias (exact match after trimming)."""
    key = text.strip()
    if not key:
        return None
    cols = (Unit.id, Unit.code, Unit.name, Unit.short_name, Unit.kind, Unit.parent_id)
    r = conn.execute(
        select(*cols).where((Unit.name == key) | (Unit.code == key) | (Unit.short_name == key))
    ).first()
    if r is None:
        r = conn.execute(
            select(*cols).join(UnitAlias, UnitAlias.unit_id == Unit.id).where(UnitAlias.alias == key)
        ).first()
    if r is None:
        return None
    return UnitInfo(r.id, r.code, r.name, r.short_name, r.kind, r.parent_id)


def require(conn: Connection, text: str) -> UnitInfo:
    unit = find(conn, text)
    if unit is None:
        raise NotFound(f"找不到单位“{text.strip()}”，请检查名称（可用 dudao unit list 查看）",
                       log=f"unknown unit {text.strip()!r}")
    return unit


def name_table(units: Sequence[UnitInfo]) -> scopes.NameTable:
    """How units may be called (name, short name, aliases, code), for scope words."""
    return scopes.NameTable.build((u.id, u.name, (u.short_name, *u.aliases, u.code)) for u in units)


NEAR = 0.4  # names less alike than this are not offered (火星市 is like no unit)


def suggest(units: Sequence[UnitInfo], text: str, limit: int = 3) -> list[str]:
    """The names of the units closest to ``text`` (in writing or in sound), best first."""
    cands = ((w, u.name) for u in units for w in (u.name, u.short_name, *u.aliases))
    return [name for _, name in names.closest(scopes.key(text), cands, limit=limit,
                                              threshold=NEAR)]


def unknown_unit(units: Sequence[UnitInfo], text: str) -> NotFound:
    """The error for a name that is no unit, offering the closest names."""
    near = suggest(units, text)
    hint = f"。您是不是要找：{'、'.join(near)}？" if near else "（可用 dudao unit list 查看全部单位）"
    return NotFound(f"找不到单位：{text}{hint}", log=f"unknown unit {text!r}")


def _read_scope(conn: Connection, spec: str) -> tuple[scopes.Scope, list[UnitInfo]]:
    units = list_units(conn)
    return _parse_scope(units, name_table(units), spec), units


def _parse_scope(units: Sequence[UnitInfo], names: scopes.NameTable, spec: str) -> scopes.Scope:
    scope = scopes.parse(spec, names)
    for kind in scope.kinds:
        if kind not in KINDS:
            raise InvalidInput(f"单位类别“{kind}”不存在，可选：{'、'.join(KINDS)}",
                               log=f"unknown unit kind {kind!r}")
    if len(scope.unknown) == 1:
        raise unknown_unit(units, scope.unknown[0])
    if scope.unknown:
        raise NotFound(f"找不到单位：{'、'.join(scope.unknown)}（可用 dudao unit list 查看全部单位）",
                       log=f"unknown units {list(scope.unknown)}")
    return scope


def resolve_scope(conn: Connection, spec: str | None) -> list[UnitInfo]:
    """Scope words (全部, 各地市, 直管县, 省直部门, unit names, several joined by 和 / 、 / ,) and
    their ASCII forms (``all``, ``kind:city``) → units: named units in the order given, else the
    roster's order. A word that names no unit is an error naming it and the closest units (see
    :mod:`bot.domain.scopes`)."""
    if spec is None or not spec.strip():
        return []
    units = list_units(conn)
    return resolve_with(units, name_table(units), spec)


def resolve_with(units: Sequence[UnitInfo], names: scopes.NameTable, spec: str) -> list[UnitInfo]:
    """:func:`resolve_scope` over units already read (an import resolves many scopes)."""
    if not spec.strip():
        return []
    scope = _parse_scope(units, names, spec)
    if scope.everything:
        return list(units)
    by_id = {u.id: u for u in units}
    named = [by_id[i] for i in scope.unit_ids]
    kinds = set(scope.kinds)
    return named + [u for u in units if u.kind in kinds and u.id not in scope.unit_ids]


def scope_spec(conn: Connection, spec: str | None) -> str | None:
    """The stored form of scope words ("各地市和郑州海关" → ``kind:city,郑州海关``, "全部" →
    ``all``); errors as :func:`resolve_scope`. None for no scope."""
    if spec is None or not spec.strip():
        return None
    scope, units = _read_scope(conn, spec)
    return scope.spec({u.id: u.name for u in units})


def subtree_ids(conn: Connection, unit_id: int) -> set[int]:
    """The unit and every unit below it (a city and its counties)."""
    parents = dict(conn.execute(select(Unit.id, Unit.parent_id)).all())
    out = {unit_id}
    changed = True
    while changed:
        changed = False
        for uid, pid in parents.items():
            if pid in out and uid not in out:
                out.add(uid)
                changed = True
    return out


def import_rows(conn: Connection, rows: Sequence[RosterRow], *, now: datetime) -> tuple[int, int]:
    """Insert new units and update existing ones (matched by code). Returns (added, updated)."""
    existing = dict(conn.execute(select(Unit.code, Unit.id)).all())
    added = updated = 0
    for row in rows:
        values = {"name": row.name, "short_name": row.short_name, "kind": row.kind}
        if row.code in existing:
            conn.execute(update(Unit).where(Unit.id == existing[row.code]).values(**values))
            updated += 1
        else:
            uid = conn.execute(
                insert(Unit).returning(Unit.id), {"code": row.code, "created_at": now, **values}
            ).scalar_one()
            existing[row.code] = uid
            added += 1
    # Second pass: parents and aliases, now that every code has an id.
    for row in rows:
        uid = existing[row.code]
        parent_id = existing.get(row.parent) if row.parent else None
        conn.execute(update(Unit).where(Unit.id == uid).values(parent_id=parent_id))
        conn.execute(delete(UnitAlias).where(UnitAlias.unit_id == uid))
        for alias in row.aliases:
            if alias not in (row.name,):
                conn.execute(insert(UnitAlias), {"unit_id": uid, "alias": alias})
    return added, updated


def create_invite(conn: Connection, unit: UnitInfo, *, now: datetime, days: int = 30,
                  uses: int = 3) -> str:
    """A binding code the unit's liaisons send to the bot (``绑定 郑州市 CODE``)."""
    code = _new_code()
    conn.execute(
        insert(Invite),
        {"code": code, "kind": "unit", "unit_id": unit.id, "role": "liaison", "created_at": now,
         "expires_at": now + timedelta(days=days), "uses_left": uses},
    )
    return code


def _new_code() -> str:
    # Unambiguous characters only: people read these codes aloud and type them on phones.
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))
