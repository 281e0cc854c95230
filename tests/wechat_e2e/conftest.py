"""The whole service with the official account and WeCom wired in, against fake WeChat servers.

The service runs on a real 127.0.0.1 server (``bot.app.create_app``); the WeChat API and the WeCom
webhook are the fakes of ``tests/adapters/wechat`` (aiohttp servers that record what they get).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import xmltodict
from aiohttp.test_utils import TestServer

from bot.adapters.wechat_mp import WeChatMpAdapter
from bot.app import SERVICES, Services, create_app
from config.settings import load_settings
from storage.db import Database
from tests.adapters.wechat.conftest import APP_ID, TOKEN, FakeWeChat, FakeWeCom, sign

SECRET = "s3cret"


def make_settings(tmp_path: Path, *, wechat_base: str, wecom_base: str, **extra: Any) -> Any:
    overrides: dict[str, Any] = {
        "service": {"data_dir": str(tmp_path / "data")},
        "database": {"url": f"sqlite:///{tmp_path}/dudao.db"},
        "outbox": {"account_interval_ms": 0, "group_interval_ms": 0, "jitter_ms": 0,
                   "poll_interval_s": 0.1, "retry_backoff_s": 0.5},
        "schedule": {"enabled": False},
        "nlu": {"enabled": False},
        "wechat_mp": {"app_id": APP_ID, "app_secret": SECRET, "token": TOKEN, "mode": "plain",
                      "api_base": wechat_base},
        "wecom": {"api_base": wecom_base},
    }
    for k, v in extra.items():
        overrides.setdefault(k, {}).update(v)
    return load_settings(None, {}, cwd=tmp_path, overrides=overrides)


def text_xml(content: str, *, openid: str, msg_id: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_dudao]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def event_xml(event: str, *, openid: str, key: str | None = None,
              create: int | None = None) -> str:
    k = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
    return (f"<xml><ToUserName><![CDATA[gh_dudao]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{k}</xml>")


def signed_query(openid: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), "20250611"
    return {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
            "openid": openid}


@dataclass
class WeChatBot:
    server: TestServer
    services: Services
    wiring: WeChatMpAdapter
    session: aiohttp.ClientSession
    wechat: FakeWeChat
    wecom: FakeWeCom

    @property
    def db(self) -> Database:
        return self.services.db

    async def post(self, body: str, openid: str) -> tuple[int, str]:
        async with self.session.post(self.server.make_url("/wechat/mp"),
                                     params=signed_query(openid), data=body.encode()) as resp:
            return resp.status, await resp.text()

    async def say(self, text: str, openid: str, msg_id: str) -> str:
        """A text message; the passive reply's Content ('' if the answer was ``success``)."""
        status, body = await self.post(text_xml(text, openid=openid, msg_id=msg_id), openid)
        assert status == 200, body
        return reply_content(body)

    def custom_sends(self) -> list[dict[str, Any]]:
        return [b for p, _, b in self.wechat.requests if p.endswith("/message/custom/send")]


def reply_content(body: str) -> str:
    if body == "success":
        return ""
    doc = xmltodict.parse(body)["xml"]
    assert doc["MsgType"] == "text"
    return str(doc["Content"])


async def eventually(check: Callable[[], Any], within: float = 5.0) -> Any:
    loop = asyncio.get_running_loop()
    until = loop.time() + within
    while True:
        value = check()
        if value:
            return value
        if loop.time() > until:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


MakeBot = Callable[..., Awaitable[WeChatBot]]


@pytest.fixture
async def make_bot(tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[MakeBot]:
    started: list[tuple[TestServer, aiohttp.ClientSession]] = []

    async def make(**extra: Any) -> WeChatBot:
        wechat, wecom = FakeWeChat(secret=SECRET), FakeWeCom()
        wechat_server = await aiohttp_server(wechat.app())
        wecom_server = await aiohttp_server(wecom.app())
        settings = make_settings(
            tmp_path, wechat_base=str(wechat_server.make_url("")).rstrip("/"),
            wecom_base=str(wecom_server.make_url("")).rstrip("/"), **extra)
        app = create_app(settings)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        session = aiohttp.ClientSession()
        started.append((server, session))
        services = app[SERVICES]
        wiring = services.adapter("wechat_mp")
        assert isinstance(wiring, WeChatMpAdapter)
        return WeChatBot(server, services, wiring, session, wechat, wecom)

    yield make
    for server, session in started:
        await session.close()
        await server.close()


@pytest.fixture
async def bot(make_bot: MakeBot) -> WeChatBot:
    return await make_bot()
