"""Answers to questions: any combination of subject, filters and answer form, from the database.

The language layer reads a question into a query frame (``bot/core/nlu/frame.py``); the handler
resolves it for the person asking (who may see which units, "we", the default period) into an
:class:`Ask`, and this module answers it with the exact records named. One answerer per subject
(:data:`ANSWERERS`), so a new subject (cases, rectifications, sites) is a new entry here and in
``bot/core/nlu/subjects.py``, nothing else; states and forms are shared by all.

States (of a task's assignment to a unit): owed = not submitted or returned; submitted =
received or accepted; overdue = owed past the deadline; returned; accepted; pending = received
and not reviewed yet. Several states narrow together ("过期没交的": overdue and owed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, select

from bot.core.env import ServiceEnv
from bot.services import notices as notices_svc
from bot.services import standings as standings_svc
from bot.services import stats as stats_svc
from bot.services.standings import UnitStanding
from storage.models import Notice, Person, Submission, Task, TaskUnit, Unit

SHOWN_TASKS = 8  # tasks listed in one answer
SHOWN_NAMES = 30  # units named per task


@dataclass(frozen=True)
class Ask:
    """A question resolved for the person asking."""

    subject: str
    form: str  # list | count | yesno | when | detail | rank
    now: datetime
    states: tuple[str, ...] = ()
    colour: str | None = None
    units: frozenset[int] | None = None  # None: every unit
    tasks: tuple[int, ...] = ()  # (): every open task
    days: tuple[date, date] | None = None  # local days, inclusive
    notice_id: int | None = None
    submission_id: int | None = None


# -- tasks × units --------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    task_id: int
    unit_id: int
    unit_name: str
    state: str  # owed | received | accepted | returned


@dataclass(frozen=True)
class TaskStatus:
    task_id: int
    title: str
    due: datetime
    total: int  # units assigned (of those asked about)
    counts: Mapping[str, int]  # by assignment state
    matched: int  # assignments matching the states asked for
    rows: tuple[Assignment, ...]  # those assignments (at most SHOWN_NAMES)


@dataclass(frozen=True)
class AssignmentAnswer:
    """Open tasks with their units' states, soonest deadline first."""

    tasks: tuple[TaskStatus, ...]
    more_tasks: int  # tasks that matched beyond those listed
    states: tuple[str, ...]


def _state_filter(states: tuple[str, ...], now: datetime) -> ColumnElement[bool] | None:
    conds: list[ColumnElement[bool]] = []
    for s in states:
        if s == "owed":
            conds.append(TaskUnit.state.in_(("owed", "returned")))
        elif s == "submitted":
            conds.append(TaskUnit.state.in_(("received", "accepted")))
        elif s == "overdue":
            conds.append(and_(TaskUnit.state.in_(("owed", "returned")), Task.due < now))
        elif s == "returned":
            conds.append(TaskUnit.state == "returned")
        elif s == "accepted":
            conds.append(TaskUnit.state == "accepted")
        elif s == "pending":
            conds.append(TaskUnit.state == "received")
    return and_(*conds) if conds else None


def _scope(ask: Ask, env: ServiceEnv) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Task.status == "open"]
    if ask.tasks:
        where.append(Task.id.in_(ask.tasks))
    if ask.units is not None:
        where.append(TaskUnit.unit_id.in_(sorted(ask.units)))
    if ask.days is not None:
        start, end = standings_svc.bounds(env, *ask.days)
        where += [Task.due >= start, Task.due < end]
    return where


