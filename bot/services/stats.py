"""Yearly statistics, per-task completion and the half-year report (DESIGN §4 "Bulletins").

These are the numbers of the annual assessment; the Excel export (bot/reports/export.py), the
board and the JSON API all read them from here so that they never disagree. Public functions:

- ``year_window`` / ``half_window``: the local-time bounds of a year or half-year;
- ``unit_year_stats(conn, env, year)``: one ``UnitYearStats`` per unit that had work, flags or
  score entries in the year (``unit_ids=`` narrows it to a subtree for officials);
- ``task_completion(conn, window, now)``: one ``TaskCompletion`` per task due in the window;
- ``half_year_report(conn, env, year, half)``: the data of the 半年报告 (H1 or H2);
- ``year_stats(conn, env, year)``: all of the above for one export;
- ``plan_grid(conn, env, year)``: the recurring work (series) per unit and period, the board's
  plan view and the export's 周期性任务 sheet: which instance each unit has done;
- ``late_assignments``, ``returned_versions``, ``flag_lines``: the records behind the counts
  (which task, which unit, how late, why returned, which flag), for the official documents
  that name them; each list is counted by the same rules as the figures above.

What is counted (all in the service time zone; "in the window" means start <= t < end):
- an *assignment* is a (task, unit) pair of a task whose deadline falls in the window;
- *on time* means the unit's first version was submitted at or before the deadline (the same
  test as the flag rules); the on-time rate is on-time assignments / assignments whose deadline
  has passed, both counted over passed deadlines only, so a task still running does not lower it;
- *flags* are the current flags of those assignments plus the current period flags (innovation,
  incident: no task) set in the window;
- *bonuses* and *deductions* are the score entries recorded in the window (positive points are
  bonuses, negative deductions), whatever their kind;
- the *score* is ``bot.domain.scoring.unit_score`` with the ``[scoring]`` weights.

Every figure is aggregated in SQL (GROUP BY over task_units, flags, score entries), so a year of
300 units × 2,000 tasks is a handful of queries, not one per unit or task.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, select, text
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.core.env import ServiceEnv
from bot.domain.errors import InvalidInput
from bot.domain.flags import FlagColor
from bot.domain.periods import Period, PeriodKind, parse_year
from bot.domain.periods import parse as parse_period
from bot.domain.recurrence import Recurrence, SeriesRule, instance_title
from bot.domain.scoring import ScoreBreakdown, ScoreEntry, ScoreWeights, unit_score
from bot.services import rectifications as rect_svc
from bot.services import sites as sites_svc
from bot.services.bulletins import LETTER_THRESHOLD
from bot.services.rectifications import RectInfo
from bot.services.sites import SiteInfo
from storage.models import Flag, Series, SeriesUnit, Submission, Task, TaskUnit, Unit
from storage.models import ScoreEntry as ScoreEntryRow

COLORS = ("red", "blue", "yellow")
# Units are listed in this order of kind in the sheets, as in the programme's own tables.
KIND_ORDER = ("city", "county", "department", "central", "office")
# "Repeated" yellow flags: as many as call for a supervision letter (bot/services/bulletins.py).
REPEATED_YELLOW = LETTER_THRESHOLD


# ---------------------------------------------------------------------------------- windows


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end) as aware datetimes, and how people call it (2026年, 2026年上半年)."""

    start: datetime
    end: datetime
    label: str


def year_window(env: ServiceEnv, year: int) -> Window:
    return _window(env, Period.of_year(parse_year(year)))


def half_window(env: ServiceEnv, year: int, half: int) -> Window:
    """H1 is January–June, H2 July–December (local time)."""
    if half not in (1, 2):
        raise InvalidInput("半年只能是 1（上半年）或 2（下半年）", log=f"bad half {half!r}")
    return _window(env, Period.of_half(parse_year(year), half))


def _window(env: ServiceEnv, period: Period) -> Window:
    start, end = period.bounds(env.tz)
    return Window(start, end, period.label)


# ---------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Completion:
    """Assignments (task × unit) and how far they got.

    ``submitted`` = ``on_time`` + ``late``; ``outstanding`` counts assignments with nothing
    acceptable in (never submitted, or returned and not yet resubmitted), deadline passed or not.
    """

    assigned: int = 0
    due: int = 0  # of which the deadline has passed
    submitted: int = 0
    on_time: int = 0
    late: int = 0
    accepted: int = 0
    returned: int = 0  # returned and waiting for a new version
    outstanding: int = 0
    on_time_due: int = 0  # on time among the passed deadlines: the rate's numerator

    @property
    def on_time_rate(self) -> float | None:
        """On-time assignments / assignments whose deadline passed; None before any deadline."""
        return self.on_time_due / self.due if self.due else None

    def __add__(self, other: Completion) -> Completion:
        return Completion(*(a + b for a, b in zip(_fields(self), _fields(other), strict=True)))


