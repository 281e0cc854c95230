"""Demonstration sites and their year-end acceptance."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.demo_sites import (
    ChecklistItem,
    DemoSite,
    ItemResult,
    SiteState,
    accept,
    nominate,
    start_preparing,
)
from bot.domain.errors import Conflict, InvalidInput

WHEN = datetime(2026, 12, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CHECKLIST = (
    ChecklistItem("system", "制度建设"),
    ChecklistItem("cases", "典型案例"),
    ChecklistItem("media", "宣传报道", required=False),
)


def preparing() -> DemoSite:
    return start_preparing(nominate(7, "郑州市市场监管局服务型执法示范点", 2026, CHECKLIST))


def test_accepted_when_every_required_item_passed() -> None:
    site = accept(
        preparing(),
        [ItemResult("system", True), ItemResult("cases", True), ItemResult("media", False, "偏少")],
        WHEN,
    )
    assert site.state is SiteState.ACCEPTED
    assert site.accepted_at == WHEN
    assert [r.key for r in site.failed] == ["media"]


def test_not_accepted_when_a_required_item_failed() -> None:
    site = accept(preparing(), [ItemResult("system", True), ItemResult("cases", False, "案例不足")])
    assert site.state is SiteState.NOT_ACCEPTED
    assert site.state.label == "验收未通过"


@pytest.mark.parametrize(
    "results",
    [
        [ItemResult("system", True)],  # a required item is missing
        [ItemResult("system", True), ItemResult("cases", False)],  # failed without a note
        [ItemResult("system", True), ItemResult("cases", True), ItemResult("other", True)],
        [ItemResult("system", True), ItemResult("system", True), ItemResult("cases", True)],
    ],
)
def test_bad_results(results: list[ItemResult]) -> None:
    with pytest.raises(InvalidInput):
        accept(preparing(), results)


def test_invalid_transitions() -> None:
    nominated = nominate(7, "示范点", 2026, CHECKLIST)
    with pytest.raises(Conflict) as info:
        accept(nominated, [ItemResult("system", True), ItemResult("cases", True)])
    assert "已推荐" in info.value.message
    with pytest.raises(Conflict):
        start_preparing(start_preparing(nominated))
    done = accept(preparing(), [ItemResult("system", True), ItemResult("cases", True)])
    with pytest.raises(Conflict):
        accept(done, [ItemResult("system", True), ItemResult("cases", True)])
    with pytest.raises(Conflict):
        start_preparing(done)


def test_nomination_validation() -> None:
    with pytest.raises(InvalidInput):
        nominate(7, " ", 2026, CHECKLIST)
    with pytest.raises(InvalidInput):
        nominate(7, "示范点", 2026, [])
    with pytest.raises(InvalidInput):
        nominate(7, "示范点", 2026, [ChecklistItem("a", "甲"), ChecklistItem("a", "乙")])
