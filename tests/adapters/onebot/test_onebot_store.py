"""Echo store and error classification, without sockets."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.onebot.errors import ActionFailed, ActionTimeout, NotConnected
from bot.adapters.onebot.store import ResultStore


async def test_resolve_out_of_order() -> None:
    store = ResultStore()
    sent: list[str] = []

    async def send(echo: str) -> None:
        sent.append(echo)

    calls = [asyncio.create_task(store.call(send, 1)) for _ in range(3)]
    for _ in range(10):
        await asyncio.sleep(0)
    assert len(set(sent)) == 3
    for i, echo in reversed(list(enumerate(sent))):
        assert store.resolve({"status": "ok", "data": i, "echo": echo})
    assert [(await c)["data"] for c in calls] == [0, 1, 2]
    assert len(store) == 0


async def test_timeout_cleans_up() -> None:
    store = ResultStore()

    async def send(echo: str) -> None:
        pass

    with pytest.raises(ActionTimeout):
        await store.call(send, 0.01)
    assert len(store) == 0
    assert not store.resolve({"status": "ok", "echo": "late"})
    assert store.stray == 1


async def test_send_failure_cleans_up() -> None:
    store = ResultStore()

    async def send(echo: str) -> None:
        raise NotConnected("gone")

    with pytest.raises(NotConnected):
        await store.call(send)
    assert len(store) == 0


async def test_fail_all_wakes_waiters_and_refuses_new_calls() -> None:
    store = ResultStore()

    async def send(echo: str) -> None:
        pass

    waiting = asyncio.create_task(store.call(send, 10))
    await asyncio.sleep(0)
    store.fail_all(NotConnected("socket closed"))
    with pytest.raises(NotConnected):
        await waiting
    with pytest.raises(NotConnected):
        await store.call(send)


async def test_cancelled_caller_leaves_nothing_behind() -> None:
    store = ResultStore()

    async def send(echo: str) -> None:
        pass

    task = asyncio.create_task(store.call(send, 10))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(store) == 0


def test_non_string_echo_is_stray() -> None:
    store = ResultStore()
    assert not store.resolve({"status": "ok", "echo": 5})
    assert not store.resolve({"status": "ok"})


@pytest.mark.parametrize(("frame", "risk"), [
    ({"retcode": 1200, "message": "Timeout: NTEvent ... sendMsg"}, True),
    ({"retcode": 100, "msg": "SEND_MSG_API_ERROR", "wording": "账号可能被风控"}, True),
    ({"retcode": 100}, True),
    ({"retcode": 100, "msg": "GROUP_NOT_FOUND"}, False),
    ({"retcode": 1404, "message": "不支持的Api"}, False),
    ({"retcode": "1400"}, False),
    ({"retcode": None}, False),
])
def test_risk_control(frame: dict[str, object], risk: bool) -> None:
    exc = ActionFailed.from_response("send_group_msg", {"status": "failed", **frame})
    assert exc.risk_control is risk
    assert "send_group_msg" in str(exc)


def test_action_failed_positional() -> None:
    exc = ActionFailed(1200, "timeout", "超时", "")
    assert (exc.retcode, exc.message, exc.wording, exc.msg) == (1200, "timeout", "超时", "")
    assert exc.risk_control
