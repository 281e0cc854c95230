"""One period parser: every spelling people and stored records use, one canonical form back."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.periods import Period, PeriodKind, parse, parse_half, parse_year, recent

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("text", "canonical", "label"), [
    ("2026", "2026", "2026年"),
    ("2026年", "2026", "2026年"),
    ("2026H1", "2026H1", "2026年上半年"),
    ("2026-H1", "2026H1", "2026年上半年"),
    ("2026h2", "2026H2", "2026年下半年"),
    (" 2026 - H2 ", "2026H2", "2026年下半年"),
    ("2026年上半年", "2026H1", "2026年上半年"),
    ("2026下半年", "2026H2", "2026年下半年"),
    ("2026Q3", "2026Q3", "2026年第3季度"),
    ("2026-Q3", "2026Q3", "2026年第3季度"),
    ("2026q1", "2026Q1", "2026年第1季度"),
    ("2026年第三季度", "2026Q3", "2026年第3季度"),
    ("2026年四季度", "2026Q4", "2026年第4季度"),
    ("2026年第2季度", "2026Q2", "2026年第2季度"),
    ("2026-07", "2026-07", "2026年7月"),
    ("2026-7", "2026-07", "2026年7月"),
    ("2026年7月", "2026-07", "2026年7月"),
    ("2026年12月", "2026-12", "2026年12月"),
    ("2026-W27", "2026-W27", "2026年第27周"),
    ("2026W5", "2026-W05", "2026年第5周"),
])
def test_every_spelling_reads_to_one_canonical_form(text: str, canonical: str, label: str) -> None:
    period = parse(text)
    assert str(period) == canonical
    assert period.label == label
    assert parse(canonical) == period  # the canonical form reads back


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2026", date(2026, 1, 1), date(2027, 1, 1)),
    ("2026H1", date(2026, 1, 1), date(2026, 7, 1)),
    ("2026H2", date(2026, 7, 1), date(2027, 1, 1)),
    ("2026Q1", date(2026, 1, 1), date(2026, 4, 1)),
    ("2026Q4", date(2026, 10, 1), date(2027, 1, 1)),
    ("2026-07", date(2026, 7, 1), date(2026, 8, 1)),
    ("2026-12", date(2026, 12, 1), date(2027, 1, 1)),
    ("2026-W01", date(2025, 12, 29), date(2026, 1, 5)),  # ISO week 1 starts in the year before
    ("2026-W53", date(2026, 12, 28), date(2027, 1, 4)),
])
def test_bounds_are_local_days_and_end_where_the_next_begins(text: str, start: date,
                                                             end: date) -> None:
    period = parse(text)
    assert (period.first_day, period.end_day) == (start, end)
    lo, hi = period.bounds(TZ)
    assert lo == datetime(start.year, start.month, start.day, tzinfo=TZ)
    assert hi == datetime(end.year, end.month, end.day, tzinfo=TZ)


@pytest.mark.parametrize(("text", "says"), [
    ("", "看不懂"),
    ("H1", "看不懂"),
    ("2026H3", "看不懂"),
    ("2026Q5", "看不懂"),
    ("2026年第五季度", "看不懂"),
    ("26H1", "看不懂"),
    ("2026-13", "月份不对"),
    ("2026-00", "月份不对"),
    ("2026-W54", "周数不对"),
    ("2026-W53x", "看不懂"),
    ("1999", "年份“1999”无效"),
    ("2101H1", "年份“2101H1”无效"),
])
def test_bad_periods_are_refused_in_chinese(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse(text)
    assert says in info.value.message
    if says == "看不懂":
        assert "2026、2026H1、2026Q3 或 2026-07" in info.value.message


def test_a_year_with_52_weeks_has_no_53rd() -> None:
    assert str(parse("2020-W53")) == "2020-W53"  # 2020 has 53 ISO weeks
    with pytest.raises(InvalidInput):
        parse("2027-W53")


def test_parse_year() -> None:
    assert parse_year("2026") == 2026
    assert parse_year(2026) == 2026
    assert parse_year(" 2026年 ") == 2026
    for bad in ("26", "20266", "abcd", "1999", "2101", "2026H1"):
        with pytest.raises(InvalidInput) as info:
            parse_year(bad)
        assert "2000—2100 之间的四位数字" in info.value.message


# Moved from tests/reports/test_reports_stats.py with parse_year (it was stats.parse_year).
@pytest.mark.parametrize("bad", ["", "abc", "26", "20266", "1999", "2101", "-2026", "2026.5"])
def test_reports_bad_year_is_refused_in_chinese(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_year(bad)
    assert "年份" in err.value.message


def test_reports_year_accepts_a_trailing_nian() -> None:
    assert parse_year("2026年") == 2026
    assert parse_year(2026) == 2026


def test_parse_half_takes_only_half_years() -> None:
    assert parse_half("2027H1") == Period.of_half(2027, 1)
    assert parse_half("2027-H2") == Period.of_half(2027, 2)
    assert parse_half("2027年上半年") == Period.of_half(2027, 1)
    for bad in ("2027", "2027Q1", "2027H3", "下半年"):
        with pytest.raises(InvalidInput) as info:
            parse_half(bad)
        assert info.value.message == f"半年“{bad}”无效，应写作 2027H1（上半年）或 2027H2（下半年）"


def test_week_of_uses_the_iso_year() -> None:
    assert str(Period.week_of(date(2027, 1, 1))) == "2026-W53"
    assert str(Period.week_of(date(2026, 7, 1))) == "2026-W27"


def test_recent_offers_this_and_last_year() -> None:
    assert [str(p) for p in recent(date(2026, 3, 5))] == [
        "2026", "2026H1", "2026H2", "2026Q1", "2026Q2", "2026Q3", "2026Q4",
        "2025", "2025H1", "2025H2", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]


def test_a_period_refuses_an_index_it_does_not_have() -> None:
    with pytest.raises(ValueError):
        Period(2026, PeriodKind.QUARTER, 5)
    with pytest.raises(ValueError):
        Period(2026, PeriodKind.YEAR, 1)


@given(st.dates(min_value=date(2000, 1, 10), max_value=date(2100, 12, 20)))
def test_every_day_lies_in_the_periods_that_name_it(day: date) -> None:
    for text in (f"{day.year}", f"{day.year}H{1 if day.month <= 6 else 2}",
                 f"{day.year}Q{(day.month - 1) // 3 + 1}", f"{day.year}-{day.month:02d}",
                 str(Period.week_of(day))):
        period = parse(text)
        assert period.first_day <= day < period.end_day, text
