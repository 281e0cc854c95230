"""The submission status machine."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.flags import FlagColor, Rating, compute_flag
from bot.domain.submissions import (
    SubmissionState,
    SubmissionStatus,
    accept,
    apply,
    is_late,
    latest,
    owes,
    return_submission,
    submit,
)

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 7, 10, 10, 0, tzinfo=TZ)
DEADLINE = datetime(2026, 7, 15, 18, 0, tzinfo=TZ)


def hours(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def test_first_submission_is_version_one_received() -> None:
    s = submit((), T0)
    assert s == SubmissionState(1, T0)
    assert s.status is SubmissionStatus.RECEIVED
    assert owes(())
    assert not owes((s,))
    assert latest(()) is None


def test_accept_with_rating() -> None:
    history = (submit((), T0),)
    done = accept(history, 1, Rating.EXCELLENT, hours(1))
    assert (done.status, done.rating, done.reviewed_at) == (
        SubmissionStatus.ACCEPTED,
        Rating.EXCELLENT,
        hours(1),
    )
    assert compute_flag(DEADLINE, [done.facts()], hours(200)) is not None


def test_return_then_resubmit() -> None:
    history: tuple[SubmissionState, ...] = (submit((), T0),)
    history = apply(history, return_submission(history, 1, " 缺少附件 ", hours(1)))
    assert history[0].status is SubmissionStatus.RETURNED
    assert history[0].return_reason == "缺少附件"
    assert owes(history)
    history = apply(history, submit(history, hours(2)))
    assert [s.version for s in history] == [1, 2]
    assert history[1].status is SubmissionStatus.RECEIVED
    history = apply(history, accept(history, 2, Rating.GOOD, hours(3)))
    assert not owes(history)
    decision = compute_flag(DEADLINE, [s.facts() for s in history], hours(200))
    assert decision is not None
    assert decision.color is FlagColor.BLUE


def test_return_needs_a_reason() -> None:
    with pytest.raises(InvalidInput) as info:
        return_submission((submit((), T0),), 1, "  ", hours(1))
    assert "原因" in info.value.message


def test_reviewing_twice_is_a_conflict() -> None:
    history: tuple[SubmissionState, ...] = (submit((), T0),)
    history = apply(history, accept(history, 1, Rating.GOOD, hours(1)))
    with pytest.raises(Conflict) as info:
        accept(history, 1, Rating.EXCELLENT, hours(2))
    assert "不能重复审核" in info.value.message
    with pytest.raises(Conflict):
        return_submission(history, 1, "再看看", hours(2))


def test_only_the_latest_version_can_be_reviewed() -> None:
    history: tuple[SubmissionState, ...] = (submit((), T0),)
    history = apply(history, return_submission(history, 1, "不全", hours(1)))
    history = apply(history, submit(history, hours(2)))
    with pytest.raises(Conflict) as info:
        accept(history, 1, Rating.GOOD, hours(3))
    assert "已审核" in info.value.message
    with pytest.raises(NotFound):
        accept(history, 3, Rating.GOOD, hours(3))


def test_stale_received_version_is_not_latest() -> None:
    # A history where an older version is still "received" (e.g. imported data): refuse it.
    history = (SubmissionState(1, T0), SubmissionState(2, hours(1)))
    with pytest.raises(Conflict) as info:
        accept(history, 1, Rating.GOOD, hours(2))
    assert "最新" in info.value.message


def test_no_resubmission_while_pending_or_after_acceptance() -> None:
    history: tuple[SubmissionState, ...] = (submit((), T0),)
    with pytest.raises(Conflict) as info:
        submit(history, hours(1))
    assert "审核中" in info.value.message
    history = apply(history, accept(history, 1, Rating.FAIR, hours(1)))
    with pytest.raises(Conflict):
        submit(history, hours(2))


def test_is_late() -> None:
    assert not is_late(DEADLINE, DEADLINE)
    assert not is_late(DEADLINE - timedelta(seconds=1), DEADLINE)
    assert is_late(DEADLINE + timedelta(seconds=1), DEADLINE)
    # Aware datetimes compare as instants, whatever their zone.
    assert not is_late(datetime(2026, 7, 15, 10, 0, tzinfo=ZoneInfo("UTC")), DEADLINE)


def test_status_labels() -> None:
    assert [s.label for s in SubmissionStatus] == ["待审核", "已通过", "已退回"]
