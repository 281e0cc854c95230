"""Read models for the supervision board (bot/web): the grid, a unit, a task, lists.

The grid is the page admins open every morning, on up to a few hundred units × a few hundred
tasks, so it is built from three statements (units, tasks, one join for every cell) whatever its
size — never one query per cell.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Integer, and_, func, select
from sqlalchemy.sql import ClauseElement

from bot.domain import periods
from bot.domain.errors import InvalidInput, NotFound
from bot.services import notices as notices_svc
from bot.services import submissions as subs_svc
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc
from storage.models import (
    Attachment,
    AuditEntry,
    Bulletin,
    Dynamic,
    Flag,
    Group,
    Notice,
    Person,
    ScoreEntry,
    Submission,
    Task,
    TaskUnit,
    Unit,
)

COLORS = ("red", "blue", "yellow")
_SUBMITTED = ("received", "accepted")
_OWED = ("owed", "returned")


def period_bounds(period: str, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The board's period filter (``2026``, ``2026H1``, ``2026Q3``, ``2026-07``: bot/domain/periods.py)
    → [start, end) in the service zone; None for no filter."""
    if not period.strip():
        return None
    return periods.parse(period).bounds(tz)


# ------------------------------------------------------------------------------------ grid


def _driver_rows(conn: Connection, stmt: ClauseElement) -> list[tuple[Any, ...]]:
    """Rows as the driver's plain tuples, for the 60,000-row grid statement.

    SQLAlchemy's Row objects cost about 3 µs each here: 180 ms of the 300 ms budget for the
    board. The statement is compiled with its (integer) parameters inlined and run on the same
    connection and transaction through the DBAPI cursor.
    """
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cur = conn.connection.cursor()
    try:
        cur.execute(sql)
        return list(cur.fetchall())
    finally:
        cur.close()


@dataclass(frozen=True, slots=True)
class GridUnit:
    id: int
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class GridTask:
    id: int
    title: str
    due: datetime
    system: str
    status: str


