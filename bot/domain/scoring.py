"""A unit's period score: its flags weighted, plus bonuses and minus deductions (DESIGN §4).

The yearly statistics feed the annual assessment, so the same inputs must always give the same
number: arithmetic is done in ``Decimal`` and rounded half-up to 2 decimals only at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from bot.domain.errors import InvalidInput

if TYPE_CHECKING:
    # flags.py builds ScoreEntry values, so importing it at run time would be circular. FlagColor
    # is a StrEnum, so its string value ("red", "blue", "yellow") is all we need at run time.
    from bot.domain.flags import FlagColor

_CENT = Decimal("0.01")
_COLORS = ("red", "blue", "yellow")


def _dec(x: float) -> Decimal:
    # Through str() so that 0.1 is 0.1, not its binary approximation.
    return Decimal(str(x))


def _round(x: Decimal) -> float:
    return float(x.quantize(_CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ScoreWeights:
    """Points per flag; configurable (``[scoring]`` in the config)."""

    red: float = 3.0
    blue: float = 1.0
    yellow: float = -1.0

    def for_color(self, color: str) -> float:
        weights = {"red": self.red, "blue": self.blue, "yellow": self.yellow}
        return weights[str(color)]


@dataclass(frozen=True)
class ScoreEntry:
    """A bonus (positive ``points``) or a deduction (negative) with its reason and evidence."""

    unit_id: int
    points: float
    reason: str
    evidence: str = ""

    def __post_init__(self) -> None:
        if self.points == 0:
            raise InvalidInput("加减分不能为 0", log=f"score entry with zero points: {self!r}")
        if not self.reason.strip():
            raise InvalidInput("加减分必须写明原因", log=f"score entry without reason: {self!r}")


@dataclass(frozen=True)
class ScoreBreakdown:
    """How a total came about. ``deduction`` is a magnitude (>= 0); ``total`` subtracts it."""

    red: int
    blue: int
    yellow: int
    flag_points: float
    bonus: float
    deduction: float
    on_time_rate: float | None
    total: float


def unit_score(
    flag_counts: Mapping[FlagColor, int],
    entries: Iterable[ScoreEntry],
    weights: ScoreWeights,
    *,
    on_time_rate: float | None = None,
) -> ScoreBreakdown:
    """One unit's score for a period.

    ``entries`` must all belong to the same unit. ``on_time_rate`` (a fraction 0..1, e.g. on-time
    submissions / tasks due) is only reported, rounded to 4 decimals; it does not change the
    total, because the programme weighs timeliness through the flags already.
    """
    counts = dict.fromkeys(_COLORS, 0)
    for color, n in flag_counts.items():
        key = str(color)
        if key not in counts:
            raise ValueError(f"unknown flag colour {color!r}")
        if n < 0:
            raise ValueError(f"negative flag count {n} for {key}")
        counts[key] += n
    if on_time_rate is not None and not 0 <= on_time_rate <= 1:
        raise ValueError(f"on_time_rate must be within 0..1, got {on_time_rate}")

    flag_points = sum((counts[c] * _dec(weights.for_color(c)) for c in _COLORS), start=Decimal(0))
    bonus = Decimal(0)
    deduction = Decimal(0)
    units: set[int] = set()
    for entry in entries:
        units.add(entry.unit_id)
        points = _dec(entry.points)
        if points > 0:
            bonus += points
        else:
            deduction -= points
    if len(units) > 1:
        raise ValueError(f"score entries of several units mixed: {sorted(units)}")

    return ScoreBreakdown(
        red=counts["red"],
        blue=counts["blue"],
        yellow=counts["yellow"],
        flag_points=_round(flag_points),
        bonus=_round(bonus),
        deduction=_round(deduction),
        on_time_rate=None if on_time_rate is None else round(on_time_rate, 4),
        total=_round(flag_points + bonus - deduction),
    )
