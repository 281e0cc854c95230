"""Spot checks (抽查): a seeded draw over a named pool, recorded with its pool, seed, result and
who drew it, so anyone can re-run it (``verify``) and get the same units (DESIGN §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, insert, select

from bot.core.env import ServiceEnv
from bot.domain import spot_checks as rules
from bot.domain.errors import InvalidInput, NotFound
from bot.services import units as units_svc
from storage.models import SpotCheck, Task, Unit

DEFAULT_LIMIT = 100
MAX_SEED = 2**63 - 1


@dataclass(frozen=True, slots=True)
class CheckInfo:
    id: int
    pool: str  # the scope as named (kind:city), as the draw was asked for
    seed: int
    count: int
    population: tuple[int, ...]  # the unit ids the pool resolved to
    drawn: tuple[int, ...]
    drawn_names: tuple[str, ...]
    task_id: int | None
    task: str | None
    actor: str
    created_at: datetime
    verified: bool  # re-running the draw from the record gives the same units


def _info(conn: Connection, r: Row[Any]) -> CheckInfo:
    drawn = tuple(int(i) for i in r.drawn)
    names = dict(conn.execute(select(Unit.id, Unit.name).where(Unit.id.in_(drawn))).all()) \
        if drawn else {}
    population = tuple(int(i) for i in r.population)
    seed = int(r.seed)
    return CheckInfo(r.id, r.pool, seed, r.k, population, drawn,
                     tuple(names.get(i, f"单位{i}") for i in drawn), r.task_id, r.task,
                     r.created_actor, r.created_at,
                     rules.verify(population, r.k, seed, drawn))


def _select() -> Any:
    return (select(SpotCheck.id, SpotCheck.pool, SpotCheck.seed, SpotCheck.k,
                   SpotCheck.population, SpotCheck.drawn, SpotCheck.task_id,
                   Task.title.label("task"), SpotCheck.created_actor, SpotCheck.created_at)
            .outerjoin(Task, Task.id == SpotCheck.task_id))


def get(conn: Connection, check_id: int) -> CheckInfo:
    r = conn.execute(_select().where(SpotCheck.id == check_id)).first()
    if r is None:
        raise NotFound(f"没有编号为 {check_id} 的抽查记录", log=f"unknown spot check {check_id}")
    return _info(conn, r)


def draw(conn: Connection, *, pool: str, count: int, seed: int | None = None,
         task_id: int | None = None, actor: str, person_id: int | None = None,
         now: datetime) -> CheckInfo:
    """Draw ``count`` units from the units ``pool`` names and record the draw."""
    spec = units_svc.scope_spec(conn, pool)
    if spec is None:
        raise InvalidInput("请写明抽查范围，例如：地市、直管县、省直部门", log="spot check without pool")
    population = [u.id for u in units_svc.resolve_scope(conn, spec)]
    if seed is None:
        seed = rules.new_seed()
    elif not 0 <= seed <= MAX_SEED:
        raise InvalidInput("种子应为 0 到 2^63-1 之间的整数", log=f"seed out of range {seed}")
    if count <= 0:
        raise InvalidInput("抽查数量至少为 1", log=f"spot check count {count}")
    if task_id is not None and conn.execute(
            select(Task.id).where(Task.id == task_id)).first() is None:
        raise NotFound(f"没有编号为 {task_id} 的任务", log=f"spot check of unknown task {task_id}")
    drawn = rules.draw(population, count, seed)
    cid = conn.execute(insert(SpotCheck).returning(SpotCheck.id), {
        "task_id": task_id, "seed": str(seed), "k": count, "population": sorted(population),
        "drawn": drawn, "created_by": person_id, "created_at": now, "pool": spec,
        "created_actor": actor, "findings": "",
    }).scalar_one()
    return get(conn, int(cid))


def list_checks(conn: Connection, *, after_id: int | None = None,
                limit: int | None = DEFAULT_LIMIT) -> list[CheckInfo]:
    where: list[ColumnElement[bool]] = []
    if after_id is not None:
        where.append(SpotCheck.id > after_id)
    q = _select().where(*where).order_by(SpotCheck.id)
    if limit is not None:
        q = q.limit(limit)
    return [_info(conn, r) for r in conn.execute(q).all()]


def to_record(c: CheckInfo, env: ServiceEnv) -> dict[str, Any]:
    return {"id": c.id, "pool": c.pool, "seed": str(c.seed), "count": c.count,
            "population": list(c.population), "drawn": list(c.drawn),
            "units": list(c.drawn_names), "task_id": c.task_id, "task": c.task,
            "drawn_by": c.actor, "created_at": env.local(c.created_at).isoformat(),
            "verified": c.verified}
