"""Working days: chinese_calendar for known years (holidays and 调休), a fixed fallback after."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.workdays import WorkCalendar, fallback_is_workday

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar(TZ)


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Spring Festival 2026: Feb 15–23 off, Saturday Feb 14 and Saturday Feb 28 are make-up days.
        ("2026-02-13", True),
        ("2026-02-14", True),
        ("2026-02-15", False),
        ("2026-02-17", False),
        ("2026-02-23", False),
        ("2026-02-24", True),
        ("2026-02-28", True),
        ("2026-03-01", False),
        # National Day + Mid-Autumn 2026: Oct 1–7 off; Sunday Sep 20 and Saturday Oct 10 work.
        ("2026-09-20", True),
        ("2026-09-25", False),
        ("2026-10-01", False),
        ("2026-10-07", False),
        ("2026-10-08", True),
        ("2026-10-10", True),
        ("2026-10-11", False),
        # Year end: 31 Dec 2025 works, 1–3 Jan 2026 off, Sunday 4 Jan 2026 is a make-up day.
        ("2025-12-31", True),
        ("2026-01-01", False),
        ("2026-01-02", False),
        ("2026-01-03", False),
        ("2026-01-04", True),
        ("2026-12-31", True),
        # 2027 is beyond chinese_calendar: weekends and fixed statutory days only.
        ("2027-01-01", False),
        ("2027-01-04", True),
        ("2027-01-02", False),
        ("2027-02-08", True),  # would be around the Spring Festival, unknown yet
        ("2027-05-03", True),
        ("2027-05-01", False),
        ("2027-10-01", False),
        ("2027-10-04", True),
        # 2003 is before it: the same fallback.
        ("2003-10-02", False),
        ("2003-10-06", True),
    ],
)
def test_is_workday(cal: WorkCalendar, day: str, working: bool) -> None:
    assert cal.is_workday(d(day)) is working


def test_fallback_rule() -> None:
    assert not fallback_is_workday(d("2027-05-02"))  # Sunday anyway
    assert not fallback_is_workday(d("2028-05-02"))  # Tuesday, statutory
    assert fallback_is_workday(d("2028-05-03"))
    assert not fallback_is_workday(d("2028-10-03"))
    assert fallback_is_workday(d("2028-10-04"))


def test_extra_days_win() -> None:
    cal = WorkCalendar(
        TZ, extra_holidays=frozenset({d("2026-07-01")}), extra_workdays=frozenset({d("2027-02-06")})
    )
    assert not cal.is_workday(d("2026-07-01"))
    assert cal.is_workday(d("2027-02-06"))  # a Saturday declared a make-up day


def test_bad_configuration() -> None:
    with pytest.raises(InvalidInput):
        WorkCalendar(TZ, time(18), time(9))
    with pytest.raises(InvalidInput):
        WorkCalendar(
            TZ,
            extra_holidays=frozenset({d("2027-01-05")}),
            extra_workdays=frozenset({d("2027-01-05")}),
        )


def test_working_hours(cal: WorkCalendar) -> None:
    assert cal.in_working_hours(datetime(2026, 7, 1, 9, 0, tzinfo=TZ))
    assert cal.in_working_hours(datetime(2026, 7, 1, 17, 59, 59, tzinfo=TZ))
    assert not cal.in_working_hours(datetime(2026, 7, 1, 18, 0, tzinfo=TZ))
    assert not cal.in_working_hours(datetime(2026, 7, 1, 8, 59, 59, tzinfo=TZ))
    assert not cal.in_working_hours(datetime(2026, 10, 2, 10, 0, tzinfo=TZ))  # holiday
    assert cal.in_working_hours(datetime(2026, 10, 10, 10, 0, tzinfo=TZ))  # make-up Saturday
    # 01:30 UTC is 09:30 in Beijing: the calendar judges local time.
    assert cal.in_working_hours(datetime(2026, 7, 1, 1, 30, tzinfo=UTC))
    with pytest.raises(ValueError):
        cal.in_working_hours(datetime(2026, 7, 1, 10, 0))


def test_add_workdays_across_spring_festival(cal: WorkCalendar) -> None:
    assert cal.add_workdays(d("2026-02-13"), 1) == d("2026-02-14")
    assert cal.add_workdays(d("2026-02-14"), 1) == d("2026-02-24")
    assert cal.add_workdays(d("2026-02-24"), -1) == d("2026-02-14")
    assert cal.add_workdays(d("2026-02-24"), -2) == d("2026-02-13")
    assert cal.add_workdays(d("2026-02-27"), 1) == d("2026-02-28")
    assert cal.add_workdays(d("2026-02-28"), 1) == d("2026-03-02")


def test_add_workdays_across_national_day(cal: WorkCalendar) -> None:
    assert cal.add_workdays(d("2026-09-30"), 1) == d("2026-10-08")
    assert cal.add_workdays(d("2026-10-08"), 2) == d("2026-10-10")
    assert cal.add_workdays(d("2026-09-21"), -1) == d("2026-09-20")


def test_add_workdays_across_year_ends(cal: WorkCalendar) -> None:
    assert cal.add_workdays(d("2025-12-31"), 1) == d("2026-01-04")
    assert cal.add_workdays(d("2026-01-04"), -1) == d("2025-12-31")
    # 2026 → 2027 crosses from the library into the fallback.
    assert cal.add_workdays(d("2026-12-31"), 1) == d("2027-01-04")
    assert cal.add_workdays(d("2027-01-04"), -1) == d("2026-12-31")
    assert cal.workdays_between(d("2026-12-30"), d("2027-01-05")) == 3


def test_add_zero_and_next(cal: WorkCalendar) -> None:
    assert cal.add_workdays(d("2026-07-01"), 0) == d("2026-07-01")
    assert cal.add_workdays(d("2026-10-01"), 0) == d("2026-10-08")
    assert cal.next_workday(d("2026-07-03")) == d("2026-07-06")
    assert cal.previous_workday(d("2026-07-06")) == d("2026-07-03")


def test_workdays_between(cal: WorkCalendar) -> None:
    assert cal.workdays_between(d("2026-07-01"), d("2026-07-01")) == 0
    assert cal.workdays_between(d("2026-07-03"), d("2026-07-06")) == 1
    assert cal.workdays_between(d("2026-07-06"), d("2026-07-03")) == -1
    assert cal.workdays_between(d("2026-09-30"), d("2026-10-08")) == 1


def test_cache_is_per_instance() -> None:
    a = WorkCalendar(TZ)
    b = WorkCalendar(TZ, extra_holidays=frozenset({d("2026-07-01")}))
    assert a.is_workday(d("2026-07-01"))
    assert not b.is_workday(d("2026-07-01"))
    assert a.is_workday(d("2026-07-01"))


dates = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))


@settings(max_examples=150)
@given(dates, st.integers(min_value=-40, max_value=40).filter(bool))
def test_add_workdays_lands_on_a_workday_and_inverts(day: date, n: int) -> None:
    cal = WorkCalendar(TZ)
    result = cal.add_workdays(day, n)
    assert cal.is_workday(result)
    assert (result > day) == (n > 0)
    if n > 0:
        assert cal.workdays_between(day, result) == n
    elif cal.is_workday(day):
        assert cal.add_workdays(result, -n) == day
    sign = 1 if n > 0 else -1
    skipped = [day + timedelta(days=sign * i) for i in range(1, abs((result - day).days))]
    assert sum(cal.is_workday(x) for x in skipped) == abs(n) - 1


@settings(max_examples=150)
@given(dates, dates)
def test_workdays_between_is_antisymmetric(a: date, b: date) -> None:
    cal = WorkCalendar(TZ)
    assert cal.workdays_between(a, b) == -cal.workdays_between(b, a)
