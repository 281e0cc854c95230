"""Hypothesis over the OneBot codecs and the frame router: bad input is refused, never a crash.

The codecs may return an event, return None, or raise MalformedEvent; anything else is a bug (the
adapter would log "decoder error"). The router is driven over real sockets: after every junk
frame a valid event must still come through the same socket, no error may be logged, and the
HTTP push endpoint answers every body with a 2xx/4xx, never 5xx. Memory stays flat over
thousands of frames.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import logging
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.onebot import OneBotAdapter, codec_v11, codec_v12, cq
from bot.adapters.onebot.values import MalformedEvent
from bot.core.event import Event, MessageEvent
from tests.adapters.onebot.fake_impl import FakeImpl, group_message

TOKEN = "fuzz-token"
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ---------------------------------------------------------------------------------- strategies

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=25)
ids = st.one_of(st.integers(-5, 2**64), st.text(max_size=20), st.none(), st.floats(), st.lists(
    st.integers(), max_size=2))
seg_types = st.sampled_from(["text", "at", "reply", "image", "file", "face", "record", "video",
                             "json", "forward", "mention", "mention_all", "", "TEXT"])
segments = st.lists(st.fixed_dictionaries(
    {"type": st.one_of(seg_types, json_values)},
    optional={"data": st.one_of(st.dictionaries(
        st.sampled_from(["text", "qq", "id", "file", "url", "name", "file_id", "user_id",
                         "file_size", "busid", "summary", "sub_type"]),
        st.one_of(scalars, ids), max_size=5), json_values)}), max_size=5)
messages = st.one_of(segments, st.text(max_size=80), json_values)

v11_payloads = st.fixed_dictionaries(
    {"post_type": st.one_of(st.sampled_from(
        ["message", "notice", "request", "meta_event", "message_sent"]), json_values)},
    optional={
        "message_type": st.one_of(st.sampled_from(["group", "private", "guild"]), json_values),
        "sub_type": st.one_of(st.sampled_from(["normal", "friend", "group", "anonymous",
                                                "connect", "add", "poke"]), json_values),
        "notice_type": st.one_of(st.sampled_from(
            ["group_upload", "group_increase", "group_decrease", "notify", "group_msg_emoji_like",
             "reaction", "friend_add", "group_recall", "offline_file"]), json_values),
        "message_id": ids, "user_id": ids, "group_id": ids, "self_id": ids, "target_id": ids,
        "operator_id": ids, "time": st.one_of(st.integers(-(2**40), 2**40), st.floats(),
                                              st.text(max_size=10), st.none()),
        "message": messages, "raw_message": st.text(max_size=40),
        "sender": st.one_of(st.dictionaries(st.sampled_from(["user_id", "nickname", "card",
                                                            "role"]), st.one_of(scalars, ids)),
                            json_values),
        "file": json_values, "likes": json_values, "anonymous": json_values,
        "message_format": st.sampled_from(["array", "string", "x"]),
    })

v12_payloads = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["message", "notice", "request", "meta"]), json_values)},
    optional={
        "detail_type": st.one_of(st.sampled_from(
            ["group", "private", "channel", "group_member_increase", "friend_increase",
             "private_message_delete"]), json_values),
        "sub_type": st.one_of(st.text(max_size=10), json_values),
        "self": st.one_of(st.fixed_dictionaries({}, optional={"platform": st.one_of(
            st.sampled_from(["wechat", "qq", ""]), json_values), "user_id": ids}), json_values),
        "message_id": ids, "user_id": ids, "group_id": ids, "id": ids,
        "time": st.one_of(st.floats(), st.integers(), st.text(max_size=10), st.none()),
        "message": messages, "alt_message": st.text(max_size=40),
    })


def _decode_or_refuse(decode: Any, payload: dict[str, Any]) -> Event | None:
    try:
        event = decode(payload)
    except MalformedEvent:
        return None
    if event is not None:
        # What the pipeline reads from an event must be usable.
        assert isinstance(event.dedupe_key, str)
        if isinstance(event, MessageEvent):
            assert isinstance(event.text, str)
            assert isinstance(event.chat.key, str)
    return event


@FUZZ
@given(v11_payloads)
def test_fuzz_v11_codec_refuses_or_decodes(payload: dict[str, Any]) -> None:
    _decode_or_refuse(codec_v11.decode_event, payload)


@FUZZ
@given(st.dictionaries(st.text(max_size=15), json_values, max_size=8))
def test_fuzz_v11_codec_arbitrary_objects(payload: dict[str, Any]) -> None:
    _decode_or_refuse(codec_v11.decode_event, payload)


@FUZZ
@given(v12_payloads)
def test_fuzz_v12_codec_refuses_or_decodes(payload: dict[str, Any]) -> None:
    _decode_or_refuse(codec_v12.decode_event, payload)


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_cq_parse_never_raises(text: str) -> None:
    parsed = cq.parse(text)
    assert isinstance(parsed, list)


@FUZZ
@given(st.text(min_size=1, max_size=100))
def test_fuzz_cq_text_escaping_round_trips(text: str) -> None:
    parsed = cq.parse(cq.escape_text(text))
    assert "".join(str(s["data"]["text"]) for s in parsed if s["type"] == "text") == text


# ---------------------------------------------------------------------------------- the router


@dataclass
class Router:
    """The adapter on a real 127.0.0.1 server, with its own loop (hypothesis tests are sync)."""

    loop: asyncio.AbstractEventLoop
    adapter: OneBotAdapter
    server: TestServer
    session: aiohttp.ClientSession
    v11: FakeImpl
    v12_ws: aiohttp.ClientWebSocketResponse
    events: list[Event] = field(default_factory=list)
    count: int = 0
    keep: bool = True
    errors: list[logging.LogRecord] = field(default_factory=list)
    next_id: int = 1_000_000

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, 30))

    def sink(self, event: Event) -> None:
        self.count += 1
        if self.keep:
            self.events.append(event)

    async def sentinel(self, v12: bool = False) -> None:
        """A valid event after the junk: it arrives only if the socket's reader is still fine."""
        self.next_id += 1
        want = str(self.next_id)
        if v12:
            await self.v12_ws.send_str(json.dumps(v12_message(want)))
        else:
            await self.v11.send_event(group_message("提交 哨兵", message_id=self.next_id))
        async with asyncio.timeout(10):
            while not any(isinstance(e, MessageEvent) and e.message_id == want  # noqa: ASYNC110
                          for e in self.events[-5:]):
                await asyncio.sleep(0.001)
        self.events.clear()


