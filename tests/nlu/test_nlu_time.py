"""Time expressions resolved against the injected clock and the working-day calendar:
year ends, the 2026 Spring Festival (off 02-15..02-23, make-up workdays 02-14 and 02-28) and the
2026 National Day holiday (off 10-01..10-07, make-up workdays 09-20 and 10-10)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.nlu import Intent, Parser
from bot.core.nlu.timeexpr import find_time, nth_workday_after

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 10) -> datetime:
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=SH)


Workday = Callable[[date], bool]


def span(text: str, today: str, is_workday: Workday) -> tuple[date | None, date | None]:
    found = find_time(text, date.fromisoformat(today), is_workday)
    assert found is not None, text
    return found.start, found.end


def d(s: str) -> date:
    return date.fromisoformat(s)


def test_the_calendar_used_knows_2026_holidays(workday: Workday) -> None:
    assert workday(d("2026-02-14")) and not workday(d("2026-02-16"))
    assert workday(d("2026-09-20")) and not workday(d("2026-10-05"))
    assert workday(d("2026-10-10"))


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("下周", "2026-12-30", ("2027-01-04", "2027-01-10")),
        ("下个月", "2026-12-30", ("2027-01-01", "2027-01-31")),
        ("月底前", "2026-12-30", ("2026-12-30", "2026-12-31")),
        ("年底前", "2026-12-30", ("2026-12-30", "2026-12-31")),
        ("元旦前", "2026-12-30", ("2026-12-30", "2026-12-31")),
        ("1月5日前", "2026-12-30", ("2026-12-30", "2027-01-05")),
        ("明天", "2026-12-31", ("2027-01-01", "2027-01-01")),
        ("下周五", "2026-12-28", ("2027-01-08", "2027-01-08")),
        ("上周", "2027-01-04", ("2026-12-28", "2027-01-03")),
        ("12月31日", "2027-01-04", ("2026-12-31", "2026-12-31")),
        ("本季度", "2026-12-30", ("2026-10-01", "2026-12-31")),
        ("下季度", "2026-12-30", ("2027-01-01", "2027-03-31")),
        ("今年", "2026-12-31", ("2026-01-01", "2026-12-31")),
    ],
)
def test_year_end(text: str, today: str, expected: tuple[str, str], workday: Workday) -> None:
    assert span(text, today, workday) == (d(expected[0]), d(expected[1]))


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        # the last working day before the holiday is the make-up Saturday 02-14
        ("春节前", "2026-02-10", ("2026-02-10", "2026-02-14")),
        ("过年前", "2026-02-10", ("2026-02-10", "2026-02-14")),
        ("年前", "2026-02-10", ("2026-02-10", "2026-02-14")),
        ("春节期间", "2026-02-10", ("2026-02-15", "2026-02-23")),
        ("三个工作日内", "2026-02-12", ("2026-02-12", "2026-02-24")),  # 13, 14 (Sat), 24
        ("两个工作日内", "2026-02-13", ("2026-02-13", "2026-02-24")),
        ("明天", "2026-02-13", ("2026-02-14", "2026-02-14")),
    ],
)
def test_spring_festival_2026(text: str, today: str, expected: tuple[str, str], workday: Workday) -> None:
    assert span(text, today, workday) == (d(expected[0]), d(expected[1]))


def test_after_spring_festival_is_the_first_working_day(workday: Workday) -> None:
    assert span("春节后", "2026-02-10", workday) == (d("2026-02-24"), None)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("国庆前", "2026-09-25", ("2026-09-25", "2026-09-30")),
        ("国庆节前", "2026-07-08", ("2026-07-08", "2026-09-30")),
        ("十一前", "2026-09-18", ("2026-09-18", "2026-09-30")),
        ("国庆节期间", "2026-09-25", ("2026-10-01", "2026-10-07")),
        ("五个工作日内", "2026-09-28", ("2026-09-28", "2026-10-10")),  # 29, 30, 8, 9, 10 (Sat)
        ("中秋前", "2026-09-18", ("2026-09-18", "2026-09-24")),
    ],
)
def test_national_day_2026(text: str, today: str, expected: tuple[str, str], workday: Workday) -> None:
    assert span(text, today, workday) == (d(expected[0]), d(expected[1]))


def test_after_national_day(workday: Workday) -> None:
    assert span("国庆后", "2026-09-25", workday) == (d("2026-10-08"), None)
    assert span("十一后", "2026-10-03", workday) == (d("2026-10-08"), None)


def test_nth_workday_skips_holidays_and_counts_makeup_days(workday: Workday) -> None:
    assert nth_workday_after(d("2026-09-30"), 1, workday) == d("2026-10-08")
    assert nth_workday_after(d("2026-09-19"), 1, workday) == d("2026-09-20")  # make-up Sunday


def test_due_soon_resolves_against_the_clock_in_local_time(parser: Parser) -> None:
    # 17:30 UTC on 12-31 is already 01-01 in Shanghai
    late = datetime(2026, 12, 31, 17, 30, tzinfo=ZoneInfo("UTC"))
    p = parser.parse("今天要交什么", now=late)
    assert p.intent is Intent.QUERY
    assert (p.date_from, p.date_to) == (d("2027-01-01"), d("2027-01-01"))


def test_publish_deadline_over_the_holiday(parser: Parser) -> None:
    p = parser.parse("发布任务 节前自查 三个工作日内 各地市", now=at("2026-09-28"))
    assert p.intent is Intent.PUBLISH_TASK
    assert p.deadline == datetime(2026, 10, 8, 18, 0, tzinfo=SH)
    assert p.body == "节前自查" and p.scope == "kind:city"


def test_publish_deadline_rolls_into_next_year(parser: Parser) -> None:
    p = parser.parse("发布任务 年度考核材料 截止 1月10日 上午10点", now=at("2026-12-20"))
    assert p.deadline == datetime(2027, 1, 10, 10, 0, tzinfo=SH)


def test_due_soon_before_spring_festival(parser: Parser) -> None:
    p = parser.parse("春节前要交什么", now=at("2026-02-09"))
    assert p.intent is Intent.QUERY
    assert (p.date_from, p.date_to) == (d("2026-02-09"), d("2026-02-14"))


def test_a_day_of_a_month_named_relative_to_this_one(workday: Workday) -> None:
    assert span("本月20号前交", "2026-07-08", workday) == (d("2026-07-08"), d("2026-07-20"))
    assert span("下个月5日", "2026-12-08", workday) == (d("2027-01-05"), d("2027-01-05"))
