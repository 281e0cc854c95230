"""Red, blue and yellow flags (DESIGN §4 "Flags").

A (task, unit) flag is computed from the deadline and the unit's submission versions; an admin may
override it with a reason. Period flags (not tied to a task) come from innovation and enforcement
incidents and carry a bonus or a deduction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import InvalidInput
from bot.domain.scoring import ScoreEntry


class FlagColor(StrEnum):
    RED = "red"
    BLUE = "blue"
    YELLOW = "yellow"

    @property
    def label(self) -> str:
        return {"red": "红旗", "blue": "蓝旗", "yellow": "黄旗"}[self.value]


class Rating(StrEnum):
    EXCELLENT = "优"
    GOOD = "良"
    FAIR = "一般"

    @classmethod
    def parse(cls, text: str) -> Rating:
        try:
            return cls(text.strip())
        except ValueError:
            raise InvalidInput(
                f"评定等次“{text}”无效，可选：优、良、一般", log=f"bad rating {text!r}"
            ) from None


# The submission statuses (``SubmissionStatus`` in submissions.py, which imports this module).
# A superseded version was replaced by a correction before review: it still counts as arrived
# (when the unit's first version came), never as returned or accepted.
STATUSES = frozenset({"received", "accepted", "returned", "superseded"})

REASON_RED = "按时完成，成效显著"
REASON_BLUE_RATED = "按时完成，成效一般"
REASON_BLUE_RETURNED = "按时报送，但未完全达到要求"
REASON_YELLOW = "未按时完成，需要督促指导"
REASON_YELLOW_LATE = "逾期报送，尚未通过审核，需要督促指导"
REASON_CORRECTED = "经督促指导后纠正"


@dataclass(frozen=True)
class SubmissionFacts:
    """What the flag rules need to know about one submission version."""

    submitted_at: datetime
    status: str  # one of STATUSES; a SubmissionStatus works too (it is a StrEnum)
    rating: Rating | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown submission status {self.status!r}")
        if (self.status == "accepted") != (self.rating is not None):
            raise ValueError("a rating goes with an accepted submission, and only with one")


@dataclass(frozen=True)
class FlagDecision:
    """A flag and why; ``by`` names the admin when it was set by hand, None when computed."""

    color: FlagColor
    reason: str
    by: str | None = None


@dataclass(frozen=True)
class Override:
    color: FlagColor
    reason: str
    by: str
    at: datetime

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise InvalidInput("改旗必须写明原因", log=f"flag override without reason by {self.by}")


def compute_flag(
    deadline: datetime, submissions: Sequence[SubmissionFacts], now: datetime
) -> FlagDecision | None:
    """The flag a unit earns on a task, or None while there is nothing to mark yet.

    ``submissions`` are the unit's versions in order. A version is on time when submitted at or
    before the deadline (see ``submissions.is_late``).
    - red: on time and accepted with 优;
    - blue: on time and accepted with 良 or 一般, or on time but some version was returned —
      even if a later version was accepted, the first answer did not meet the requirements;
    - yellow: nothing on time and the deadline has passed, while the late work is missing or not
      (yet) accepted;
    - blue "经督促指导后纠正": late, and the latest version was accepted (any rating);
    - None: the deadline has not passed and nothing is in, or the on-time work awaits review.
    """
    on_time = [s for s in submissions if s.submitted_at <= deadline]
    latest = submissions[-1] if submissions else None
    if on_time:
        if any(s.status == "returned" for s in submissions):
            return FlagDecision(FlagColor.BLUE, REASON_BLUE_RETURNED)
        assert latest is not None
        if latest.status == "accepted":
            if latest.rating == Rating.EXCELLENT:
                return FlagDecision(FlagColor.RED, REASON_RED)
            return FlagDecision(FlagColor.BLUE, REASON_BLUE_RATED)
        return None
    if now <= deadline:
        return None
    if latest is None:
        return FlagDecision(FlagColor.YELLOW, REASON_YELLOW)
    if latest.status == "accepted":
        return FlagDecision(FlagColor.BLUE, REASON_CORRECTED)
    return FlagDecision(FlagColor.YELLOW, REASON_YELLOW_LATE)


def resolve_flag(
    computed: FlagDecision | None, overrides: Sequence[Override]
) -> FlagDecision | None:
    """The flag to show: the latest override if there is any, else the computed one.

    An override stands until an admin sets another one: recomputation after a later review does
    not silently undo a decision someone made and explained. Overrides at the same moment are
    taken in sequence order.
    """
    if not overrides:
        return computed
    # max() keeps the first of equal keys; the index makes the later one win instead.
    _, chosen = max(enumerate(overrides), key=lambda pair: (pair[1].at, pair[0]))
    return FlagDecision(chosen.color, chosen.reason, by=chosen.by)


class FlagEventKind(StrEnum):
    INNOVATION = "innovation"
    INCIDENT = "incident"


class IncidentKind(StrEnum):
    ROUGH = "粗暴执法"
    VIOLENT = "野蛮执法"
    PROFIT_DRIVEN = "趋利执法"


@dataclass(frozen=True)
class PeriodFlag:
    """A flag for a unit in a period, not tied to a task."""

    unit_id: int
    color: FlagColor
    reason: str
    kind: FlagEventKind


@dataclass(frozen=True)
class FlagEvent:
    flag: PeriodFlag
    score: ScoreEntry


def _check_event(points: float, reason: str) -> str:
    if points <= 0:
        raise InvalidInput("分值应为正数", log=f"flag event with points {points}")
    text = reason.strip()
    if not text:
        raise InvalidInput("请写明说明", log="flag event without reason")
    return text


def innovation(unit_id: int, points: float, reason: str, evidence: str = "") -> FlagEvent:
    """创新举措: a red period flag and a bonus of ``points`` (> 0)."""
    text = _check_event(points, reason)
    return FlagEvent(
        PeriodFlag(unit_id, FlagColor.RED, f"创新举措：{text}", FlagEventKind.INNOVATION),
        ScoreEntry(unit_id, points, f"创新举措：{text}", evidence),
    )


def incident(
    unit_id: int,
    points: float,
    reason: str,
    evidence: str = "",
    kind: IncidentKind | None = None,
) -> FlagEvent:
    """An enforcement incident with bad impact: a yellow period flag and a deduction.

    ``points`` is the size of the deduction (> 0); the score entry carries it negative.
    ``kind`` names which of 粗暴/野蛮/趋利执法 it was, when the admin said.
    """
    text = _check_event(points, reason)
    label = f"{kind.value}：{text}" if kind is not None else f"执法问题：{text}"
    return FlagEvent(
        PeriodFlag(unit_id, FlagColor.YELLOW, label, FlagEventKind.INCIDENT),
        ScoreEntry(unit_id, -points, label, evidence),
    )
