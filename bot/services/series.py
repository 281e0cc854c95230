"""Series: recurring tasks whose instances are tasks, each created once, ahead of its period.

A series (``dudao task add --repeat``, a plan row with a 周期, the 四个一 preset) keeps its rule,
its units and where it stands (``next_index``, ``next_at``). :func:`materialise` — run by the
minute scheduler and ``dudao tick`` — creates every instance whose time has come: the task, its
title carrying the period ("2027年第二季度调研指导记录"), its units owing it. From then on the
instance is a task like any other: reminders, submissions, reviews, flags and statistics.

Exactly once: an instance is claimed by inserting its task with ``ON CONFLICT (series_id,
period) DO NOTHING … RETURNING`` (the unique key on tasks), in the same transaction as its
assignments and audit entry; a second process, a repeated tick or a restart finds the row and
creates nothing. On PostgreSQL the series rows being worked on are locked (``SKIP LOCKED``), so
two processes do not even try the same series at once.

Cancelling a series stops new instances; the instances already created stay (each can be
corrected or cancelled as a task).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from bot.core.env import ServiceEnv
from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.recurrence import Recurrence, SeriesRule, instance_title, period_title
from bot.services import audit
from bot.services import tasks as tasks_svc
from storage.models import Series, SeriesUnit, Task
from storage.upsert import insert_ignoring_conflicts

ACTIVE = "active"
CANCELLED = "cancelled"
STATUS_NAMES = {ACTIVE: "进行中", CANCELLED: "已停止"}


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    id: int
    title: str
    rule: Recurrence
    first_due: datetime
    at_period_end: bool
    until: datetime | None
    lead_days: int
    system: str
    status: str
    unit_ids: tuple[int, ...]
    plan_id: int | None
    kind: str
    fields: tuple[str, ...]
    next_index: int
    next_at: datetime | None
    instances: int = 0  # created so far
    cancel_reason: str | None = None

    def schedule(self, env: ServiceEnv) -> SeriesRule:
        return SeriesRule(self.rule, self.first_due, env.tz, at_period_end=self.at_period_end,
                          lead_days=self.lead_days)


@dataclass(frozen=True, slots=True)
class Created:
    """An instance created: its task, period (``2027Q2``), title and deadline."""

    series_id: int
    task_id: int
    period: str
    title: str
    due: datetime


def create(conn: Connection, env: ServiceEnv, *, title: str, schedule: SeriesRule,
           until: datetime | None, unit_ids: Sequence[int], system: str, now: datetime,
           actor: str, channel: str, description: str = "", materials: str = "",
           fields: Sequence[str] = (), kind: str = "", plan_id: int | None = None,
           reminder_policy: str = "", created_by: int | None = None, skip_past: bool = False
           ) -> tuple[SeriesInfo, list[Created], list[str]]:
    """Record a series and create the instances whose time has come (audited as ``actor``).

    ``skip_past``: instances already due at ``now`` are not created (a plan imported in May
    starts with the second quarter); otherwise the first one is created even if its deadline
    has passed, as ``task add`` registers late work. Returns the series, the instances created
    now and warnings.
    """
    title = tasks_svc.check_title(title)
    tasks_svc.check_system(system)
    if not unit_ids:
        raise InvalidInput("任务没有分配给任何单位", log="series without units")
    if until is not None and until.tzinfo is None:
        raise InvalidInput("结束时间需要带时区", log="naive until")
    start = schedule.first_due_after(now) if skip_past else 0
    first = schedule.instance(start)
    if until is not None and first.due > until:
        raise InvalidInput(f"到 {env.fmt(until)} 之前没有一期需要创建（首期截止 {env.fmt(first.due)}）",
                           log="series ends before its first instance")
    warnings = []
    if start:
        skipped = "、".join(period_title(schedule.instance(i).period) for i in range(start))
        warnings.append(f"截止时间已过的 {start} 期（{skipped}）不再创建")
    elif first.due <= now:
        warnings.append("首期截止时间已过：按补登记录，未提交的单位将直接记为逾期")
    sid = conn.execute(insert(Series).returning(Series.id), {
        "plan_id": plan_id, "title": title, "description": description, "materials": materials,
        "system": system, "rule": schedule.rule.value, "first_due": schedule.first_due,
        "at_period_end": schedule.at_period_end, "until": until,
        "lead_days": schedule.lead_days, "fields": list(fields), "kind": kind,
        "reminder_policy": reminder_policy, "status": ACTIVE, "next_index": start,
        "next_at": first.opens, "created_by": created_by, "created_actor": actor,
        "created_at": now,
    }).scalar_one()
    conn.execute(insert(SeriesUnit), [{"series_id": sid, "unit_id": u}
                                      for u in dict.fromkeys(unit_ids)])
    audit.record(conn, at=now, actor=actor, channel=channel, action="series.create",
                 target=f"series:{sid}",
                 detail={"title": title, "rule": schedule.rule.value, "units": len(unit_ids),
                         "first_due": first.due.isoformat(),
                         "until": until.isoformat() if until else None})
    created = materialise(conn, env, now, series_ids=(sid,))
    return get(conn, sid), created, warnings


def materialise(conn: Connection, env: ServiceEnv, now: datetime, *,
                series_ids: Sequence[int] | None = None) -> list[Created]:
    """Create every instance whose time has come (``opens <= now``), once; in the caller's
    transaction. ``series_ids`` narrows it to those series."""
    q = (select(Series).where(Series.status == ACTIVE, Series.next_at.is_not(None),
                              Series.next_at <= now)
         .order_by(Series.id).with_for_update(skip_locked=True))
    if series_ids is not None:
        q = q.where(Series.id.in_(list(series_ids)))
    rows = conn.execute(q).all()
    if not rows:
        return []
    members: dict[int, list[int]] = {}
    for sid, uid in conn.execute(
            select(SeriesUnit.series_id, SeriesUnit.unit_id)
            .where(SeriesUnit.series_id.in_([r.id for r in rows]))
            .order_by(SeriesUnit.series_id, SeriesUnit.unit_id)):
        members.setdefault(sid, []).append(uid)
    claim = insert_ignoring_conflicts(conn, Task, ("series_id", "period"), returning=("id",))
    created: list[Created] = []
    for s in rows:
        schedule = SeriesRule(Recurrence(s.rule), s.first_due, env.tz,
                              at_period_end=s.at_period_end, lead_days=s.lead_days)
        index = s.next_index
        next_at: datetime | None = None
        while True:
            item = schedule.instance(index)
            if s.until is not None and item.due > s.until:
                break  # finished
            if item.opens > now:
                next_at = item.opens
                break
            title = instance_title(s.title, item.period)
            period = str(item.period)
            tid = conn.execute(claim, {
                "title": title, "due": item.due, "system": s.system,
                "description": s.description, "materials": s.materials, "status": "open",
                "reminder_policy": s.reminder_policy, "plan_id": s.plan_id, "series_id": s.id,
                "period": period, "fields": list(s.fields or ()), "created_by": s.created_by,
                "created_at": now,
            }).scalar_one_or_none()
            if tid is not None:  # ours: nobody created this instance before
                tasks_svc.assign(conn, tid, tuple(members.get(s.id, ())))
                audit.record(conn, at=now, actor="system", channel="system",
                             action="task.create", target=f"task:{tid}",
                             detail={"title": title, "due": item.due.isoformat(),
                                     "series": s.id, "period": period})
                created.append(Created(s.id, tid, period, title, item.due))
            index += 1
        conn.execute(update(Series).where(Series.id == s.id)
                     .values(next_index=index, next_at=next_at))
    return created


def cancel(conn: Connection, series_id: int, *, reason: str, now: datetime
           ) -> tuple[SeriesInfo, list[int]]:
    """Stop a series: no more instances. Returns it and its instances still open (they stay:
    each is a task with its own history)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("停止系列需要写明原因", log="series cancel without reason")
    info = get(conn, series_id)
    if info.status == CANCELLED:
        raise Conflict(f"系列 {series_id}《{info.title}》已于此前停止", log="series cancelled twice")
    conn.execute(update(Series).where(Series.id == series_id).values(
        status=CANCELLED, next_at=None, cancel_reason=reason, cancelled_at=now))
    open_ids = list(conn.execute(
        select(Task.id).where(Task.series_id == series_id, Task.status == "open")
        .order_by(Task.due, Task.id)).scalars())
    return get(conn, series_id), open_ids


