"""Rectification items: report, close, return, and what counts as overdue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.errors import Conflict, InvalidInput
from bot.domain.rectifications import (
    RectState,
    check_text,
    close,
    overdue,
    report,
    send_back,
)

DUE = datetime(2026, 7, 10, 10, tzinfo=UTC)
AFTER = datetime(2026, 7, 11, tzinfo=UTC)


def test_report_return_report_close() -> None:
    s = report(3, RectState.OPEN)
    assert s is RectState.REPORTED and not s.owed
    s = send_back(3, s, "缺少整改前后照片")
    assert s is RectState.RETURNED and s.owed
    s = close(3, report(3, s))
    assert s is RectState.CLOSED
    with pytest.raises(Conflict) as info:
        report(3, s)
    assert "#R3" in info.value.message and "已销号" in info.value.message
    with pytest.raises(Conflict):
        close(3, s)


def test_return_needs_a_report_and_a_reason() -> None:
    with pytest.raises(Conflict):
        send_back(3, RectState.OPEN, "原因")
    with pytest.raises(InvalidInput):
        send_back(3, RectState.REPORTED, " ")


def test_overdue_only_while_owed() -> None:
    assert overdue(RectState.OPEN, DUE, AFTER)
    assert overdue(RectState.RETURNED, DUE, AFTER)
    assert not overdue(RectState.REPORTED, DUE, AFTER)
    assert not overdue(RectState.CLOSED, DUE, AFTER)
    assert not overdue(RectState.OPEN, DUE, DUE)


def test_text() -> None:
    assert check_text(" 台账不全 ") == "台账不全"
    with pytest.raises(InvalidInput):
        check_text("")
    with pytest.raises(InvalidInput):
        check_text("字" * 2001)
