"""Demonstration sites (示范点): nomination, cultivation records, the year-end decision and the
year's list of accepted sites (DESIGN §3, §4). The rules are in bot/domain/demo_sites.py; the
callers audit and tell the unit (bot/services/unit_notify.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, func, insert, select, update

from bot.core.env import ServiceEnv
from bot.domain import demo_sites as rules
from bot.domain.demo_sites import RecordKind, SiteState
from bot.domain.errors import InvalidInput, NotFound
from storage.models import DemoSite, SiteRecord, Unit

DEFAULT_LIMIT = 100


@dataclass(frozen=True, slots=True)
class SiteInfo:
    id: int
    unit_id: int
    unit: str
    name: str
    description: str
    year: int
    status: str
    reason: str
    decided_actor: str | None
    decided_at: datetime | None
    created_actor: str
    created_at: datetime | None
    records: int
    source_chat: str | None

    @property
    def label(self) -> str:
        return SiteState(self.status).label


@dataclass(frozen=True, slots=True)
class RecordInfo:
    id: int
    site_id: int
    kind: str
    text: str
    actor: str
    at: datetime

    @property
    def label(self) -> str:
        return RecordKind(self.kind).label


def _query() -> Any:
    records = (select(func.count(SiteRecord.id)).where(SiteRecord.site_id == DemoSite.id)
               .correlate(DemoSite).scalar_subquery())
    return (select(DemoSite.id, DemoSite.unit_id, Unit.name.label("unit"), DemoSite.name,
                   DemoSite.description, DemoSite.year, DemoSite.status, DemoSite.reason,
                   DemoSite.decided_actor, DemoSite.decided_at, DemoSite.created_actor,
                   DemoSite.created_at, records.label("records"), DemoSite.source_chat)
            .join(Unit, Unit.id == DemoSite.unit_id))


def _info(r: Row[Any]) -> SiteInfo:
    return SiteInfo(r.id, r.unit_id, r.unit, r.name, r.description, r.year, r.status, r.reason,
                    r.decided_actor, r.decided_at, r.created_actor, r.created_at,
                    int(r.records or 0), r.source_chat)


def get(conn: Connection, site_id: int) -> SiteInfo:
    r = conn.execute(_query().where(DemoSite.id == site_id)).first()
    if r is None:
        raise NotFound(f"没有编号为 {site_id} 的示范点", log=f"unknown demo site {site_id}")
    return _info(r)


def nominate(conn: Connection, *, unit_id: int, name: str, description: str, year: int,
             actor: str, now: datetime, source_chat: str | None = None) -> SiteInfo:
    name, description = rules.check_nomination(name, description)
    sid = conn.execute(insert(DemoSite).returning(DemoSite.id), {
        "unit_id": unit_id, "name": name, "description": description, "year": year,
        "status": SiteState.NOMINATED.value, "checklist": [], "reason": "",
        "created_actor": actor, "created_at": now, "updated_at": now,
        "source_chat": source_chat,
    }).scalar_one()
    return get(conn, int(sid))


def add_record(conn: Connection, site_id: int, *, kind: str, text: str, actor: str,
               now: datetime) -> RecordInfo:
    """A cultivation record (visit, guidance, material, note); a nominated site is then being
    prepared."""
    site = get(conn, site_id)
    try:
        rkind = RecordKind(kind)
    except ValueError:
        raise InvalidInput(f"培育记录类别“{kind}”不存在，可选：visit（走访）、guidance（指导）、"
                           "material（材料）、note（记录）", log=f"unknown site record kind {kind!r}"
                           ) from None
    state = rules.after_record(site.name, SiteState(site.status), text)
    rid = conn.execute(insert(SiteRecord).returning(SiteRecord.id), {
        "site_id": site_id, "kind": rkind.value, "text": text.strip(), "actor": actor, "at": now,
    }).scalar_one()
    conn.execute(update(DemoSite).where(DemoSite.id == site_id)
                 .values(status=state.value, updated_at=now))
    return RecordInfo(int(rid), site_id, rkind.value, text.strip(), actor, now)


def records(conn: Connection, site_id: int) -> list[RecordInfo]:
    return [RecordInfo(r.id, r.site_id, r.kind, r.text, r.actor, r.at) for r in conn.execute(
        select(SiteRecord).where(SiteRecord.site_id == site_id).order_by(SiteRecord.id))]


def decide(conn: Connection, site_id: int, *, passed: bool, reason: str, actor: str,
           now: datetime) -> SiteInfo:
    site = get(conn, site_id)
    state = rules.decide(site.name, SiteState(site.status), passed=passed, reason=reason)
    conn.execute(update(DemoSite).where(DemoSite.id == site_id).values(
        status=state.value, reason=reason.strip(), decided_actor=actor, decided_at=now,
        updated_at=now))
    return get(conn, site_id)


def list_sites(conn: Connection, *, year: int | None = None, unit_ids: set[int] | None = None,
               status: str | None = None, after_id: int | None = None,
               limit: int | None = DEFAULT_LIMIT) -> list[SiteInfo]:
    """Sites by id (paged: ``after_id`` and ``limit``)."""
    where: list[ColumnElement[bool]] = []
    if year is not None:
        where.append(DemoSite.year == year)
    if unit_ids is not None:
        where.append(DemoSite.unit_id.in_(sorted(unit_ids)))
    if status is not None:
        if status not in {s.value for s in SiteState}:
            raise InvalidInput(f"示范点状态“{status}”不存在，可选："
                               + "、".join(s.value for s in SiteState),
                               log=f"unknown site status {status!r}")
        where.append(DemoSite.status == status)
    if after_id is not None:
        where.append(DemoSite.id > after_id)
    q = _query().where(*where).order_by(DemoSite.id)
    if limit is not None:
        q = q.limit(limit)
    return [_info(r) for r in conn.execute(q)]


def accepted(conn: Connection, year: int) -> list[SiteInfo]:
    """The year's list of demonstration sites."""
    return list_sites(conn, year=year, status=SiteState.ACCEPTED.value, limit=None)


def to_record(s: SiteInfo, env: ServiceEnv) -> dict[str, Any]:
    """The JSON form (CLI ``--json``, a later API resource)."""
    return {"id": s.id, "unit_id": s.unit_id, "unit": s.unit, "name": s.name,
            "description": s.description, "year": s.year, "status": s.status,
            "status_label": s.label, "reason": s.reason, "decided_by": s.decided_actor,
            "decided_at": env.local(s.decided_at).isoformat() if s.decided_at else None,
            "created_by": s.created_actor,
            "created_at": env.local(s.created_at).isoformat() if s.created_at else None,
            "records": s.records}
