"""When a unit is reminded about a task (DESIGN §4 "Reminders", §5 ``dudao tick``).

A reminder *stage* is a working day relative to the deadline's local date: N working days before
it, the deadline's own day, then overdue urging every few working days, then escalation to the
unit's officials and the admins. A stage fires at the first sweep in working hours on its day;
the caller records ``(task, unit, stage)`` once sent, so a stage is never sent twice even across
restarts. After downtime only the latest still-relevant stage goes out: people should get one
useful message, not a burst of stale ones.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.errors import InvalidInput
from bot.domain.workdays import WorkCalendar

DUE = "due"
ESCALATE = "escalate"
_BEFORE_PREFIX = "before-"
_OVERDUE_PREFIX = "overdue-"


def before_stage(n: int) -> str:
    return f"{_BEFORE_PREFIX}{n}"


def overdue_stage(k: int) -> str:
    return f"{_OVERDUE_PREFIX}{k}"


def is_pre_deadline(stage: str) -> bool:
    """Stages meant to arrive before the deadline; pointless once the deadline has passed."""
    return stage == DUE or stage.startswith(_BEFORE_PREFIX)


_DEFAULT_EVERY = 2
_OVERDUE_RE = re.compile(r"overdue\s*=\s*(\d+)\s*[x×*]\s*(\d+)")
_BEFORE_RE = re.compile(r"\d+(?:\s*[,，]\s*\d+)*")


@dataclass(frozen=True)
class ReminderPolicy:
    """How a task's units are reminded. ``before`` is kept sorted from farthest to nearest."""

    before: tuple[int, ...] = (7, 3, 1)
    on_due_day: bool = True
    overdue_every: int = _DEFAULT_EVERY
    overdue_times: int = 3
    escalate: bool = True

    def __post_init__(self) -> None:
        if any(n < 1 for n in self.before):
            raise InvalidInput(
                "提前提醒的天数必须是正整数",
                log=f"reminder policy: non-positive 'before' day in {self.before}",
            )
        if len(set(self.before)) != len(self.before):
            raise InvalidInput(
                "提前提醒的天数不能重复", log=f"reminder policy: duplicate 'before' {self.before}"
            )
        if self.overdue_every < 1:
            raise InvalidInput(
                "逾期督促间隔至少为 1 个工作日",
                log=f"reminder policy: overdue_every={self.overdue_every}",
            )
        if self.overdue_times < 0:
            raise InvalidInput(
                "逾期督促次数不能为负数", log=f"reminder policy: overdue_times={self.overdue_times}"
            )
        # Normalise so that equal policies compare equal whatever order they were written in.
        object.__setattr__(self, "before", tuple(sorted(self.before, reverse=True)))

    @classmethod
    def parse(cls, text: str) -> ReminderPolicy:
        """Read ``"7,3,1;due;overdue=2x3;escalate"`` (the format :meth:`format` writes).

        Parts are separated by ``;`` and may come in any order. A part that is absent is off:
        no ``due`` means no reminder on the deadline's day, no ``overdue=EVERYxTIMES`` means no
        urging. ``"none"`` turns every reminder off; ``"default"`` is the programme default.
        """
        source = text.strip()
        if source.lower() == "default":
            return cls()
        if source.lower() == "none":
            return cls(before=(), on_due_day=False, overdue_times=0, escalate=False)
        parts = [p.strip() for p in re.split(r"[;；]", source) if p.strip()]
        if not parts:
            raise _bad_policy(text, "内容为空")
        before: tuple[int, ...] | None = None
        on_due_day = False
        every, times = _DEFAULT_EVERY, 0
        escalate = False
        seen: set[str] = set()
        for part in parts:
            lowered = part.lower()
            if _BEFORE_RE.fullmatch(lowered):
                kind = "before"
                before = tuple(int(x) for x in re.split(r"\s*[,，]\s*", lowered))
            elif lowered == "due":
                kind = "due"
                on_due_day = True
            elif lowered == "escalate":
                kind = "escalate"
                escalate = True
            elif match := _OVERDUE_RE.fullmatch(lowered):
                kind = "overdue"
                every, times = int(match.group(1)), int(match.group(2))
            else:
                raise _bad_policy(text, f"无法识别“{part}”")
            if kind in seen:
                raise _bad_policy(text, f"“{kind}”出现了两次")
            seen.add(kind)
        return cls(
            before=before or (),
            on_due_day=on_due_day,
            overdue_every=every,
            overdue_times=times,
            escalate=escalate,
        )

    def format(self) -> str:
        """The text :meth:`parse` reads back into an equivalent policy."""
        parts: list[str] = []
        if self.before:
            parts.append(",".join(str(n) for n in self.before))
        if self.on_due_day:
            parts.append("due")
        # The interval also places the escalation, so keep it whenever either is on.
        if self.overdue_times or self.escalate:
            parts.append(f"overdue={self.overdue_every}x{self.overdue_times}")
        if self.escalate:
            parts.append("escalate")
        return ";".join(parts) or "none"

    def __str__(self) -> str:
        return self.format()


