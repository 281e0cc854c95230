"""Recurring tasks: deadlines, periods, titles and when instances may be created."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.periods import Period
from bot.domain.recurrence import (
    Recurrence,
    SeriesRule,
    instance_title,
    parse_recurrence,
    period_after,
    period_of,
    shift_months,
)

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("每季度", Recurrence.QUARTERLY),
        ("每年", Recurrence.YEARLY),
        ("年度", Recurrence.YEARLY),
        ("每月", Recurrence.MONTHLY),
        ("每半年", Recurrence.HALF_YEARLY),
        (" Quarterly ", Recurrence.QUARTERLY),
        ("half-yearly", Recurrence.HALF_YEARLY),
        ("none", None),
        ("", None),
        ("不重复", None),
    ],
)
def test_parse(text: str, rule: Recurrence | None) -> None:
    assert parse_recurrence(text) is rule


def test_parse_rejects_unknown() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_recurrence("每两周")
    assert "每季度" in info.value.message


def _dues(rule: SeriesRule, until: datetime) -> list[datetime]:
    return [i.due for i in rule.instances(until)]


def test_quarterly_keeps_time_of_day_and_clamps() -> None:
    rule = SeriesRule(Recurrence.QUARTERLY, at("2026-03-31T18:00"), TZ)
    assert _dues(rule, at("2027-03-31T18:00")) == [
        at("2026-03-31T18:00"), at("2026-06-30T18:00"), at("2026-09-30T18:00"),
        at("2026-12-31T18:00"), at("2027-03-31T18:00"),
    ]
    assert [str(i.period) for i in rule.instances(at("2026-12-31T18:00"))] == [
        "2026Q1", "2026Q2", "2026Q3", "2026Q4"]


def test_monthly_returns_to_the_31st_after_short_months() -> None:
    rule = SeriesRule(Recurrence.MONTHLY, at("2026-01-31T17:00"), TZ)
    assert [x.date().isoformat() for x in _dues(rule, at("2026-04-30T23:59"))] == [
        "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]


def test_yearly_from_leap_day() -> None:
    rule = SeriesRule(Recurrence.YEARLY, at("2028-02-29T09:00"), TZ)
    assert [x.date().isoformat() for x in _dues(rule, at("2032-12-31T00:00"))] == [
        "2028-02-29", "2029-02-28", "2030-02-28", "2031-02-28", "2032-02-29"]


def test_period_end_series_fall_on_each_periods_last_day() -> None:
    # Counted from a day the 30th, shifting would give 12-30; the period's end is 12-31.
    half = SeriesRule.period_ends(Recurrence.HALF_YEARLY, Period.of_half(2027, 1), time(18),
                                  TZ)
    assert [x.date().isoformat() for x in _dues(half, at("2028-12-31T23:00"))] == [
        "2027-06-30", "2027-12-31", "2028-06-30", "2028-12-31"]
    monthly = SeriesRule.period_ends(Recurrence.MONTHLY, Period.of_month(2027, 2), time(17),
                                     TZ)
    assert [x.date().isoformat() for x in _dues(monthly, at("2027-05-31T23:00"))] == [
        "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]
    quarterly = SeriesRule.period_ends(Recurrence.QUARTERLY, Period.of_quarter(2027, 1),
                                       time(18), TZ)
    first = quarterly.instance(1)
    assert (str(first.period), first.due) == ("2027Q2", at("2027-06-30T18:00"))


def test_an_instance_opens_lead_days_before_its_period() -> None:
    rule = SeriesRule.period_ends(Recurrence.QUARTERLY, Period.of_quarter(2027, 1), time(18), TZ,
                                  lead_days=30)
    assert rule.instance(0).opens == at("2026-12-02T00:00")
    assert rule.instance(1).opens == at("2027-03-02T00:00")
    assert SeriesRule(Recurrence.YEARLY, at("2027-12-31T18:00"), TZ, lead_days=0).instance(0) \
        .opens == at("2027-01-01T00:00")


def test_titles_carry_the_period() -> None:
    assert instance_title("调研指导记录", Period.of_quarter(2027, 2)) == "2027年第二季度调研指导记录"
    assert instance_title("每季度调研指导记录", Period.of_quarter(2027, 4)) == \
        "2027年第四季度调研指导记录"
    assert instance_title("业务培训", Period.of_year(2027)) == "2027年度业务培训"
    assert instance_title("工作月报", Period.of_month(2027, 7)) == "2027年7月工作月报"
    assert instance_title("半年度总结", Period.of_half(2027, 2)) == "2027年下半年总结"


def test_periods() -> None:
    assert period_of(date(2027, 5, 20), Recurrence.QUARTERLY) == Period.of_quarter(2027, 2)
    assert period_of(date(2027, 7, 1), Recurrence.HALF_YEARLY) == Period.of_half(2027, 2)
    assert period_after(Period.of_quarter(2027, 4), Recurrence.QUARTERLY, 1) == \
        Period.of_quarter(2028, 1)
    assert period_after(Period.of_month(2027, 12), Recurrence.MONTHLY, 14) == \
        Period.of_month(2029, 2)


def test_first_due_after_skips_the_past() -> None:
    rule = SeriesRule.period_ends(Recurrence.QUARTERLY, Period.of_quarter(2027, 1), time(18), TZ)
    assert rule.first_due_after(at("2027-05-20T10:00")) == 1
    assert rule.first_due_after(at("2027-03-31T18:00")) == 1  # due at that moment: past
    assert rule.first_due_after(at("2026-12-01T00:00")) == 0


def test_wall_clock_kept_in_the_services_zone() -> None:
    first = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    rule = SeriesRule(Recurrence.MONTHLY, first, TZ)
    assert [x.astimezone(TZ).hour for x in _dues(rule, first + timedelta(days=40))] == [10, 10]


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        SeriesRule(Recurrence.MONTHLY, datetime(2026, 1, 1), TZ)
    with pytest.raises(ValueError):
        list(SeriesRule(Recurrence.MONTHLY, at("2026-01-01T00:00"), TZ).instances(None))


@settings(max_examples=150)
@given(
    st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(TZ)),
    st.sampled_from(list(Recurrence)),
    st.booleans(),
    st.integers(0, 30),
)
def test_instances_properties(first: datetime, rule: Recurrence, at_end: bool, n: int) -> None:
    series = SeriesRule(rule, first, TZ, at_period_end=at_end)
    got = list(series.instances(None, limit=n + 1))
    assert [i.index for i in got] == list(range(n + 1))
    assert all(i.due.time() == first.time() for i in got)
    assert all(a.due < b.due for a, b in itertools.pairwise(got))
    # consecutive periods, each holding its deadline, each opening before it begins
    assert all(period_after(a.period, rule, 1) == b.period for a, b in itertools.pairwise(got))
    assert all(i.period.first_day <= i.due.date() < i.period.end_day for i in got)
    assert all(i.opens < i.due for i in got)
    if not at_end:
        assert all(i.due.day <= first.day for i in got)
    assert list(series.instances(got[-1].due)) == got


def test_shift_months_clamps_to_the_months_end() -> None:
    assert shift_months(at("2027-01-31T18:00"), 1) == at("2027-02-28T18:00")
    assert shift_months(at("2027-11-30T09:00"), 3) == at("2028-02-29T09:00")
    assert shift_months(at("2027-03-15T09:00"), -3) == at("2026-12-15T09:00")
