"""Demonstration sites: nomination, cultivation and the year-end decision."""

from __future__ import annotations

import pytest

from bot.domain.demo_sites import (
    RecordKind,
    SiteState,
    after_record,
    check_nomination,
    decide,
)
from bot.domain.errors import Conflict, InvalidInput


def test_cultivation_then_acceptance() -> None:
    state = after_record("示范点", SiteState.NOMINATED, "实地走访，查看台账")
    assert state is SiteState.PREPARING
    assert after_record("示范点", state, "补充材料") is SiteState.PREPARING
    assert decide("示范点", state, passed=True, reason="制度健全") is SiteState.ACCEPTED
    assert decide("示范点", SiteState.NOMINATED, passed=False, reason="未开展培育") \
        is SiteState.NOT_ACCEPTED
    assert SiteState.ACCEPTED.label == "验收通过"
    assert RecordKind.VISIT.label == "实地走访"


def test_a_decided_site_is_final() -> None:
    for state in (SiteState.ACCEPTED, SiteState.NOT_ACCEPTED):
        with pytest.raises(Conflict) as info:
            decide("示范点", state, passed=True, reason="再议")
        assert state.label in info.value.message
        with pytest.raises(Conflict):
            after_record("示范点", state, "走访")


def test_validation() -> None:
    assert check_nomination(" 服务型执法示范点 ", " 简介 ") == ("服务型执法示范点", "简介")
    with pytest.raises(InvalidInput):
        check_nomination(" ", "")
    with pytest.raises(InvalidInput):
        check_nomination("甲" * 201, "")
    with pytest.raises(InvalidInput):
        decide("示范点", SiteState.PREPARING, passed=True, reason=" ")
    with pytest.raises(InvalidInput):
        after_record("示范点", SiteState.PREPARING, "  ")