def assignments(conn: Connection, env: ServiceEnv, ask: Ask) -> AssignmentAnswer:
    """Tasks (open, in the window, named) and, per task, the units in the states asked for."""
    where = _scope(ask, env)
    match = _state_filter(ask.states, ask.now)
    matched = func.sum(case((match, 1), else_=0)) if match is not None else func.count()
    per_state = {s: func.sum(case((TaskUnit.state == s, 1), else_=0)).label(s)
                 for s in ("owed", "received", "accepted", "returned")}
    q = (select(Task.id, Task.title, Task.due, func.count().label("total"),
                matched.label("matched"), *per_state.values())
         .join(TaskUnit, TaskUnit.task_id == Task.id)
         .where(*where).group_by(Task.id, Task.title, Task.due).order_by(Task.due, Task.id))
    summary = conn.execute(q).all()
    if ask.states and not ask.tasks:  # named tasks are answered even when none match
        summary = [r for r in summary if r.matched]
    shown = summary[:SHOWN_TASKS]
    rows: dict[int, list[Assignment]] = {}
    if shown:
        rq = (select(TaskUnit.task_id, TaskUnit.unit_id, Unit.name, TaskUnit.state)
              .join(Task, Task.id == TaskUnit.task_id).join(Unit, Unit.id == TaskUnit.unit_id)
              .where(*where, Task.id.in_([r.id for r in shown]))
              .order_by(TaskUnit.task_id, Unit.id))
        if match is not None:
            rq = rq.where(match)
        for r in conn.execute(rq):
            bucket = rows.setdefault(r.task_id, [])
            if len(bucket) < SHOWN_NAMES:
                bucket.append(Assignment(r.task_id, r.unit_id, r.name, r.state))
    tasks = tuple(
        TaskStatus(r.id, r.title, r.due, int(r.total),
                   MappingProxyType({s: int(getattr(r, s) or 0) for s in per_state}),
                   int(r.matched or 0), tuple(rows.get(r.id, ())))
        for r in shown)
    return AssignmentAnswer(tasks, len(summary) - len(shown), ask.states)


@dataclass(frozen=True)
class UnitTasks:
    """One unit's open tasks in the states asked for (a unit's view of the same relation)."""

    unit_id: int
    unit_name: str
    tasks: tuple[tuple[int, str, datetime, str], ...]  # task id, title, due, state
    total: int  # open tasks assigned to it (in the window, named)


@dataclass(frozen=True)
class UnitTasksAnswer:
    units: tuple[UnitTasks, ...]
    states: tuple[str, ...]


def unit_tasks(conn: Connection, env: ServiceEnv, ask: Ask) -> UnitTasksAnswer:
    """Per unit asked about: its open tasks (in the states asked for), soonest first."""
    assert ask.units is not None, "a unit's tasks need the units"
    where = _scope(ask, env)
    q = (select(TaskUnit.unit_id, Unit.name, Task.id, Task.title, Task.due, TaskUnit.state)
         .join(Task, Task.id == TaskUnit.task_id).join(Unit, Unit.id == TaskUnit.unit_id)
         .where(*where).order_by(Unit.id, Task.due, Task.id))
    by_unit: dict[int, tuple[str, list[tuple[int, str, datetime, str]], list[int]]] = {}
    names = dict(conn.execute(select(Unit.id, Unit.name).where(Unit.id.in_(sorted(ask.units)))).all())
    for uid in sorted(ask.units):
        by_unit[uid] = (str(names.get(uid, uid)), [], [0])
    ok = _python_state(ask.states, ask.now)
    for r in conn.execute(q):
        _, items, total = by_unit.setdefault(r.unit_id, (r.name, [], [0]))
        total[0] += 1
        if ok(r.state, r.due):
            items.append((r.id, r.title, r.due, r.state))
    return UnitTasksAnswer(tuple(UnitTasks(uid, n, tuple(items), t[0])
                                 for uid, (n, items, t) in by_unit.items()), ask.states)


def _python_state(states: tuple[str, ...], now: datetime) -> Callable[[str, datetime], bool]:
    tests: dict[str, Callable[[str, datetime], bool]] = {
        "owed": lambda s, d: s in ("owed", "returned"),
        "submitted": lambda s, d: s in ("received", "accepted"),
        "overdue": lambda s, d: s in ("owed", "returned") and d < now,
        "returned": lambda s, d: s == "returned",
        "accepted": lambda s, d: s == "accepted",
        "pending": lambda s, d: s == "received",
    }
    chosen = [tests[s] for s in states if s in tests]
    return lambda s, d: all(t(s, d) for t in chosen)


