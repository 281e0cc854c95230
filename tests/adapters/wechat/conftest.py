"""Fixtures for the WeChat official-account and WeCom robot tests.

Everything goes over real HTTP on 127.0.0.1: the callback runs in an aiohttp app, and the WeChat
API and the WeCom webhook are fake aiohttp servers that record what they were sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.wechat_mp.callback import WeChatCallback
from bot.core.event import Event

# --- the platform's worked example (developers.weixin.qq.com message-push guide) ----------------
# GET verification, plain-mode POST signature, safe-mode decrypt and encrypt, token "AAAAA".
OFFICIAL = {
    "token": "AAAAA",
    "aes_key": "A" * 43,
    "app_id": "wxba5fad812f8e6fb9",
    "get": {
        "signature": "f464b24fc39322e44b38aa78f5edd27bd1441696",
        "echostr": "4375120948345356249",
        "timestamp": "1714036504",
        "nonce": "1514711492",
    },
    "plain_post": {
        "query": {"signature": "899cf89e464efb63f54ddac96b0a0a235f53aa78",
                  "timestamp": "1714037059", "nonce": "486452656"},
        "body": {"ToUserName": "gh_97417a04a28d", "FromUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
                 "CreateTime": 1714037059, "MsgType": "event", "Event": "debug_demo",
                 "debug_str": "hello world"},
    },
    "safe_post": {
        "query": {"signature": "6c5c811b55cc85e0e1b54100749188c20beb3f5d",
                  "timestamp": "1714112445", "nonce": "415670741",
                  "openid": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY", "encrypt_type": "aes",
                  "msg_signature": "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"},
        "encrypt": (
            "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPx"
            "LKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdf"
            "MuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2"
            "cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
        ),
        "plaintext": (
            '{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY",'
            '"CreateTime":1714112445,"MsgType":"event","Event":"debug_demo",'
            '"debug_str":"hello world"}'
        ),
    },
    "encrypt_reply": {
        "plaintext": '{"demo_resp":"good luck"}',
        "random": "707722b803182950",
        "timestamp": "1713424427",
        "nonce": "415670741",
        "encrypt": ("ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRb"
                    "tzve1L32tmxSQ=="),
        "msg_signature": "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1",
    },
}

# Our own account for the rest of the tests (any 43-char key that decodes to 32 bytes).
TOKEN = "dudaoToken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx0123456789abcdef"
NOW = 1_750_000_000.0
OPENID = "oUSER_openid_0001"


def sign(*parts: str) -> str:
    """Independent of the code under test: the documented algorithm."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def text_xml(content: str, *, msg_id: str = "1000001", openid: str = OPENID,
             create: int = int(NOW)) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_dudao]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def event_xml(event: str, key: str | None = None, *, openid: str = OPENID,
              create: int = int(NOW), extra: str = "") -> str:
    k = f"<EventKey><![CDATA[{key}]]></EventKey>" if key is not None else ""
    return (f"<xml><ToUserName><![CDATA[gh_dudao]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event>{k}{extra}</xml>")


def plain_query(token: str = TOKEN, timestamp: str = str(int(NOW)),
                nonce: str = "123456") -> dict[str, str]:
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
            "openid": OPENID}


@dataclass
class CallbackHarness:
    client: Any  # aiohttp TestClient
    callback: WeChatCallback
    events: list[Event] = field(default_factory=list)
    late: list[tuple[str, str]] = field(default_factory=list)
    clock: list[float] = field(default_factory=lambda: [NOW])

    async def post(self, body: Any, query: dict[str, str] | None = None,
                   **kw: Any) -> aiohttp.ClientResponse:
        resp: aiohttp.ClientResponse = await self.client.post(
            "/wechat/mp", params=plain_query() if query is None else query,
            data=body.encode() if isinstance(body, str) else body, **kw)
        return resp


Reply = Callable[[Event], Awaitable[str | None]]


