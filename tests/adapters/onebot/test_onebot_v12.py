"""OneBot 12 reverse WebSocket (ComWeChat-like): bots named by meta events, self in actions."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from bot.adapters.onebot import NotConnected
from bot.core.event import ChatRef, Image, MessageEvent, Text
from bot.core.message import OutgoingMessage

from .conftest import TOKEN, Harness, wait_until

PATH = "/onebot/v12/ws"
BOT = "wxid_bot"
ROOM = "123@chatroom"


def meta(detail_type: str, **fields: Any) -> dict[str, Any]:
    return {"id": "m", "time": time.time(), "type": "meta", "detail_type": detail_type,
            "sub_type": "", **fields}


def status_update(online: bool = True) -> dict[str, Any]:
    return meta("status_update", status={"good": True, "bots": [
        {"self": {"platform": "wechat", "user_id": BOT}, "online": online}]})


def group_message(text: str = "我的任务") -> dict[str, Any]:
    return {"id": "e1", "time": time.time(), "type": "message", "detail_type": "group",
            "sub_type": "", "message_id": "msg-1", "self": {"platform": "wechat", "user_id": BOT},
            "message": [{"type": "mention", "data": {"user_id": BOT}},
                        {"type": "text", "data": {"text": " " + text}}],
            "alt_message": text, "user_id": "wxid_alice", "group_id": ROOM}


async def test_connect_status_update_and_message(harness: Harness) -> None:
    impl = await harness.impl(PATH, v12=True, protocols=("12.ComWechat",))
    assert impl.ws is not None
    assert impl.ws.protocol == "12.ComWechat"
    await impl.send_event(meta("connect", version={"impl": "ComWechat", "version": "1",
                                                   "onebot_version": "12"}))
    await impl.send_event(status_update())
    await impl.send_event(meta("heartbeat", interval=5000))
    await impl.send_event(group_message())
    (event,) = await harness.wait_events(1)
    assert isinstance(event, MessageEvent)
    assert event.chat.key == f"wx:group:{ROOM}"
    assert event.to_me
    assert event.text == "我的任务"
    state = harness.adapter.accounts()[BOT]
    assert (state.platform, state.protocol, state.online) == ("wx", "v12", True)
    assert state.last_heartbeat is not None
    assert state.heartbeat_interval_ms == 5000
    assert harness.adapter.protocol_of(BOT) == "v12"


async def test_bot_learned_from_the_first_event(harness: Harness) -> None:
    impl = await harness.impl(PATH, v12=True)
    await impl.send_event(group_message())
    await harness.wait_events(1)
    assert harness.adapter.accounts()[BOT].connected
    assert await harness.adapter.call(BOT, "get_self_info") is None
    assert impl.actions[0]["self"] == {"platform": "wechat", "user_id": BOT}


async def test_send_message_with_data_true_gives_empty_id(harness: Harness) -> None:
    impl = await harness.impl(PATH, v12=True)
    impl.results["send_message"] = True  # ComWeChat's answer
    await impl.send_event(status_update())
    await wait_until(lambda: BOT in harness.adapter.accounts())
    msg = OutgoingMessage.text(ChatRef.parse(f"wx:group:{ROOM}"), "已收到")
    assert await harness.adapter.send_message(BOT, msg) == ""
    (req,) = impl.actions
    assert req["action"] == "send_message"
    assert req["params"] == {"detail_type": "group", "group_id": ROOM,
                             "message": [{"type": "text", "data": {"text": "已收到"}}]}
    assert req["self"] == {"platform": "wechat", "user_id": BOT}


async def test_url_media_is_uploaded_first(harness: Harness) -> None:
    impl = await harness.impl(PATH, v12=True)
    impl.results["upload_file"] = {"file_id": "up-1"}
    await impl.send_event(status_update())
    await wait_until(lambda: BOT in harness.adapter.accounts())
    msg = OutgoingMessage(ChatRef.parse("wx:user:wxid_alice"),
                          (Text("图"), Image(url="https://example.invalid/a.png", name="a.png")))
    assert await harness.adapter.send_message(BOT, msg) == "90001"
    upload, send = impl.actions
    assert upload["action"] == "upload_file"
    assert upload["params"] == {"type": "url", "url": "https://example.invalid/a.png",
                                "name": "a.png"}
    assert send["params"]["message"][1] == {"type": "image", "data": {"file_id": "up-1"}}


async def test_status_update_offline_and_disconnect(harness: Harness) -> None:
    impl = await harness.impl(PATH, v12=True)
    await impl.send_event(status_update(online=False))
    await wait_until(lambda: BOT in harness.adapter.accounts())
    assert harness.adapter.accounts()[BOT].online is False
    await impl.close()
    await wait_until(lambda: not harness.adapter.accounts()[BOT].connected)
    with pytest.raises(NotConnected):
        await harness.adapter.call(BOT, "get_self_info")


async def test_v12_auth_and_bad_frames(harness: Harness) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await harness.session.ws_connect(harness.ws_url(PATH))
    assert info.value.status == 401
    impl = await harness.impl(PATH, v12=True, token=TOKEN)
    await impl.send_event(status_update())
    await wait_until(lambda: BOT in harness.adapter.accounts())
    await impl.send_raw("nope")
    await impl.send_bytes(b"\x80")
    bad = group_message()
    bad["message"] = "CQ strings are not v12"
    await impl.send_event(bad)
    await impl.send_event(group_message("ok"))
    await harness.wait_events(1)
    assert harness.adapter.accounts()[BOT].bad_frames == 3


async def test_garbage_self_binds_no_account(harness: Harness) -> None:
    impl = await harness.impl(PATH, v12=True)
    bad = group_message()
    bad["self"] = {"platform": "wechat", "user_id": {"x": 1}}
    await impl.send_event(bad)
    await impl.send_event(meta("status_update", status={"bots": [{"self": None}, 5]}))
    await impl.send_event(group_message("ok"))
    await harness.wait_events(1)
    assert set(harness.adapter.accounts()) == {BOT}