def get(conn: Connection, series_id: int) -> SeriesInfo:
    found = list_series(conn, series_ids=(series_id,))
    if not found:
        raise NotFound(f"没有编号为 {series_id} 的系列", log=f"unknown series {series_id}")
    return found[0]


def list_series(conn: Connection, *, status: str | None = None, plan_id: int | None = None,
                series_ids: Sequence[int] | None = None) -> list[SeriesInfo]:
    q = select(Series).order_by(Series.id)
    if status is not None:
        q = q.where(Series.status == status)
    if plan_id is not None:
        q = q.where(Series.plan_id == plan_id)
    if series_ids is not None:
        q = q.where(Series.id.in_(list(series_ids)))
    rows = conn.execute(q).all()
    ids = [r.id for r in rows]
    members: dict[int, list[int]] = {}
    counts: dict[int, int] = {}
    if ids:
        for sid, uid in conn.execute(select(SeriesUnit.series_id, SeriesUnit.unit_id)
                                     .where(SeriesUnit.series_id.in_(ids))
                                     .order_by(SeriesUnit.unit_id)):
            members.setdefault(sid, []).append(uid)
        counts = {int(sid or 0): int(n) for sid, n in conn.execute(
            select(Task.series_id, func.count()).where(Task.series_id.in_(ids))
            .group_by(Task.series_id))}
    return [SeriesInfo(r.id, r.title, Recurrence(r.rule), r.first_due, r.at_period_end, r.until,
                       r.lead_days, r.system, r.status, tuple(members.get(r.id, ())), r.plan_id,
                       r.kind, tuple(r.fields or ()), r.next_index, r.next_at,
                       counts.get(r.id, 0), r.cancel_reason) for r in rows]


@dataclass(frozen=True, slots=True)
class InstanceRow:
    task_id: int
    period: str
    title: str
    due: datetime
    status: str


def instances(conn: Connection, series_id: int) -> list[InstanceRow]:
    """A series' instances so far, by deadline."""
    return [InstanceRow(r.id, r.period or "", r.title, r.due, r.status) for r in conn.execute(
        select(Task.id, Task.period, Task.title, Task.due, Task.status)
        .where(Task.series_id == series_id).order_by(Task.due, Task.id))]
