"""OneBot 11 (QQ through NapCat, LLOneBot, Lagrange.OneBot, go-cqhttp): its endpoints and frames.

Reverse WebSocket at ``/onebot/v11/ws`` (the implementation connects; ``X-Self-ID`` names the
account), HTTP event push at ``POST /onebot/v11/http`` (signed with ``X-Signature``), and the
forward WebSocket client for implementations that only listen. Spec:
https://github.com/botuniverse/onebot-11/tree/master/communication
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import aiohttp
from aiohttp import web

from bot.adapters.http_body import BodyTooLarge, ReadGate, read_capped, refuse
from bot.adapters.logs import RateLimitedLog
from bot.adapters.onebot import codec_v11
from bot.adapters.onebot.hub import Hub, utc_now
from bot.adapters.onebot.transport import AccountState, Backoff, Connection, PushSignature
from bot.core import media
from bot.core.event import Image, NoticeEvent, Segment, StoredImage
from bot.core.message import OutgoingMessage

log = logging.getLogger("dudao.onebot")

# HTTP pushes are read before their signature is checked. An event is small: a long text message
# is tens of KB, a file's event names the file (fetched separately).
PUSH_MAX_BYTES = 512 * 1024
PUSH_CONCURRENCY = 32
# Base64 pictures in one outgoing frame: NapCat caps frames at 50 MiB.
MAX_INLINE_BYTES = 30 * 1024 * 1024


class V11(Hub):
    """The v11 side of the adapter (see the module docstring)."""

    def _setup_v11(self, *, secret: str, push_max_bytes: int, push_concurrency: int) -> None:
        # NapCat signs HTTP pushes with its token when there is no separate secret.
        self._push_key = secret or self._token
        self._push_max = push_max_bytes
        self._push_gate = ReadGate(push_concurrency)
        self._push_refused_log = RateLimitedLog()

    def _v11_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/onebot/v11/ws", self._ws_v11, allow_head=False),
            # nonebot's layout, which Lagrange's default config and many NapCat setups point at.
            web.get("/onebot/v11/ws/", self._ws_v11, allow_head=False),
            web.get("/onebot/v11/", self._ws_v11, allow_head=False),
            web.post("/onebot/v11/http", self._http_v11),
            web.post("/onebot/v11/", self._http_v11),
        ]

    async def _encode_v11(self, msg: OutgoingMessage) -> tuple[str, dict[str, Any]]:
        budget = [MAX_INLINE_BYTES]
        msg = await media.attach_pictures(msg, lambda seg: self._stored_picture_v11(seg, budget))
        return codec_v11.encode_send(msg)

    # --- reverse WebSocket ----------------------------------------------------------------------

    async def _ws_v11(self, request: web.Request) -> web.StreamResponse:
        refused = await self._refuse(request)
        if refused is not None:
            return refused
        self_id = request.headers.get("X-Self-ID", "").strip()
        if not self_id:
            log.warning("refused a v11 socket from %s: no X-Self-ID header", request.remote)
            return web.Response(status=400, text="X-Self-ID header is required")
        ws = self._ws_response(())
        await ws.prepare(request)
        conn = Connection(ws, "v11", request.remote or "?", peer=request.remote)
        self._conns.add(conn)
        self._bind(conn, self_id, "v11")
        log.info("account %s connected (v11 reverse WS from %s, role %s)", self_id, conn.remote,
                 request.headers.get("X-Client-Role", "?"))
        try:
            await self._read(conn, self._on_v11_text)
        finally:
            self._drop(conn)
        return ws

    # --- forward WebSocket client ---------------------------------------------------------------

    def start_forward(self, url: str, *, access_token: str | None = None,
                      backoff: Backoff | None = None) -> None:
        """Also connect out to an implementation's forward WebSocket (``ws://host:3001/``).

        Reconnects forever with capped exponential back-off until ``close()``. The account is
        learnt from the first event's ``self_id`` (the lifecycle ``connect`` every impl sends
        first), as a client gets no X-Self-ID header.
        """
        token = self._token if access_token is None else access_token
        self._spawn(self._forward_loop(url, token, backoff or Backoff()),
                    name=f"onebot-forward {url}")

    async def _forward_loop(self, url: str, token: str, backoff: Backoff) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as session:
            while not self._closing:
                try:
                    ws = await session.ws_connect(url, headers=headers, heartbeat=self._heartbeat,
                                                  max_msg_size=self._max_frame)
                except (aiohttp.ClientError, OSError) as exc:
                    delay = backoff.next_delay()
                    log.warning("forward WS to %s failed (%s); retrying in %.1f s",
                                _public(url), type(exc).__name__, delay)
                    await asyncio.sleep(delay)
                    continue
                backoff.reset()
                peername = ws.get_extra_info("peername")
                conn = Connection(ws, "v11", _public(url),
                                  peer=peername[0] if isinstance(peername, tuple) else None)
                self._conns.add(conn)
                log.info("forward WS connected to %s", conn.remote)
                try:
                    await self._read(conn, self._on_v11_text)
                finally:
                    self._drop(conn)
                    await ws.close()
                if not self._closing:
                    delay = backoff.next_delay()
                    log.warning("forward WS to %s closed; reconnecting in %.1f s", conn.remote,
                                delay)
                    await asyncio.sleep(delay)

    def _bind_first(self, conn: Connection, frame: dict[str, Any]) -> None:
        # Forward sockets have no X-Self-ID: the first event names the account.
        self_id = frame.get("self_id")
        if type(self_id) is int or (type(self_id) is str and self_id):
            self._bind(conn, str(self_id), "v11")
            log.info("account %s connected (v11 forward WS to %s)", self_id, conn.remote)

    # --- frames ---------------------------------------------------------------------------------

    def _on_v11_text(self, conn: Connection, data: str) -> None:
        for acc in conn.accounts.values():  # the hot path: no per-frame logging
            acc.frames_in += 1
        frame = self._parse(conn, data)
        if frame is None:
            return
        post_type = frame.get("post_type")
        if not conn.accounts and post_type is not None:
            self._bind_first(conn, frame)
            for acc in conn.accounts.values():
                acc.frames_in += 1
        if post_type is None:
            conn.store.resolve(frame)
        elif post_type == "meta_event":
            self._meta_v11(conn.accounts.values(), frame)
        else:
            event = self._deliver(conn, frame, codec_v11.decode_event)
            if type(event) is NoticeEvent and event.kind == "bot_offline":
                self._set_online(conn.accounts.values(), False)

    def _meta_v11(self, accounts: Any, frame: dict[str, Any]) -> None:
        kind = frame.get("meta_event_type")
        if kind == "heartbeat":
            status = frame.get("status")
            online = status.get("online") if type(status) is dict else None
            interval = frame.get("interval")
            now = utc_now()
            for acc in accounts:
                acc.last_heartbeat = now
                if isinstance(online, bool):
                    if acc.online is not False and not online:
                        log.warning("account %s reports it is offline (heartbeat)", acc.self_id)
                    acc.online = online
                if type(interval) is int:
                    acc.heartbeat_interval_ms = interval
        elif kind == "lifecycle":
            sub = frame.get("sub_type")
            if sub in ("connect", "enable"):
                self._set_online(accounts, True)
            elif sub == "disable":
                self._set_online(accounts, False)

    # --- HTTP event push ------------------------------------------------------------------------

    async def _http_v11(self, request: web.Request) -> web.StreamResponse:
        if self._closing:
            return await refuse(request, 503, "shutting down")
        sig = PushSignature(self._push_key, request.headers.get("X-Signature"))
        status = sig.precheck()
        if status is not None:
            return await self._refuse_push(request, status, "signature missing" if status == 401
                                           else "signature malformed")
        # Until the HMAC over the whole body matches, the sender is anyone who reaches the port:
        # a small cap, the HMAC computed while reading, and only so many reads at once.
        body = b""
        refusal: tuple[int, str] | None = None
        with self._push_gate.slot() as admitted:
            if not admitted:
                refusal = 503, "too many pushes being read"
            else:
                try:
                    body = await read_capped(request, self._push_max, sig.update)
                except BodyTooLarge:
                    refusal = 413, f"body over {self._push_max} bytes"
                except TimeoutError:
                    refusal = 408, "body not received in time"
        if refusal is not None:  # answered after the slot is free again
            return await self._refuse_push(request, *refusal)
        status = sig.check()
        if status is not None:
            return await self._refuse_push(request, status, "signature invalid")
        self_id = request.headers.get("X-Self-ID", "").strip()
        accounts = [self._http_account(self_id, request)] if self_id else []
        frame = self._parse(None, body, accounts)
        if frame is None:
            return web.Response(status=400, text="body must be a JSON object")
        if not accounts and type(frame.get("self_id")) is int:
            accounts = [self._http_account(str(frame["self_id"]), request)]
        if frame.get("post_type") == "meta_event":
            self._meta_v11(accounts, frame)
        else:
            # Decoding and enqueueing is cheap and synchronous, so the 204 still goes out at
            # once; go-cqhttp re-posts events whose answer is slow
            # (https://github.com/botuniverse/onebot-11/blob/master/communication/http-post.md).
            self._deliver(None, frame, codec_v11.decode_event, accounts)
        return web.Response(status=204)

    def _http_account(self, self_id: str, request: web.Request) -> AccountState:
        acc = self._accounts.get(self_id)
        if acc is None:
            acc = self._accounts[self_id] = AccountState("qq", self_id, "v11-http")
        acc.frames_in += 1
        if request.remote:  # the push is authentic: this is where the implementation runs
            self._http_peers[self_id] = request.remote
        return acc

    async def _refuse_push(self, request: web.Request, status: int,
                           reason: str) -> web.StreamResponse:
        """Refuse a push and close its connection; the log line is rate-limited, as a flood of
        bad pushes is exactly when one line per request would hurt."""
        limiter = self._push_refused_log
        if limiter.allow():
            more = f" ({limiter.suppressed} more suppressed)" if limiter.suppressed else ""
            limiter.suppressed = 0
            log.warning("refused an HTTP event push from %s with %d: %s%s", request.remote,
                        status, reason, more)
        return await refuse(request, status, reason)

    # --- stored pictures ------------------------------------------------------------------------

    async def _stored_picture_v11(self, seg: StoredImage, budget: list[int]) -> Segment | None:
        """Inline as ``base64://`` (every QQ impl accepts it; a bot-local path would not resolve
        on the impl's host: https://github.com/zhulinyv/nonebot_plugin_jmcomic/issues/15), within
        a per-message budget under the frame cap."""
        data = await media.read_picture(self._pictures, seg)
        if data is None:
            return None
        encoded = base64.b64encode(data).decode("ascii")
        if len(encoded) > budget[0]:
            log.warning("picture %s left out: message would exceed %d bytes of base64",
                        seg.sha256[:12], MAX_INLINE_BYTES)
            return None
        budget[0] -= len(encoded)
        return Image(file="base64://" + encoded, name=seg.name)


def _public(url: str) -> str:
    """The URL without its query string, which may carry ``access_token``."""
    return url.split("?", 1)[0]
