"""Presets: the programme's recurring work, ready to create for a year (DESIGN §4 "四个一").

服务指导 "四个一": each year, for every unit, a field visit to grassroots units every quarter with
a short record (时间, 地点, 发现问题, 典型经验), one seminar or paper selection, at least one
training, one collection of typical cases. ``dudao plan preset 四个一 --year 2027`` creates these
as series (bot/services/plans.py), each due at the end of its period.

The case collection is an ordinary yearly instance: the unit's submission for it is its
collection of cases for the year (the cases feature selects among them).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from bot.domain.errors import InvalidInput
from bot.domain.record_fields import VISIT, template
from bot.domain.recurrence import Recurrence


@dataclass(frozen=True, slots=True)
class SeriesTemplate:
    """One recurring piece of work of a preset. ``kind`` names it among the preset's parts."""

    kind: str
    title: str
    rule: Recurrence
    description: str
    fields: tuple[str, ...] = ()
    system: str = "guidance"


FOUR_ONES: Final = (
    SeriesTemplate(
        "visit", "调研指导记录", Recurrence.QUARTERLY,
        "每季度深入基层开展一次调研指导，提交简要记录，写明：\n" + template(VISIT),
        VISIT),
    SeriesTemplate(
        "seminar", "研讨交流或论文评选", Recurrence.YEARLY,
        "每年组织一次研讨交流或论文评选活动，提交活动情况（时间、形式、参加单位和人数、成果）。"),
    SeriesTemplate(
        "training", "业务培训", Recurrence.YEARLY,
        "每年至少组织一次业务培训，提交培训情况（时间、内容、参训人数）；多次培训一并报送。"),
    SeriesTemplate(
        "cases", "典型案例收集", Recurrence.YEARLY,
        "每年收集一批行政指导、行政调解、行政契约典型案例，提交案例材料。"),
)

PRESETS: Final = MappingProxyType({"四个一": FOUR_ONES})
_NAMES: Final = MappingProxyType({"四个一": "四个一", "4个1": "四个一", "siyige": "四个一",
                                  "four-ones": "四个一", "four_ones": "四个一"})
TITLES: Final = MappingProxyType({"四个一": "服务指导“四个一”"})


def preset_name(text: str) -> str:
    """The preset a person names (四个一, four-ones…)."""
    name = _NAMES.get(text.strip().lower())
    if name is None:
        raise InvalidInput(f"没有名为“{text}”的预设，可选：{'、'.join(PRESETS)}",
                           log=f"unknown preset {text!r}")
    return name