def _bad_policy(text: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"提醒规则“{text}”有误：{why}。格式示例：7,3,1;due;overdue=2x3;escalate",
        log=f"bad reminder policy {text!r}: {why}",
    )


def envelope(policies: Iterable[ReminderPolicy]) -> ReminderPolicy:
    """A policy whose stages reach at least as far before and after a deadline as any given one.

    Only for :func:`deadline_window`; with no policies it is the programme default.
    """
    items = list(policies)
    if not items:
        return ReminderPolicy()
    farthest = max((max(p.before) for p in items if p.before), default=None)
    return ReminderPolicy(
        before=(farthest,) if farthest is not None else (),
        on_due_day=any(p.on_due_day for p in items),
        overdue_every=max(p.overdue_every for p in items),
        overdue_times=max(p.overdue_times for p in items),
        escalate=any(p.escalate for p in items),
    )


def stage_days(
    deadline: datetime, policy: ReminderPolicy, cal: WorkCalendar
) -> list[tuple[str, date]]:
    """Every stage of ``policy`` for ``deadline`` with its day, in order; days strictly increase.

    - ``before-N``: the N-th working day before the deadline's local date;
    - ``due``: the deadline's local date, or the last working day before it when that date is not
      a working day (a Sunday deadline is announced on Friday);
    - ``overdue-k``: the first working day after the deadline's date, then every
      ``overdue_every`` working days;
    - ``escalate``: ``overdue_every`` working days after the last overdue stage (or the first
      working day after the deadline's date when there is no overdue urging).

    When two stages fall on the same day (``before-1`` and ``due`` for a weekend deadline) only
    the later one is kept: one message a day, and the later one says more.
    """
    d = cal.local(deadline).date()
    every = policy.overdue_every
    planned: list[tuple[str, date]] = [
        (before_stage(n), cal.add_workdays(d, -n)) for n in policy.before
    ]
    if policy.on_due_day:
        planned.append((DUE, d if cal.is_workday(d) else cal.previous_workday(d)))
    planned.extend(
        (overdue_stage(k), cal.add_workdays(d, 1 + (k - 1) * every))
        for k in range(1, policy.overdue_times + 1)
    )
    if policy.escalate:
        planned.append((ESCALATE, cal.add_workdays(d, 1 + policy.overdue_times * every)))
    result: list[tuple[str, date]] = []
    for stage, day in planned:
        while result and result[-1][1] >= day:
            result.pop()
        result.append((stage, day))
    return result


