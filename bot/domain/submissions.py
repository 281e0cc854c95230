"""The life of a submission: received → accepted (with a rating) | returned (with a reason).

A returned submission is answered by a new version, which starts again as received. A unit does
not pile versions onto one still under review: a version sent while the latest is received is a
*correction* — it replaces that version, which is kept (with its files) as superseded, and the
new one is what the reviewer sees. Only the latest version can be reviewed, and only once: two
admins reviewing at the same time, or a stale "通过 #12" after the unit has sent another version,
are refused rather than silently applied.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.domain.errors import Conflict, InvalidInput
from bot.domain.flags import Rating


class SubmissionStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    SUPERSEDED = "superseded"  # replaced by a correction before anyone reviewed it

    @property
    def label(self) -> str:
        return {"received": "待审核", "accepted": "已通过", "returned": "已退回",
                "superseded": "已被更正"}[self.value]


class Submitting(StrEnum):
    """What a new version is, given the unit's latest one."""

    FIRST = "first"
    RESUBMISSION = "resubmission"  # after the latest was returned
    CORRECTION = "correction"  # replaces the latest, still under review


def is_late(submitted_at: datetime, deadline: datetime) -> bool:
    """Late means strictly after the deadline; a submission at the deadline moment is on time."""
    return submitted_at > deadline


def submitting(latest: SubmissionStatus | None, *, task: str) -> Submitting:
    """The rule for a new version of the unit's work on ``task`` (its title, for the refusal)."""
    if latest is None:
        return Submitting.FIRST
    if latest is SubmissionStatus.RECEIVED:
        return Submitting.CORRECTION
    if latest is SubmissionStatus.RETURNED:
        return Submitting.RESUBMISSION
    if latest is SubmissionStatus.ACCEPTED:
        raise Conflict(f"“{task}”的材料已审核通过，无需再次提交", log="submit after acceptance")
    raise ValueError(f"the latest version cannot be {latest}: a superseded one has a successor")


DEFAULT_RATING = Rating.GOOD


def verdict(*, accept: bool, rating: str | None, reason: str | None) -> tuple[Rating | None, str]:
    """A review's rating (accepting: 优/良/一般, 良 when none is given) or reason (returning)."""
    if accept:
        if not rating:
            return DEFAULT_RATING, ""
        try:
            return Rating(rating.strip()), ""
        except ValueError:
            raise InvalidInput(f"评价只能是 {'、'.join(r.value for r in Rating)}",
                               log=f"bad rating {rating!r}") from None
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("退回需要写明原因，例如：退回 #12 缺少盖章扫描件", log="return without reason")
    return None, text


def check_reviewable(status: SubmissionStatus, version: int, newest: int, *, ref: str) -> None:
    """Refuse to review a version that was reviewed or replaced, or is not the unit's latest.

    ``ref`` names it for people (``#12``); ``newest`` is the unit's latest version number.
    """
    if status is SubmissionStatus.SUPERSEDED:
        raise Conflict(f"{ref} 已被本单位更正（现为第 {newest} 版），请审核最新提交",
                       log="review of a superseded submission")
    if status is not SubmissionStatus.RECEIVED:
        raise Conflict(f"{ref} {status.label}，不能重复审核", log=f"review of {status} submission")
    if version != newest:
        raise Conflict(f"{ref} 不是最新版本（已有第 {newest} 版），请审核最新提交",
                       log="review of an old version")
