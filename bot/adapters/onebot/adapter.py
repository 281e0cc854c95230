"""OneBot adapter: reverse WebSocket (v11 and v12) and HTTP event push, actions over the socket.

Flow of a frame: the socket's reader parses JSON, counts it, and either resolves a pending call
(no ``post_type``/``type``: a response) or decodes an event and hands it to ``sink``. ``sink`` is
synchronous and must only enqueue: the reader never awaits handlers, so one slow handler cannot
stall the socket (implementations do not wait for us over WS; onebot.md §7.6).

Accounts are keyed by their self id as text (``"10001"``, ``"wxid_bot"``), the same string a
``MessageEvent.self_id`` carries, so the outbox can answer on the account that received.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web

from bot.adapters.http_body import BodyTooLarge, ReadGate, read_capped, refuse
from bot.adapters.logs import RateLimitedLog
from bot.adapters.onebot import codec_v11, codec_v12
from bot.adapters.onebot.errors import ActionFailed, NotConnected, OneBotError
from bot.adapters.onebot.files import FileFetcher
from bot.adapters.onebot.frames import BadFrame, decode_frame
from bot.adapters.onebot.store import DEFAULT_TIMEOUT
from bot.adapters.onebot.transport import (
    AccountState,
    Backoff,
    Connection,
    Protocol,
    PushSignature,
    check_token,
)
from bot.adapters.onebot.values import MalformedEvent
from bot.core import media
from bot.core.blobs import NewBlob
from bot.core.event import (
    ChatRef,
    Event,
    File,
    Image,
    NoticeEvent,
    Segment,
    StoredFile,
    StoredImage,
)
from bot.core.message import OutgoingMessage

log = logging.getLogger("dudao.onebot")

MAX_FRAME_BYTES = 8 * 1024 * 1024
# HTTP pushes are read before their signature is checked. An event is small: a long text message
# is tens of KB, a file's event names the file (fetched separately).
PUSH_MAX_BYTES = 512 * 1024
PUSH_CONCURRENCY = 32
# Base64 pictures in one outgoing v11 frame: NapCat caps frames at 50 MiB (onebot.md §1.4).
MAX_INLINE_BYTES = 30 * 1024 * 1024
# Close codes: 1000 when a newer socket for the same account takes over, 1001 on shutdown.
_REPLACED = b"replaced"
_SHUTDOWN = b"server shutdown"


def _now() -> datetime:
    return datetime.now(UTC)


class OneBotAdapter:
    def __init__(self, *, access_token: str = "", secret: str = "",
                 sink: Callable[[Event], None], max_frame_bytes: int = MAX_FRAME_BYTES,
                 downloader: FileFetcher | None = None, heartbeat: float = 30.0,
                 call_timeout: float = DEFAULT_TIMEOUT,
                 pictures: media.PictureStore | None = None,
                 push_max_bytes: int = PUSH_MAX_BYTES,
                 push_concurrency: int = PUSH_CONCURRENCY) -> None:
        self._token = access_token
        self._pictures = pictures
        # NapCat signs HTTP pushes with its token when there is no separate secret.
        self._push_key = secret or access_token
        self._push_max = push_max_bytes
        self._push_gate = ReadGate(push_concurrency)
        self._sink = sink
        self._max_frame = max_frame_bytes
        self._downloader = downloader
        self._heartbeat = heartbeat
        self._call_timeout = call_timeout
        self._by_self: dict[str, Connection] = {}
        self._conns: set[Connection] = set()
        self._accounts: dict[str, AccountState] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http_bad_log = RateLimitedLog()
        self._http_peers: dict[str, str] = {}
        self._push_refused_log = RateLimitedLog()
        self._closing = False

    # --- public API ---------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/onebot/v11/ws", self._ws_v11, allow_head=False),
            # nonebot's layout, which Lagrange's default config and many NapCat setups point at.
            web.get("/onebot/v11/ws/", self._ws_v11, allow_head=False),
            web.get("/onebot/v11/", self._ws_v11, allow_head=False),
            web.post("/onebot/v11/http", self._http_v11),
            web.post("/onebot/v11/", self._http_v11),
            web.get("/onebot/v12/ws", self._ws_v12, allow_head=False),
            web.get("/onebot/v12/ws/", self._ws_v12, allow_head=False),
        ]

    def accounts(self) -> dict[str, AccountState]:
        """A snapshot of every account seen since start, by self id (copies: safe to keep)."""
        return {sid: replace(acc) for sid, acc in self._accounts.items()}

    def protocol_of(self, self_id: str) -> str | None:
        conn = self._by_self.get(self_id)
        return conn.protocol if conn is not None else None

    # The timeout is per action (uploads need longer than sends), hence a parameter.
    async def call(self, self_id: str, action: str, params: dict[str, Any] | None = None,
                   timeout: float | None = None) -> Any:  # noqa: ASYNC109
        """Run ``action`` on the account's socket and return the response's ``data``.

        Raises ``NotConnected`` (no socket, or it died meanwhile), ``ActionTimeout`` or
        ``ActionFailed`` (status not ``ok``/``async``; see ``risk_control``).
        """
        conn = self._by_self.get(self_id)
        if conn is None or conn.ws.closed:
            raise NotConnected(f"account {self_id} is not connected")
        frame: dict[str, Any] = {"action": action, "params": params or {}}
        if conn.protocol == "v12":
            frame["self"] = {"platform": conn.v12_platforms.get(self_id, "wechat"),
                             "user_id": self_id}

        async def send(echo: str) -> None:
            frame["echo"] = echo
            await conn.send_json(frame)

        resp = await conn.store.call(send, self._call_timeout if timeout is None else timeout)
        status = resp.get("status")
        if status == "ok" or status == "async":
            return resp.get("data")
        exc = ActionFailed.from_response(action, resp)
        log.warning("action %s on account %s failed: retcode=%s %s", action, self_id,
                    exc.retcode, exc.message or exc.wording or exc.msg)
        raise exc

    async def send(self, account_self_id: str, msg: OutgoingMessage) -> str:
        """Send ``msg`` from the account; the platform message id, or "" when none is given
        (ComWeChat answers ``data: true``)."""
        conn = self._by_self.get(account_self_id)
        if conn is None:
            raise NotConnected(f"account {account_self_id} is not connected")
        if conn.protocol == "v12":
            msg = await media.attach_pictures(
                msg, lambda seg: self._stored_picture_v12(account_self_id, seg))
            msg = await self._upload_media_v12(account_self_id, msg)
            action, params = codec_v12.encode_send(msg)
        else:
            budget = [MAX_INLINE_BYTES]
            msg = await media.attach_pictures(msg, lambda seg: self._stored_picture_v11(seg, budget))
            action, params = codec_v11.encode_send(msg)
        data = await self.call(account_self_id, action, params)
        if isinstance(data, dict):
            mid = data.get("message_id")
            return "" if mid is None else str(mid)
        return ""

    async def fetch_attachment(self, self_id: str, chat: ChatRef, segment: File | Image,
                               new_blob: NewBlob) -> StoredFile | None:
        """Download an inbound attachment into ``new_blob()`` via the configured
        ``FileFetcher``; None when it could not be fetched (or no fetcher is configured)."""
        if self._downloader is None:
            return None
        return await self._downloader.fetch(self, self_id, chat, segment, new_blob)

    def peer_of(self, self_id: str) -> str | None:
        """The address the account's implementation connects from: its socket's peer, or the
        sender of its last authentic HTTP push. Attachments it serves itself come from there."""
        conn = self._by_self.get(self_id)
        if conn is not None:
            return conn.peer
        return self._http_peers.get(self_id)

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

    async def close(self) -> None:
        """Refuse new sockets, fail pending calls and close every socket (code 1001)."""
        self._closing = True
        for task in self._tasks:
            if task.get_name().startswith("onebot-forward"):
                task.cancel()
        conns = list(self._conns)
        for conn in conns:
            conn.store.fail_all(NotConnected("adapter is shutting down"))
        await asyncio.gather(*(c.ws.close(code=WSCloseCode.GOING_AWAY, message=_SHUTDOWN)
                               for c in conns), return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- WebSocket endpoints ------------------------------------------------------------------

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
        self._bind(conn, self_id, "qq", "v11")
        log.info("account %s connected (v11 reverse WS from %s, role %s)", self_id, conn.remote,
                 request.headers.get("X-Client-Role", "?"))
        try:
            await self._read(conn, self._on_v11_text)
        finally:
            self._drop(conn)
        return ws

    async def _ws_v12(self, request: web.Request) -> web.StreamResponse:
        refused = await self._refuse(request)
        if refused is not None:
            return refused
        # v12 reverse WS offers "12.<impl>"; answer it or strict clients drop the handshake.
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")
                   if p.strip()]
        chosen = next((p for p in offered if p.startswith("12.")), offered[0] if offered else None)
        ws = self._ws_response((chosen,) if chosen else ())
        await ws.prepare(request)
        conn = Connection(ws, "v12", request.remote or "?", peer=request.remote)
        self._conns.add(conn)
        # Bots are named by the connect/status_update meta events and each event's ``self``.
        header_self = request.headers.get("X-Self-ID", "").strip()
        if header_self:
            self._bind(conn, header_self, codec_v12.DEFAULT_PLATFORM, "v12")
        log.info("v12 socket connected from %s (%s)", conn.remote, chosen or "no subprotocol")
        try:
            await self._read(conn, self._on_v12_text)
        finally:
            self._drop(conn)
        return ws

    async def _refuse(self, request: web.Request) -> web.StreamResponse | None:
        """None if the handshake may go on, else the refusal (sent; the connection is closed, so
        a body sent with the GET is never read)."""
        if self._closing:
            return await refuse(request, 503, "shutting down")
        status = check_token(request, self._token)
        if status is None:
            return None
        # Implementations retry refused handshakes every few seconds: keep this line short.
        log.warning("refused a socket from %s on %s: %s access token", request.remote,
                    request.path, "missing" if status == 401 else "wrong")
        return await refuse(request, status, "access token missing" if status == 401
                            else "access token invalid")

    def _ws_response(self, protocols: tuple[str, ...]) -> web.WebSocketResponse:
        return web.WebSocketResponse(heartbeat=self._heartbeat, max_msg_size=self._max_frame,
                                     protocols=protocols, timeout=5.0)

    async def _read(self, conn: Connection, on_text: Callable[[Connection, str], None]) -> None:
        ws = conn.ws
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                on_text(conn, msg.data)
            elif msg.type is WSMsgType.BINARY:
                self._count(conn)
                self._bad(conn, "binary frame (MessagePack is not supported)")
            elif msg.type is WSMsgType.ERROR:
                self._count(conn)
                code = getattr(msg.data, "code", None)
                if code == WSCloseCode.MESSAGE_TOO_BIG:
                    self._bad(conn, f"frame over the {self._max_frame}-byte limit; socket closed")
                else:
                    self._bad(conn, f"socket error: {type(msg.data).__name__}")
                break

    # --- accounts -----------------------------------------------------------------------------

    def _bind(self, conn: Connection, self_id: str, platform: str, protocol: Protocol) -> None:
        prefix = codec_v12.prefix_for(platform) if protocol == "v12" else "qq"
        acc = self._accounts.get(self_id)
        if acc is None:
            acc = self._accounts[self_id] = AccountState(prefix, self_id, protocol)
        acc.platform, acc.protocol = prefix, protocol
        acc.connected, acc.connected_at, acc.online = True, _now(), None
        conn.accounts[self_id] = acc
        if protocol == "v12":
            conn.v12_platforms[self_id] = platform
        old = self._by_self.get(self_id)
        self._by_self[self_id] = conn
        if old is None or old is conn:
            return
        # A newer socket wins: the old one is often half-open after a network blip, and
        # rejecting the new one (nonebot's choice) would block every reconnect (onebot.md §7.3).
        old.accounts.pop(self_id, None)
        if not old.accounts:
            log.info("account %s reconnected from %s; closing the previous socket", self_id,
                     conn.remote)
            old.store.fail_all(NotConnected("connection replaced by a newer one"))
            self._spawn(old.ws.close(code=WSCloseCode.OK, message=_REPLACED))

    def _drop(self, conn: Connection) -> None:
        self._conns.discard(conn)
        conn.store.fail_all(NotConnected("connection closed"))
        for self_id, acc in conn.accounts.items():
            if self._by_self.get(self_id) is conn:
                del self._by_self[self_id]
                acc.connected = False
                log.info("account %s disconnected (close code %s)", self_id, conn.ws.close_code)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- forward WebSocket client -------------------------------------------------------------

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
            self._bind(conn, str(self_id), "qq", "v11")
            log.info("account %s connected (v11 forward WS to %s)", self_id, conn.remote)

    # --- frames -------------------------------------------------------------------------------

    def _count(self, conn: Connection) -> None:
        for acc in conn.accounts.values():
            acc.frames_in += 1

    def _bad(self, conn: Connection | None, reason: str,
             accounts: Iterable[AccountState] = ()) -> None:
        """Count a frame we could not use and log it (rate-limited, short reason, no payload)."""
        if conn is not None:
            accounts = conn.accounts.values()
        for acc in accounts:
            acc.bad_frames += 1
        limiter = conn.bad_log if conn is not None else self._http_bad_log
        if limiter.allow():
            who = ",".join(a.self_id for a in accounts) or "?"
            more = f" ({limiter.suppressed} more suppressed)" if limiter.suppressed else ""
            limiter.suppressed = 0
            log.warning("bad frame from account %s: %s%s", who, reason, more)

    def _parse(self, conn: Connection | None, data: str | bytes,
               accounts: Iterable[AccountState] = ()) -> dict[str, Any] | None:
        try:
            return decode_frame(data)
        except BadFrame as exc:
            self._bad(conn, str(exc), accounts)
            return None

    def _deliver(self, conn: Connection | None, frame: dict[str, Any],
                 decode: Callable[[dict[str, Any]], Event | None],
                 accounts: Iterable[AccountState] = ()) -> Event | None:
        try:
            event = decode(frame)
        except MalformedEvent as exc:
            self._bad(conn, str(exc), accounts)
            return None
        except Exception:
            log.exception("decoding an event failed; frame dropped")
            self._bad(conn, "decoder error", accounts)
            return None
        if event is None:
            return None
        try:
            self._sink(event)
        except Exception:
            log.exception("event sink raised; event %s dropped", event.dedupe_key)
        return event

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

    def _on_v12_text(self, conn: Connection, data: str) -> None:
        self._count(conn)
        frame = self._parse(conn, data)
        if frame is None:
            return
        etype = frame.get("type")
        if etype is None:
            conn.store.resolve(frame)
        elif etype == "meta":
            self._meta_v12(conn, frame)
        else:
            uid = self._bot_of(frame.get("self"))
            if uid is not None and uid not in conn.accounts:
                self._bind_v12(conn, uid, frame["self"])
                conn.accounts[uid].frames_in += 1
            self._deliver(conn, frame, codec_v12.decode_event)

    @staticmethod
    def _bot_of(me: Any) -> str | None:
        """The bot id in a v12 ``self`` object if usable: a string (leniently an int)."""
        uid = me.get("user_id") if type(me) is dict else None
        if type(uid) is str and uid:
            return uid
        return str(uid) if type(uid) is int else None

    def _bind_v12(self, conn: Connection, uid: str, me: dict[str, Any]) -> None:
        platform = me.get("platform")
        self._bind(conn, uid, platform if type(platform) is str and platform
                   else codec_v12.DEFAULT_PLATFORM, "v12")

    # --- meta events --------------------------------------------------------------------------

    @staticmethod
    def _set_online(accounts: Any, online: bool) -> None:
        for acc in accounts:
            acc.online = online

    def _meta_v11(self, accounts: Any, frame: dict[str, Any]) -> None:
        kind = frame.get("meta_event_type")
        if kind == "heartbeat":
            status = frame.get("status")
            online = status.get("online") if type(status) is dict else None
            interval = frame.get("interval")
            now = _now()
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

    def _meta_v12(self, conn: Connection, frame: dict[str, Any]) -> None:
        kind = frame.get("detail_type")
        if kind == "heartbeat":
            now = _now()
            interval = frame.get("interval")
            for acc in conn.accounts.values():
                acc.last_heartbeat = now
                if type(interval) is int:
                    acc.heartbeat_interval_ms = interval
        elif kind == "status_update":
            status = frame.get("status")
            bots = status.get("bots") if type(status) is dict else None
            for bot in bots if type(bots) is list else ():
                me = bot.get("self") if type(bot) is dict else None
                uid = self._bot_of(me)
                if uid is None or type(me) is not dict:
                    continue
                if uid not in conn.accounts:
                    self._bind_v12(conn, uid, me)
                online = bot.get("online")
                if isinstance(online, bool):
                    conn.accounts[uid].online = online
        elif kind == "connect":
            version = frame.get("version")
            impl = version.get("impl") if type(version) is dict else None
            log.info("v12 implementation %s connected from %s", impl or "?", conn.remote)

    # --- HTTP event push ----------------------------------------------------------------------

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
            # once; go-cqhttp re-posts events whose answer is slow (onebot.md §1.2).
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
        on the impl's host, onebot.md §7.5), within a per-message budget under the frame cap."""
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

    async def _stored_picture_v12(self, self_id: str, seg: StoredImage) -> Segment | None:
        """v12 sends media by file id: upload the bytes (``type: data``) first."""
        data = await media.read_picture(self._pictures, seg)
        if data is None:
            return None
        try:
            res = await self.call(self_id, "upload_file", {
                "type": "data", "name": seg.name or f"{seg.sha256[:16]}.jpg",
                "data": base64.b64encode(data).decode("ascii"), "sha256": seg.sha256,
            }, timeout=max(self._call_timeout, 60.0))
        except ActionFailed:
            return None  # logged by call(); the text fallback goes out instead
        file_id = res.get("file_id") if isinstance(res, dict) else None
        if not file_id:
            log.warning("upload_file for picture %s returned no file_id", seg.sha256[:12])
            return None
        return Image(file=str(file_id), name=seg.name)

    # --- v12 media ----------------------------------------------------------------------------

    async def _upload_media_v12(self, self_id: str, msg: OutgoingMessage) -> OutgoingMessage:
        """v12 sends media by ``file_id`` only: upload URL-only images/files first."""
        segments: list[Segment] = []
        changed = False
        for seg in msg.segments:
            if isinstance(seg, Image) and not seg.file and seg.url:
                seg = replace(seg, file=await self._upload_v12(self_id, seg.url, seg.name))
                changed = True
            elif isinstance(seg, File) and not seg.file_id and seg.url:
                seg = replace(seg, file_id=await self._upload_v12(self_id, seg.url, seg.name))
                changed = True
            segments.append(seg)
        return OutgoingMessage(msg.chat, tuple(segments)) if changed else msg

    async def _upload_v12(self, self_id: str, url: str, name: str) -> str:
        data = await self.call(self_id, "upload_file",
                               {"type": "url", "url": url, "name": name or "file"})
        file_id = data.get("file_id") if isinstance(data, dict) else None
        if not file_id:
            raise OneBotError("upload_file returned no file_id")
        return str(file_id)


def _public(url: str) -> str:
    """The URL without its query string, which may carry ``access_token``."""
    return url.split("?", 1)[0]
