"""Rectification items (整改): a finding addressed to a unit, with a deadline.

open → reported (the unit's report with files) → closed by an admin, or returned with a reason
(then the unit owes it again, like a returned submission). While open or returned it is reminded
like a task; still owed past its deadline, it counts as not done on time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import Conflict, InvalidInput

MAX_TEXT = 2000


class RectState(StrEnum):
    OPEN = "open"
    REPORTED = "reported"
    CLOSED = "closed"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def owed(self) -> bool:
        """The unit still has to report (reminders go out only then)."""
        return self in (RectState.OPEN, RectState.RETURNED)


_LABELS = MappingProxyType(
    {
        RectState.OPEN: "待整改",
        RectState.REPORTED: "已报整改",
        RectState.CLOSED: "已销号",
        RectState.RETURNED: "已退回",
    }
)


def check_text(text: str, what: str = "整改要求") -> str:
    text = text.strip()
    if not text:
        raise InvalidInput(f"{what}不能为空", log=f"empty rectification {what}")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{what}太长（最多 {MAX_TEXT} 字）", log="rectification text too long")
    return text


def _refuse(rid: int, state: RectState, action: str) -> Conflict:
    return Conflict(f"整改事项 #R{rid} 当前为{state.label}，不能{action}",
                    log=f"rectification {rid}: cannot {action} in state {state}")


def report(rid: int, state: RectState) -> RectState:
    if state is RectState.CLOSED:
        raise _refuse(rid, state, "再报整改")
    return RectState.REPORTED


def close(rid: int, state: RectState) -> RectState:
    if state is RectState.CLOSED:
        raise _refuse(rid, state, "再次销号")
    return RectState.CLOSED


def send_back(rid: int, state: RectState, reason: str) -> RectState:
    if not reason.strip():
        raise InvalidInput("退回整改需写明原因", log=f"rectification {rid} returned without reason")
    if state is not RectState.REPORTED:
        raise _refuse(rid, state, "退回（单位尚未报送整改情况）")
    return RectState.RETURNED


def overdue(state: RectState, due: datetime, now: datetime) -> bool:
    """Still owed (not reported, or returned) after its deadline."""
    return state.owed and now > due
