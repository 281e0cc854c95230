"""Demonstration sites (示范点): nominated, cultivated during the year, accepted or not at year end.

A unit nominates a candidate (name and a short description); cultivation records (visits,
guidance, materials) move it to "being prepared"; at year end an admin accepts it or not, always
with a reason, because the unit is told why. Accepted sites form the year's list.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import Conflict, InvalidInput

MAX_NAME = 200
MAX_TEXT = 2000


class SiteState(StrEnum):
    NOMINATED = "nominated"
    PREPARING = "preparing"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def decided(self) -> bool:
        return self in (SiteState.ACCEPTED, SiteState.NOT_ACCEPTED)


_LABELS = MappingProxyType(
    {
        SiteState.NOMINATED: "已申报",
        SiteState.PREPARING: "培育中",
        SiteState.ACCEPTED: "验收通过",
        SiteState.NOT_ACCEPTED: "验收未通过",
    }
)


class RecordKind(StrEnum):
    VISIT = "visit"
    GUIDANCE = "guidance"
    MATERIAL = "material"
    NOTE = "note"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = MappingProxyType(
    {
        RecordKind.VISIT: "实地走访",
        RecordKind.GUIDANCE: "指导",
        RecordKind.MATERIAL: "材料",
        RecordKind.NOTE: "记录",
    }
)


def check_nomination(name: str, description: str) -> tuple[str, str]:
    """The name and description as stored (trimmed), or a clear refusal."""
    name, description = name.strip(), description.strip()
    if not name:
        raise InvalidInput("示范点名称不能为空", log="demo site without name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"示范点名称太长（最多 {MAX_NAME} 字）", log="demo site name too long")
    if len(description) > MAX_TEXT:
        raise InvalidInput(f"示范点简介太长（最多 {MAX_TEXT} 字）", log="demo site text too long")
    return name, description


def _refuse(name: str, state: SiteState, action: str) -> Conflict:
    return Conflict(
        f"示范点“{name}”当前状态为{state.label}，不能{action}",
        log=f"demo site {name!r}: cannot {action} in state {state}",
    )


def after_record(name: str, state: SiteState, text: str) -> SiteState:
    """The state after a cultivation record: a nominated site is now being prepared."""
    if not text.strip():
        raise InvalidInput("培育记录内容不能为空", log="empty site record")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"培育记录太长（最多 {MAX_TEXT} 字）", log="site record too long")
    if state.decided:
        raise _refuse(name, state, "再添加培育记录")
    return SiteState.PREPARING


def decide(name: str, state: SiteState, *, passed: bool, reason: str) -> SiteState:
    """Year-end acceptance: passed or not, with the reason the unit will be told."""
    if not reason.strip():
        raise InvalidInput("验收结论需写明理由", log=f"demo site {name!r} decided without reason")
    if state.decided:
        raise _refuse(name, state, "再次验收")
    return SiteState.ACCEPTED if passed else SiteState.NOT_ACCEPTED
