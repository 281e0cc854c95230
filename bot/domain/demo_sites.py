"""Demonstration sites (示范点): nominated, prepared during the year, accepted or not at year end.

Acceptance is against a checklist fixed at nomination; a site is accepted only if every required
item passed. Every failed item needs a note, because the unit is told what to put right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import Conflict, InvalidInput


class SiteState(StrEnum):
    NOMINATED = "nominated"
    PREPARING = "preparing"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = MappingProxyType(
    {
        SiteState.NOMINATED: "已推荐",
        SiteState.PREPARING: "创建中",
        SiteState.ACCEPTED: "验收通过",
        SiteState.NOT_ACCEPTED: "验收未通过",
    }
)


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    title: str
    required: bool = True


@dataclass(frozen=True)
class ItemResult:
    key: str
    passed: bool
    note: str = ""


@dataclass(frozen=True)
class DemoSite:
    unit_id: int
    name: str
    year: int
    checklist: tuple[ChecklistItem, ...]
    state: SiteState = SiteState.NOMINATED
    results: tuple[ItemResult, ...] = ()
    accepted_at: datetime | None = None

    @property
    def failed(self) -> tuple[ItemResult, ...]:
        return tuple(r for r in self.results if not r.passed)


def nominate(unit_id: int, name: str, year: int, checklist: Sequence[ChecklistItem]) -> DemoSite:
    if not name.strip():
        raise InvalidInput("示范点名称不能为空", log="demo site without name")
    if not checklist:
        raise InvalidInput("验收清单不能为空", log=f"demo site {name!r} without checklist")
    keys = [item.key for item in checklist]
    if len(set(keys)) != len(keys):
        raise InvalidInput("验收清单中有重复的项目", log=f"duplicate checklist keys {keys}")
    return DemoSite(unit_id, name.strip(), year, tuple(checklist))


def _refuse(site: DemoSite, action: str) -> Conflict:
    return Conflict(
        f"示范点“{site.name}”当前状态为{site.state.label}，不能{action}",
        log=f"demo site {site.name!r}: cannot {action} in state {site.state}",
    )


def start_preparing(site: DemoSite) -> DemoSite:
    if site.state is not SiteState.NOMINATED:
        raise _refuse(site, "开始创建")
    return replace(site, state=SiteState.PREPARING)


def accept(site: DemoSite, results: Sequence[ItemResult], at: datetime | None = None) -> DemoSite:
    """Year-end acceptance: ACCEPTED if every required item passed, else NOT_ACCEPTED.

    ``results`` must cover every required item (optional ones may be left out) and name no item
    that is not on the checklist; a failed item must carry a note.
    """
    if site.state is not SiteState.PREPARING:
        raise _refuse(site, "验收")
    items = {item.key: item for item in site.checklist}
    by_key: dict[str, ItemResult] = {}
    for r in results:
        if r.key not in items:
            raise InvalidInput(f"验收清单中没有“{r.key}”", log=f"unknown checklist key {r.key!r}")
        if r.key in by_key:
            raise InvalidInput(f"“{r.key}”填了两次", log=f"duplicate result for {r.key!r}")
        if not r.passed and not r.note.strip():
            raise InvalidInput(
                f"“{items[r.key].title}”未通过，请写明原因", log=f"failed {r.key!r} without note"
            )
        by_key[r.key] = r
    missing = [i.title for i in site.checklist if i.required and i.key not in by_key]
    if missing:
        raise InvalidInput(
            f"缺少以下必查项目的结果：{'、'.join(missing)}", log=f"missing results {missing}"
        )
    passed = all(by_key[i.key].passed for i in site.checklist if i.required)
    return replace(
        site,
        state=SiteState.ACCEPTED if passed else SiteState.NOT_ACCEPTED,
        results=tuple(by_key[i.key] for i in site.checklist if i.key in by_key),
        accepted_at=at,
    )
