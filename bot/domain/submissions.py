"""The life of a submission: received → accepted (with a rating) | returned (with a reason).

A returned submission is answered by a new version, which starts again as received. Only the
latest version can be reviewed, and only once: two admins reviewing at the same time, or a stale
"通过 #12" after the unit has resubmitted, must be refused rather than silently applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.flags import Rating, SubmissionFacts


class SubmissionStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {"received": "待审核", "accepted": "已通过", "returned": "已退回"}[self.value]


@dataclass(frozen=True)
class SubmissionState:
    """One version of a unit's submission for a task."""

    version: int
    submitted_at: datetime
    status: SubmissionStatus = SubmissionStatus.RECEIVED
    rating: Rating | None = None
    return_reason: str | None = None
    reviewed_at: datetime | None = None

    def facts(self) -> SubmissionFacts:
        """What the flag rules need from this version."""
        return SubmissionFacts(self.submitted_at, self.status, self.rating)


def is_late(submitted_at: datetime, deadline: datetime) -> bool:
    """Late means strictly after the deadline; a submission at the deadline moment is on time."""
    return submitted_at > deadline


def latest(history: Sequence[SubmissionState]) -> SubmissionState | None:
    return history[-1] if history else None


def owes(history: Sequence[SubmissionState]) -> bool:
    """Whether the unit still owes this task: nothing submitted, or the latest was returned."""
    last = latest(history)
    return last is None or last.status is SubmissionStatus.RETURNED


def submit(history: Sequence[SubmissionState], at: datetime) -> SubmissionState:
    """The next version: version 1, or a resubmission after the latest one was returned."""
    last = latest(history)
    if last is None:
        return SubmissionState(version=1, submitted_at=at)
    if last.status is SubmissionStatus.RECEIVED:
        raise Conflict(
            f"第{last.version}版尚在审核中，请等审核结果出来后再提交",
            log=f"submit while version {last.version} awaits review",
        )
    if last.status is SubmissionStatus.ACCEPTED:
        raise Conflict(
            f"第{last.version}版已审核通过，无需再次提交",
            log=f"submit after version {last.version} was accepted",
        )
    return SubmissionState(version=last.version + 1, submitted_at=at)


def _reviewable(history: Sequence[SubmissionState], version: int) -> SubmissionState:
    target = next((s for s in history if s.version == version), None)
    if target is None:
        raise NotFound(f"没有第{version}版提交", log=f"review of unknown version {version}")
    if target.status is not SubmissionStatus.RECEIVED:
        raise Conflict(
            f"第{version}版已审核（{target.status.label}），不能重复审核",
            log=f"version {version} already reviewed: {target.status}",
        )
    last = history[-1]
    if target.version != last.version:
        raise Conflict(
            f"第{version}版不是最新提交，只能审核最新的第{last.version}版",
            log=f"review of version {version}, latest is {last.version}",
        )
    return target


def accept(
    history: Sequence[SubmissionState], version: int, rating: Rating, at: datetime
) -> SubmissionState:
    """Accept the latest version with a rating; returns its new state."""
    target = _reviewable(history, version)
    return replace(target, status=SubmissionStatus.ACCEPTED, rating=rating, reviewed_at=at)


def return_submission(
    history: Sequence[SubmissionState], version: int, reason: str, at: datetime
) -> SubmissionState:
    """Return the latest version to the unit; the reason is what the unit is told to fix."""
    text = reason.strip()
    if not text:
        raise InvalidInput("退回必须写明原因", log=f"return of version {version} without reason")
    target = _reviewable(history, version)
    return replace(target, status=SubmissionStatus.RETURNED, return_reason=text, reviewed_at=at)


def apply(
    history: Sequence[SubmissionState], changed: SubmissionState
) -> tuple[SubmissionState, ...]:
    """The history with ``changed`` in place of its version (or appended when it is new)."""
    if changed.version == len(history) + 1:
        return (*history, changed)
    return tuple(changed if s.version == changed.version else s for s in history)
