"""When units that have not acknowledged a notice (回执) are reminded (DESIGN §2, §3).

A notice may ask for reminders: every ``every_hours`` *working* hours after it was sent, up to
``times`` times, the units that have not replied 收到 are reminded once more. Working hours are
counted with the same calendar as the deadline reminders (a notice sent on Friday at 17:00 with a
2-hour reminder is followed up on Monday at 10:00, not on Saturday), and nothing is due outside
working hours. After downtime only the latest round still due goes out; a round lapses when the
next one would have come (the last one ``every_hours`` working hours after its time), so an old
notice never produces a reminder.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.errors import InvalidInput
from bot.domain.workdays import WorkCalendar

_POLICY_RE = re.compile(r"(\d+)\s*(?:[x×*]\s*(\d+))?")


@dataclass(frozen=True, slots=True)
class NoticeReminderPolicy:
    """Every ``every_hours`` working hours, at most ``times`` times; ``times == 0`` is off."""

    every_hours: int = 0
    times: int = 0

    def __post_init__(self) -> None:
        if self.every_hours < 0 or self.times < 0:
            raise InvalidInput("通知提醒的间隔和次数不能为负数",
                               log=f"notice reminder policy {self.every_hours}x{self.times}")
        if self.times and not self.every_hours:
            raise InvalidInput("通知提醒的间隔至少 1 个工作小时",
                               log="notice reminder policy with times but no interval")

    @property
    def off(self) -> bool:
        return self.times == 0 or self.every_hours == 0

    @classmethod
    def parse(cls, text: str) -> NoticeReminderPolicy:
        """``"4x2"`` (every 4 working hours, twice), ``"4"`` (once, after 4), ``"none"``/``"0"``."""
        source = text.strip().lower()
        if source in ("none", "off", "0", "不提醒"):
            return cls()
        match = _POLICY_RE.fullmatch(source)
        if match is None:
            raise InvalidInput(f"通知提醒规则“{text}”有误，示例：4x2（每 4 个工作小时提醒一次，最多 2 次）",
                               log=f"bad notice reminder policy {text!r}")
        every = int(match.group(1))
        times = int(match.group(2)) if match.group(2) is not None else 1
        if every == 0:
            return cls()
        return cls(every, times)

    def format(self) -> str:
        return "none" if self.off else f"{self.every_hours}x{self.times}"

    @property
    def reach(self) -> timedelta:
        """Working time after the notice at which its last round lapses."""
        return timedelta(hours=self.every_hours * (self.times + 1))


def working_time_between(cal: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time in ``[start, end)``: the overlap with working hours on working days."""
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    first: date = cal.local(start).date()
    last: date = cal.local(end).date()
    day = first
    while day <= last:
        if cal.is_workday(day):
            lo = max(cal.day_start(day), start)
            hi = min(datetime.combine(day, cal.work_end, tzinfo=cal.tz), end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def due_round(sent_at: datetime, policy: NoticeReminderPolicy, cal: WorkCalendar,
              now: datetime) -> int | None:
    """The reminder round (1…times) due at ``now`` for a notice sent at ``sent_at``, or None."""
    if policy.off or not cal.in_working_hours(now):
        return None
    elapsed = working_time_between(cal, sent_at, now)
    every = timedelta(hours=policy.every_hours)
    k = math.floor(elapsed / every)
    if k < 1 or k > policy.times:
        return None
    return k


def earliest_relevant(cal: WorkCalendar, now: datetime, reach: timedelta) -> datetime:
    """A moment before which no notice can still have a round due at ``now`` (for queries).

    A working day holds at most ``work_end - work_start`` working time, so ``reach`` of working
    time spans at most that many working days back, plus today.
    """
    day_hours = (datetime.combine(date.min, cal.work_end)
                 - datetime.combine(date.min, cal.work_start))
    days = math.ceil(reach / day_hours) + 1
    return cal.midnight(cal.add_workdays(cal.local(now).date(), -days))
