"""Connection-level pieces of the OneBot adapter: credentials, signatures, one socket's state.

Kept apart from ``adapter.py`` so the rules an operator has to get right (which token forms are
accepted, what 401/403 mean, how the push signature is computed) can be read in one place.
"""

from __future__ import annotations

import hmac
import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from aiohttp import ClientWebSocketResponse, web

from bot.adapters.logs import RateLimitedLog
from bot.adapters.onebot.errors import NotConnected
from bot.adapters.onebot.store import ResultStore

Protocol = Literal["v11", "v12", "v11-http"]
# Reverse WS gives us a server-side socket, forward WS a client-side one; both read the same.
AnySocket = web.WebSocketResponse | ClientWebSocketResponse

# The schemes implementations put before the token: Bearer (spec, NapCat, LLOneBot, Lagrange) and
# Token (go-cqhttp, a CQHTTP legacy). Compared case-insensitively, as nonebot does.
_SCHEMES = ("bearer", "token")


def presented_token(request: web.BaseRequest) -> str | None:
    """The access token the client sent, or None when it sent none.

    NapCat and LLOneBot always send ``Authorization: Bearer <token>``, even ``Bearer `` with no
    token configured, so an empty value counts as none and the query parameter is still tried.
    A header with another scheme is returned as-is so that it fails the comparison (403).
    """
    header = request.headers.get("Authorization", "")
    if header.strip():
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() not in _SCHEMES:
            return header
        if value.strip():
            return value.strip()
    query = request.query.get("access_token", "")
    return query or None


def check_token(request: web.BaseRequest, token: str) -> int | None:
    """None if the request may pass, else the HTTP status to refuse it with (401/403)."""
    if not token:
        return None
    got = presented_token(request)
    if got is None:
        return 401
    if not hmac.compare_digest(got.encode(), token.encode()):
        return 403
    return None


def signature(body: bytes, key: str) -> str:
    """``X-Signature`` value of an HTTP event push: ``sha1=<hex HMAC-SHA1(key, raw body)>``."""
    return "sha1=" + hmac.new(key.encode(), body, "sha1").hexdigest()


_SIGNATURE_RE = re.compile(r"sha1=[0-9a-f]{40}")


class PushSignature:
    """Checks ``X-Signature`` of one HTTP event push, the HMAC computed while the body streams in.

    ``precheck()`` runs before the body is read: a push without a well-formed header is refused
    without reading it. ``update()`` takes each chunk; ``check()`` compares in constant time.
    """

    __slots__ = ("_header", "_mac")

    def __init__(self, key: str, header: str | None) -> None:
        self._mac = hmac.new(key.encode(), digestmod="sha1") if key else None
        self._header = (header or "").strip().lower()

    def precheck(self) -> int | None:
        """None if the body is worth reading; else 401 (no signature) or 403 (malformed)."""
        if self._mac is None:
            return None
        if not self._header:
            return 401
        return None if _SIGNATURE_RE.fullmatch(self._header) else 403

    def update(self, chunk: bytes) -> None:
        if self._mac is not None:
            self._mac.update(chunk)

    def check(self) -> int | None:
        """None if the push is authentic (or no key is configured), else 401 / 403."""
        if self._mac is None:
            return None
        status = self.precheck()
        if status is not None:
            return status
        expected = "sha1=" + self._mac.hexdigest()
        return None if hmac.compare_digest(self._header.encode(), expected.encode()) else 403


class Backoff:
    """Capped exponential back-off with jitter for the forward-WS client: 1 s, 2 s, 4 s … 60 s.

    Implementations themselves reconnect at a fixed 3-5 s with no back-off;
    as the client we should not hammer a restarting implementation the same way.
    """

    __slots__ = ("_cap", "_first", "_next")

    def __init__(self, first: float = 1.0, cap: float = 60.0) -> None:
        self._first = first
        self._cap = cap
        self._next = first

    def reset(self) -> None:
        self._next = self._first

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._cap, self._next * 2)
        return delay * random.uniform(0.9, 1.1)


@dataclass(slots=True)
class AccountState:
    """What /healthz shows for one bot account. Survives reconnects; counters accumulate."""

    platform: str
    self_id: str
    protocol: Protocol
    connected: bool = False
    # None until the implementation says (heartbeat ``status.online``, lifecycle, status_update).
    online: bool | None = None
    last_heartbeat: datetime | None = None
    heartbeat_interval_ms: int | None = None
    connected_at: datetime | None = None
    frames_in: int = 0
    bad_frames: int = 0


@dataclass(eq=False, slots=True)
class Connection:
    """One authenticated socket: its echo store and the accounts currently bound to it."""

    ws: AnySocket
    protocol: Protocol
    remote: str  # for logs: the peer address, or the forward URL without its query
    peer: str | None = None  # the implementation's IP address, when known
    store: ResultStore = field(default_factory=ResultStore)
    accounts: dict[str, AccountState] = field(default_factory=dict)
    # v12 only: the implementation's platform name per bot, needed in every action's ``self``.
    v12_platforms: dict[str, str] = field(default_factory=dict)
    # The implementation behind each account (get_version_info ``app_name``), asked once per
    # socket when first needed: a reconnect may bring another implementation. What it can do
    # (react, post a group file from a URL) is decided from it (``capabilities.py``).
    app_names: dict[str, str] = field(default_factory=dict)
    bad_log: RateLimitedLog = field(default_factory=RateLimitedLog)

    async def send_json(self, frame: dict[str, Any]) -> None:
        if self.ws.closed:
            raise NotConnected("socket is closed")
        try:
            await self.ws.send_str(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
        except (ConnectionError, RuntimeError) as exc:
            raise NotConnected(f"socket write failed: {exc}") from exc
