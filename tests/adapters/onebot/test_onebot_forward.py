"""Forward WebSocket client: the adapter connects out to a NapCat-like server and reconnects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from bot.adapters.onebot.transport import Backoff
from bot.core.event import MessageEvent

from . import fake_impl as fi
from .conftest import Harness, HarnessFactory, wait_until

SELF = str(fi.SELF_ID)


@dataclass
class ForwardServer:
    """NapCat's forward WS server: lifecycle first, then events; answers actions."""

    server: TestServer | None = None
    connections: int = 0
    auth: list[str] = field(default_factory=list)
    drop_first: bool = False
    sockets: list[web.WebSocketResponse] = field(default_factory=list)

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        self.connections += 1
        self.auth.append(request.headers.get("Authorization", ""))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        if self.drop_first and self.connections == 1:
            await ws.close()
            return ws
        await ws.send_str(json.dumps(fi.lifecycle()))
        await ws.send_str(json.dumps(fi.group_message(message_id=self.connections)))
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                req: dict[str, Any] = json.loads(msg.data)
                await ws.send_str(json.dumps({"status": "ok", "retcode": 0, "echo": req["echo"],
                                              "data": {"message_id": 1}}))
        return ws


@pytest.fixture
async def forward() -> AsyncIterator[ForwardServer]:
    fs = ForwardServer()
    app = web.Application()
    app.add_routes([web.get("/", fs.handler)])
    fs.server = TestServer(app, host="127.0.0.1", port=0)
    await fs.server.start_server()
    yield fs
    for ws in fs.sockets:
        await ws.close()
    await fs.server.close()


def _url(fs: ForwardServer) -> str:
    assert fs.server is not None
    return str(fs.server.make_url("/")).replace("http://", "ws://", 1)


async def test_forward_connects_learns_the_account_and_calls(
        harness: Harness, forward: ForwardServer) -> None:
    harness.adapter.start_forward(_url(forward), access_token="fwd-token")
    (event,) = await harness.wait_events(1)
    assert isinstance(event, MessageEvent)
    assert event.self_id == SELF
    state = harness.adapter.accounts()[SELF]
    assert state.connected
    assert state.online is True
    assert state.frames_in == 2
    assert await harness.adapter.call(SELF, "get_status") == {"message_id": 1}
    assert forward.auth == ["Bearer fwd-token"]


async def test_forward_reconnects_with_backoff(make_harness: HarnessFactory,
                                               forward: ForwardServer) -> None:
    h = await make_harness()
    forward.drop_first = True
    h.adapter.start_forward(_url(forward), backoff=Backoff(0.05, 0.2))
    await h.wait_events(1)
    assert forward.connections == 2
    await h.adapter.close()
    await wait_until(lambda: not h.adapter.accounts()[SELF].connected)
    await asyncio.sleep(0.3)
    assert forward.connections == 2


async def test_forward_to_nowhere_keeps_retrying_until_close(harness: Harness) -> None:
    harness.adapter.start_forward("ws://127.0.0.1:9/", backoff=Backoff(0.01, 0.02))
    await asyncio.sleep(0.1)
    await harness.adapter.close()
    assert harness.adapter.accounts() == {}


def test_backoff_doubles_to_the_cap() -> None:
    b = Backoff(1, 60)
    delays = [b.next_delay() for _ in range(9)]
    for got, want in zip(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60], strict=True):
        assert want * 0.9 <= got <= want * 1.1
    b.reset()
    assert b.next_delay() <= 1.1
