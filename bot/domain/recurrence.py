"""Recurring tasks: quarterly field visits, a yearly seminar, training and case collection…

Each occurrence is counted from the first due date (not from the previous occurrence), so a task
due on the 31st comes back on the last day of shorter months and returns to the 31st afterwards.
The wall-clock time of day is kept in the first due date's own time zone.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import InvalidInput


class Recurrence(StrEnum):
    NONE = "none"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"
    YEARLY = "yearly"

    @property
    def months(self) -> int:
        """Months between occurrences; 0 for a task that does not recur."""
        return _MONTHS[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


# Read-only: no module-level mutable state.
_MONTHS = MappingProxyType(
    {
        Recurrence.NONE: 0,
        Recurrence.MONTHLY: 1,
        Recurrence.QUARTERLY: 3,
        Recurrence.HALF_YEARLY: 6,
        Recurrence.YEARLY: 12,
    }
)
_LABELS = MappingProxyType(
    {
        Recurrence.NONE: "不重复",
        Recurrence.MONTHLY: "每月",
        Recurrence.QUARTERLY: "每季度",
        Recurrence.HALF_YEARLY: "每半年",
        Recurrence.YEARLY: "每年",
    }
)
_SYNONYMS: MappingProxyType[str, Recurrence] = MappingProxyType(
    {
        **{r.value: r for r in Recurrence},
        "half_yearly": Recurrence.HALF_YEARLY,
        "halfyearly": Recurrence.HALF_YEARLY,
        "annual": Recurrence.YEARLY,
        "": Recurrence.NONE,
        "不重复": Recurrence.NONE,
        "一次性": Recurrence.NONE,
        "无": Recurrence.NONE,
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


def parse_recurrence(text: str) -> Recurrence:
    """Read a rule id (``quarterly``) or its Chinese wording (``每季度``); empty means none."""
    rule = _SYNONYMS.get(text.strip().lower())
    if rule is None:
        raise InvalidInput(
            f"无法识别重复规则“{text}”，可选：不重复、每月、每季度、每半年、每年",
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


def occurrences(first_due: datetime, rule: Recurrence, until: datetime) -> list[datetime]:
    """Due dates from ``first_due`` up to and including ``until``, in order."""
    if first_due.tzinfo is None or until.tzinfo is None:
        raise ValueError("occurrences needs timezone-aware datetimes")
    if first_due > until:
        return []
    if rule is Recurrence.NONE:
        return [first_due]
    result: list[datetime] = []
    k = 0
    while (due := shift_months(first_due, k * rule.months)) <= until:
        result.append(due)
        k += 1
    return result


def next_occurrence(due: datetime, first_due: datetime, rule: Recurrence) -> datetime | None:
    """The occurrence after ``due`` in the series that began at ``first_due``; None if none."""
    if rule is Recurrence.NONE:
        return None
    k = 1
    while (candidate := shift_months(first_due, k * rule.months)) <= due:
        k += 1
    return candidate