def v12_message(message_id: str) -> dict[str, Any]:
    return {"id": "e" + message_id, "time": 1767225600.0, "type": "message",
            "detail_type": "group", "sub_type": "", "message_id": message_id,
            "self": {"platform": "wechat", "user_id": "wxid_bot"},
            "message": [{"type": "text", "data": {"text": "提交 哨兵"}}],
            "alt_message": "提交 哨兵", "user_id": "wxid_alice", "group_id": "123@chatroom"}


class _Errors(logging.Handler):
    def __init__(self, sink: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record)


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    loop = asyncio.new_event_loop()
    holder: dict[str, Router] = {}

    def sink(event: Event) -> None:
        holder["r"].sink(event)

    adapter = OneBotAdapter(access_token=TOKEN, sink=sink, max_frame_bytes=256 * 1024)
    app = web.Application()
    app.add_routes(adapter.routes())
    server = TestServer(app, loop=loop)
    loop.run_until_complete(server.start_server())

    async def new_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    session = loop.run_until_complete(new_session())
    opened: list[Any] = []

    async def connect() -> tuple[FakeImpl, aiohttp.ClientWebSocketResponse]:
        def ws(path: str) -> str:
            return str(server.make_url(path)).replace("http://", "ws://", 1)

        v11 = await FakeImpl(session, ws("/onebot/v11/ws"), token=TOKEN).connect()
        opened.append(v11)
        v12 = await session.ws_connect(ws("/onebot/v12/ws"), protocols=("12.fuzz",),
                                       headers={"Authorization": f"Bearer {TOKEN}"})
        opened.append(v12)
        return v11, v12

    handler = _Errors([])

    async def close() -> None:
        for conn in reversed(opened):
            await conn.close()
        await session.close()
        await adapter.close()
        await server.close()

    try:
        v11, v12 = loop.run_until_complete(connect())
        r = Router(loop, adapter, server, session, v11, v12, errors=handler.sink)
        holder["r"] = r
        logging.getLogger("dudao.onebot").addHandler(handler)
        yield r
    finally:
        logging.getLogger("dudao.onebot").removeHandler(handler)
        loop.run_until_complete(close())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


frames = st.one_of(
    v11_payloads.map(lambda p: json.dumps(p, allow_nan=True)),
    st.dictionaries(st.text(max_size=10), json_values, max_size=6).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=300),
    st.sampled_from(["", "{", "[]", "null", '{"post_type":', '{"echo": 1}', '{"status":"ok"}',
                     '{"echo":"nope","status":"ok","data":null}', "\ud800".encode(
                         "utf-8", "surrogatepass").decode("utf-8", "replace")]),
)


