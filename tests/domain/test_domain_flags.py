"""Flags (DESIGN §4 "Flags")."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.flags import (
    FlagColor,
    FlagDecision,
    FlagEventKind,
    IncidentKind,
    Override,
    Rating,
    SubmissionFacts,
    compute_flag,
    incident,
    innovation,
    resolve_flag,
)
from bot.domain.scoring import ScoreEntry

TZ = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime(2026, 7, 15, 18, 0, tzinfo=TZ)
BEFORE = DEADLINE - timedelta(days=1)
AFTER = DEADLINE + timedelta(days=1)
LATER = DEADLINE + timedelta(days=5)


def received(at: datetime) -> SubmissionFacts:
    return SubmissionFacts(at, "received")


def accepted(at: datetime, rating: Rating) -> SubmissionFacts:
    return SubmissionFacts(at, "accepted", rating)


def returned(at: datetime) -> SubmissionFacts:
    return SubmissionFacts(at, "returned")


def color(subs: list[SubmissionFacts], now: datetime = LATER) -> FlagColor | None:
    decision = compute_flag(DEADLINE, subs, now)
    return None if decision is None else decision.color


def test_red_on_time_and_excellent() -> None:
    assert compute_flag(DEADLINE, [accepted(BEFORE, Rating.EXCELLENT)], LATER) == FlagDecision(
        FlagColor.RED, "按时完成，成效显著"
    )


def test_submission_at_the_deadline_moment_is_on_time() -> None:
    assert color([accepted(DEADLINE, Rating.EXCELLENT)]) is FlagColor.RED


@pytest.mark.parametrize("rating", [Rating.GOOD, Rating.FAIR])
def test_blue_on_time_but_rated_lower(rating: Rating) -> None:
    assert color([accepted(BEFORE, rating)]) is FlagColor.BLUE


def test_blue_on_time_but_returned_even_if_fixed_later() -> None:
    assert color([returned(BEFORE)]) is FlagColor.BLUE
    assert color([returned(BEFORE), received(AFTER)]) is FlagColor.BLUE
    assert color([returned(BEFORE), accepted(AFTER, Rating.EXCELLENT)]) is FlagColor.BLUE
    assert color([returned(BEFORE), accepted(BEFORE, Rating.EXCELLENT)]) is FlagColor.BLUE


def test_yellow_when_nothing_by_the_deadline() -> None:
    decision = compute_flag(DEADLINE, [], AFTER)
    assert decision == FlagDecision(FlagColor.YELLOW, "未按时完成，需要督促指导")


def test_yellow_while_a_late_submission_is_not_accepted() -> None:
    assert color([received(AFTER)]) is FlagColor.YELLOW
    assert color([returned(AFTER)]) is FlagColor.YELLOW
    assert color([returned(AFTER), received(LATER)]) is FlagColor.YELLOW


@pytest.mark.parametrize("rating", list(Rating))
def test_yellow_turns_blue_when_late_work_is_accepted(rating: Rating) -> None:
    decision = compute_flag(DEADLINE, [returned(AFTER), accepted(LATER, rating)], LATER)
    assert decision == FlagDecision(FlagColor.BLUE, "经督促指导后纠正")


def test_nothing_to_mark_yet() -> None:
    assert compute_flag(DEADLINE, [], BEFORE) is None
    assert compute_flag(DEADLINE, [], DEADLINE) is None  # the deadline moment itself is not past
    assert compute_flag(DEADLINE, [received(BEFORE)], LATER) is None  # on time, not reviewed


def test_facts_validation() -> None:
    with pytest.raises(ValueError):
        SubmissionFacts(BEFORE, "accepted")
    with pytest.raises(ValueError):
        SubmissionFacts(BEFORE, "returned", Rating.GOOD)
    with pytest.raises(ValueError):
        SubmissionFacts(BEFORE, "lost")


def test_rating_parse() -> None:
    assert Rating.parse(" 优 ") is Rating.EXCELLENT
    assert Rating.parse("一般") is Rating.FAIR
    with pytest.raises(InvalidInput):
        Rating.parse("差")


def test_overrides_latest_wins() -> None:
    computed = FlagDecision(FlagColor.YELLOW, "未按时完成，需要督促指导")
    assert resolve_flag(computed, []) is computed
    assert resolve_flag(None, []) is None
    overrides = [
        Override(FlagColor.RED, "表现突出", "qq:10001", AFTER),
        Override(FlagColor.BLUE, "情况特殊，已说明", "qq:10002", LATER),
        Override(FlagColor.YELLOW, "早先的决定", "qq:10003", BEFORE),
    ]
    assert resolve_flag(computed, overrides) == FlagDecision(
        FlagColor.BLUE, "情况特殊，已说明", by="qq:10002"
    )


def test_overrides_at_the_same_moment_later_in_sequence_wins() -> None:
    overrides = [
        Override(FlagColor.RED, "甲", "qq:1", AFTER),
        Override(FlagColor.BLUE, "乙", "qq:2", AFTER),
    ]
    resolved = resolve_flag(None, overrides)
    assert resolved is not None
    assert resolved.color is FlagColor.BLUE


def test_override_needs_a_reason() -> None:
    with pytest.raises(InvalidInput):
        Override(FlagColor.RED, "  ", "qq:1", AFTER)


def test_innovation_is_red_with_a_bonus() -> None:
    event = innovation(3, 2.5, "首创“容缺受理”", evidence="https://example.org/doc")
    assert event.flag.color is FlagColor.RED
    assert event.flag.kind is FlagEventKind.INNOVATION
    assert event.score == ScoreEntry(3, 2.5, "创新举措：首创“容缺受理”", "https://example.org/doc")


def test_incident_is_yellow_with_a_deduction() -> None:
    event = incident(4, 2, "执法人员粗暴对待商户，造成不良影响", kind=IncidentKind.ROUGH)
    assert event.flag.color is FlagColor.YELLOW
    assert event.flag.kind is FlagEventKind.INCIDENT
    assert event.flag.reason.startswith("粗暴执法：")
    assert event.score.points == -2
    assert incident(4, 1, "趋利罚款").flag.reason == "执法问题：趋利罚款"


@pytest.mark.parametrize(("points", "reason"), [(0, "说明"), (-1, "说明"), (1, " ")])
def test_flag_events_validate(points: float, reason: str) -> None:
    with pytest.raises(InvalidInput):
        innovation(1, points, reason)
    with pytest.raises(InvalidInput):
        incident(1, points, reason)


def test_labels() -> None:
    assert [c.label for c in FlagColor] == ["红旗", "蓝旗", "黄旗"]


# --- property: on time is never yellow ------------------------------------------------------

ratings = st.sampled_from(list(Rating))


@st.composite
def on_time_histories(draw: st.DrawFn) -> list[SubmissionFacts]:
    """Version 1 on time; every version but the last was returned; later ones at any time."""
    first = DEADLINE - draw(st.timedeltas(timedelta(0), timedelta(days=30)))
    times = [first]
    for _ in range(draw(st.integers(0, 3))):
        times.append(times[-1] + draw(st.timedeltas(timedelta(0), timedelta(days=10))))
    history = [returned(t) for t in times[:-1]]
    last = draw(st.sampled_from(["received", "accepted", "returned"]))
    rating = draw(ratings) if last == "accepted" else None
    history.append(SubmissionFacts(times[-1], last, rating))
    return history


@settings(max_examples=200)
@given(on_time_histories(), st.timedeltas(timedelta(days=-30), timedelta(days=60)))
def test_a_unit_that_submitted_on_time_is_never_yellow(
    history: list[SubmissionFacts], offset: timedelta
) -> None:
    decision = compute_flag(DEADLINE, history, DEADLINE + offset)
    assert decision is None or decision.color is not FlagColor.YELLOW
    if decision is not None and decision.color is FlagColor.RED:
        assert len(history) == 1
