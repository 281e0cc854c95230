"""The submission rules: what a new version is, what a review may decide, and on what."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import Conflict, InvalidInput
from bot.domain.flags import FlagColor, Rating, SubmissionFacts, compute_flag
from bot.domain.submissions import (
    SubmissionStatus,
    Submitting,
    check_reviewable,
    is_late,
    submitting,
    verdict,
)

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 7, 10, 10, 0, tzinfo=TZ)
DEADLINE = datetime(2026, 7, 15, 18, 0, tzinfo=TZ)


def hours(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def test_first_version_then_resubmission_after_a_return() -> None:
    assert submitting(None, task="三季度调研报告") is Submitting.FIRST
    assert submitting(SubmissionStatus.RETURNED, task="三季度调研报告") is Submitting.RESUBMISSION


def test_a_version_sent_during_review_is_a_correction() -> None:
    # The unit does not pile versions onto an unreviewed one: the new one replaces it.
    assert submitting(SubmissionStatus.RECEIVED, task="三季度调研报告") is Submitting.CORRECTION


def test_no_new_version_after_acceptance() -> None:
    with pytest.raises(Conflict) as info:
        submitting(SubmissionStatus.ACCEPTED, task="三季度调研报告")
    assert info.value.message == "“三季度调研报告”的材料已审核通过，无需再次提交"
    with pytest.raises(ValueError):
        submitting(SubmissionStatus.SUPERSEDED, task="x")  # never the latest


def test_accept_with_a_rating_or_the_default() -> None:
    assert verdict(accept=True, rating="优", reason=None) == (Rating.EXCELLENT, "")
    assert verdict(accept=True, rating=" 一般 ", reason=None) == (Rating.FAIR, "")
    assert verdict(accept=True, rating=None, reason=None) == (Rating.GOOD, "")
    with pytest.raises(InvalidInput) as info:
        verdict(accept=True, rating="甲", reason=None)
    assert info.value.message == "评价只能是 优、良、一般"


def test_return_needs_a_reason() -> None:
    assert verdict(accept=False, rating=None, reason=" 缺少附件 ") == (None, "缺少附件")
    for reason in (None, "", "  "):
        with pytest.raises(InvalidInput) as info:
            verdict(accept=False, rating=None, reason=reason)
        assert "原因" in info.value.message


def test_only_the_latest_received_version_can_be_reviewed_once() -> None:
    check_reviewable(SubmissionStatus.RECEIVED, 2, 2, ref="#12")
    with pytest.raises(Conflict) as info:
        check_reviewable(SubmissionStatus.ACCEPTED, 1, 1, ref="#12")
    assert info.value.message == "#12 已通过，不能重复审核"
    with pytest.raises(Conflict) as info:
        check_reviewable(SubmissionStatus.RETURNED, 1, 2, ref="#12")
    assert info.value.message == "#12 已退回，不能重复审核"
    # An older version still marked received (e.g. imported data) is not the latest.
    with pytest.raises(Conflict) as info:
        check_reviewable(SubmissionStatus.RECEIVED, 1, 2, ref="#12")
    assert "最新" in info.value.message
    # A version the unit replaced says so.
    with pytest.raises(Conflict) as info:
        check_reviewable(SubmissionStatus.SUPERSEDED, 1, 2, ref="#12")
    assert info.value.message == "#12 已被本单位更正（现为第 2 版），请审核最新提交"


def test_a_replaced_version_still_counts_as_arrived_for_the_flags() -> None:
    # Version 1 on time, replaced after the deadline by a correction accepted with 优: the unit's
    # first version arrived on time (as the statistics count it), nothing was returned: red.
    history = [SubmissionFacts(hours(1), SubmissionStatus.SUPERSEDED),
               SubmissionFacts(DEADLINE + timedelta(hours=1), SubmissionStatus.ACCEPTED,
                               Rating.EXCELLENT)]
    decision = compute_flag(DEADLINE, history, DEADLINE + timedelta(days=3))
    assert decision is not None and decision.color is FlagColor.RED
    # While the correction awaits review there is nothing to mark yet.
    pending = [history[0], SubmissionFacts(hours(2), SubmissionStatus.RECEIVED)]
    assert compute_flag(DEADLINE, pending, DEADLINE + timedelta(days=3)) is None


def test_is_late() -> None:
    assert not is_late(DEADLINE, DEADLINE)
    assert not is_late(DEADLINE - timedelta(seconds=1), DEADLINE)
    assert is_late(DEADLINE + timedelta(seconds=1), DEADLINE)
    # Aware datetimes compare as instants, whatever their zone.
    assert not is_late(datetime(2026, 7, 15, 10, 0, tzinfo=ZoneInfo("UTC")), DEADLINE)


def test_status_labels() -> None:
    assert [s.label for s in SubmissionStatus] == ["待审核", "已通过", "已退回", "已被更正"]