@pytest.fixture
async def make_callback(
    aiohttp_client: Any,
) -> AsyncIterator[Callable[..., Awaitable[CallbackHarness]]]:
    created: list[WeChatCallback] = []

    async def make(*, mode: str = "plain", reply: Reply | None = None, token: str = TOKEN,
                   aes_key: str = AES_KEY, app_id: str = APP_ID, now: float = NOW,
                   deadline: float = 4.0, replay_window_s: int = 600,
                   **kw: Any) -> CallbackHarness:
        harness: CallbackHarness

        async def handle(event: Event) -> str | None:
            harness.events.append(event)
            return await reply(event) if reply is not None else None

        async def late_reply(openid: str, text: str) -> None:
            harness.late.append((openid, text))

        clock = [now]
        cb = WeChatCallback(app_id=app_id, token=token, aes_key=aes_key, mode=mode,
                            replay_window_s=replay_window_s, reply_deadline_s=deadline,
                            handle=handle, late_reply=late_reply, now=lambda: clock[0], **kw)
        created.append(cb)
        app = web.Application()
        app.add_routes(cb.routes())
        client = await aiohttp_client(app)
        harness = CallbackHarness(client, cb, clock=clock)
        return harness

    yield make
    for cb in created:
        await cb.close()


# --- fake WeChat API ---------------------------------------------------------------------------


@dataclass
class FakeWeChat:
    """A fake api.weixin.qq.com: stable_token plus the message endpoints."""

    app_id: str = APP_ID
    secret: str = "s3cret"
    token_seq: int = 0
    valid: set[str] = field(default_factory=set)
    token_calls: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # path, token
    # scripted answers: path -> list of JSON bodies returned (FIFO) before the default success
    script: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    token_delay: float = 0.0
    expires_in: int = 7200
    revoked: set[str] = field(default_factory=set)  # rejected by the API, still handed out
    raw_bodies: list[bytes] = field(default_factory=list)
    status: int = 200
    media: dict[str, bytes] = field(default_factory=dict)  # media_id -> what media/get serves
    media_gets: list[str] = field(default_factory=list)

    def rotate(self) -> None:
        """Someone else forced a refresh: the old token stops working."""
        self.token_seq += 1
        self.valid = {self.current()}

    def current(self) -> str:
        return f"TOKEN-{self.token_seq}"

    async def stable_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.token_calls.append(body)
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        if body.get("appid") != self.app_id or body.get("secret") != self.secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        if body.get("force_refresh") or not self.valid:
            self.token_seq += 1
            self.valid = {self.current()}
        return web.json_response({"access_token": self.current(), "expires_in": self.expires_in})

    async def api(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.raw_bodies.append(raw)
        body = json.loads(raw.decode("utf-8"))
        token = request.query.get("access_token", "")
        self.requests.append((request.path, token, body))
        if self.status != 200:
            return web.Response(status=self.status, text="oops")
        queue = self.script.get(request.path)
        if queue:
            return web.json_response(queue.pop(0))
        if token not in self.valid or token in self.revoked:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if request.path.endswith("/template/send"):
            return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": 200228332})
        if request.path.endswith("/mass/sendall"):
            return web.json_response({"errcode": 0, "errmsg": "send job submission success",
                                      "msg_id": 34182, "msg_data_id": 206227730})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def media_get(self, request: web.Request) -> web.Response:
        """Temporary media (what users sent): the bytes, or a JSON error as WeChat gives it."""
        media_id = request.query.get("media_id", "")
        self.media_gets.append(media_id)
        if request.query.get("access_token", "") not in self.valid:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if media_id not in self.media:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=self.media[media_id], content_type="image/jpeg")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/media/get", self.media_get)
        app.router.add_post("/cgi-bin/stable_token", self.stable_token)
        app.router.add_post("/cgi-bin/{tail:.*}", self.api)
        return app


@pytest.fixture
async def fake_wechat(aiohttp_server: Any) -> tuple[FakeWeChat, str]:
    fake = FakeWeChat()
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url("")).rstrip("/")


# --- fake WeCom webhook -------------------------------------------------------------------------


@dataclass
class FakeWeCom:
    received: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)  # key, body, n
    script: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received.append((request.query.get("key", ""), json.loads(raw.decode("utf-8")),
                              len(raw)))
        if self.script:
            return web.json_response(self.script.pop(0))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self.send)
        return app


@pytest.fixture
async def fake_wecom(aiohttp_server: Any) -> tuple[FakeWeCom, str]:
    fake = FakeWeCom()
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url("")).rstrip("/")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s
