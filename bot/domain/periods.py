"""Periods of the programme's calendar: a year, a half-year, a quarter, a month, an ISO week.

One reading for every place a person or a stored record names a period (the board's filter, the
export's year, the half-year report and its reminder, the weekly bulletin) and one way of writing
it back:

====================  ===========  ================
accepted              canonical    label
====================  ===========  ================
2026, 2026年          ``2026``     2026年
2026H1, 2026-H1,      ``2026H1``   2026年上半年
2026年上半年
2026Q3, 2026-Q3,      ``2026Q3``   2026年第3季度
2026年第三季度
2026-07, 2026年7月    ``2026-07``  2026年7月
2026-W27              ``2026-W27`` 2026年第27周
====================  ===========  ================

Letters may be lower case; spaces are ignored. Bounds are local dates (the caller puts them in
the service's time zone); a period ends where the next begins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Final

from bot.domain.errors import InvalidInput

MIN_YEAR: Final = 2000
MAX_YEAR: Final = 2100
EXAMPLES: Final = "2026、2026H1、2026Q3 或 2026-07"

_CN_DIGITS: Final = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_FORMS: Final = (
    ("year", re.compile(r"(\d{4})年?")),
    ("half", re.compile(r"(\d{4})-?H([12])", re.IGNORECASE)),
    ("half_cn", re.compile(r"(\d{4})年?([上下])半年")),
    ("quarter", re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)),
    ("quarter_cn", re.compile(r"(\d{4})年?第?([一二三四1-4])季度")),
    ("month", re.compile(r"(\d{4})-(\d{1,2})")),
    ("month_cn", re.compile(r"(\d{4})年(\d{1,2})月")),
    ("week", re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)),
)


class PeriodKind(StrEnum):
    YEAR = "year"
    HALF = "half"
    QUARTER = "quarter"
    MONTH = "month"
    WEEK = "week"


@dataclass(frozen=True, slots=True)
class Period:
    """``index`` is the half (1–2), quarter (1–4), month (1–12) or ISO week; 0 for a year."""

    year: int
    kind: PeriodKind
    index: int = 0

    def __post_init__(self) -> None:
        highest = {PeriodKind.YEAR: 0, PeriodKind.HALF: 2, PeriodKind.QUARTER: 4,
                   PeriodKind.MONTH: 12,
                   PeriodKind.WEEK: date(self.year, 12, 28).isocalendar().week}[self.kind]
        low = 0 if self.kind is PeriodKind.YEAR else 1
        if not low <= self.index <= highest:
            raise ValueError(f"no {self.kind} {self.index} in {self.year}")

    # ----------------------------------------------------------------------- constructors

    @classmethod
    def of_year(cls, year: int) -> Period:
        return cls(year, PeriodKind.YEAR)

    @classmethod
    def of_half(cls, year: int, half: int) -> Period:
        return cls(year, PeriodKind.HALF, half)

    @classmethod
    def of_quarter(cls, year: int, quarter: int) -> Period:
        return cls(year, PeriodKind.QUARTER, quarter)

    @classmethod
    def of_month(cls, year: int, month: int) -> Period:
        return cls(year, PeriodKind.MONTH, month)

    @classmethod
    def week_of(cls, day: date) -> Period:
        """The ISO week ``day`` falls in (its year is the ISO year: 2027-01-01 is 2026-W53)."""
        iso = day.isocalendar()
        return cls(iso.year, PeriodKind.WEEK, iso.week)

    # ----------------------------------------------------------------------------- reading

    def __str__(self) -> str:
        """The canonical form: ``2026``, ``2026H1``, ``2026Q3``, ``2026-07``, ``2026-W27``."""
        return {
            PeriodKind.YEAR: f"{self.year}",
            PeriodKind.HALF: f"{self.year}H{self.index}",
            PeriodKind.QUARTER: f"{self.year}Q{self.index}",
            PeriodKind.MONTH: f"{self.year}-{self.index:02d}",
            PeriodKind.WEEK: f"{self.year}-W{self.index:02d}",
        }[self.kind]

    @property
    def label(self) -> str:
        """How people write it: 2026年, 2026年上半年, 2026年第3季度, 2026年7月, 2026年第27周."""
        return {
            PeriodKind.YEAR: f"{self.year}年",
            PeriodKind.HALF: f"{self.year}年{'上' if self.index == 1 else '下'}半年",
            PeriodKind.QUARTER: f"{self.year}年第{self.index}季度",
            PeriodKind.MONTH: f"{self.year}年{self.index}月",
            PeriodKind.WEEK: f"{self.year}年第{self.index}周",
        }[self.kind]

    @property
    def first_day(self) -> date:
        if self.kind is PeriodKind.WEEK:
            return date.fromisocalendar(self.year, self.index, 1)
        return date(self.year, self._first_month(), 1)

    @property
    def end_day(self) -> date:
        """The first day after the period."""
        if self.kind is PeriodKind.WEEK:
            return self.first_day + timedelta(days=7)
        after = self._first_month() + self._months()
        return date(self.year + (after - 1) // 12, (after - 1) % 12 + 1, 1)

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: local midnight of the first and the next day in ``tz``."""
        return (datetime.combine(self.first_day, datetime.min.time(), tzinfo=tz),
                datetime.combine(self.end_day, datetime.min.time(), tzinfo=tz))

    def _first_month(self) -> int:
        return 1 + (self.index - 1) * self._months() if self.index else 1

    def _months(self) -> int:
        return {PeriodKind.YEAR: 12, PeriodKind.HALF: 6, PeriodKind.QUARTER: 3,
                PeriodKind.MONTH: 1}[self.kind]