@dataclass(slots=True)
class Grid:
    units: list[GridUnit]
    tasks: list[GridTask]
    # (unit_id, task_id) → flag colour when there is one, else the submission state
    # ("owed", "received", "returned", "accepted").
    cells: dict[tuple[int, int], str]
    unit_counts: dict[int, Counter[str]] = field(default_factory=dict)
    task_counts: dict[int, Counter[str]] = field(default_factory=dict)
    task_done: Counter[int] = field(default_factory=Counter)  # units that submitted, per task
    # Open tasks each unit has not (successfully) submitted, flagged or not: what it still owes.
    unit_owed: Counter[int] = field(default_factory=Counter)
    period_flags: Counter[int] = field(default_factory=Counter)  # innovation/incident, per unit

    def totals(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for c in self.unit_counts.values():
            out.update(c)
        return out


def grid(conn: Connection, *, tz: ZoneInfo, kind: str | None = None, system: str | None = None,
         period: str = "", unit_ids: set[int] | None = None, include_closed: bool = True) -> Grid:
    bounds = period_bounds(period, tz)
    uq = select(Unit.id, Unit.name, Unit.kind).where(Unit.active.is_(True))
    if kind:
        if kind not in units_svc.KINDS:
            raise InvalidInput(f"单位类别“{kind}”不存在", log=f"bad kind {kind!r}")
        uq = uq.where(Unit.kind == kind)
    units = [GridUnit(r.id, r.name, r.kind) for r in conn.execute(uq.order_by(Unit.id))
             if unit_ids is None or r.id in unit_ids]
    tq = select(Task.id, Task.title, Task.due, Task.system, Task.status)
    conds = []
    if system:
        if system not in tasks_svc.SYSTEMS:
            raise InvalidInput(f"工作体系“{system}”不存在", log=f"bad system {system!r}")
        conds.append(Task.system == system)
    if bounds is not None:
        conds += [Task.due >= bounds[0], Task.due < bounds[1]]
    if not include_closed:
        conds.append(Task.status == "open")
    else:  # a cancelled task is no column: its units owe nothing
        conds.append(Task.status != "cancelled")
    if conds:
        tq = tq.where(and_(*conds))
    tasks = [GridTask(r.id, r.title, r.due, r.system, r.status)
             for r in conn.execute(tq.order_by(Task.due, Task.id))]
    g = Grid(units, tasks, {})
    # Every unit and task has its counts, even when the filters leave no cell at all (a kind
    # with no units still lists the tasks, and their totals are zero).
    g.unit_counts = {u.id: Counter() for u in units}
    g.task_counts = {t.id: Counter() for t in tasks}
    if not units or not tasks:
        return g
    # The one statement for every cell: assignment state and current flag side by side. Units
    # are filtered in Python against the list above (a set lookup is cheaper than a join), tasks
    # by id when a task filter is set.
    cq = select(TaskUnit.unit_id, TaskUnit.task_id, TaskUnit.state, Flag.color).outerjoin(
        Flag, (Flag.task_id == TaskUnit.task_id) & (Flag.unit_id == TaskUnit.unit_id)
        & Flag.current.is_(True))
    if conds:
        cq = cq.where(TaskUnit.task_id.in_([t.id for t in tasks]))
    wanted = {u.id for u in units}
    rows = [r for r in _driver_rows(conn, cq) if r[0] in wanted]
    # Built with comprehensions and Counter's C loop: 60,000 cells in a few milliseconds.
    cells = g.cells
    cells.update({(r[0], r[1]): r[3] or r[2] for r in rows})
    by_unit = Counter((key[0], value) for key, value in cells.items())
    by_task = Counter((key[1], value) for key, value in cells.items())
    for (uid, value), n in by_unit.items():
        g.unit_counts[uid][value] = n
    for (tid, value), n in by_task.items():
        g.task_counts[tid][value] = n
    g.task_done.update(r[1] for r in rows if r[2] in _SUBMITTED)
    open_ids = {t.id for t in tasks if t.status == "open"}
    g.unit_owed.update(r[0] for r in rows if r[2] in _OWED and r[1] in open_ids)
    # Period flags (innovation: red, enforcement incident: yellow) count for the unit too: those
    # set in the period, as the statistics count them (bot/services/stats.py).
    pq = select(Flag.unit_id, Flag.color, func.count()).where(Flag.current.is_(True),
                                                              Flag.task_id.is_(None))
    if bounds is not None:
        pq = pq.where(Flag.set_at >= bounds[0], Flag.set_at < bounds[1])
    for uid, color, n in conn.execute(pq.group_by(Flag.unit_id, Flag.color)):
        if uid in g.unit_counts:
            g.unit_counts[uid][color] += int(n)
            g.period_flags[uid] += int(n)
    return g


# ------------------------------------------------------------------------------------ unit


@dataclass(frozen=True, slots=True)
class UnitTaskRow:
    task_id: int
    title: str
    due: datetime
    state: str
    flag: str | None
    flag_reason: str
    flag_source: str
    task_status: str = "open"
    # The reviewer's reason when the unit's latest submission was returned.
    returned_reason: str = ""
    returned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FlagRow:
    id: int
    task_id: int | None
    task: str
    period: str | None
    color: str
    reason: str
    source: str
    current: bool
    set_by: str
    set_at: datetime


@dataclass(frozen=True, slots=True)
class ScoreRow:
    id: int
    period: str
    points: float
    kind: str
    reason: str
    evidence: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: int
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class UnitDetail:
    unit: units_svc.UnitInfo
    parent: str | None
    tasks: list[UnitTaskRow]
    submissions: list[subs_svc.SubmissionInfo]
    attachments: dict[int, list[AttachmentRow]]
    flags: list[FlagRow]
    scores: list[ScoreRow]
    counts: Counter[str]


def _attachments(conn: Connection, submission_ids: list[int]) -> dict[int, list[AttachmentRow]]:
    out: dict[int, list[AttachmentRow]] = {}
    if submission_ids:
        for a in conn.execute(
            select(Attachment.id, Attachment.submission_id, Attachment.name, Attachment.size,
                   Attachment.sha256)
            .where(Attachment.submission_id.in_(submission_ids)).order_by(Attachment.id)
        ):
            out.setdefault(a.submission_id, []).append(AttachmentRow(a.id, a.name, a.size, a.sha256))
    return out


def unit_detail(conn: Connection, unit_id: int) -> UnitDetail:
    unit = units_svc.get(conn, unit_id)
    parent = units_svc.get(conn, unit.parent_id).name if unit.parent_id else None
    rows = conn.execute(
        select(Task.id, Task.title, Task.due, Task.status, TaskUnit.state, Flag.color,
               Flag.reason, Flag.source, Submission.review_reason, Submission.reviewed_at)
        .join(TaskUnit, TaskUnit.task_id == Task.id)
        .outerjoin(Flag, (Flag.task_id == Task.id) & (Flag.unit_id == unit_id)
                   & Flag.current.is_(True))
        .outerjoin(Submission, Submission.id == TaskUnit.last_submission_id)
        .where(TaskUnit.unit_id == unit_id).order_by(Task.due.desc(), Task.id.desc())
    ).all()
    tasks = [UnitTaskRow(r.id, r.title, r.due, r.state, r.color, r.reason or "", r.source or "",
                         r.status, (r.review_reason or "") if r.state == "returned" else "",
                         r.reviewed_at if r.state == "returned" else None)
             for r in rows]
    counts: Counter[str] = Counter(t.flag for t in tasks if t.flag)
    subs = list(reversed(subs_svc.list_submissions(conn, unit_id=unit_id)))
    setter = Person.name
    flags = [
        FlagRow(r.id, r.task_id, r.title or "", r.period, r.color, r.reason, r.source, r.current,
                (r.pname or f"管理员{r.set_by}") if r.set_by else "规则", r.set_at)
        for r in conn.execute(
            select(Flag.id, Flag.task_id, Task.title, Flag.period, Flag.color, Flag.reason,
                   Flag.source, Flag.current, Flag.set_by, setter.label("pname"), Flag.set_at)
            .outerjoin(Task, Task.id == Flag.task_id)
            .outerjoin(Person, Person.id == Flag.set_by)
            .where(Flag.unit_id == unit_id).order_by(Flag.set_at.desc(), Flag.id.desc())
        )
    ]
    counts.update(f.color for f in flags if f.current and f.task_id is None)
    scores = [ScoreRow(r.id, r.period, r.points, r.kind, r.reason, r.evidence, r.created_at)
              for r in conn.execute(select(ScoreEntry).where(ScoreEntry.unit_id == unit_id)
                                    .order_by(ScoreEntry.created_at.desc()))]
    return UnitDetail(unit, parent, tasks, subs, _attachments(conn, [s.id for s in subs]), flags,
                      scores, counts)


@dataclass(frozen=True, slots=True)
class ChildUnit:
    """A unit below the one shown, with what a leader scans for: flags and tasks still owed."""

    id: int
    name: str
    counts: Counter[str]  # current flags by colour, and "owed": open tasks not yet done


@dataclass(frozen=True, slots=True)
class UnitView:
    """The unit page in the order an official reads it: what the unit still owes and by when,
    what was returned and why, this year's flags — then the full history."""

    detail: UnitDetail
    year: int
    owed: list[UnitTaskRow]  # open tasks with nothing submitted, earliest deadline first
    returned: list[UnitTaskRow]  # open tasks whose latest submission was returned
    year_flags: list[FlagRow]  # current flags of tasks due this year and set this year
    year_counts: Counter[str]
    subs_by_task: dict[int, list[subs_svc.SubmissionInfo]]  # newest first
    children: list[ChildUnit]
    history: list[UnitTaskRow]  # the other tasks, latest deadline first
    earlier: int  # other tasks of earlier years, left out of ``history`` unless asked for
    changes: list[FlagRow]  # flags since replaced, and period flags (innovation, incident)
    latest: set[int]  # the latest submission to each task: the one an admin may review


def _year_of(moment: datetime, tz: ZoneInfo) -> int:
    return moment.astimezone(tz).year


def unit_view(conn: Connection, unit_id: int, *, now: datetime, tz: ZoneInfo,
              all_years: bool = False) -> UnitView:
    """Each task once: in ``owed``, ``returned`` or ``history``. The history holds this year's
    tasks (and later ones) and whatever still waits for review; earlier years only with
    ``all_years``, which keeps the page light on a phone for a unit with a long record."""
    d = unit_detail(conn, unit_id)
    year = _year_of(now, tz)
    still_open = [t for t in d.tasks if t.task_status == "open"]
    by_due = sorted(still_open, key=lambda t: (t.due, t.task_id))
    owed = [t for t in by_due if t.state == "owed"]
    returned = [t for t in by_due if t.state == "returned"]
    due_year = {t.task_id: _year_of(t.due, tz) for t in d.tasks}
    # A task's flag belongs to the year of the task's deadline (as the board's period filter
    # counts it); a period flag (innovation, incident) to the year it was set.
    year_flags = [f for f in d.flags if f.current and (
        due_year.get(f.task_id) == year if f.task_id is not None
        else _year_of(f.set_at, tz) == year)]
    subs_by_task: dict[int, list[subs_svc.SubmissionInfo]] = {}
    for s in d.submissions:  # already newest first
        subs_by_task.setdefault(s.task_id, []).append(s)
    above = {t.task_id for t in owed} | {t.task_id for t in returned}
    rest = [t for t in d.tasks if t.task_id not in above]
    history = [t for t in rest if all_years or t.state == "received"
               or due_year[t.task_id] >= year]
    changes = [f for f in d.flags if not f.current or f.task_id is None]
    return UnitView(d, year, owed, returned, year_flags, Counter(f.color for f in year_flags),
                    subs_by_task, _children(conn, unit_id), history, len(rest) - len(history),
                    changes, {subs[0].id for subs in subs_by_task.values()})


def _children(conn: Connection, unit_id: int) -> list[ChildUnit]:
    kids = conn.execute(select(Unit.id, Unit.name)
                        .where(Unit.parent_id == unit_id, Unit.active.is_(True))
                        .order_by(Unit.id)).all()
    if not kids:
        return []
    ids = [k.id for k in kids]
    counts: dict[int, Counter[str]] = {k.id: Counter() for k in kids}
    for uid, color, n in conn.execute(
        select(Flag.unit_id, Flag.color, func.count())
        .where(Flag.current.is_(True), Flag.unit_id.in_(ids))
        .group_by(Flag.unit_id, Flag.color)
    ):
        counts[uid][color] = int(n)
    for uid, n in conn.execute(
        select(TaskUnit.unit_id, func.count()).join(Task, Task.id == TaskUnit.task_id)
        .where(TaskUnit.unit_id.in_(ids), TaskUnit.state.in_(_OWED),
               Task.status == "open")
        .group_by(TaskUnit.unit_id)
    ):
        counts[uid]["owed"] = int(n)
    return [ChildUnit(k.id, k.name, counts[k.id]) for k in kids]


# ------------------------------------------------------------------------------------ task


@dataclass(frozen=True, slots=True)
class TaskUnitRow:
    unit_id: int
    unit: str
    state: str
    flag: str | None
    flag_reason: str
    submitted_at: datetime | None
    late: bool


@dataclass(frozen=True, slots=True)
class TaskDetail:
    task: tasks_svc.TaskInfo
    units: list[TaskUnitRow]
    submissions: list[subs_svc.SubmissionInfo]
    attachments: dict[int, list[AttachmentRow]]
    counts: Counter[str]
    # (local date, units that first submitted that day) for the completion-over-time chart
    daily: list[tuple[str, int]]
    published: date | None = None  # local date the task was published: where the chart starts


def task_detail(conn: Connection, task_id: int, tz: ZoneInfo) -> TaskDetail:
    task = tasks_svc.get(conn, task_id)
    first = (
        select(Submission.unit_id, func.min(Submission.submitted_at).label("first_at"),
               func.max(Submission.late.cast(Integer)).label("late"))
        .where(Submission.task_id == task_id).group_by(Submission.unit_id).subquery()
    )
    rows = conn.execute(
        select(TaskUnit.unit_id, Unit.name, TaskUnit.state, Flag.color, Flag.reason,
               first.c.first_at, first.c.late)
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .outerjoin(Flag, (Flag.task_id == task_id) & (Flag.unit_id == TaskUnit.unit_id)
                   & Flag.current.is_(True))
        .outerjoin(first, first.c.unit_id == TaskUnit.unit_id)
        .where(TaskUnit.task_id == task_id).order_by(Unit.id)
    ).all()
    units = [TaskUnitRow(r.unit_id, r.name, r.state, r.color, r.reason or "",
                         r.first_at, bool(r.late)) for r in rows]
    counts: Counter[str] = Counter(u.flag or u.state for u in units)
    subs = subs_svc.list_submissions(conn, task_id=task_id)
    per_day: Counter[str] = Counter()
    for u in units:
        if u.submitted_at is not None:
            per_day[u.submitted_at.astimezone(tz).date().isoformat()] += 1
    created = conn.execute(select(Task.created_at).where(Task.id == task_id)).scalar_one()
    return TaskDetail(task, units, subs, _attachments(conn, [s.id for s in subs]), counts,
                      sorted(per_day.items()), created.astimezone(tz).date())


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: int
    title: str
    due: datetime
    system: str
    status: str
    done: int  # units that submitted (awaiting review or accepted)
    total: int  # units assigned


def task_overview(conn: Connection, *, limit: int = 500) -> list[TaskRow]:
    """The latest tasks with how many of their units have submitted, in one statement."""
    submitted = func.sum(TaskUnit.state.in_(_SUBMITTED).cast(Integer))
    q = (select(Task.id, Task.title, Task.due, Task.system, Task.status,
                submitted.label("done"), func.count(TaskUnit.unit_id).label("total"))
         .outerjoin(TaskUnit, TaskUnit.task_id == Task.id)
         .group_by(Task.id, Task.title, Task.due, Task.system, Task.status))
    rows = conn.execute(q.order_by(Task.due.desc(), Task.id.desc()).limit(limit)).all()
    return [TaskRow(r.id, r.title, r.due, r.system, r.status, int(r.done or 0),
                    int(r.total)) for r in rows]


def flags_by_unit(conn: Connection, *, limit: int = 40) -> list[tuple[int, str, int, int, int]]:
    """(unit id, name, red, blue, yellow) of current flags, the most flagged units first."""
    per: dict[int, Counter[str]] = {}
    for uid, color, n in conn.execute(
        select(Flag.unit_id, Flag.color, func.count()).where(Flag.current.is_(True))
        .group_by(Flag.unit_id, Flag.color)
    ):
        per.setdefault(uid, Counter())[color] = int(n)
    names = dict(conn.execute(select(Unit.id, Unit.name).where(Unit.id.in_(list(per)))).all()
                 ) if per else {}
    rows = [(uid, names.get(uid, str(uid)), c["red"], c["blue"], c["yellow"])
            for uid, c in per.items()]
    rows.sort(key=lambda r: (-(r[2] + r[3] + r[4]), -r[2], r[0]))
    return rows[:limit]


def attachment(conn: Connection, attachment_id: int) -> tuple[str, str, int]:
    """(name, sha256, unit id) of a submission's attachment."""
    r = conn.execute(
        select(Attachment.name, Attachment.sha256, Submission.unit_id)
        .join(Submission, Submission.id == Attachment.submission_id)
        .where(Attachment.id == attachment_id)
    ).first()
    if r is None:
        raise NotFound("没有这个附件", log=f"unknown attachment {attachment_id}")
    return r.name, r.sha256, r.unit_id


# ------------------------------------------------------------------------------------ lists


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: int
    text: str
    targets: str
    created_at: datetime
    groups: int
    delivered: int
    pending: int
    failed: int
    acked: list[str]
    missing: list[str]


def notices(conn: Connection, *, limit: int = 30) -> list[NoticeRow]:
    rows = conn.execute(select(Notice.id, Notice.text, Notice.targets, Notice.created_at)
                        .order_by(Notice.id.desc()).limit(limit)).all()
    out = []
    for n in rows:
        st = notices_svc.ack_status(conn, n.id)
        out.append(NoticeRow(n.id, n.text, n.targets, n.created_at, st.groups, st.delivered,
                             st.pending, st.failed, st.acked, st.missing))
    return out


@dataclass(frozen=True, slots=True)
class DynamicRow:
    id: int
    unit: str
    author: str
    text: str
    status: str
    created_at: datetime


def dynamics(conn: Connection, *, limit: int = 100) -> list[DynamicRow]:
    return [DynamicRow(r.id, r.uname, r.pname or "", r.text, r.status, r.created_at)
            for r in conn.execute(
                select(Dynamic.id, Unit.name.label("uname"), Person.name.label("pname"),
                       Dynamic.text, Dynamic.status, Dynamic.created_at)
                .join(Unit, Unit.id == Dynamic.unit_id)
                .outerjoin(Person, Person.id == Dynamic.person_id)
                .order_by(Dynamic.created_at.desc(), Dynamic.id.desc()).limit(limit))]


@dataclass(frozen=True, slots=True)
class BulletinRow:
    id: int
    kind: str
    period: str
    unit: str | None
    text: str
    status: str
    created_at: datetime
    published_at: datetime | None


def bulletins(conn: Connection, *, limit: int = 50) -> list[BulletinRow]:
    return [BulletinRow(r.id, r.kind, r.period, r.uname, r.text, r.status, r.created_at,
                        r.published_at)
            for r in conn.execute(
                select(Bulletin.id, Bulletin.kind, Bulletin.period, Unit.name.label("uname"),
                       Bulletin.text, Bulletin.status, Bulletin.created_at, Bulletin.published_at)
                .outerjoin(Unit, Unit.id == Bulletin.unit_id)
                .order_by((Bulletin.status == "draft").desc(), Bulletin.id.desc()).limit(limit))]


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    channel: str
    action: str
    target: str
    detail: dict[str, object]


def audit_log(conn: Connection, *, before: int | None = None, limit: int = 100) -> list[AuditRow]:
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        q = q.where(AuditEntry.id < before)
    return [AuditRow(r.id, r.at, r.actor, r.channel, r.action, r.target, dict(r.detail or {}))
            for r in conn.execute(q)]


_REF = re.compile(r"^(person|unit|task):(\d{1,18})$")


def reference_names(conn: Connection, refs: set[str]) -> dict[str, str]:
    """Names for the records the audit log and the notices refer to by code: ``person:8`` → the
    person's name, ``unit:3`` → the unit's, ``task:5`` → the task's title, a group chat
    (``qq:group:40001``) → the group's name. One statement per kind; unknown references are
    left out (the caller shows the code)."""
    ids: dict[str, set[int]] = {"person": set(), "unit": set(), "task": set()}
    chats = set()
    for ref in refs:
        m = _REF.match(ref)
        if m:
            ids[m.group(1)].add(int(m.group(2)))
        elif ":group:" in ref:
            chats.add(ref)
    out: dict[str, str] = {}
    for kind, col_id, col_name in (("person", Person.id, Person.name),
                                   ("unit", Unit.id, Unit.name),
                                   ("task", Task.id, Task.title)):
        if ids[kind]:
            for rid, name in conn.execute(select(col_id, col_name)
                                          .where(col_id.in_(sorted(ids[kind])))):
                if name:
                    out[f"{kind}:{rid}"] = str(name)
    if chats:
        for chat, name in conn.execute(select(Group.chat, Group.name)
                                       .where(Group.chat.in_(sorted(chats)))):
            if name:
                out[chat] = str(name)
    return out


def recent_periods(now: datetime, tz: ZoneInfo) -> list[tuple[str, str]]:
    """The period choices offered on the board, (value, label): this and last year, their halves
    and quarters."""
    return [(str(p), p.label) for p in periods.recent(now.astimezone(tz).date())]


def period_label(period: str) -> str:
    """How people write a period (``2026H1`` → 2026年上半年); a text that names none, as written."""
    try:
        return periods.parse(period).label
    except InvalidInput:
        return period