def current_stage(
    deadline: datetime, policy: ReminderPolicy, cal: WorkCalendar, now: datetime
) -> str | None:
    """The stage that is due at ``now``, or None.

    None outside working hours. Otherwise the latest stage whose day is today or earlier, so a
    sweep after downtime catches up with only that one, and only while it is still relevant:
    - a stage meant for before the deadline (``before-N``, ``due``) is dropped once the deadline
      moment has passed — the unit is urged by the overdue stages instead;
    - the last post-deadline stage stays due for ``overdue_every`` working days (the day its
      successor would have had) and then lapses, so that a long-past deadline never produces
      anything and :func:`deadline_window` can be bounded.
    """
    if not cal.in_working_hours(now):
        return None
    today = cal.local(now).date()
    stages = stage_days(deadline, policy, cal)
    latest = None
    for index, (_, day) in enumerate(stages):
        if day > today:
            break
        latest = index
    if latest is None:
        return None
    stage, day = stages[latest]
    if is_pre_deadline(stage):
        return stage if now < deadline else None
    if now < deadline:  # cannot happen (post-deadline days follow the deadline's date); be safe
        return None
    is_last = latest == len(stages) - 1
    if is_last and today >= cal.add_workdays(day, policy.overdue_every):
        return None
    return stage


@dataclass(frozen=True)
class Assignment:
    """A task assigned to a unit, as the reminder sweep sees it.

    ``owes`` is True while the unit has nothing accepted or pending review — it has not
    submitted, or its latest submission was returned (then ``returned`` is True too).
    """

    task_id: int
    unit_id: int
    deadline: datetime
    policy: ReminderPolicy
    owes: bool
    returned: bool = False


@dataclass(frozen=True)
class DueReminder:
    task_id: int
    unit_id: int
    stage: str
    returned: bool
    escalate: bool


def reminders_due(
    assignments: Iterable[Assignment],
    already_sent: Container[tuple[int, int, str]],
    now: datetime,
    cal: WorkCalendar,
) -> list[DueReminder]:
    """The reminders to send at ``now``: at most one per (task, unit), none already sent.

    Only units that owe are reminded, and nothing is due outside working hours. The result is
    ordered by (task, unit) so that the same input always yields the same messages.
    """
    if not cal.in_working_hours(now):
        return []
    due: dict[tuple[int, int], DueReminder] = {}
    for a in assignments:
        key = (a.task_id, a.unit_id)
        if not a.owes or key in due:
            continue
        stage = current_stage(a.deadline, a.policy, cal, now)
        if stage is None or (a.task_id, a.unit_id, stage) in already_sent:
            continue
        due[key] = DueReminder(a.task_id, a.unit_id, stage, a.returned, stage == ESCALATE)
    return [due[key] for key in sorted(due)]


def deadline_window(
    now: datetime, policies_max: ReminderPolicy, cal: WorkCalendar
) -> tuple[datetime, datetime]:
    """``(lo, hi)`` such that any deadline with a stage due at ``now`` has ``lo <= deadline < hi``.

    ``policies_max`` must reach at least as far as every task's policy (see :func:`envelope`).
    Storage queries only the tasks in this range, so a sweep costs in proportion to the work
    around today, not to every task ever published. The range may be a little wider than
    needed; :func:`reminders_due` decides exactly.
    """
    today = cal.local(now).date()
    # Pre-deadline stages: the farthest one (before-N) can be today only if the deadline's date
    # is at most N working days ahead; the due stage moves at most to the previous working day.
    ahead = max(max(policies_max.before, default=0), 1)
    hi = cal.midnight(cal.add_workdays(today, ahead) + timedelta(days=1))
    # Post-deadline stages: the last one lapses ``overdue_every`` working days after its day.
    p = policies_max
    if p.escalate:
        reach = 1 + (p.overdue_times + 1) * p.overdue_every
    elif p.overdue_times:
        reach = 1 + p.overdue_times * p.overdue_every
    else:
        return now, hi
    lo = min(cal.midnight(cal.add_workdays(today, -reach)), now)
    return lo, hi
