"""HTTP event push (POST /onebot/v11/http): signature check, 204 at once, state."""

from __future__ import annotations

import json

import pytest

from bot.adapters.onebot.transport import signature
from bot.core.event import MessageEvent

from . import fake_impl as fi
from .conftest import TOKEN, Harness, HarnessFactory

SELF = str(fi.SELF_ID)


async def _post(h: Harness, body: bytes, headers: dict[str, str], path: str = "/onebot/v11/http"
                ) -> int:
    async with h.session.post(h.url(path), data=body, headers={
            "Content-Type": "application/json", "X-Self-ID": SELF, **headers}) as resp:
        assert await resp.read() == b"" or resp.status != 204
        return resp.status


@pytest.mark.parametrize("path", ["/onebot/v11/http", "/onebot/v11/"])
async def test_signed_push_is_accepted(make_harness: HarnessFactory, path: str) -> None:
    h = await make_harness(secret="push-secret")
    body = json.dumps(fi.group_message("提交 报告")).encode()
    status = await _post(h, body, {"X-Signature": signature(body, "push-secret")}, path)
    assert status == 204
    (event,) = h.events
    assert isinstance(event, MessageEvent)
    assert event.text == "提交 报告"
    state = h.adapter.accounts()[SELF]
    assert state.protocol == "v11-http"
    assert state.frames_in == 1
    assert not state.connected


async def test_token_is_the_key_without_a_secret(harness: Harness) -> None:
    body = json.dumps(fi.private_message()).encode()
    assert await _post(harness, body, {"X-Signature": signature(body, TOKEN)}) == 204
    assert len(harness.events) == 1


async def test_uppercase_hex_signature_is_accepted(harness: Harness) -> None:
    body = json.dumps(fi.private_message()).encode()
    sig = "sha1=" + signature(body, TOKEN).removeprefix("sha1=").upper()
    assert await _post(harness, body, {"X-Signature": sig}) == 204


async def test_missing_signature_is_401(harness: Harness) -> None:
    body = json.dumps(fi.private_message()).encode()
    assert await _post(harness, body, {}) == 401
    assert harness.events == []


async def test_forged_signature_is_403(make_harness: HarnessFactory) -> None:
    h = await make_harness(secret="push-secret")
    body = json.dumps(fi.private_message()).encode()
    forged = json.dumps(fi.private_message("绑定 郑州市")).encode()
    assert await _post(h, forged, {"X-Signature": signature(body, "push-secret")}) == 403
    assert await _post(h, body, {"X-Signature": signature(body, TOKEN)}) == 403  # wrong key
    assert await _post(h, body, {"X-Signature": "md5=abc"}) == 403
    assert h.events == []


async def test_no_key_configured_accepts_unsigned(make_harness: HarnessFactory) -> None:
    h = await make_harness(access_token="")
    assert await _post(h, json.dumps(fi.private_message()).encode(), {}) == 204
    assert len(h.events) == 1


async def test_bad_bodies(make_harness: HarnessFactory) -> None:
    h = await make_harness(access_token="")
    assert await _post(h, b"{nope", {}) == 400
    assert await _post(h, b"[1]", {}) == 400
    assert await _post(h, b"\xff\xfe", {}) == 400
    # A well-formed object with impossible types is counted but still answered 204: the
    # implementation must not retry it.
    assert await _post(h, json.dumps(fi.group_message(message_id=[1])).encode(), {}) == 204
    assert h.adapter.accounts()[SELF].bad_frames == 4
    assert h.events == []


async def test_heartbeat_and_ignored_events(make_harness: HarnessFactory) -> None:
    h = await make_harness(access_token="")
    for p in (fi.heartbeat(online=False), fi.request("friend"), fi.lifecycle("enable")):
        assert await _post(h, json.dumps(p).encode(), {}) == 204
    assert h.events == []
    state = h.adapter.accounts()[SELF]
    assert state.online is True
    assert state.last_heartbeat is not None


async def test_body_over_the_limit_is_413(make_harness: HarnessFactory) -> None:
    h = await make_harness(access_token="", push_max_bytes=1024)
    body = json.dumps(fi.group_message("x" * 2000)).encode()
    assert await _post(h, body, {}) == 413


async def test_account_from_the_payload_without_x_self_id(make_harness: HarnessFactory) -> None:
    h = await make_harness(access_token="")
    async with h.session.post(h.url("/onebot/v11/http"),
                              data=json.dumps(fi.private_message())) as resp:
        assert resp.status == 204
    assert h.adapter.accounts()[SELF].frames_in == 1
