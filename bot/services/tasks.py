"""Tasks of the yearly plan: publish, assign to units, list, and what a unit still owes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Select, bindparam, insert, select

from bot.domain.errors import InvalidInput, NotFound
from bot.services import units as units_svc
from storage.models import Task, TaskUnit, Unit

SYSTEMS = ("guidance", "exchange", "supervision", "evaluation")
SYSTEM_NAMES = {"guidance": "服务指导", "exchange": "情况交流", "supervision": "督促检查",
                "evaluation": "分析评价"}


@dataclass(frozen=True, slots=True)
class TaskInfo:
    id: int
    title: str
    due: datetime
    system: str
    status: str
    unit_ids: tuple[int, ...] = ()
    description: str = ""
    reminder_policy: str = ""
    series_id: int | None = None  # a series instance: its series and period (2027Q2)
    period: str | None = None


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InvalidInput("任务标题不能为空", log="empty task title")
    if len(title) > 200:
        raise InvalidInput("任务标题太长（最多 200 字）", log="task title too long")
    return title


def check_system(system: str) -> str:
    if system not in SYSTEMS:
        raise InvalidInput(f"工作体系“{system}”不存在，可选：{'、'.join(SYSTEMS)}",
                           log=f"bad system {system!r}")
    return system


def add(conn: Connection, *, title: str, due: datetime, units_spec: str | None, system: str,
        description: str = "", created_by: int | None, now: datetime,
        reminder_policy: str = "", plan_id: int | None = None, materials: str = "",
        unit_ids: tuple[int, ...] | None = None) -> tuple[TaskInfo, list[str]]:
    """Publish a task. Returns the task and warnings (e.g. a deadline in the past).

    ``unit_ids`` (units already resolved, e.g. by a plan import) take the place of
    ``units_spec``.
    """
    title = check_title(title)
    check_system(system)
    if due.tzinfo is None:
        raise InvalidInput("截止时间需要带时区", log="naive due")
    ids = unit_ids if unit_ids is not None else tuple(
        u.id for u in units_svc.resolve_scope(conn, units_spec or "all"))
    if not ids:
        raise InvalidInput("任务没有分配给任何单位", log="task without units")
    warnings = []
    if due <= now:
        warnings.append("截止时间已过：任务按补登记录，未提交的单位将直接记为逾期")
    tid = conn.execute(
        insert(Task).returning(Task.id),
        {"title": title, "due": due, "system": system, "description": description,
         "materials": materials, "status": "open", "created_by": created_by, "created_at": now,
         "reminder_policy": reminder_policy, "plan_id": plan_id},
    ).scalar_one()
    assign(conn, tid, ids)
    info = TaskInfo(tid, title, due, system, "open", ids, description, reminder_policy)
    return info, warnings


def assign(conn: Connection, task_id: int, unit_ids: tuple[int, ...]) -> None:
    """The task's units, each owing it."""
    conn.execute(insert(TaskUnit), [{"task_id": task_id, "unit_id": u, "state": "owed"}
                                    for u in unit_ids])


def get(conn: Connection, task_id: int) -> TaskInfo:
    t = conn.execute(select(Task).where(Task.id == task_id)).first()
    if t is None:
        raise NotFound(f"没有编号为 {task_id} 的任务", log=f"unknown task {task_id}")
    ids = tuple(conn.execute(select(TaskUnit.unit_id).where(TaskUnit.task_id == task_id)).scalars())
    return TaskInfo(t.id, t.title, t.due, t.system, t.status, ids, t.description, t.reminder_policy,
                    t.series_id, t.period)


def list_tasks(conn: Connection, *, status: str | None = "open") -> list[TaskInfo]:
    q = select(Task.id, Task.title, Task.due, Task.system, Task.status, Task.description,
               Task.reminder_policy, Task.series_id, Task.period)
    if status:
        q = q.where(Task.status == status)
    rows = conn.execute(q.order_by(Task.due, Task.id)).all()
    members: dict[int, list[int]] = {}
    ids = [r.id for r in rows]
    if ids:
        for tid, uid in conn.execute(
            select(TaskUnit.task_id, TaskUnit.unit_id).where(TaskUnit.task_id.in_(ids))
        ):
            members.setdefault(tid, []).append(uid)
    return [TaskInfo(r.id, r.title, r.due, r.system, r.status, tuple(members.get(r.id, ())),
                     r.description, r.reminder_policy, r.series_id, r.period) for r in rows]