# -- flags ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagAnswer:
    days: tuple[date, date]
    standings: tuple[UnitStanding, ...]  # best first (by the colour asked for, if any)
    colour: str | None


def flags(conn: Connection, env: ServiceEnv, ask: Ask) -> FlagAnswer:
    """Standings over the period: every unit asked about, or (no units) the units with flags —
    only those with a flag of the colour asked for, when one is; a ranking by that colour."""
    assert ask.days is not None, "flags are counted over a period"
    units = set(ask.units) if ask.units is not None else None
    rows = standings_svc.standings(conn, env, *ask.days, unit_ids=units,
                                   include_empty=units is not None and ask.form != "rank")
    if ask.colour is not None:
        if ask.form == "rank":
            rows = sorted(rows, key=lambda u: (-getattr(u.score, str(ask.colour)),
                                               -u.score.total, u.unit_id))
        elif units is None:
            rows = [r for r in rows if any(f.color == ask.colour for f in r.flags)]
    return FlagAnswer(ask.days, tuple(rows), ask.colour)


# -- notices --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeStatus:
    notice_id: int
    text: str
    created_at: datetime
    acked: tuple[str, ...]  # unit names
    missing: tuple[str, ...]
    pending_groups: int
    asked: tuple[tuple[str, bool], ...] = ()  # the units asked about: (name, acknowledged)


@dataclass(frozen=True)
class NoticeAnswer:
    notices: tuple[NoticeStatus, ...]


def find_notice(conn: Connection, words: str, days: tuple[datetime, datetime] | None) -> int | None:
    """The latest notice whose text has ``words`` (and was sent in ``days`` when given)."""
    q = select(Notice.id).order_by(Notice.id.desc()).limit(1)
    if words:
        q = q.where(Notice.text.contains(words))
    if days is not None:
        q = q.where(Notice.created_at >= days[0], Notice.created_at < days[1])
    return conn.execute(q).scalar_one_or_none()


def _notice_status(conn: Connection, notice_id: int, units: frozenset[int] | None
                   ) -> NoticeStatus:
    st = notices_svc.ack_status(conn, notice_id)
    created = conn.execute(select(Notice.created_at).where(Notice.id == notice_id)).scalar_one()
    acked, missing = st.acked, st.missing
    asked: tuple[tuple[str, bool], ...] = ()
    if units is not None:
        names = dict(conn.execute(select(Unit.id, Unit.name).where(Unit.id.in_(sorted(units)))).all())
        wanted = set(names.values())
        acked = [n for n in acked if n in wanted]
        missing = [n for n in missing if n in wanted]
        asked = tuple((n, n in st.acked) for n in names.values() if n in st.acked or n in st.missing)
    return NoticeStatus(notice_id, st.text, created, tuple(acked), tuple(missing), st.pending,
                        asked)


def notices(conn: Connection, env: ServiceEnv, ask: Ask) -> NoticeAnswer:
    if ask.notice_id is not None:
        return NoticeAnswer((_notice_status(conn, ask.notice_id, ask.units),))
    q = select(Notice.id).order_by(Notice.id.desc())
    if ask.days is not None:
        start, end = standings_svc.bounds(env, *ask.days)
        q = q.where(Notice.created_at >= start, Notice.created_at < end)
    latest = list(conn.execute(q.limit(5 if ask.form == "list" and not ask.states else 1)).scalars())
    return NoticeAnswer(tuple(_notice_status(conn, n, ask.units) for n in latest))


# -- submissions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionRow:
    id: int
    task: str
    unit: str
    submitter: str
    version: int
    status: str  # received | accepted | returned
    rating: str | None
    reason: str | None
    submitted_at: datetime
    late: bool


@dataclass(frozen=True)
class SubmissionAnswer:
    rows: tuple[SubmissionRow, ...]
    total: int


_SUBMISSION_STATES = {"pending": ("received",), "returned": ("returned",),
                      "accepted": ("accepted",), "submitted": ("received", "accepted")}


