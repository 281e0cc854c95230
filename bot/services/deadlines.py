"""Open tasks due in a time range: for one or more units, or over everything (admins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, select

from storage.models import Task, TaskUnit

PENDING_STATES = ("owed", "returned")


@dataclass(frozen=True, slots=True)
class DueTask:
    task_id: int
    title: str
    due: datetime
    assigned: int  # units (of those asked about) the task is assigned to
    pending: int  # of them, how many have not submitted or were returned


def due_between(conn: Connection, start: datetime, end: datetime, *,
                unit_ids: set[int] | None = None) -> list[DueTask]:
    """Open tasks with a deadline in [start, end), soonest first. With ``unit_ids`` only tasks
    assigned to one of them, counted over them."""
    pending = func.sum(case((TaskUnit.state.in_(PENDING_STATES), 1), else_=0))
    q = (
        select(Task.id, Task.title, Task.due, func.count(TaskUnit.unit_id).label("assigned"),
               pending.label("pending"))
        .join(TaskUnit, TaskUnit.task_id == Task.id)
        .where(Task.status == "open", Task.due >= start, Task.due < end)
        .group_by(Task.id, Task.title, Task.due)
        .order_by(Task.due, Task.id)
    )
    if unit_ids is not None:
        q = q.where(TaskUnit.unit_id.in_(sorted(unit_ids)))
    return [DueTask(r.id, r.title, r.due, int(r.assigned), int(r.pending or 0))
            for r in conn.execute(q)]
