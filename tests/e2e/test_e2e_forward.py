"""An implementation set up as a forward-WebSocket server: dudao connects out from configuration."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from bot.app import create_app
from tests.adapters.onebot.fake_impl import group_message, lifecycle
from tests.e2e.conftest import TOKEN, make_settings


class NapCatWsServer:
    """NapCat's "WebSocket 服务器" mode: sends lifecycle, then one message; records actions."""

    def __init__(self) -> None:
        self.auth: list[str] = []
        self.actions: list[dict[str, Any]] = []
        self.answered = asyncio.Event()

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        self.auth.append(request.headers.get("Authorization", ""))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps(lifecycle()))
        await ws.send_str(json.dumps(group_message("帮助", message_id=7001)))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            req = json.loads(msg.data)
            self.actions.append(req)
            await ws.send_str(json.dumps({"status": "ok", "retcode": 0, "echo": req.get("echo"),
                                          "data": {"message_id": 1}}))
            if req["action"].startswith("send_"):
                self.answered.set()
        return ws


async def test_forward_urls_from_configuration_bring_the_bot_in(tmp_path: Path) -> None:
    impl = NapCatWsServer()
    impl_app = web.Application()
    impl_app.add_routes([web.get("/", impl.handler)])
    impl_server = TestServer(impl_app, host="127.0.0.1", port=0)
    await impl_server.start_server()
    url = str(impl_server.make_url("/")).replace("http://", "ws://", 1)
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/dudao.db",
                             onebot={"forward_urls": [url]})
    bot_server = TestServer(create_app(settings), host="127.0.0.1")
    await bot_server.start_server()
    try:
        await asyncio.wait_for(impl.answered.wait(), timeout=10)
    finally:
        await bot_server.close()
        await impl_server.close()
    [send] = [a for a in impl.actions if a["action"].startswith("send_")]
    text = "".join(s["data"].get("text", "") for s in send["params"]["message"]
                   if s["type"] == "text")
    assert "绑定" in text  # an unknown sender is told how to bind
    assert impl.auth == [f"Bearer {TOKEN}"]
