"""Fixtures: the adapter's routes on a real 127.0.0.1 server, a list sink, fake implementations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.onebot import OneBotAdapter
from bot.core.event import Event

from .fake_impl import FakeImpl

TOKEN = "s3cret-token"


@dataclass
class Harness:
    adapter: OneBotAdapter
    events: list[Event]
    server: TestServer
    session: aiohttp.ClientSession
    impls: list[FakeImpl] = field(default_factory=list)

    def url(self, path: str = "/onebot/v11/ws") -> str:
        return str(self.server.make_url(path))

    def ws_url(self, path: str = "/onebot/v11/ws") -> str:
        return self.url(path).replace("http://", "ws://", 1)

    async def impl(self, path: str = "/onebot/v11/ws", *, token: str | None = TOKEN,
                   **kw: Any) -> FakeImpl:
        impl = FakeImpl(self.session, self.ws_url(path), token=token, **kw)
        self.impls.append(impl)
        return await impl.connect()

    async def wait_events(self, n: int, within: float = 3.0) -> list[Event]:
        await wait_until(lambda: len(self.events) >= n, within)
        return self.events


async def wait_until(pred: Callable[[], bool], within: float = 3.0) -> None:
    """Poll ``pred``: what we wait for is state inside the adapter, which signals nothing."""
    async with asyncio.timeout(within):
        while True:
            if pred():
                return
            await asyncio.sleep(0.005)


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_harness() -> AsyncIterator[HarnessFactory]:
    made: list[Harness] = []

    async def factory(**adapter_kw: Any) -> Harness:
        events: list[Event] = []
        adapter_kw.setdefault("access_token", TOKEN)
        adapter = OneBotAdapter(sink=events.append, **adapter_kw)
        app = web.Application()
        app.add_routes(adapter.routes())

        async def on_shutdown(_: web.Application) -> None:
            await adapter.close()

        app.on_shutdown.append(on_shutdown)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        session = aiohttp.ClientSession()
        h = Harness(adapter, events, server, session)
        made.append(h)
        return h

    yield factory
    for h in made:
        for impl in h.impls:
            await impl.close()
        await h.adapter.close()
        await h.session.close()
        await h.server.close()


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    return await make_harness()
