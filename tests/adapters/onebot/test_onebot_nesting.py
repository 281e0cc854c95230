"""Deeply nested JSON is a bad frame: counted, logged, and the socket keeps reading.

Before the fix ``json.loads`` raised ``RecursionError`` (not a ``ValueError``) inside the
socket's reader, which ended the reader and dropped every frame queued behind it; a signed HTTP
push of the same body was a 500.
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot.adapters.onebot.frames import MAX_DEPTH, BadFrame, decode_frame
from bot.adapters.onebot.transport import signature
from bot.core.event import MessageEvent

from . import fake_impl as fi
from .conftest import Harness, HarnessFactory, wait_until

SELF = str(fi.SELF_ID)


def nested(depth: int) -> str:
    """A v11 group message whose ``message`` is ``depth`` lists deep."""
    frame = json.dumps(fi.group_message(message="@@"))
    return frame.replace('"@@"', "[" * depth + "]" * depth)


# Far past the decoder's recursion limit, and deep enough to pass the decoder but not our limit.
DEPTHS = [100_000, 500, MAX_DEPTH + 1]


@pytest.mark.parametrize("depth", DEPTHS)
async def test_v11_socket_survives_a_nested_frame(harness: Harness, depth: int,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    impl = await harness.impl()
    with caplog.at_level(logging.WARNING, "dudao.onebot"):
        await impl.send_raw(nested(depth))
        await impl.send_event(fi.group_message("after the attack", message_id=77))
        (event,) = await harness.wait_events(1)
    assert isinstance(event, MessageEvent)
    assert event.text == "after the attack"
    state = harness.adapter.accounts()[SELF]
    assert state.bad_frames == 1
    assert state.connected
    assert impl.ws is not None and not impl.ws.closed
    assert any("nested deeper" in r.getMessage() for r in caplog.records)


async def test_v12_socket_survives_a_nested_frame(harness: Harness) -> None:
    impl = await harness.impl("/onebot/v12/ws", v12=True)
    me = {"platform": "wechat", "user_id": "wxid_bot"}

    def message(text: object) -> dict[str, object]:
        return {"id": "e", "time": time.time(), "type": "message", "detail_type": "private",
                "sub_type": "", "message_id": str(time.monotonic_ns()), "self": me,
                "message": text, "alt_message": "", "user_id": "wxid_alice"}

    await impl.send_event(message([{"type": "text", "data": {"text": "first"}}]))
    await harness.wait_events(1)
    deep = json.dumps(message("@@")).replace('"@@"', "{\"a\":" * 50_000 + "1" + "}" * 50_000)
    await impl.send_raw(deep)
    await impl.send_event(message([{"type": "text", "data": {"text": "still here"}}]))
    events = await harness.wait_events(2)
    assert isinstance(events[1], MessageEvent) and events[1].text == "still here"
    assert harness.adapter.accounts()["wxid_bot"].bad_frames == 1


async def test_signed_http_push_of_a_nested_body_is_400(make_harness: HarnessFactory) -> None:
    h = await make_harness(secret="push-secret")
    url = h.url("/onebot/v11/http")
    for depth in DEPTHS:
        body = nested(depth).encode()
        headers = {"X-Signature": signature(body, "push-secret"), "X-Self-ID": SELF}
        async with h.session.post(url, data=body, headers=headers) as resp:
            assert resp.status == 400, depth
    body = json.dumps(fi.group_message("normal push")).encode()
    async with h.session.post(url, data=body, headers={
            "X-Signature": signature(body, "push-secret"), "X-Self-ID": SELF}) as resp:
        assert resp.status == 204
    await wait_until(lambda: len(h.events) == 1)
    assert h.adapter.accounts()[SELF].bad_frames == len(DEPTHS)


def test_decode_frame_limits() -> None:
    ok = {"a": [[[[{"b": [1]}]]]]}
    assert decode_frame(json.dumps(ok)) == ok
    assert decode_frame(json.dumps(ok).encode()) == ok
    # Many brackets but shallow: accepted (the walk only runs when the count is high).
    wide = {"m": [[] for _ in range(3 * MAX_DEPTH)], "t": "[" * 200}
    assert decode_frame(json.dumps(wide)) == wide
    at_limit = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert decode_frame('{"x":' + at_limit + "}")
    for bad in ['{"x":' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}", "[" * 5000 + "]" * 5000,
                "{nope", "[]", b"\xff"]:
        with pytest.raises(BadFrame):
            decode_frame(bad)


async def test_token_is_still_checked_first(harness: Harness) -> None:
    # A nested body without a signature is refused on the signature, not parsed.
    async with harness.session.post(harness.url("/onebot/v11/http"),
                                    data=nested(100_000).encode()) as resp:
        assert resp.status == 401