def _fields(c: Completion) -> tuple[int, ...]:
    return (c.assigned, c.due, c.submitted, c.on_time, c.late, c.accepted, c.returned,
            c.outstanding, c.on_time_due)


@dataclass(frozen=True, slots=True)
class FlagCounts:
    red: int = 0
    blue: int = 0
    yellow: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"red": self.red, "blue": self.blue, "yellow": self.yellow}

    def __add__(self, other: FlagCounts) -> FlagCounts:
        return FlagCounts(self.red + other.red, self.blue + other.blue, self.yellow + other.yellow)


@dataclass(frozen=True, slots=True)
class UnitYearStats:
    unit_id: int
    code: str
    name: str
    kind: str
    completion: Completion
    flags: FlagCounts
    score: ScoreBreakdown  # red/blue/yellow, bonus, deduction, on-time rate and total
    rank: int = 0  # 1 = highest score; equal scores share a rank


@dataclass(frozen=True, slots=True)
class TaskCompletion:
    task_id: int
    title: str
    system: str
    due: datetime
    status: str
    completion: Completion
    flags: FlagCounts


@dataclass(frozen=True, slots=True)
class UnitCount:
    unit_id: int
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One score entry, for the lists of innovations and incidents."""

    unit_id: int
    unit: str
    points: float
    kind: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HalfYearReport:
    year: int
    half: int
    window: Window
    as_of: datetime
    tasks: int  # tasks whose deadline falls in the half
    completion: Completion
    flags: FlagCounts
    repeated_yellow: list[UnitCount]  # units with >= REPEATED_YELLOW yellow flags, most first
    commended: list[UnitCount]  # units with red flags, most first
    innovations: list[ScoreLine] = field(default_factory=list)
    incidents: list[ScoreLine] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.window.label


@dataclass(frozen=True, slots=True)
class YearStats:
    year: int
    window: Window
    as_of: datetime
    units: list[UnitYearStats]
    tasks: list[TaskCompletion]
    halves: list[HalfYearReport]
    plan: PlanGrid | None = None  # the year's recurring work (None: no series in the year)
    # Rectification items due in the year and the year's demonstration sites (issue 16).
    rectifications: list[RectInfo] = field(default_factory=list)
    sites: list[SiteInfo] = field(default_factory=list)

    @property
    def rect_overdue(self) -> dict[int, int]:
        """unit id → items still owed past their deadline (as of ``as_of``): not on time."""
        out: dict[int, int] = defaultdict(int)
        for i in overdue_rectifications(self.rectifications, self.as_of):
            out[i.unit_id] += 1
        return dict(out)

    @property
    def unit_totals(self) -> tuple[Completion, FlagCounts, float, float]:
        """Completion, flags, bonuses and deductions summed over the units."""
        comp = sum((u.completion for u in self.units), start=Completion())
        flags = sum((u.flags for u in self.units), start=FlagCounts())
        return (comp, flags, round(sum(u.score.bonus for u in self.units), 2),
                round(sum(u.score.deduction for u in self.units), 2))

    @property
    def task_totals(self) -> tuple[Completion, FlagCounts]:
        return (sum((t.completion for t in self.tasks), start=Completion()),
                sum((t.flags for t in self.tasks), start=FlagCounts()))


# ---------------------------------------------------------------------------------- queries
#
# Each aggregate is grouped by (unit or task, segment): the segment says which part of the
# window the deadline (or, for period flags and score entries, the moment) falls in. With the
# year split at 1 July, one pass over the year's assignments gives the yearly figures and both
# halves at once.


def _in(col: Any, window: Window) -> ColumnElement[bool]:
    return and_(col >= window.start, col < window.end)


# A cancelled task (bot/services/corrections.py) counts for nothing: no assignments owed, no
# overdue units; the task list still shows it, as cancelled.
_LIVE = Task.status != "cancelled"


def _segment(col: Any, split: datetime | None) -> Any:
    return literal(0) if split is None else case((col < split, 0), else_=1)


def _seg_of(moment: datetime, split: datetime | None) -> int:
    return 0 if split is None or moment < split else 1


def _completion_by(conn: Connection, window: Window, now: datetime, key: Any,
                   unit_ids: Collection[int] | None = None, split: datetime | None = None
                   ) -> dict[tuple[int, int], Completion]:
    """Assignments of tasks due in ``window`` aggregated by (``key``, segment)."""
    # A unit's first version is version 1 (the unique key), and it is the earliest: on time
    # means version 1 came in at or before the deadline, the test of the flag rules.
    first = aliased(Submission)
    passed = Task.due < now
    has_sub = first.id.is_not(None)
    on_time = and_(has_sub, first.submitted_at <= Task.due)
    late = and_(has_sub, first.submitted_at > Task.due)
    seg = _segment(Task.due, split)

    def n(cond: ColumnElement[bool]) -> Any:
        return func.sum(case((cond, 1), else_=0))

    q = (
        select(key, seg, func.count(), n(passed), n(has_sub), n(on_time), n(late),
               n(TaskUnit.state == "accepted"), n(TaskUnit.state == "returned"),
               n(TaskUnit.state.in_(("owed", "returned"))), n(and_(on_time, passed)))
        .select_from(TaskUnit)
        .join(Task, Task.id == TaskUnit.task_id)
        .outerjoin(first, and_(first.task_id == TaskUnit.task_id,
                               first.unit_id == TaskUnit.unit_id, first.version == 1))
        .where(_in(Task.due, window), _LIVE)
        .group_by(key, seg)
    )
    if unit_ids is not None:
        q = q.where(TaskUnit.unit_id.in_(list(unit_ids)))
    return {(int(r[0]), int(r[1])): Completion(*(int(v or 0) for v in r[2:]))
            for r in conn.execute(q)}


def _task_flags_by(conn: Connection, window: Window, key: Any,
                   unit_ids: Collection[int] | None = None, split: datetime | None = None
                   ) -> dict[tuple[int, int], dict[str, int]]:
    seg = _segment(Task.due, split)
    q = (
        select(key, seg, Flag.color, func.count())
        .join(Task, Task.id == Flag.task_id)
        .where(Flag.current.is_(True), _in(Task.due, window))
        .group_by(key, seg, Flag.color)
    )
    return _by_color(conn, q, unit_ids)


def _period_flags_by_unit(conn: Connection, window: Window,
                          unit_ids: Collection[int] | None = None, split: datetime | None = None
                          ) -> dict[tuple[int, int], dict[str, int]]:
    seg = _segment(Flag.set_at, split)
    q = (
        select(Flag.unit_id, seg, Flag.color, func.count())
        .where(Flag.task_id.is_(None), Flag.current.is_(True), _in(Flag.set_at, window))
        .group_by(Flag.unit_id, seg, Flag.color)
    )
    return _by_color(conn, q, unit_ids)


def _by_color(conn: Connection, q: Any, unit_ids: Collection[int] | None
              ) -> dict[tuple[int, int], dict[str, int]]:
    """Runs a (key, segment, colour, count) flag query: {(key, segment): {colour: count}}."""
    if unit_ids is not None:
        q = q.where(Flag.unit_id.in_(list(unit_ids)))
    out: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for k, sg, color, count in conn.execute(q):
        out[int(k), int(sg)][color] = int(count)
    return out


def score_lines(conn: Connection, window: Window,
                 unit_ids: Collection[int] | None = None) -> list[ScoreLine]:
    # Entries are few (a handful per unit and year): fetched one by one so that the sums go
    # through the scoring module's exact Decimal arithmetic instead of SQL float sums.
    q = (
        select(ScoreEntryRow.unit_id, Unit.name, ScoreEntryRow.points, ScoreEntryRow.kind,
               ScoreEntryRow.reason, ScoreEntryRow.created_at)
        .join(Unit, Unit.id == ScoreEntryRow.unit_id)
        .where(_in(ScoreEntryRow.created_at, window))
        .order_by(ScoreEntryRow.created_at, ScoreEntryRow.id)
    )
    if unit_ids is not None:
        q = q.where(ScoreEntryRow.unit_id.in_(list(unit_ids)))
    return [ScoreLine(int(r.unit_id), r.name, float(r.points), r.kind, r.reason, r.created_at)
            for r in conn.execute(q)]


def _counts(d: dict[str, int] | None) -> FlagCounts:
    d = d or {}
    return FlagCounts(d.get("red", 0), d.get("blue", 0), d.get("yellow", 0))


def weights_of(env: ServiceEnv) -> ScoreWeights:
    s = env.settings.scoring
    return ScoreWeights(red=s.red, blue=s.blue, yellow=s.yellow)


def _ranked(rows: list[UnitYearStats]) -> list[UnitYearStats]:
    kind_pos = {k: i for i, k in enumerate(KIND_ORDER)}
    by_score = sorted(rows, key=lambda u: -u.score.total)
    rank: dict[int, int] = {}
    for index, u in enumerate(by_score):
        prev = by_score[index - 1] if index else None
        rank[u.unit_id] = rank[prev.unit_id] if prev and prev.score.total == u.score.total \
            else index + 1
    ordered = sorted(rows, key=lambda u: (kind_pos.get(u.kind, len(KIND_ORDER)), u.code, u.name))
    return [UnitYearStats(u.unit_id, u.code, u.name, u.kind, u.completion, u.flags, u.score,
                          rank[u.unit_id]) for u in ordered]


@dataclass(frozen=True, slots=True)
class _UnitParts:
    """Per-unit aggregates of a window, by segment (see _segment)."""

    split: datetime | None
    completion: dict[tuple[int, int], Completion]
    task_flags: dict[tuple[int, int], dict[str, int]]
    period_flags: dict[tuple[int, int], dict[str, int]]
    lines: list[ScoreLine]
    units: dict[int, tuple[str, str, str]]  # id -> code, name, kind


def _unit_parts(conn: Connection, window: Window, now: datetime, *,
                unit_ids: Collection[int] | None = None,
                split: datetime | None = None) -> _UnitParts:
    comp = _completion_by(conn, window, now, TaskUnit.unit_id, unit_ids, split)
    task_flags = _task_flags_by(conn, window, Flag.unit_id, unit_ids, split)
    period_flags = _period_flags_by_unit(conn, window, unit_ids, split)
    lines = score_lines(conn, window, unit_ids)
    ids = {k[0] for k in (*comp, *task_flags, *period_flags)} | {x.unit_id for x in lines}
    units = {r.id: (r.code, r.name, r.kind) for r in conn.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.kind).where(Unit.id.in_(sorted(ids))))
    } if ids else {}
    return _UnitParts(split, comp, task_flags, period_flags, lines, units)


def _assemble(env: ServiceEnv, parts: _UnitParts, segments: Collection[int]
              ) -> list[UnitYearStats]:
    """UnitYearStats over the given segments of ``parts``: units with anything in them."""
    comp: dict[int, Completion] = defaultdict(Completion)
    flags: dict[int, FlagCounts] = defaultdict(FlagCounts)
    for (uid, seg), c in parts.completion.items():
        if seg in segments:
            comp[uid] += c
    for source in (parts.task_flags, parts.period_flags):
        for (uid, seg), d in source.items():
            if seg in segments:
                flags[uid] += _counts(d)
    entries: dict[int, list[ScoreEntry]] = defaultdict(list)
    for line in parts.lines:
        if _seg_of(line.at, parts.split) in segments and line.points:
            # (a zero entry carries no score, and the domain type refuses it)
            entries[line.unit_id].append(ScoreEntry(line.unit_id, line.points,
                                                    line.reason or "—"))
    weights = weights_of(env)
    rows = []
    for uid in set(comp) | set(flags) | set(entries):
        c = comp.get(uid, Completion())
        f = flags.get(uid, FlagCounts())
        score = unit_score({FlagColor(k): v for k, v in f.as_dict().items()},
                           entries.get(uid, ()), weights, on_time_rate=c.on_time_rate)
        code, name, kind = parts.units[uid]
        rows.append(UnitYearStats(uid, code, name, kind, c, f, score))
    return _ranked(rows)


def unit_stats(conn: Connection, env: ServiceEnv, window: Window, *, now: datetime | None = None,
               unit_ids: Collection[int] | None = None) -> list[UnitYearStats]:
    """Per-unit statistics over any window (a year, a half-year): see the module docstring.

    Lists every unit (active or not) with an assignment, a flag or a score entry in the window,
    ordered by kind then code, each with its rank by score among the listed units.
    """
    now = now or env.clock.now()
    return _assemble(env, _unit_parts(conn, window, now, unit_ids=unit_ids), (0,))


def unit_year_stats(conn: Connection, env: ServiceEnv, year: int, *, now: datetime | None = None,
                    unit_ids: Collection[int] | None = None) -> list[UnitYearStats]:
    """The yearly statistics per unit (the 年度统计 sheet); for the board and the API too."""
    return unit_stats(conn, env, year_window(env, year), now=now, unit_ids=unit_ids)


def task_completion(conn: Connection, window: Window, now: datetime) -> list[TaskCompletion]:
    """Per task due in ``window``: completion and current flags, by deadline."""
    tasks = conn.execute(
        select(Task.id, Task.title, Task.system, Task.due, Task.status)
        .where(_in(Task.due, window)).order_by(Task.due, Task.id)
    ).all()
    if not tasks:
        return []
    comp = _completion_by(conn, window, now, TaskUnit.task_id)
    flags = _task_flags_by(conn, window, Flag.task_id)
    return [TaskCompletion(t.id, t.title, t.system, t.due, t.status,
                           comp.get((t.id, 0), Completion()), _counts(flags.get((t.id, 0))))
            for t in tasks]


def _unit_counts(pairs: Iterable[tuple[int, str, int]], minimum: int) -> list[UnitCount]:
    rows = [UnitCount(uid, name, n) for uid, name, n in pairs if n >= minimum]
    return sorted(rows, key=lambda r: (-r.count, r.name))


def _half_report(year: int, half: int, window: Window, now: datetime, n_tasks: int,
                 per_unit: list[UnitYearStats], lines: Iterable[ScoreLine]) -> HalfYearReport:
    lines = [x for x in lines if window.start <= x.at < window.end]
    return HalfYearReport(
        year=year, half=half, window=window, as_of=now, tasks=n_tasks,
        completion=sum((u.completion for u in per_unit), start=Completion()),
        flags=sum((u.flags for u in per_unit), start=FlagCounts()),
        repeated_yellow=_unit_counts(((u.unit_id, u.name, u.flags.yellow) for u in per_unit),
                                     REPEATED_YELLOW),
        commended=_unit_counts(((u.unit_id, u.name, u.flags.red) for u in per_unit), 1),
        innovations=[x for x in lines if x.points > 0],
        incidents=[x for x in lines if x.points < 0],
    )


def count_tasks(conn: Connection, window: Window) -> int:
    """Tasks whose deadline falls in ``window`` (the reports' "任务 N 项")."""
    return int(conn.execute(
        select(func.count()).select_from(Task).where(_in(Task.due, window), _LIVE)).scalar_one())


def half_year_report(conn: Connection, env: ServiceEnv, year: int, half: int, *,
                     now: datetime | None = None) -> HalfYearReport:
    """The 半年报告 data: completion and flags of the tasks due in the half, the units with
    repeated yellow flags (at least ``REPEATED_YELLOW``, as for a supervision letter), the
    commended units (red flags) and the innovations and incidents recorded in the half."""
    return half_year_detail(conn, env, year, half, now=now)[0]


def half_year_detail(conn: Connection, env: ServiceEnv, year: int, half: int, *,
                     now: datetime | None = None
                     ) -> tuple[HalfYearReport, list[UnitYearStats]]:
    """``half_year_report`` and the per-unit figures it sums (``unit_stats`` of the half),
    from one pass over the half's assignments."""
    now = now or env.clock.now()
    window = half_window(env, year, half)
    parts = _unit_parts(conn, window, now)
    units = _assemble(env, parts, (0,))
    return (_half_report(year, half, window, now, count_tasks(conn, window), units,
                         parts.lines), units)


def year_stats(conn: Connection, env: ServiceEnv, year: int, *,
               now: datetime | None = None) -> YearStats:
    """Everything the yearly export shows, read in the caller's transaction (two passes over
    the year's assignments: by unit and half, and by task)."""
    now = now or env.clock.now()
    window = year_window(env, year)
    halves = [half_window(env, year, 1), half_window(env, year, 2)]
    parts = _unit_parts(conn, window, now, split=halves[1].start)
    tasks = task_completion(conn, window, now)
    reports = [
        _half_report(window.start.year, index + 1, h, now,
                     sum(1 for t in tasks if h.start <= t.due < h.end),
                     _assemble(env, parts, (index,)), parts.lines)
        for index, h in enumerate(halves)
    ]
    grid = plan_grid(conn, env, window.start.year, now=now)
    rects = rectifications(conn, window)
    return YearStats(year=window.start.year, window=window, as_of=now,
                     units=_assemble(env, parts, (0, 1)), tasks=tasks, halves=reports,
                     plan=grid if grid.columns else None, rectifications=rects,
                     sites=sites_svc.list_sites(conn, year=window.start.year, limit=None))


def rectifications(conn: Connection, window: Window, *,
                   unit_ids: Collection[int] | None = None) -> list[RectInfo]:
    """The rectification items whose deadline falls in ``window`` (a year's items), by id."""
    return rect_svc.list_items(conn, due_since=window.start, due_until=window.end,
                               unit_ids=None if unit_ids is None else set(unit_ids), limit=None)


def overdue_rectifications(items: Iterable[RectInfo], as_of: datetime) -> list[RectInfo]:
    """Those of ``items`` still owed (open, or returned) past their deadline at ``as_of``: not
    done on time. The one count of overdue rectification for the export and the documents."""
    return [i for i in items if i.overdue(as_of)]


def read_year(conn: Connection, env: ServiceEnv, year: int, now: datetime) -> YearStats:
    """All the numbers of the export from one snapshot.

    On PostgreSQL the transaction is made REPEATABLE READ so that the per-unit, per-task and
    half-year figures cannot disagree because a review committed between two of the queries
    (SQLite's transaction is a snapshot already).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    return year_stats(conn, env, year, now=now)


# ---------------------------------------------------------------------------------- the records
#
# The lists behind the figures, for documents that must name them (bulletins, letters, the
# half-year report). Each follows the rules of the aggregates above: assignments of tasks whose
# deadline falls in the window, the first version deciding on time or late; current flags of
# those tasks plus the period flags set in the window.


@dataclass(frozen=True, slots=True)
class LateAssignment:
    """An assignment whose deadline passed without a version by then: submitted late
    (``first_at`` after the deadline; counted in ``Completion.late``) or still nothing in."""

    task_id: int
    title: str
    due: datetime
    unit_id: int
    unit: str
    first_at: datetime | None
    state: str  # owed received accepted returned (task_units.state)

    def late_by(self, now: datetime) -> timedelta:
        """How late the first version came, or, with none yet, how long overdue at ``now``."""
        return (self.first_at or now) - self.due


@dataclass(frozen=True, slots=True)
class ReturnedVersion:
    """A submitted version an admin returned, with the reason given."""

    submission_id: int
    task_id: int
    title: str
    due: datetime
    unit_id: int
    unit: str
    version: int
    submitted_at: datetime
    reviewed_at: datetime | None
    reason: str
    waiting: bool  # the unit's latest version, so the assignment waits for a new one
    # (these are what ``Completion.returned`` counts)


@dataclass(frozen=True, slots=True)
class FlagLine:
    """A current flag: of a task due in the window, or a period flag set in it."""

    flag_id: int
    unit_id: int
    unit: str
    color: str
    task_id: int | None
    title: str | None
    due: datetime | None
    reason: str
    source: str
    set_at: datetime


def late_assignments(conn: Connection, window: Window, now: datetime, *,
                     unit_ids: Collection[int] | None = None) -> list[LateAssignment]:
    """Assignments of tasks due in ``window`` whose deadline passed by ``now`` and whose first
    version was not in by then: by deadline, then unit."""
    first = aliased(Submission)
    q = (
        select(Task.id, Task.title, Task.due, TaskUnit.unit_id, Unit.name, first.submitted_at,
               TaskUnit.state)
        .select_from(TaskUnit)
        .join(Task, Task.id == TaskUnit.task_id)
        .join(Unit, Unit.id == TaskUnit.unit_id)
        .outerjoin(first, and_(first.task_id == TaskUnit.task_id,
                               first.unit_id == TaskUnit.unit_id, first.version == 1))
        .where(_in(Task.due, window), _LIVE, Task.due < now,
               (first.id.is_(None)) | (first.submitted_at > Task.due))
        .order_by(Task.due, Task.id, Unit.code, Unit.id)
    )
    if unit_ids is not None:
        q = q.where(TaskUnit.unit_id.in_(list(unit_ids)))
    return [LateAssignment(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in conn.execute(q)]


def returned_versions(conn: Connection, window: Window, *,
                      unit_ids: Collection[int] | None = None) -> list[ReturnedVersion]:
    """Every returned version of the tasks due in ``window``, with its reason: by task, unit
    and version."""
    waiting = and_(TaskUnit.state == "returned", TaskUnit.last_submission_id == Submission.id)
    q = (
        select(Submission.id, Task.id, Task.title, Task.due, Submission.unit_id, Unit.name,
               Submission.version, Submission.submitted_at, Submission.reviewed_at,
               Submission.review_reason, case((waiting, 1), else_=0))
        .join(Task, Task.id == Submission.task_id)
        .join(Unit, Unit.id == Submission.unit_id)
        .outerjoin(TaskUnit, and_(TaskUnit.task_id == Submission.task_id,
                                  TaskUnit.unit_id == Submission.unit_id))
        .where(Submission.status == "returned", _in(Task.due, window), _LIVE)
        .order_by(Task.due, Task.id, Unit.code, Unit.id, Submission.version)
    )
    if unit_ids is not None:
        q = q.where(Submission.unit_id.in_(list(unit_ids)))
    return [ReturnedVersion(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9] or "",
                            bool(r[10])) for r in conn.execute(q)]


def flag_lines(conn: Connection, window: Window, *, colors: Collection[str] = COLORS,
               unit_ids: Collection[int] | None = None) -> list[FlagLine]:
    """The flags ``FlagCounts`` counts for ``window``, one by one: by unit, then deadline (or
    the moment a period flag was set)."""
    cols = (Flag.id, Flag.unit_id, Unit.name, Flag.color, Flag.task_id, Task.title, Task.due,
            Flag.reason, Flag.source, Flag.set_at, Unit.code)
    task_q = (
        select(*cols).join(Task, Task.id == Flag.task_id).join(Unit, Unit.id == Flag.unit_id)
        .where(Flag.current.is_(True), _in(Task.due, window), Flag.color.in_(list(colors)))
    )
    period_q = (
        select(*cols).outerjoin(Task, Task.id == Flag.task_id)
        .join(Unit, Unit.id == Flag.unit_id)
        .where(Flag.task_id.is_(None), Flag.current.is_(True), _in(Flag.set_at, window),
               Flag.color.in_(list(colors)))
    )
    if unit_ids is not None:
        task_q = task_q.where(Flag.unit_id.in_(list(unit_ids)))
        period_q = period_q.where(Flag.unit_id.in_(list(unit_ids)))
    rows = [*conn.execute(task_q), *conn.execute(period_q)]
    rows.sort(key=lambda r: (r[10], r[1], r[6] or r[9], r[0]))
    return [FlagLine(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or "", r[8], r[9])
            for r in rows]


def units_by_flag(per_unit: Iterable[UnitYearStats], color: str, minimum: int = 1
                  ) -> list[UnitCount]:
    """Units with at least ``minimum`` flags of ``color``, most first (as the half-year
    report's ``commended`` and ``repeated_yellow``)."""
    return _unit_counts(((u.unit_id, u.name, getattr(u.flags, color)) for u in per_unit),
                        minimum)


# ---------------------------------------------------------------------------------- the plan
#
# The recurring work of a year (series: the plan's 周期 rows, the 四个一 preset) per unit and
# period. An instance is a task, so a cell is the unit's assignment state of that task, counted
# as everywhere else (task_units.state); an instance not created yet is "upcoming". A column is
# one period of one series; columns are grouped by the quarter their deadline falls in, yearly
# work in a column group of its own (quarter 0).

PLAN_DONE = ("received", "accepted")  # submitted (and not returned): the work is done
UPCOMING = "upcoming"
CANCELLED = "cancelled"  # an instance cancelled (bot/services/corrections.py)


@dataclass(frozen=True, slots=True)
class PlanColumn:
    series_id: int
    title: str  # the series' title (调研指导记录)
    name: str  # the instance's title (2027年第二季度调研指导记录)
    kind: str  # the preset's part (visit seminar training cases), "" otherwise
    rule: str
    period: str  # 2027Q2
    label: str  # 第二季度, 7月, 上半年, 全年
    quarter: int  # 1–4: the quarter of the deadline; 0: yearly work
    due: datetime
    task_id: int | None  # None: not created yet


@dataclass(frozen=True, slots=True)
class PlanCell:
    state: str  # owed received accepted returned, or upcoming (instance not created yet)
    overdue: bool  # owed (or returned) past the deadline

    @property
    def shown(self) -> str:
        """What a cell says: its state, or "overdue" for nothing sent by the deadline (a
        returned one says it was returned)."""
        return "overdue" if self.overdue and self.state == "owed" else self.state


@dataclass(frozen=True, slots=True)
class PlanUnit:
    unit_id: int
    name: str
    kind: str
    done: int  # instances submitted (received or accepted)
    due: int  # instances whose deadline has passed
    total: int  # instances in the year (created or not)


@dataclass(frozen=True, slots=True)
class PlanGrid:
    year: int
    as_of: datetime
    columns: list[PlanColumn]
    units: list[PlanUnit]
    cells: dict[tuple[int, int], PlanCell]  # (unit id, column index) → cell

    def cell(self, unit_id: int, column: int) -> PlanCell | None:
        """None: the unit is not in that series."""
        return self.cells.get((unit_id, column))


def plan_grid(conn: Connection, env: ServiceEnv, year: int, *, now: datetime | None = None,
              unit_ids: Collection[int] | None = None, kind: str | None = None,
              series_kinds: Collection[str] | None = None) -> PlanGrid:
    """Every series' periods of ``year`` × its units: created instances with the unit's state,
    the periods still to come as "upcoming". ``unit_ids`` / ``kind`` narrow the units,
    ``series_kinds`` the series (a preset's parts: ``("visit",)``)."""
    now = now or env.clock.now()
    window = year_window(env, year)
    q = select(Series).order_by(Series.id)
    if series_kinds is not None:
        q = q.where(Series.kind.in_(list(series_kinds)))
    all_series = conn.execute(q).all()
    created = {(int(r.series_id or 0), str(r.period)): (int(r.id), r.due) for r in conn.execute(
        select(Task.id, Task.series_id, Task.period, Task.due)
        .where(Task.series_id.in_([s.id for s in all_series]), _in(Task.due, window)))
    } if all_series else {}
    columns: list[PlanColumn] = []
    for s in all_series:
        rule = Recurrence(s.rule)
        schedule = SeriesRule(rule, s.first_due, env.tz, at_period_end=s.at_period_end,
                              lead_days=s.lead_days)
        periods: dict[str, tuple[datetime, int | None]] = {
            p: (due, None) for p, due in _future_periods(s, schedule, window)}
        for (sid, period), (made, due) in created.items():
            if sid == s.id:
                periods[period] = (due, made)
        for period, (due, task_id) in sorted(periods.items(), key=lambda x: x[1][0]):
            columns.append(_plan_column(env, s, rule, period, due, task_id))
    columns.sort(key=lambda c: (c.quarter or 5, c.series_id, c.due))
    members: dict[int, set[int]] = defaultdict(set)
    if all_series:
        for sid, uid in conn.execute(select(SeriesUnit.series_id, SeriesUnit.unit_id)
                                     .where(SeriesUnit.series_id.in_([s.id for s in all_series]))):
            members[int(sid)].add(int(uid))
    series_of = {c.task_id: c.series_id for c in columns if c.task_id is not None}
    states: dict[tuple[int, int], str] = {}
    if series_of:
        for tid, uid, state, status in conn.execute(
                select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.state, Task.status)
                .join(Task, Task.id == TaskUnit.task_id)
                .where(TaskUnit.task_id.in_(sorted(series_of)))):
            # a cancelled instance is shown as such, and owes nothing
            states[int(tid), int(uid)] = CANCELLED if status == "cancelled" else state
            # an instance's units (a series' units may have changed since it was created)
            members[series_of[int(tid)]].add(int(uid))
    wanted = set().union(*members.values()) if members else set()
    if unit_ids is not None:
        wanted &= set(unit_ids)
    uq = select(Unit.id, Unit.name, Unit.kind, Unit.code).where(Unit.id.in_(sorted(wanted)))
    if kind:
        uq = uq.where(Unit.kind == kind)
    kind_pos = {k: i for i, k in enumerate(KIND_ORDER)}
    unit_rows = sorted(conn.execute(uq).all(),
                       key=lambda r: (kind_pos.get(r.kind, len(KIND_ORDER)), r.code, r.id))
    cells: dict[tuple[int, int], PlanCell] = {}
    units: list[PlanUnit] = []
    for u in unit_rows:
        done = due = total = 0
        for index, c in enumerate(columns):
            if c.task_id is None:
                if u.id not in members[c.series_id]:
                    continue
                cell = PlanCell(UPCOMING, False)
            else:
                got = states.get((c.task_id, u.id))
                if got is None:
                    continue
                cell = PlanCell(got, got in ("owed", "returned") and c.due < now)
                if got == CANCELLED:
                    cells[u.id, index] = cell
                    continue
            cells[u.id, index] = cell
            total += 1
            done += cell.state in PLAN_DONE
            due += c.due < now
        units.append(PlanUnit(u.id, u.name, u.kind, done, due, total))
    return PlanGrid(window.start.year, now, columns, units, cells)


def _future_periods(s: Any, schedule: SeriesRule, window: Window
                    ) -> Iterable[tuple[str, datetime]]:
    """The periods of an active series due in ``window`` not created yet (from its next one)."""
    if s.status != "active" or s.next_at is None:
        return
    for item in schedule.instances(s.until, start=s.next_index, limit=400):
        if item.due >= window.end:
            return
        if item.due >= window.start:
            yield str(item.period), item.due


_CN_Q = ("一", "二", "三", "四")


def _plan_column(env: ServiceEnv, s: Any, rule: Recurrence, period: str, due: datetime,
                 task_id: int | None) -> PlanColumn:
    p = parse_period(period)
    local = env.local(due)
    quarter = 0 if p.kind is PeriodKind.YEAR else (local.month - 1) // 3 + 1
    if p.kind is PeriodKind.YEAR:
        label = "全年"
    elif p.kind is PeriodKind.QUARTER:
        label = f"第{_CN_Q[p.index - 1]}季度"
    elif p.kind is PeriodKind.MONTH:
        label = f"{p.index}月"
    else:
        label = "上半年" if p.index == 1 else "下半年"
    return PlanColumn(int(s.id), s.title, instance_title(s.title, p), s.kind, rule.value, period,
                      label, quarter, due, task_id)
