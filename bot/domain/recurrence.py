"""Recurring tasks (DESIGN §3 "Series"): when each instance is due, which period it is for, and
from when it may be created.

A series repeats monthly, quarterly, half-yearly or yearly. Its instance ``k`` (0, 1, …) is due
either
- ``k`` steps after the first deadline, counted from the first deadline (not from the previous
  one), so a deadline on the 31st comes back on the last day of shorter months and returns to
  the 31st afterwards; the instance is for the period its deadline falls in; or
- ``at_period_end``: on the last day of the ``k``-th period from the first deadline's period, at
  the first deadline's time of day (the plan's 周期 column without a 截止, and the 四个一 preset:
  "every quarter" means by the end of each quarter).

Instances are created ``lead_days`` before their period begins (local midnight of its first day),
so a unit sees the coming quarter's work a month ahead; each carries its period in its title
("2027年第二季度调研指导记录"). Wall-clock times are kept in the service's time zone.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import InvalidInput
from bot.domain.periods import Period, PeriodKind


class Recurrence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"
    YEARLY = "yearly"

    @property
    def months(self) -> int:
        """Months between instances."""
        return _MONTHS[self]

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def period_kind(self) -> PeriodKind:
        return _KINDS[self]


# Read-only: no module-level mutable state.
_MONTHS = MappingProxyType({Recurrence.MONTHLY: 1, Recurrence.QUARTERLY: 3,
                            Recurrence.HALF_YEARLY: 6, Recurrence.YEARLY: 12})
_LABELS = MappingProxyType({Recurrence.MONTHLY: "每月", Recurrence.QUARTERLY: "每季度",
                            Recurrence.HALF_YEARLY: "每半年", Recurrence.YEARLY: "每年"})
_KINDS = MappingProxyType({Recurrence.MONTHLY: PeriodKind.MONTH,
                           Recurrence.QUARTERLY: PeriodKind.QUARTER,
                           Recurrence.HALF_YEARLY: PeriodKind.HALF,
                           Recurrence.YEARLY: PeriodKind.YEAR})
_ONCE = frozenset({"", "none", "once", "不重复", "一次性", "无", "单次"})
_SYNONYMS: MappingProxyType[str, Recurrence] = MappingProxyType(
    {
        **{r.value: r for r in Recurrence},
        "month": Recurrence.MONTHLY,
        "quarter": Recurrence.QUARTERLY,
        "half_yearly": Recurrence.HALF_YEARLY,
        "halfyearly": Recurrence.HALF_YEARLY,
        "annual": Recurrence.YEARLY,
        "year": Recurrence.YEARLY,
        "每月": Recurrence.MONTHLY,
        "每个月": Recurrence.MONTHLY,
        "按月": Recurrence.MONTHLY,
        "月度": Recurrence.MONTHLY,
        "每季度": Recurrence.QUARTERLY,
        "每季": Recurrence.QUARTERLY,
        "每个季度": Recurrence.QUARTERLY,
        "按季度": Recurrence.QUARTERLY,
        "季度": Recurrence.QUARTERLY,
        "每半年": Recurrence.HALF_YEARLY,
        "半年": Recurrence.HALF_YEARLY,
        "半年度": Recurrence.HALF_YEARLY,
        "每年": Recurrence.YEARLY,
        "每年度": Recurrence.YEARLY,
        "按年": Recurrence.YEARLY,
        "年度": Recurrence.YEARLY,
        "每一年": Recurrence.YEARLY,
    }
)
# Rule words a title may start with; the instance's period takes their place.
_TITLE_RULE_WORDS = ("每季度", "每半年", "每年度", "每年", "每月", "半年度", "季度", "年度", "月度")
_CN_QUARTERS = ("一", "二", "三", "四")


def parse_recurrence(text: str) -> Recurrence | None:
    """A rule id (``quarterly``) or its Chinese wording (``每季度``); None for no repetition
    (empty, ``none``, 不重复)."""
    word = text.strip().lower()
    if word in _ONCE:
        return None
    rule = _SYNONYMS.get(word)
    if rule is None:
        raise InvalidInput(
            f"无法识别重复周期“{text}”，可选：每月、每季度、每半年、每年（或 monthly、quarterly、"
            "half-yearly、yearly）",
            log=f"bad recurrence {text!r}",
        )
    return rule


def shift_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by whole months, same wall-clock time, day clamped to the month's end."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_of(day: date, rule: Recurrence) -> Period:
    """The period of ``rule``'s kind that ``day`` falls in (2027-05-20, quarterly → 2027Q2)."""
    if rule is Recurrence.YEARLY:
        return Period.of_year(day.year)
    return Period(day.year, rule.period_kind, (day.month - 1) // rule.months + 1)


def period_after(period: Period, rule: Recurrence, steps: int) -> Period:
    """The period ``steps`` periods of ``rule``'s kind after ``period`` (one of that kind)."""
    first = period.first_day
    index = first.year * 12 + first.month - 1 + steps * rule.months
    return period_of(date(index // 12, index % 12 + 1, 1), rule)


def last_day(period: Period) -> date:
    return period.end_day - timedelta(days=1)


def period_title(period: Period) -> str:
    """How an instance's title names its period: 2027年第二季度, 2027年7月, 2027年上半年,
    2027年度."""
    if period.kind is PeriodKind.QUARTER:
        return f"{period.year}年第{_CN_QUARTERS[period.index - 1]}季度"
    if period.kind is PeriodKind.YEAR:
        return f"{period.year}年度"
    return period.label


def instance_title(title: str, period: Period) -> str:
    """The series' title with its period in front ("调研指导记录" → "2027年第二季度调研指导记录");
    a rule word the title starts with ("每季度调研记录") gives way to the period."""
    bare = title.strip()
    for word in _TITLE_RULE_WORDS:
        if bare.startswith(word) and len(bare) > len(word):
            bare = bare[len(word):].lstrip("的 ")
            break
    return f"{period_title(period)}{bare}"


@dataclass(frozen=True, slots=True)
class Instance:
    """One instance of a series: the ``index``-th, for ``period``, due at ``due``."""

    index: int
    period: Period
    due: datetime
    opens: datetime  # from when it may be created (lead days before its period begins)


@dataclass(frozen=True, slots=True)
class SeriesRule:
    """When a series' instances are due. ``tz`` is the service's time zone."""

    rule: Recurrence
    first_due: datetime
    tz: tzinfo
    at_period_end: bool = False
    lead_days: int = 30

    def __post_init__(self) -> None:
        if self.first_due.tzinfo is None:
            raise ValueError("a series needs a timezone-aware first deadline")
        if self.lead_days < 0:
            raise ValueError("lead days cannot be negative")

    @classmethod
    def period_ends(cls, rule: Recurrence, first: Period, at: time, tz: tzinfo, *,
                    lead_days: int = 30) -> SeriesRule:
        """Due on the last day of every period from ``first`` on, at ``at`` o'clock."""
        due = datetime.combine(last_day(first), at, tzinfo=tz)
        return cls(rule, due, tz, at_period_end=True, lead_days=lead_days)

    def instance(self, index: int) -> Instance:
        if index < 0:
            raise ValueError("instances are counted from 0")
        local = self.first_due.astimezone(self.tz)
        if self.at_period_end:
            period = period_after(period_of(local.date(), self.rule), self.rule, index)
            due = datetime.combine(last_day(period), local.time(), tzinfo=self.tz)
        else:
            due = shift_months(local, index * self.rule.months)
            period = period_of(due.date(), self.rule)
        opens = datetime.combine(period.first_day - timedelta(days=self.lead_days), time(0),
                                 tzinfo=self.tz)
        return Instance(index, period, due, opens)

    def instances(self, until: datetime | None, *, start: int = 0,
                  limit: int | None = None) -> Iterator[Instance]:
        """Instances from ``start`` on, due at or before ``until`` (None: no end; then give a
        ``limit``)."""
        if until is None and limit is None:
            raise ValueError("an endless series needs a limit")
        index = start
        while limit is None or index < start + limit:
            item = self.instance(index)
            if until is not None and item.due > until:
                return
            yield item
            index += 1

    def first_due_after(self, moment: datetime) -> int:
        """The index of the first instance due after ``moment`` (skipping the past ones)."""
        index = 0
        while self.instance(index).due <= moment:
            index += 1
        return index
