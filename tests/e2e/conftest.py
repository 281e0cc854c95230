"""The whole service on a real 127.0.0.1 server, with a fake OneBot implementation connected."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import SERVICES, Services, create_app
from config.settings import load_settings
from storage.db import Database
from tests.adapters.onebot.fake_impl import FakeImpl
from tests.support.pg import pg_url

TOKEN = "e2e-token-123"


def make_settings(tmp_path: Path, url: str, **extra: Any) -> Any:
    overrides: dict[str, Any] = {
        "service": {"data_dir": str(tmp_path / "data")},
        "database": {"url": url},
        "onebot": {"access_token": TOKEN},
        "outbox": {"account_interval_ms": 0, "group_interval_ms": 0, "jitter_ms": 0,
                   "poll_interval_s": 0.2, "retry_backoff_s": 0.5},
        "schedule": {"enabled": False},
        "nlu": {"enabled": False},
    }
    for k, v in extra.items():
        overrides.setdefault(k, {}).update(v)
    return load_settings(None, {}, cwd=tmp_path, overrides=overrides)


@dataclass
class Bot:
    server: TestServer
    services: Services
    session: aiohttp.ClientSession
    impl: FakeImpl

    @property
    def db(self) -> Database:
        return self.services.db

    def ws_url(self) -> str:
        return str(self.server.make_url("/onebot/v11/ws"))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/dudao.db"
    return pg_url("dudao_test_e2e")


@pytest.fixture
async def bot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    settings = make_settings(tmp_path, db_url)
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    impl = await FakeImpl(session, str(server.make_url("/onebot/v11/ws")), token=TOKEN).connect()
    try:
        yield Bot(server, app[SERVICES], session, impl)
    finally:
        await impl.close()
        await session.close()
        await server.close()


@contextlib.asynccontextmanager
async def file_server(path: str, body: bytes) -> AsyncIterator[str]:
    """An HTTP server on 127.0.0.1 serving ``body`` at ``path`` (the implementation's own file
    server, from which attachments are fetched); yields the file's URL."""

    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=body)

    app = web.Application()
    app.router.add_get(path, serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url(path))
    finally:
        await server.close()
