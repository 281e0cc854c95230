"""The transport every OneBot protocol version shares: sockets, accounts, actions, bad frames.

Flow of a frame: the socket's reader parses JSON, counts it, and either resolves a pending call
(a response carries no ``post_type``/``type``) or decodes an event and hands it to ``sink``.
``sink`` is synchronous and must only enqueue: the reader never awaits handlers, so one slow
handler cannot stall the socket (over WebSocket the implementation does not wait for us:
https://github.com/botuniverse/onebot-11/blob/master/communication/ws-reverse.md).

Accounts are keyed by their self id as text (``"10001"``, ``"wxid_bot"``), the same string a
``MessageEvent.self_id`` carries, so the outbox can answer on the account that received. What
differs between v11 and v12 (endpoints, frames, meta events, how media are sent) lives in
``v11.py`` and ``v12.py``, which extend :class:`Hub`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bot.adapters.http_body import refuse
from bot.adapters.logs import RateLimitedLog
from bot.adapters.onebot.errors import ActionFailed, NotConnected
from bot.adapters.onebot.frames import BadFrame, decode_frame
from bot.adapters.onebot.store import DEFAULT_TIMEOUT
from bot.adapters.onebot.transport import AccountState, Connection, Protocol, check_token
from bot.adapters.onebot.values import MalformedEvent
from bot.core import media
from bot.core.event import Event

log = logging.getLogger("dudao.onebot")

MAX_FRAME_BYTES = 8 * 1024 * 1024
# Close codes: 1000 when a newer socket for the same account takes over, 1001 on shutdown.
_REPLACED = b"replaced"
_SHUTDOWN = b"server shutdown"


def utc_now() -> datetime:
    return datetime.now(UTC)


class Hub:
    """The connections and accounts of one adapter, and the actions called over them."""

    def __init__(self, *, access_token: str, sink: Callable[[Event], None],
                 max_frame_bytes: int = MAX_FRAME_BYTES, heartbeat: float = 30.0,
                 call_timeout: float = DEFAULT_TIMEOUT,
                 pictures: media.PictureStore | None = None) -> None:
        self._token = access_token
        self._pictures = pictures  # stored pictures in outgoing messages are read from here
        self._sink = sink
        self._max_frame = max_frame_bytes
        self._heartbeat = heartbeat
        self._call_timeout = call_timeout
        self._by_self: dict[str, Connection] = {}
        self._conns: set[Connection] = set()
        self._accounts: dict[str, AccountState] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Where each account's last authentic HTTP push came from (v11 HTTP), for peer_of().
        self._http_peers: dict[str, str] = {}
        self._http_bad_log = RateLimitedLog()
        self._closing = False

    # --- accounts and actions -----------------------------------------------------------------

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

    def peer_of(self, self_id: str) -> str | None:
        """The address the account's implementation connects from: its socket's peer, or the
        sender of its last authentic HTTP push. Attachments it serves itself come from there."""
        conn = self._by_self.get(self_id)
        if conn is not None:
            return conn.peer
        return self._http_peers.get(self_id)

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

    # --- sockets ------------------------------------------------------------------------------

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

    def _bind(self, conn: Connection, self_id: str, protocol: Protocol, *, prefix: str = "qq",
              v12_platform: str | None = None) -> None:
        """``self_id`` now speaks through ``conn``; ``prefix`` is our identities' platform."""
        acc = self._accounts.get(self_id)
        if acc is None:
            acc = self._accounts[self_id] = AccountState(prefix, self_id, protocol)
        acc.platform, acc.protocol = prefix, protocol
        acc.connected, acc.connected_at, acc.online = True, utc_now(), None
        conn.accounts[self_id] = acc
        if v12_platform is not None:
            conn.v12_platforms[self_id] = v12_platform
        old = self._by_self.get(self_id)
        self._by_self[self_id] = conn
        if old is None or old is conn:
            return
        # A newer socket wins: the old one is often half-open after a network blip, and
        # rejecting the new one (nonebot's choice) would block every reconnect.
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

    @staticmethod
    def _set_online(accounts: Any, online: bool) -> None:
        for acc in accounts:
            acc.online = online
