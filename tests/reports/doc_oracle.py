"""Independent counts for the official documents' figures, and reading a generated .docx.

``count`` works from the raw rows in plain Python (no ``stats`` code): what a careful clerk
would count by hand for a period. ``Figures`` checks that every figure the text states is one
the test has checked (a figure added to a document without a check fails the test).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import docx
from sqlalchemy import Connection, select

from storage.models import Flag, Rectification, ScoreEntry, Submission, Task, TaskUnit, Unit
from tests.reports.conftest import TZ

KIND_NAMES = {"city": "地市", "county": "直管县", "department": "省直部门",
              "central": "中央驻豫单位", "office": "办公室"}


@dataclass
class Tally:
    assigned: int = 0
    due: int = 0
    submitted: int = 0
    on_time: int = 0
    late: int = 0
    accepted: int = 0
    returned: int = 0
    outstanding: int = 0
    on_time_due: int = 0
    red: int = 0
    blue: int = 0
    yellow: int = 0

    @property
    def not_in(self) -> int:
        return self.due - self.on_time_due - self.late

    def rate(self) -> str:
        return "—" if not self.due else f"{self.on_time_due / self.due * 100:.1f}%"


@dataclass
class Late:
    unit: str
    title: str
    due: datetime
    first_at: datetime | None


@dataclass
class Returned:
    unit: str
    title: str
    version: int
    submitted_at: datetime
    reason: str
    waiting: bool


@dataclass
class Oracle:
    tasks: int = 0
    total: Tally = field(default_factory=Tally)
    units: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    kinds: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    late: list[Late] = field(default_factory=list)
    returns: list[Returned] = field(default_factory=list)
    yellow_flags: dict[str, list[tuple[str | None, str, datetime]]] = field(
        default_factory=lambda: defaultdict(list))
    scores: list[tuple[str, float, str, datetime]] = field(default_factory=list)


def count(conn: Connection, start: datetime, end: datetime, now: datetime,
          unit: str | None = None) -> Oracle:
    names = {r.id: r.name for r in conn.execute(select(Unit.id, Unit.name))}
    kinds = {r.id: r.kind for r in conn.execute(select(Unit.id, Unit.kind))}
    tasks = {t.id: (t.title, t.due) for t in conn.execute(select(Task.id, Task.title, Task.due))
             if start <= t.due < end}
    subs = conn.execute(select(Submission.task_id, Submission.unit_id, Submission.version,
                               Submission.submitted_at, Submission.status,
                               Submission.review_reason, Submission.id)).all()
    first: dict[tuple[int, int], datetime] = {}
    for s in subs:
        k = (s.task_id, s.unit_id)
        first[k] = min(first.get(k, s.submitted_at), s.submitted_at)
    o = Oracle(tasks=len(tasks))
    want = (lambda uid: names[uid] == unit) if unit else (lambda uid: True)
    states = {}
    last_sub = {}
    for tu in conn.execute(select(TaskUnit.task_id, TaskUnit.unit_id, TaskUnit.state,
                                  TaskUnit.last_submission_id)):
        states[tu.task_id, tu.unit_id] = tu.state
        last_sub[tu.task_id, tu.unit_id] = tu.last_submission_id
        if tu.task_id not in tasks or not want(tu.unit_id):
            continue
        title, due = tasks[tu.task_id]
        f = first.get((tu.task_id, tu.unit_id))
        passed = due < now
        for t in (o.total, o.units[names[tu.unit_id]], o.kinds[kinds[tu.unit_id]]):
            t.assigned += 1
            t.due += passed
            t.submitted += f is not None
            t.on_time += f is not None and f <= due
            t.late += f is not None and f > due
            t.accepted += tu.state == "accepted"
            t.returned += tu.state == "returned"
            t.outstanding += tu.state in ("owed", "returned")
            t.on_time_due += f is not None and f <= due and passed
        if passed and (f is None or f > due):
            o.late.append(Late(names[tu.unit_id], title, due, f))
    for s in subs:
        if s.task_id in tasks and s.status == "returned" and want(s.unit_id):
            k = (s.task_id, s.unit_id)
            o.returns.append(Returned(names[s.unit_id], tasks[s.task_id][0], s.version,
                                      s.submitted_at, s.review_reason or "",
                                      states.get(k) == "returned" and last_sub.get(k) == s.id))
    for fl in conn.execute(select(Flag.unit_id, Flag.task_id, Flag.color, Flag.set_at,
                                  Flag.reason).where(Flag.current.is_(True))):
        if not want(fl.unit_id):
            continue
        if fl.task_id in tasks or (fl.task_id is None and start <= fl.set_at < end):
            for t in (o.total, o.units[names[fl.unit_id]], o.kinds[kinds[fl.unit_id]]):
                setattr(t, fl.color, getattr(t, fl.color) + 1)
            if fl.color == "yellow":
                title = tasks[fl.task_id][0] if fl.task_id in tasks else None
                o.yellow_flags[names[fl.unit_id]].append((title, fl.reason, fl.set_at))
    for e in conn.execute(select(ScoreEntry.unit_id, ScoreEntry.points, ScoreEntry.reason,
                                 ScoreEntry.created_at)):
        if start <= e.created_at < end and want(e.unit_id):
            o.scores.append((names[e.unit_id], e.points, e.reason, e.created_at))
    return o


@dataclass
class Rect:
    id: int
    text: str
    due: datetime
    status: str
    reason: str


def owed_rectifications(conn: Connection, start: datetime, end: datetime, now: datetime,
                        unit: str) -> tuple[list[Rect], list[Rect]]:
    """The unit's rectification items due in [start, end) that it still owes (open or
    returned, not reported or closed): (past their deadline at ``now``, the others), by id."""
    uid = conn.execute(select(Unit.id).where(Unit.name == unit)).scalar_one()
    rows = conn.execute(select(Rectification.id, Rectification.text, Rectification.due,
                               Rectification.status, Rectification.reason)
                        .where(Rectification.unit_id == uid).order_by(Rectification.id)).all()
    owed = [Rect(r.id, r.text, r.due, r.status, r.reason) for r in rows
            if r.status in ("open", "returned") and start <= r.due < end]
    return [r for r in owed if r.due < now], [r for r in owed if r.due >= now]


# ---------------------------------------------------------------------------------- wording


def md(moment: datetime) -> str:
    m = moment.astimezone(TZ)
    return f"{m.month}月{m.day}日"


def how_late(delta: timedelta) -> str:
    days, hours = delta.days, delta.seconds // 3600
    return (f"{days}天{hours}小时" if days and hours else f"{days}天" if days
            else f"{hours}小时" if hours else "不足1小时")


def late_phrase(item: Late, now: datetime) -> str:
    head = f"《{item.title}》（{md(item.due)}截止）"
    if item.first_at is not None:
        return f"{head}逾期{how_late(item.first_at - item.due)}报送"
    return f"{head}至{md(now)}仍未报送，已逾期{how_late(now - item.due)}"


def units_with(o: Oracle, color: str, minimum: int = 1) -> list[tuple[str, int]]:
    rows = [(name, getattr(t, color)) for name, t in o.units.items()
            if getattr(t, color) >= minimum]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def reasons(o: Oracle) -> Counter[str]:
    return Counter(r.reason.strip().rstrip("。") or "未说明" for r in o.returns)


# ---------------------------------------------------------------------------------- reading


def read(path: Path) -> tuple[Any, str, list[list[list[str]]]]:
    """The document, its body paragraphs' text (attachments included), and its tables."""
    d = docx.Document(str(path))
    text = "\n".join(p.text for p in d.paragraphs)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]
    return d, text, tables


FIGURE = re.compile(r"\d+(?:\.\d+)?(?=项|面|次|起|个单位|分|%|篇)")


class Figures:
    """Asserts phrases are in the text and remembers where; ``unchecked()`` lists the figures
    the text states outside every checked phrase."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: list[tuple[int, int]] = []

    def has(self, phrase: str) -> None:
        assert phrase in self.text, f"missing: {phrase}\n--- in ---\n{self.text}"
        start = 0
        while (i := self.text.find(phrase, start)) >= 0:
            self.spans.append((i, i + len(phrase)))
            start = i + 1

    def unchecked(self) -> list[str]:
        out = []
        for m in FIGURE.finditer(self.text):
            if not any(a <= m.start() and m.end() <= b for a, b in self.spans):
                out.append(self.text[max(0, m.start() - 20):m.end() + 5])
        return out