# --------------------------------------------------------------------------------- parsing


def parse(text: str) -> Period:
    """A period as a person or a stored record writes it (the table above).

    Raises :class:`InvalidInput` with a Chinese message that shows the accepted forms.
    """
    raw = "".join(str(text).split())
    for form, pattern in _FORMS:
        match = pattern.fullmatch(raw)
        if match is None:
            continue
        year = _year(match.group(1), text)
        if form == "year":
            return Period.of_year(year)
        part = match.group(2)
        if form == "half":
            return Period.of_half(year, int(part))
        if form == "half_cn":
            return Period.of_half(year, 1 if part == "上" else 2)
        if form in ("quarter", "quarter_cn"):
            return Period.of_quarter(year, _CN_DIGITS[part])
        if form in ("month", "month_cn"):
            if not 1 <= int(part) <= 12:
                raise InvalidInput(f"时段“{text}”的月份不对", log=f"bad period month {text!r}")
            return Period.of_month(year, int(part))
        try:
            return Period(year, PeriodKind.WEEK, int(part))
        except ValueError:
            raise InvalidInput(f"时段“{text}”的周数不对", log=f"bad period week {text!r}") from None
    raise InvalidInput(f"时段“{text}”看不懂，可写 {EXAMPLES}", log=f"bad period {text!r}")


def parse_year(text: str | int) -> int:
    """A year as typed by a person: four digits within ``MIN_YEAR``..``MAX_YEAR`` (2026, 2026年)."""
    raw = str(text).strip().removesuffix("年")
    if not raw.isdigit() or len(raw) != 4:
        raise _bad_year(text)
    return _year(raw, text)


def parse_half(text: str) -> Period:
    """A half-year: 2027H1, 2027-H2, 2027年上半年."""
    try:
        period = parse(text)
    except InvalidInput:
        period = None
    if period is None or period.kind is not PeriodKind.HALF:
        raise InvalidInput(f"半年“{text}”无效，应写作 2027H1（上半年）或 2027H2（下半年）",
                           log=f"bad half {text!r}")
    return period


def recent(today: date) -> list[Period]:
    """The periods offered for a choice: this and last year, each with its halves and quarters."""
    out: list[Period] = []
    for year in (today.year, today.year - 1):
        out.append(Period.of_year(year))
        out += [Period.of_half(year, h) for h in (1, 2)]
        out += [Period.of_quarter(year, q) for q in (1, 2, 3, 4)]
    return out


def _year(digits: str, text: object) -> int:
    year = int(digits)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _bad_year(text)
    return year


def _bad_year(text: object) -> InvalidInput:
    return InvalidInput(f"年份“{text}”无效：应为 {MIN_YEAR}—{MAX_YEAR} 之间的四位数字，如 2026",
                        log=f"bad year {text!r}")