def submissions(conn: Connection, env: ServiceEnv, ask: Ask) -> SubmissionAnswer:
    where: list[ColumnElement[bool]] = []
    if ask.submission_id is not None:
        where.append(Submission.id == ask.submission_id)
    if ask.units is not None:
        where.append(Submission.unit_id.in_(sorted(ask.units)))
    if ask.tasks:
        where.append(Submission.task_id.in_(ask.tasks))
    for s in ask.states:
        if s in _SUBMISSION_STATES:
            where.append(Submission.status.in_(_SUBMISSION_STATES[s]))
    if ask.days is not None:
        start, end = standings_svc.bounds(env, *ask.days)
        where += [Submission.submitted_at >= start, Submission.submitted_at < end]
    total = int(conn.execute(select(func.count()).select_from(Submission).where(*where))
                .scalar_one())
    q = (select(Submission.id, Task.title, Unit.name, Person.name.label("person"),
                Submission.version, Submission.status, Submission.rating,
                Submission.review_reason, Submission.submitted_at, Submission.late)
         .join(Task, Task.id == Submission.task_id).join(Unit, Unit.id == Submission.unit_id)
         .outerjoin(Person, Person.id == Submission.person_id)
         .where(*where).order_by(Submission.id.desc()).limit(SHOWN_NAMES))
    rows = tuple(SubmissionRow(r.id, r.title, r.name, r.person or "", r.version, r.status,
                               r.rating, r.review_reason, r.submitted_at, r.late)
                 for r in conn.execute(q))
    return SubmissionAnswer(rows, total)


# -- the year's recurring work (plan) -------------------------------------------------------


@dataclass(frozen=True)
class PlanAnswer:
    """The plan grid of the year asked about (this year unless said) for the units asked about,
    and which of its columns fall in the days asked about (by deadline)."""

    grid: stats_svc.PlanGrid
    columns: tuple[int, ...]
    states: tuple[str, ...]


def plan(conn: Connection, env: ServiceEnv, ask: Ask) -> PlanAnswer:
    year = ask.days[0].year if ask.days is not None else env.local(ask.now).year
    grid = stats_svc.plan_grid(conn, env, year, now=ask.now, unit_ids=ask.units)
    columns = tuple(i for i, c in enumerate(grid.columns)
                    if ask.days is None or ask.days[0] <= env.local(c.due).date() <= ask.days[1])
    return PlanAnswer(grid, columns, ask.states)


def plan_cell_matches(cell: stats_svc.PlanCell, states: tuple[str, ...]) -> bool:
    """Whether a plan cell is in every state asked for (the states of :func:`_state_filter`;
    an instance not created yet is in none of them)."""
    tests: dict[str, Callable[[stats_svc.PlanCell], bool]] = {
        "owed": lambda c: c.state in ("owed", "returned"),
        "submitted": lambda c: c.state in ("received", "accepted"),
        "overdue": lambda c: c.overdue,
        "returned": lambda c: c.state == "returned",
        "accepted": lambda c: c.state == "accepted",
        "pending": lambda c: c.state == "received",
    }
    return cell.state != stats_svc.UPCOMING and all(tests[s](cell) for s in states if s in tests)


# -- the registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answerer:
    """How a subject is answered: ``answer`` gets the resolved question."""

    answer: Callable[[Connection, ServiceEnv, Ask], Any]
    needs_period: bool = False  # counted over a period (default: this year)
    extra: Mapping[str, Any] = field(default_factory=dict)


def _tasks_or_units(conn: Connection, env: ServiceEnv, ask: Ask) -> Any:
    if ask.subject == "tasks" and ask.units is not None and ask.form != "when":
        return unit_tasks(conn, env, ask)
    return assignments(conn, env, ask)


ANSWERERS: Mapping[str, Answerer] = MappingProxyType({
    "units": Answerer(assignments),
    "tasks": Answerer(_tasks_or_units),
    "flags": Answerer(flags, needs_period=True),
    "notices": Answerer(notices),
    "submissions": Answerer(submissions),
    "plan": Answerer(plan),
})


def answer(conn: Connection, env: ServiceEnv, ask: Ask) -> Any:
    return ANSWERERS[ask.subject].answer(conn, env, ask)
