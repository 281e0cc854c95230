"""Working days and working hours in China.

Reminders may only go out in working hours on working days (the 2023 rules against
"指尖上的形式主义"), and a working day in China is not simply Monday to Friday: public holidays
move weekends around and create make-up workdays (调休). ``chinese_calendar`` knows those for the
years the State Council has published; for other years we fall back to weekends plus the fixed
statutory days, which is the best guess available before the yearly notice comes out.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from bot.domain.errors import InvalidInput

# Holidays that fall on the same calendar day every year (New Year, Labour Day, National Day).
# The lunar holidays (Spring Festival, Qingming, Dragon Boat, Mid-Autumn) and the make-up days
# cannot be guessed, so the fallback leaves them as ordinary days.
_FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
)

_ONE_DAY = timedelta(days=1)


def fallback_is_workday(d: date) -> bool:
    """The rule for years ``chinese_calendar`` does not know: weekdays minus fixed holidays."""
    return d.weekday() < 5 and (d.month, d.day) not in _FIXED_HOLIDAYS


class WorkCalendar:
    """Which days are working days and which moments are working hours, in one time zone.

    ``extra_holidays`` / ``extra_workdays`` let an operator correct the calendar (a local holiday,
    or next year's 调休 before the library knows it); they win over everything else.
    """

    def __init__(
        self,
        tz: ZoneInfo,
        work_start: time = time(9),
        work_end: time = time(18),
        *,
        extra_holidays: frozenset[date] = frozenset(),
        extra_workdays: frozenset[date] = frozenset(),
    ) -> None:
        if work_start.tzinfo is not None or work_end.tzinfo is not None:
            raise InvalidInput(
                "工作时间应为当地时间，不带时区",
                log="work_start/work_end must be naive local times",
            )
        if not work_start < work_end:
            raise InvalidInput(
                f"工作时间设置有误：开始 {work_start:%H:%M} 应早于结束 {work_end:%H:%M}",
                log=f"work_start {work_start} is not before work_end {work_end}",
            )
        both = extra_holidays & extra_workdays
        if both:
            days = "、".join(sorted(d.isoformat() for d in both))
            raise InvalidInput(
                f"以下日期同时被设为假日和工作日：{days}",
                log=f"dates both extra holiday and extra workday: {days}",
            )
        self.tz = tz
        self.work_start = work_start
        self.work_end = work_end
        self.extra_holidays = extra_holidays
        self.extra_workdays = extra_workdays
        # The sweep asks about the same few dates every minute; the library lookup is cheap but
        # the fallback path goes through an exception, so remember every answer.
        self._cache: dict[date, bool] = {}

    def is_workday(self, d: date) -> bool:
        cached = self._cache.get(d)
        if cached is None:
            cached = self._compute_is_workday(d)
            self._cache[d] = cached
        return cached

    def _compute_is_workday(self, d: date) -> bool:
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(d))
        except NotImplementedError:
            return fallback_is_workday(d)

    def local(self, moment: datetime) -> datetime:
        """``moment`` as wall-clock time in this calendar's zone."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            # A naive moment is a programming error, not user input: we cannot guess its zone.
            raise ValueError("WorkCalendar needs timezone-aware datetimes")
        return moment.astimezone(self.tz)

    def in_working_hours(self, moment: datetime) -> bool:
        """On a working day and ``work_start <= local time < work_end``."""
        loc = self.local(moment)
        return self.is_workday(loc.date()) and self.work_start <= loc.time() < self.work_end

    def day_start(self, d: date) -> datetime:
        """The aware moment working hours begin on ``d`` (whether or not ``d`` is a workday)."""
        return datetime.combine(d, self.work_start, tzinfo=self.tz)

    def midnight(self, d: date) -> datetime:
        """The aware moment 00:00 local on ``d``."""
        return datetime.combine(d, time(0), tzinfo=self.tz)

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day after (n > 0) or before (n < 0) ``d``, not counting ``d`` itself.

        ``add_workdays(d, 1)`` is the next working day even when ``d`` is one. For ``n == 0`` the
        answer is ``d`` if it is a working day, otherwise the next working day after it: "zero
        working days from a holiday" lands on the first day work can happen.
        """
        if n == 0:
            return d if self.is_workday(d) else self.add_workdays(d, 1)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        current = d
        while remaining:
            current += step
            if self.is_workday(current):
                remaining -= 1
        return current

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.add_workdays(d, 1)

    def previous_workday(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        return self.add_workdays(d, -1)

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in ``(a, b]`` — after ``a``, up to and including ``b``.

        Negative when ``b`` is before ``a`` (the count of working days in ``(b, a]``), so that
        ``workdays_between(a, b) == -workdays_between(b, a)`` and, when ``b`` is a working day
        after ``a``, ``add_workdays(a, workdays_between(a, b)) == b``.
        """
        if b < a:
            return -self.workdays_between(b, a)
        count = 0
        current = a
        while current < b:
            current += _ONE_DAY
            if self.is_workday(current):
                count += 1
        return count