@FUZZ
@given(st.lists(st.one_of(frames, st.binary(max_size=200)), min_size=1, max_size=5))
def test_fuzz_v11_socket_survives_any_frame(router: Router, batch: list[str | bytes]) -> None:
    async def go() -> None:
        for frame in batch:
            if isinstance(frame, bytes):
                await router.v11.send_bytes(frame)
            else:
                await router.v11.send_raw(frame)
        await router.sentinel()

    router.run(go())
    assert not router.v11.closed.is_set()
    assert not router.errors, [r.getMessage() for r in router.errors]


@FUZZ
@given(st.lists(st.one_of(v12_payloads.map(lambda p: json.dumps(p, allow_nan=True)), frames),
                min_size=1, max_size=5))
def test_fuzz_v12_socket_survives_any_frame(router: Router, batch: list[str]) -> None:
    async def go() -> None:
        for frame in batch:
            await router.v12_ws.send_str(frame)
        await router.sentinel(v12=True)

    router.run(go())
    assert not router.v12_ws.closed
    assert not router.errors, [r.getMessage() for r in router.errors]


def _sign(body: bytes) -> str:
    return "sha1=" + hmac.new(TOKEN.encode(), body, hashlib.sha1).hexdigest()


@FUZZ
@given(st.one_of(frames.map(lambda s: s.encode("utf-8", "surrogatepass")), st.binary(max_size=300)),
       st.sampled_from(["signed", "unsigned", "wrong"]),
       st.one_of(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126),
                                    max_size=12)))
def test_fuzz_http_push_never_5xx(router: Router, body: bytes, auth: str,
                                  self_id: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if auth == "signed":
        headers["X-Signature"] = _sign(body)
    elif auth == "wrong":
        headers["X-Signature"] = "sha1=" + "0" * 40
    if self_id is not None:
        headers["X-Self-ID"] = self_id

    async def go() -> int:
        async with router.session.post(router.server.make_url("/onebot/v11/http"), data=body,
                                       headers=headers) as resp:
            return resp.status

    status = router.run(go())
    assert status < 500
    assert status in (204, 400, 401, 403), status
    assert not router.errors, [r.getMessage() for r in router.errors]


def _ours(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    """Traced allocations, leaving out pytest's own capture of the log records we emit."""
    return snapshot.filter_traces([tracemalloc.Filter(False, "*/_pytest/*"),
                                   tracemalloc.Filter(False, logging.__file__),
                                   tracemalloc.Filter(False, tracemalloc.__file__)])


def test_fuzz_router_memory_is_flat(router: Router) -> None:
    """Thousands of mixed good and bad frames: traced memory does not keep growing."""
    junk = ["{", "[1,2]", json.dumps({"post_type": "message", "message_type": "group"}),
            json.dumps({"post_type": "notice", "notice_type": "group_upload", "file": 3}),
            json.dumps({"echo": "x", "status": "ok"}), "x" * 2000]
    router.keep = False  # the sink counts; a real dispatcher is not part of this measurement

    async def round_(n: int) -> None:
        for i in range(n):
            await router.v11.send_raw(junk[i % len(junk)])
            if i % 3 == 0:
                router.next_id += 1
                await router.v11.send_event(group_message("提交 材料", message_id=router.next_id))
        target = router.count + 1
        router.next_id += 1
        await router.v11.send_event(group_message("提交 材料", message_id=router.next_id))
        async with asyncio.timeout(30):
            while router.count < target:  # noqa: ASYNC110 - the sink is a plain callback
                await asyncio.sleep(0.001)

    # pytest keeps every log record it captures; that is not the adapter's memory.
    quiet = logging.getLogger("dudao.onebot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        router.run(round_(2000))  # warm-up: caches, logging limiter, pools
        gc.collect()
        tracemalloc.start()
        try:
            router.run(round_(2000))
            gc.collect()
            base = _ours(tracemalloc.take_snapshot())
            router.run(round_(6000))
            gc.collect()
            after = _ours(tracemalloc.take_snapshot())
        finally:
            tracemalloc.stop()
    finally:
        router.keep = True
        quiet.setLevel(level)
    diff = after.compare_to(base, "lineno")
    growth = sum(d.size_diff for d in diff)
    top = "\n".join(str(d) for d in diff[:8])
    assert growth < 512 * 1024, f"memory grew by {growth / 1024:.0f} KiB over 6,000 frames:\n{top}"
    assert not router.errors
