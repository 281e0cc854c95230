"""Reverse WebSocket (v11) end to end: real sockets between the adapter and a fake NapCat."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import aiohttp
import pytest

from bot.adapters.onebot import ActionFailed, ActionTimeout, NotConnected
from bot.core.event import ChatRef, File, Mention, MessageEvent, NoticeEvent, Reply, Text
from bot.core.message import OutgoingMessage

from . import fake_impl as fi
from .conftest import TOKEN, Harness, HarnessFactory, wait_until

SELF = str(fi.SELF_ID)


# --- handshake and authentication ------------------------------------------------------------


@pytest.mark.parametrize(("scheme", "path"), [
    ("Bearer", "/onebot/v11/ws"),
    ("bearer", "/onebot/v11/ws/"),
    ("Token", "/onebot/v11/"),  # go-cqhttp's legacy scheme, nonebot's alternative paths
    ("TOKEN", "/onebot/v11/ws"),
])
async def test_header_token_schemes_are_accepted(harness: Harness, scheme: str, path: str) -> None:
    impl = await harness.impl(path, scheme=scheme)
    await impl.send_event(fi.group_message())
    (event,) = await harness.wait_events(1)
    assert isinstance(event, MessageEvent)
    assert harness.adapter.accounts()[SELF].connected


async def test_query_token_is_accepted(harness: Harness) -> None:
    impl = await harness.impl(f"/onebot/v11/ws?access_token={TOKEN}", token=None)
    await impl.send_event(fi.private_message())
    await harness.wait_events(1)


async def test_empty_bearer_falls_back_to_query(harness: Harness) -> None:
    # NapCat sends "Bearer " when its own token field is empty.
    impl = await harness.impl(f"/onebot/v11/ws?access_token={TOKEN}", token="")
    await impl.send_event(fi.private_message())
    await harness.wait_events(1)


async def _handshake_status(h: Harness, path: str = "/onebot/v11/ws",
                            headers: dict[str, str] | None = None) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await h.session.ws_connect(h.ws_url(path), headers=headers or {})
    return info.value.status


async def test_missing_token_is_401(harness: Harness) -> None:
    assert await _handshake_status(harness, headers={"X-Self-ID": SELF}) == 401
    assert await _handshake_status(
        harness, headers={"X-Self-ID": SELF, "Authorization": "Bearer "}) == 401


async def test_wrong_token_is_403(harness: Harness) -> None:
    for auth in ("Bearer nope", "Token nope", f"Basic {TOKEN}"):
        status = await _handshake_status(
            harness, headers={"X-Self-ID": SELF, "Authorization": auth})
        assert status == 403, auth
    assert await _handshake_status(harness, "/onebot/v11/ws?access_token=nope",
                                   headers={"X-Self-ID": SELF}) == 403
    assert SELF not in harness.adapter.accounts()


async def test_missing_self_id_is_400(harness: Harness) -> None:
    status = await _handshake_status(harness, headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 400


async def test_no_token_configured_accepts_anything(make_harness: HarnessFactory) -> None:
    h = await make_harness(access_token="")
    impl = await h.impl(token="")  # NapCat: "Bearer " with no token
    await impl.send_event(fi.private_message())
    await h.wait_events(1)


async def test_a_new_socket_replaces_the_old_one(harness: Harness) -> None:
    old = await harness.impl()
    old.silent.add("get_status")
    pending = asyncio.create_task(harness.adapter.call(SELF, "get_status"))
    await old.wait_actions(1)

    new = await harness.impl()
    with pytest.raises(NotConnected):
        await asyncio.wait_for(pending, 2)
    await asyncio.wait_for(old.closed.wait(), 3)
    assert old.close_code == 1000
    assert old.ws is not None
    assert old.ws.closed

    # The account now lives on the new socket, and the old one closing did not disconnect it.
    await new.send_event(fi.group_message())
    await harness.wait_events(1)
    state = harness.adapter.accounts()[SELF]
    assert state.connected
    assert await harness.adapter.call(SELF, "get_login_info") == {"user_id": fi.SELF_ID,
                                                                   "nickname": "督导"}
    assert len(new.actions) == 1


async def test_disconnect_updates_state(harness: Harness) -> None:
    impl = await harness.impl()
    await impl.close()
    await wait_until(lambda: not harness.adapter.accounts()[SELF].connected)
    with pytest.raises(NotConnected):
        await harness.adapter.call(SELF, "get_status")


# --- events -----------------------------------------------------------------------------------


async def test_every_event_kind_of_the_reference(harness: Harness) -> None:
    impl = await harness.impl()
    await impl.send_event(fi.lifecycle())
    payloads = [
        fi.private_message("帮助"),
        fi.group_message(message=[fi.seg("at", qq=SELF), fi.seg("text", text=" 进度")]),
        fi.group_upload(),
        fi.group_message(message=[fi.seg("file", file="报告.docx", file_id="/7e079f92-aaaa",
                                         file_size=20480)], message_id=1002),
        fi.notice("group_increase", sub_type="approve", group_id=fi.GROUP_ID,
                  user_id=fi.USER_ID, operator_id=10086),
        fi.notice("group_decrease", sub_type="kick_me", group_id=fi.GROUP_ID, user_id=fi.SELF_ID,
                  operator_id=fi.USER_ID),
        fi.notice("group_recall", group_id=fi.GROUP_ID, user_id=fi.USER_ID,
                  operator_id=fi.USER_ID, message_id=1001),
        fi.notice("group_msg_emoji_like", group_id=fi.GROUP_ID, user_id=fi.USER_ID,
                  message_id=1001, likes=[{"emoji_id": "76", "count": 1}]),
        fi.request("friend"),
        fi.request("group", sub_type="invite", group_id=fi.GROUP_ID),
        fi.notice("some_future_notice", user_id=fi.USER_ID),
        {"post_type": "message_sent", "self_id": fi.SELF_ID, "message_type": "group",
         "group_id": fi.GROUP_ID, "user_id": fi.SELF_ID, "message_id": 5, "message": []},
        fi.group_message("已收到", user_id=fi.SELF_ID, message_id=1003),  # own message
    ]
    for p in payloads:
        await impl.send_event(p)
    await impl.send_event(fi.private_message("最后", message_id=2999))
    await wait_until(lambda: any(isinstance(e, MessageEvent) and e.message_id == "2999"
                                 for e in harness.events))
    events = harness.events[:-1]
    kinds = [e.kind if isinstance(e, NoticeEvent) else "message" for e in events]
    assert kinds == ["message", "message", "group_upload", "message", "group_increase",
                     "group_decrease", "group_recall", "reaction", "unknown:some_future_notice"]
    private, at_me, upload, file_msg = events[:4]
    assert isinstance(private, MessageEvent)
    assert private.to_me
    assert private.chat == ChatRef.parse(f"qq:user:{fi.USER_ID}")
    assert isinstance(at_me, MessageEvent)
    assert at_me.to_me
    assert at_me.text == "进度"
    assert isinstance(upload, NoticeEvent)
    assert upload.detail["file_id"] == "/7e079f92-aaaa"
    assert isinstance(file_msg, MessageEvent)
    assert file_msg.attachments == (File(name="报告.docx", file_id="/7e079f92-aaaa", size=20480),)
    reaction = events[7]
    assert isinstance(reaction, NoticeEvent)
    assert reaction.detail["emoji"] == "👍"
    state = harness.adapter.accounts()[SELF]
    assert state.online is True  # from lifecycle connect
    assert state.bad_frames == 0
    assert state.frames_in == len(payloads) + 2


async def test_heartbeat_updates_online_state(harness: Harness) -> None:
    impl = await harness.impl()
    assert harness.adapter.accounts()[SELF].online is None
    await impl.send_event(fi.heartbeat(online=True, interval=5000))
    await wait_until(lambda: harness.adapter.accounts()[SELF].last_heartbeat is not None)
    assert harness.adapter.accounts()[SELF].online is True
    assert harness.adapter.accounts()[SELF].heartbeat_interval_ms == 5000
    await impl.send_event(fi.heartbeat(online=False))
    await wait_until(lambda: harness.adapter.accounts()[SELF].online is False)
    state = harness.adapter.accounts()[SELF]
    assert state.connected
    assert state.platform == "qq"
    assert state.protocol == "v11"
    assert state.connected_at is not None
    assert harness.events == []


async def test_duplicates_are_passed_through(harness: Harness) -> None:
    impl = await harness.impl()
    for _ in range(3):
        await impl.send_event(fi.group_message(message_id=7))
    events = await harness.wait_events(3)
    assert len({e.dedupe_key for e in events}) == 1


async def test_sink_errors_do_not_break_the_reader(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    calls: list[object] = []

    def sink(event: object) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("queue full")

    h.adapter._sink = sink  # the only way to swap the sink after construction in a test
    impl = await h.impl()
    await impl.send_event(fi.group_message(message_id=1))
    await impl.send_event(fi.group_message(message_id=2))
    await wait_until(lambda: len(calls) == 2)


# --- malformed frames -------------------------------------------------------------------------


async def test_malformed_frames_are_counted_and_the_socket_stays_up(harness: Harness) -> None:
    impl = await harness.impl()
    await impl.send_raw("{not json")
    await impl.send_raw("[1, 2, 3]")
    await impl.send_raw('"just a string"')
    await impl.send_event(fi.group_message(message_id={"oops": 1}))
    await impl.send_event(fi.group_message(message="x", group_id=[1]))
    await impl.send_event(fi.group_message(message=42))
    await impl.send_event(fi.group_message(message=[{"type": "text", "data": "not an object"}]))
    await impl.send_event(fi.group_message(time={"t": 1}))
    await impl.send_event(fi.notice("group_upload", group_id=fi.GROUP_ID, user_id=fi.USER_ID,
                                    file="not an object"))
    await impl.send_bytes(b"\x81\xa4type\xa7message")  # MessagePack: not supported
    await impl.send_event(fi.group_message("still alive", message_id=5))
    (event,) = await harness.wait_events(1)
    assert isinstance(event, MessageEvent)
    assert event.text == "still alive"
    state = harness.adapter.accounts()[SELF]
    assert state.bad_frames == 10
    assert state.frames_in == 11
    assert state.connected
    assert impl.ws is not None
    assert not impl.ws.closed


async def test_a_5_mib_frame_under_the_limit_is_accepted(harness: Harness) -> None:
    impl = await harness.impl()
    big = "报" * (5 * 1024 * 1024 // 3)  # ~5 MiB of UTF-8
    await impl.send_event(fi.group_message(big, raw_message=""))
    (event,) = await harness.wait_events(1, within=10)
    assert isinstance(event, MessageEvent)
    assert len(event.text) == len(big)


async def test_a_frame_over_the_limit_closes_the_socket_cleanly(
        make_harness: HarnessFactory) -> None:
    h = await make_harness(max_frame_bytes=4 * 1024 * 1024)
    impl = await h.impl()
    # aiohttp refuses the frame from its header and closes with 1009 while we are still
    # writing, so the sender may see a reset instead of the close frame.
    with contextlib.suppress(ConnectionError):
        await impl.send_raw("x" * (5 * 1024 * 1024))
    await asyncio.wait_for(impl.closed.wait(), 5)
    assert impl.close_code in (1009, 1006, None)
    await wait_until(lambda: not h.adapter.accounts()[SELF].connected)
    state = h.adapter.accounts()[SELF]
    assert state.bad_frames == 1
    # The implementation reconnects, as they all do, and everything works again.
    again = await h.impl()
    await again.send_event(fi.private_message())
    await h.wait_events(1)


# --- actions ----------------------------------------------------------------------------------


async def test_send_group_message_uses_a_segment_array(harness: Harness) -> None:
    impl = await harness.impl()
    chat = ChatRef.parse(f"qq:group:{fi.GROUP_ID}")
    msg = OutgoingMessage(chat, (Reply("1001"), Mention("20000001"), Text(" 已收到 [1]&,")))
    message_id = await harness.adapter.send_message(SELF, msg)
    assert message_id == "90001"
    (req,) = impl.actions
    assert req["action"] == "send_group_msg"
    assert req["params"]["group_id"] == fi.GROUP_ID
    assert req["params"]["message"] == [
        {"type": "reply", "data": {"id": "1001"}},
        {"type": "at", "data": {"qq": "20000001"}},
        {"type": "text", "data": {"text": " 已收到 [1]&,"}},
    ]
    assert isinstance(req["echo"], str)


async def test_send_private_message(harness: Harness) -> None:
    impl = await harness.impl()
    msg = OutgoingMessage.text(ChatRef.parse(f"qq:user:{fi.USER_ID}"), "你好")
    assert await harness.adapter.send_message(SELF, msg) == "90001"
    assert impl.actions[0]["action"] == "send_private_msg"
    assert impl.actions[0]["params"]["user_id"] == fi.USER_ID


async def test_echoes_are_unique_and_concurrent_calls_resolve(harness: Harness) -> None:
    impl = await harness.impl()
    results = await asyncio.gather(*(harness.adapter.call(SELF, "send_msg", {"n": i})
                                     for i in range(50)))
    assert len({r["message_id"] for r in results}) == 50
    assert len({a["echo"] for a in impl.actions}) == 50


async def test_risk_control_failure_raises_action_failed(harness: Harness) -> None:
    impl = await harness.impl()
    impl.failures["send_group_msg"] = {
        "retcode": 1200,
        "message": "Timeout: NTEvent serviceAndMethod:NodeIKernelMsgService/sendMsg",
        "wording": "Timeout: NTEvent serviceAndMethod:NodeIKernelMsgService/sendMsg"}
    msg = OutgoingMessage.text(ChatRef.parse(f"qq:group:{fi.GROUP_ID}"), "x")
    with pytest.raises(ActionFailed) as info:
        await harness.adapter.send_message(SELF, msg)
    assert info.value.retcode == 1200
    assert info.value.risk_control
    assert "sendMsg" in info.value.message


async def test_no_answer_times_out_and_leaves_nothing_pending(harness: Harness) -> None:
    impl = await harness.impl()
    impl.silent.add("get_status")
    started = time.monotonic()
    with pytest.raises(ActionTimeout):
        await harness.adapter.call(SELF, "get_status", timeout=0.2)
    assert time.monotonic() - started < 1.5
    conn = harness.adapter._by_self[SELF]
    assert len(conn.store) == 0


async def test_socket_dying_mid_call_fails_callers_quickly(harness: Harness) -> None:
    impl = await harness.impl()
    impl.silent.add("get_status")
    impl.die_on.add("get_group_list")
    slow = asyncio.create_task(harness.adapter.call(SELF, "get_status"))
    await impl.wait_actions(1)
    started = time.monotonic()
    with pytest.raises(NotConnected):
        await harness.adapter.call(SELF, "get_group_list")
    with pytest.raises(NotConnected):
        await slow
    assert time.monotonic() - started < 2
    await wait_until(lambda: not harness.adapter.accounts()[SELF].connected)
    with pytest.raises(NotConnected):
        await harness.adapter.call(SELF, "get_status")


async def test_stray_responses_are_dropped(harness: Harness) -> None:
    impl = await harness.impl()
    await impl.send_raw(json.dumps({"status": "ok", "retcode": 0, "data": None, "echo": "nobody"}))
    await impl.send_raw(json.dumps({"status": "ok", "retcode": 0, "data": None}))
    await impl.send_event(fi.private_message())
    await harness.wait_events(1)
    conn = harness.adapter._by_self[SELF]
    assert conn.store.stray == 2
    assert harness.adapter.accounts()[SELF].bad_frames == 0
    assert await harness.adapter.call(SELF, "get_login_info") is not None


async def test_unknown_account_is_not_connected(harness: Harness) -> None:
    with pytest.raises(NotConnected):
        await harness.adapter.call("424242", "get_status")
    with pytest.raises(NotConnected):
        await harness.adapter.send_message("424242", OutgoingMessage.text(
            ChatRef.parse("qq:group:1"), "x"))


async def test_close_fails_pending_calls_and_closes_sockets(harness: Harness) -> None:
    impl = await harness.impl()
    impl.silent.add("get_status")
    pending = asyncio.create_task(harness.adapter.call(SELF, "get_status"))
    await impl.wait_actions(1)
    await harness.adapter.close()
    with pytest.raises(NotConnected):
        await pending
    await asyncio.wait_for(impl.closed.wait(), 3)
    assert impl.close_code == 1001
    status = await _handshake_status(harness, headers={"X-Self-ID": SELF,
                                                       "Authorization": f"Bearer {TOKEN}"})
    assert status == 503


async def test_several_accounts_are_kept_apart(harness: Harness) -> None:
    a = await harness.impl(self_id=111)
    b = await harness.impl(self_id=222)
    await harness.adapter.call("111", "get_status")
    await harness.adapter.call("222", "get_status")
    await harness.adapter.call("222", "get_status")
    assert (len(a.actions), len(b.actions)) == (1, 2)
    assert set(harness.adapter.accounts()) == {"111", "222"}