@dataclass(frozen=True, slots=True)
class OwedTask:
    task_id: int
    title: str
    due: datetime
    state: str  # owed | returned
    fields: tuple[str, ...] = ()  # what a submission must contain (bot/domain/record_fields.py)


def _owed_query(states: tuple[str, ...]) -> Select[int, str, datetime, str, list[str]]:
    return (
        select(Task.id, Task.title, Task.due, TaskUnit.state, Task.fields)
        .join(TaskUnit, TaskUnit.task_id == Task.id)
        .where(TaskUnit.unit_id == bindparam("unit_id"), Task.status == "open",
               TaskUnit.state.in_(states))
        .order_by(Task.due, Task.id)
    )


# Prebuilt: every submission asks it (see bot/services/audit.py on why). The states are literal,
# not an expanding parameter, so the cached SQL is used as is without re-rendering the IN list.
_OWED = _owed_query(("owed", "returned"))
_OWED_OR_PENDING = _owed_query(("owed", "returned", "received"))
# For a submission: on PostgreSQL the unit's assignment rows are locked until commit, so two
# processes receiving the same unit's submissions at once take turns, and the second computes
# its version number after the first has committed (SQLite has one writer and no FOR UPDATE).
_OWED_OR_PENDING_LOCKED = _OWED_OR_PENDING.with_for_update(of=TaskUnit)


def owed_by_unit(conn: Connection, unit_id: int, *, include_pending: bool = False,
                 for_submission: bool = False) -> list[OwedTask]:
    """Open tasks the unit has not submitted, or whose submission was returned.

    ``include_pending`` adds tasks submitted but not yet reviewed: a liaison may send a revised
    version before the review (it becomes the next version). ``for_submission`` (implies
    ``include_pending``) also locks the rows until commit on PostgreSQL.
    """
    if for_submission:
        stmt = _OWED_OR_PENDING_LOCKED
    else:
        stmt = _OWED_OR_PENDING if include_pending else _OWED
    rows = conn.execute(stmt, {"unit_id": unit_id})
    return [OwedTask(r.id, r.title, r.due, r.state, tuple(r.fields or ())) for r in rows]


@dataclass(frozen=True, slots=True)
class UnitState:
    unit_id: int
    unit_name: str
    state: str
    last_submission_id: int | None


def missing(conn: Connection, task_id: int, *, unit_ids: set[int] | None = None) -> list[UnitState]:
    """Units assigned to the task that have not submitted (or were returned): an indexed lookup."""
    q = (
        select(TaskUnit.unit_id, Unit.name, TaskUnit.state, TaskUnit.last_submission_id)
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .where(TaskUnit.task_id == task_id, TaskUnit.state.in_(("owed", "returned")))
        .order_by(Unit.id)
    )
    rows = conn.execute(q).all()
    return [UnitState(r.unit_id, r.name, r.state, r.last_submission_id) for r in rows
            if unit_ids is None or r.unit_id in unit_ids]


def unit_states(conn: Connection, task_id: int) -> list[UnitState]:
    rows = conn.execute(
        select(TaskUnit.unit_id, Unit.name, TaskUnit.state, TaskUnit.last_submission_id)
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .where(TaskUnit.task_id == task_id).order_by(Unit.id)
    )
    return [UnitState(r.unit_id, r.name, r.state, r.last_submission_id) for r in rows]


_OPEN_TITLES = (select(Task.id, Task.title, Task.due).where(Task.status == "open")
                .order_by(Task.due, Task.id))


def open_titles(conn: Connection) -> list[tuple[int, str, datetime]]:
    """Open tasks' ids, titles and deadlines, soonest first (what the language layer knows)."""
    return [(r.id, r.title, r.due) for r in conn.execute(_OPEN_TITLES)]
