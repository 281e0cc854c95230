"""Recurring tasks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.recurrence import Recurrence, next_occurrence, occurrences, parse_recurrence

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("每季度", Recurrence.QUARTERLY),
        ("每年", Recurrence.YEARLY),
        ("每月", Recurrence.MONTHLY),
        ("每半年", Recurrence.HALF_YEARLY),
        (" Quarterly ", Recurrence.QUARTERLY),
        ("half-yearly", Recurrence.HALF_YEARLY),
        ("none", Recurrence.NONE),
        ("", Recurrence.NONE),
        ("不重复", Recurrence.NONE),
    ],
)
def test_parse(text: str, rule: Recurrence) -> None:
    assert parse_recurrence(text) is rule


def test_parse_rejects_unknown() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_recurrence("每两周")
    assert "每季度" in info.value.message


def test_quarterly_keeps_time_of_day_and_clamps() -> None:
    got = occurrences(at("2026-03-31T18:00"), Recurrence.QUARTERLY, at("2027-03-31T18:00"))
    assert got == [
        at("2026-03-31T18:00"),
        at("2026-06-30T18:00"),
        at("2026-09-30T18:00"),
        at("2026-12-31T18:00"),
        at("2027-03-31T18:00"),
    ]


def test_monthly_returns_to_the_31st_after_short_months() -> None:
    got = occurrences(at("2026-01-31T17:00"), Recurrence.MONTHLY, at("2026-04-30T23:59"))
    assert [x.date().isoformat() for x in got] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
    ]


def test_yearly_from_leap_day() -> None:
    got = occurrences(at("2028-02-29T09:00"), Recurrence.YEARLY, at("2032-12-31T00:00"))
    assert [x.date().isoformat() for x in got] == [
        "2028-02-29",
        "2029-02-28",
        "2030-02-28",
        "2031-02-28",
        "2032-02-29",
    ]


def test_half_yearly_and_none() -> None:
    got = occurrences(at("2026-06-30T18:00"), Recurrence.HALF_YEARLY, at("2027-06-30T18:00"))
    assert [x.date().isoformat() for x in got] == ["2026-06-30", "2026-12-30", "2027-06-30"]
    assert occurrences(at("2026-06-30T18:00"), Recurrence.NONE, at("2030-01-01T00:00")) == [
        at("2026-06-30T18:00")
    ]
    assert occurrences(at("2026-06-30T18:00"), Recurrence.YEARLY, at("2026-06-01T00:00")) == []


def test_wall_clock_kept_in_the_first_due_dates_zone() -> None:
    first = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    got = occurrences(first, Recurrence.MONTHLY, first + timedelta(days=40))
    assert [x.hour for x in got] == [10, 10]


def test_next_occurrence() -> None:
    first = at("2026-01-31T18:00")
    assert next_occurrence(first, first, Recurrence.MONTHLY) == at("2026-02-28T18:00")
    assert next_occurrence(at("2026-02-28T18:00"), first, Recurrence.MONTHLY) == at(
        "2026-03-31T18:00"
    )
    assert next_occurrence(first, first, Recurrence.NONE) is None


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        occurrences(datetime(2026, 1, 1), Recurrence.MONTHLY, at("2026-05-01T00:00"))


@settings(max_examples=150)
@given(
    st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(TZ)),
    st.sampled_from([r for r in Recurrence if r is not Recurrence.NONE]),
    st.integers(0, 30),
)
def test_occurrences_properties(first: datetime, rule: Recurrence, span: int) -> None:
    until = first + timedelta(days=31 * span)
    got = occurrences(first, rule, until)
    assert got[0] == first
    assert all(x.time() == first.time() for x in got)
    assert all(a < b for a, b in itertools.pairwise(got))
    assert all(x.day <= first.day for x in got)
    assert len(got) - 1 == sum(1 for x in got[1:] if x <= until)
    after = next_occurrence(got[-1], first, rule)
    assert after is not None
    assert after > until
