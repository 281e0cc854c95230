"""Keeping the flags table in step with the rules of DESIGN §4 (bot/domain/flags.py).

Flags are recomputed when a review happens and when a deadline passes; a row is only written
when the colour or reason changes, and the earlier row is kept (``current = false``) as history.
An admin override stands until another override.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from bot.core.env import ServiceEnv
from bot.domain.flags import (
    FlagColor,
    FlagDecision,
    Override,
    Rating,
    SubmissionFacts,
    compute_flag,
    resolve_flag,
)
from storage.models import Flag, Submission, Task, TaskUnit

COLOR_NAMES = {"red": "红旗", "blue": "蓝旗", "yellow": "黄旗"}


def _facts(conn: Connection, task_id: int, unit_id: int) -> list[SubmissionFacts]:
    rows = conn.execute(
        select(Submission.submitted_at, Submission.status, Submission.rating)
        .where(Submission.task_id == task_id, Submission.unit_id == unit_id)
        .order_by(Submission.version)
    )
    return [SubmissionFacts(r.submitted_at, r.status,
                            Rating(r.rating) if r.status == "accepted" and r.rating else None)
            for r in rows]


def current_flag(conn: Connection, task_id: int, unit_id: int) -> tuple[str, str, str] | None:
    r = conn.execute(
        select(Flag.color, Flag.reason, Flag.source).where(
            Flag.task_id == task_id, Flag.unit_id == unit_id, Flag.current.is_(True))
    ).first()
    return (r.color, r.reason, r.source) if r else None


def _overrides(conn: Connection, task_id: int, unit_id: int) -> list[Override]:
    rows = conn.execute(
        select(Flag.color, Flag.reason, Flag.set_by, Flag.set_at).where(
            Flag.task_id == task_id, Flag.unit_id == unit_id, Flag.source == "override")
        .order_by(Flag.id)
    )
    return [Override(FlagColor(r.color), r.reason, str(r.set_by or "admin"), r.set_at)
            for r in rows]


def _write(conn: Connection, task_id: int, unit_id: int, decision: FlagDecision, *, source: str,
           set_by: int | None, now: datetime) -> None:
    conn.execute(update(Flag).where(Flag.task_id == task_id, Flag.unit_id == unit_id,
                                    Flag.current.is_(True)).values(current=False))
    conn.execute(insert(Flag), {"task_id": task_id, "unit_id": unit_id,
                                "color": decision.color.value, "reason": decision.reason,
                                "source": source, "current": True, "set_by": set_by,
                                "set_at": now})


def refresh_task_unit_flag(conn: Connection, env: ServiceEnv, task_id: int, unit_id: int,
                           now: datetime) -> str | None:
    """Recompute one (task, unit) flag; returns e.g. "记红旗" when it changed."""
    due = conn.execute(select(Task.due).where(Task.id == task_id)).scalar_one()
    decision = resolve_flag(compute_flag(due, _facts(conn, task_id, unit_id), now),
                            _overrides(conn, task_id, unit_id))
    if decision is None:
        return None
    cur = current_flag(conn, task_id, unit_id)
    if cur is not None and cur[0] == decision.color.value and cur[1] == decision.reason:
        return None
    _write(conn, task_id, unit_id, decision,
           source="override" if decision.by else "rule", set_by=None, now=now)
    return f"记{COLOR_NAMES[decision.color.value]}（{decision.reason}）"


def override(conn: Connection, task_id: int, unit_id: int, color: str, reason: str, *,
             admin_id: int, now: datetime) -> None:
    decision = FlagDecision(FlagColor(color), reason.strip(), by=str(admin_id))
    Override(decision.color, decision.reason, str(admin_id), now)  # validates the reason
    _write(conn, task_id, unit_id, decision, source="override", set_by=admin_id, now=now)


def mark_passed_deadlines(conn: Connection, env: ServiceEnv, now: datetime, *,
                          since: datetime | None = None) -> int:
    """Yellow for every assignment whose deadline passed with nothing submitted and no flag yet.

    ``since`` restricts it to the tasks whose deadline passed, or which were registered, since
    then (a scheduler tick: only what changed since the previous one).

    Two steps on purpose: first the open past-due task ids (a small, indexed read of
    ``tasks``), then their owing assignments by ``ix_task_units_task_state`` and
    ``ix_flags_task_current``. As one join, PostgreSQL cannot see that few open tasks are past due
    (status and deadline are correlated) and, with 600,000 assignments and 330,000 flags, chose
    sequential scans of both: ~700 ms instead of ~15 ms (bench/bench_storage.py).
    """
    q = select(Task.id).where(Task.status == "open", Task.due < now)
    if since is not None:
        q = q.where((Task.due >= since) | (Task.created_at >= since))
    task_ids = list(conn.execute(q).scalars())
    if not task_ids:
        return 0
    # The task list is repeated on the flags side: PostgreSQL does not carry an IN list across
    # the join, and without it hashes every current flag.
    rows = conn.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id)
        .outerjoin(Flag, (Flag.task_id == TaskUnit.task_id) & (Flag.unit_id == TaskUnit.unit_id)
                   & Flag.current.is_(True) & Flag.task_id.in_(task_ids))
        .where(TaskUnit.task_id.in_(task_ids), TaskUnit.state.in_(("owed", "returned")),
               Flag.id.is_(None))
    ).all()
    changed = 0
    for r in rows:
        if refresh_task_unit_flag(conn, env, r.task_id, r.unit_id, now):
            changed += 1
    return changed
