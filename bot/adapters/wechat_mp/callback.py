"""The official-account callback at ``/wechat/mp``: verification, decryption, dedupe, replies.

Status codes (never a 500; every refusal is logged with its reason):

- **403**: ``signature``/``timestamp``/``nonce`` missing or wrong; ``msg_signature`` missing or
  wrong on an encrypted POST; a timestamp outside the replay window; the POST's mode does not
  match the configured one (an unencrypted POST, or a body without ``Encrypt``, in ``safe`` or
  ``compatible`` mode, whose signature does not cover the body; an encrypted POST in ``plain``
  mode). In ``compatible`` mode only the encrypted part is read: the plaintext fields WeChat
  puts beside it are not covered by any signature.
- **400**: an empty or malformed body (bad XML or JSON, a DOCTYPE/ENTITY declaration, missing
  fields), and every decryption failure after a valid
  ``msg_signature``: a wrong EncodingAESKey, bad base64 or padding, or an app id that is not ours.
  The signature only proves the sender knows the token; the body is what is wrong, so these are
  all 400 (the log line says which).
- **413**: a body over 1 MiB; **408**: a body not received within 15 s; **503**: more than
  ``max_concurrent_reads`` bodies being read at once. Refusals close the connection, so an unread
  body is never read (``bot.adapters.http_body``).

A valid message is answered within ``reply_deadline_s``: with a passive text reply (encrypted when
the request was) when the handler returned text in time, else ``success``; a handler that finishes
later has its text delivered through ``late_reply(openid, text)`` (a customer-service message).
WeChat's retries (three, after 5 s each) are deduplicated before the handler runs: by MsgId for
messages and by FromUserName+CreateTime+Event for events; a retry that arrives while the first
attempt is still running waits for the same task, and the answer is delivered exactly once.
With a ``quota`` tracker, each new message (or subscribe, scan, menu click) opens its
customer-service window there, so that ``late_reply`` can use it.

The data format is XML (the official account's only format); JSON bodies, which the platform's
worked example uses, are accepted as well and answered in JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import xmltodict
from aiohttp import web
from wechatpy import create_reply, parse_message

from bot.adapters.http_body import BodyTooLarge, ReadGate, read_capped, refuse
from bot.adapters.logs import RateLimitedLog
from bot.adapters.wechat_mp.crypto import MessageCrypto, _cdata_safe, verify
from bot.adapters.wechat_mp.quota import QuotaTracker
from bot.adapters.wechat_mp.util import mask
from bot.core.event import (
    ChatKind,
    ChatRef,
    Event,
    Image,
    MessageEvent,
    NoticeEvent,
    Other,
    Segment,
    SubscriptionEvent,
    Text,
    UserRef,
)

log = logging.getLogger("dudao.wechat_mp")

PATH = "/wechat/mp"
PLATFORM = "mp"
MAX_BODY = 1024 * 1024
MAX_CONCURRENT_READS = 32
MODES = ("plain", "compatible", "safe")

Handle = Callable[[Event], Awaitable[str | None]]
LateReply = Callable[[str, str], Awaitable[None]]

# Events about the follower's relation to the account (the rest are plain notices).
SUBSCRIPTION_KINDS = frozenset({"subscribe", "unsubscribe", "scan", "click"})

_ENVELOPE_KEYS = frozenset({"ToUserName", "FromUserName", "CreateTime", "MsgType", "Event",
                            "MsgId", "Encrypt"})


class _Reject(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_BODY_FOR = {400: "bad request", 403: "forbidden", 408: "request timeout",
             413: "payload too large", 503: "busy"}


@dataclass(slots=True)
class _Attempt:
    """One message's handling, shared by WeChat's retries of it."""

    task: asyncio.Task[str | None]
    expires_at: float
    claimed: bool = False  # the answer was delivered (passive reply) or handed to late_reply
    watching: bool = False  # a background watcher will deliver the answer late
    passive: str | None = None  # the passive reply given, repeated to a retry of the same message


@dataclass(frozen=True, slots=True)
class _Parsed:
    raw: dict[str, Any]  # the message's fields as xmltodict/json gave them
    fmt: str  # "xml" or "json"


class WeChatCallback:
    """aiohttp routes for the official account's callback; see the module docstring."""

    def __init__(self, *, app_id: str, token: str, aes_key: str, mode: str,
                 replay_window_s: int = 600, reply_deadline_s: float = 4.0,
                 handle: Handle, late_reply: LateReply,
                 now: Callable[[], float] = time.time,
                 dedupe_ttl_s: float = 600.0, dedupe_max: int = 10_000,
                 max_body: int = MAX_BODY, quota: QuotaTracker | None = None,
                 max_concurrent_reads: int = MAX_CONCURRENT_READS) -> None:
        if mode not in MODES:
            raise ValueError(f"WeChat message mode must be one of {', '.join(MODES)}: {mode!r}")
        if not token:
            raise ValueError("the WeChat callback needs a token")
        self._app_id = app_id
        self._token = token
        self._mode = mode
        self._crypto: MessageCrypto | None = None
        if mode != "plain":
            if not aes_key:
                raise ValueError(f"WeChat mode {mode!r} needs an EncodingAESKey")
            self._crypto = MessageCrypto(token, aes_key, app_id)
        self._replay_window_s = replay_window_s
        self._deadline = reply_deadline_s
        self._handle = handle
        self._late_reply = late_reply
        self._now = now
        self._ttl = dedupe_ttl_s
        self._dedupe_max = dedupe_max
        self._max_body = max_body
        self._gate = ReadGate(max_concurrent_reads)
        self._refused_log = RateLimitedLog()
        self._quota = quota
        self._attempts: OrderedDict[str, _Attempt] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.handle_get, allow_head=False),
                web.post(PATH, self.handle_post)]

    async def close(self, grace_s: float | None = None) -> None:
        """Wait for every handler and late reply still running; after ``grace_s`` seconds (if
        given) cancel what is left."""
        loop = asyncio.get_running_loop()
        until = None if grace_s is None else loop.time() + grace_s
        while self._tasks:
            left = None if until is None else max(0.0, until - loop.time())
            _, pending = await asyncio.wait(list(self._tasks), timeout=left)
            if pending and until is not None and loop.time() >= until:
                log.warning("cancelling %d WeChat handler task(s) still running at close",
                            len(pending))
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

    # --- HTTP ----------------------------------------------------------------------------------

    async def handle_get(self, request: web.Request) -> web.StreamResponse:
        try:
            q = request.query
            self._check_signature(q)
            echostr = q.get("echostr")
            if echostr is None:
                raise _Reject(400, "GET without echostr")
            log.info("callback URL verified")
            return web.Response(text=echostr)
        except _Reject as r:
            return await self._refuse(request, r)
        except Exception:
            log.exception("unexpected error in GET %s", PATH)
            return web.Response(status=400, text=_BODY_FOR[400])

    async def handle_post(self, request: web.Request) -> web.StreamResponse:
        started = asyncio.get_running_loop().time()
        try:
            return await self._post(request, started)
        except _Reject as r:
            return await self._refuse(request, r)
        except Exception:
            log.exception("unexpected error in POST %s", PATH)
            return web.Response(status=400, text=_BODY_FOR[400])

    async def _refuse(self, request: web.Request, r: _Reject) -> web.StreamResponse:
        """Log and answer a refusal, closing the connection: an unread body stays unread."""
        if self._refused_log.allow():
            more = f" ({self._refused_log.suppressed} more suppressed)" \
                if self._refused_log.suppressed else ""
            self._refused_log.suppressed = 0
            log.warning("%s %s refused with %d: %s (from %s)%s", request.method, PATH, r.status,
                        r.reason, request.remote, more)
        return await refuse(request, r.status, _BODY_FOR.get(r.status, "refused"))

    # --- checks --------------------------------------------------------------------------------

    def _check_signature(self, q: Mapping[str, str]) -> tuple[str, str]:
        """Checks ``signature`` and the replay window; returns (timestamp, nonce)."""
        signature, timestamp, nonce = q.get("signature"), q.get("timestamp"), q.get("nonce")
        if not signature or not timestamp or not nonce:
            raise _Reject(403, "signature, timestamp or nonce missing")
        if not verify(signature, self._token, timestamp, nonce):
            raise _Reject(403, "bad signature")
        self._check_fresh(timestamp)
        return timestamp, nonce

    def _check_fresh(self, timestamp: str) -> None:
        try:
            ts = int(timestamp)
        except ValueError:
            raise _Reject(403, "timestamp is not an integer") from None
        skew = self._now() - ts
        if abs(skew) > self._replay_window_s:
            raise _Reject(403, f"timestamp outside the replay window ({skew:+.0f} s)")

    async def _read_body(self, request: web.Request) -> bytes:
        # In safe mode the body is what msg_signature covers, so it is read before anything
        # proves the sender knows the token: bounded in size, time and concurrent reads.
        with self._gate.slot() as admitted:
            if not admitted:
                raise _Reject(503, "too many callbacks being read")
            try:
                return await read_capped(request, self._max_body)
            except BodyTooLarge:
                raise _Reject(413, f"body over {self._max_body} bytes") from None
            except TimeoutError:
                raise _Reject(408, "body not received in time") from None

    # --- the POST ------------------------------------------------------------------------------

    async def _post(self, request: web.Request, started: float) -> web.Response:
        q = request.query
        encrypted = q.get("encrypt_type", "raw").lower() == "aes"
        if self._mode != "plain" and not encrypted:
            # Its signature does not cover the body: anyone who saw one signed URL could post
            # any message. In compatible mode WeChat sends encrypt_type=aes too (the body carries
            # Encrypt beside the plaintext fields), so nothing genuine is refused.
            raise _Reject(403, f"unencrypted POST in {self._mode} mode")
        if self._mode == "plain" and encrypted:
            raise _Reject(403, "encrypted POST but the configured mode is plain")
        if encrypted:
            msg_signature, timestamp, nonce = (q.get("msg_signature"), q.get("timestamp"),
                                               q.get("nonce"))
            if not msg_signature or not timestamp or not nonce:
                raise _Reject(403, "msg_signature, timestamp or nonce missing")
            signature = q.get("signature")
            if signature is not None and not verify(signature, self._token, timestamp, nonce):
                raise _Reject(403, "bad signature")
            self._check_fresh(timestamp)
        else:
            timestamp, nonce = self._check_signature(q)
            msg_signature = ""

        body = await self._read_body(request)
        outer = _parse_body(body)
        if encrypted:
            assert self._crypto is not None
            encrypt = outer.raw.get("Encrypt")
            if not isinstance(encrypt, str) or not encrypt:
                # Only Encrypt is covered by msg_signature; compatible mode's plaintext fields
                # beside it are never read (a replayed query could carry any of them).
                raise _Reject(403, "POST without Encrypt: its body is not signed")
            if not self._crypto.verify(msg_signature, timestamp, nonce, encrypt):
                raise _Reject(403, "bad msg_signature")
            try:
                plaintext = self._crypto.decrypt(encrypt, msg_signature, timestamp, nonce)
            except Exception as exc:
                # wrong AES key, bad base64/padding, another app id: wechatpy raises all kinds
                # of exceptions for these (https://github.com/wechatpy/wechatpy/issues/799)
                raise _Reject(400, f"cannot decrypt ({type(exc).__name__})") from None
            inner = _parse_body(plaintext.encode("utf-8"))
        else:
            inner = outer

        message = _to_wechatpy(inner)
        event, key = self._to_event(inner.raw, message)
        openid = event.sender.id if isinstance(event, MessageEvent) else (
            event.user.id if event.user else "")

        remaining = self._deadline - (asyncio.get_running_loop().time() - started)
        text = await self._dispatch(key, event, openid, remaining)
        if not text:
            return web.Response(text="success")
        return self._reply(text, message, inner, nonce if encrypted else None)

    # --- dispatch with dedupe ------------------------------------------------------------------

    async def _dispatch(self, key: str, event: Event, openid: str,
                        remaining: float) -> str | None:
        now = self._now()
        self._evict(now)
        attempt = self._attempts.get(key)
        if attempt is None:
            self._record_window(event, openid, now)
            task = self._spawn(self._handle(event))
            attempt = self._attempts[key] = _Attempt(task, now + self._ttl)
        else:
            log.info("WeChat retry of %s from %s deduplicated", key.split(":", 1)[0], mask(openid))
        if not attempt.task.done() and remaining > 0:
            await asyncio.wait([attempt.task], timeout=remaining)
        if attempt.task.done():
            if attempt.claimed:
                # WeChat only retries when it got no answer in time: if the first answer was a
                # passive reply, it was lost, so give it again (the handler does not run again).
                return attempt.passive
            attempt.claimed = True
            attempt.passive = self._result(attempt.task)
            return attempt.passive
        if not attempt.watching:
            attempt.watching = True
            log.info("handler for %s is slow; answering success, the reply follows later",
                     mask(openid))
            self._spawn(self._deliver_late(attempt, openid))
        return None

    def _record_window(self, event: Event, openid: str, now: float) -> None:
        """Open the customer-service window a message (or a click, scan, subscribe) grants."""
        if self._quota is None:
            return
        if isinstance(event, MessageEvent):
            self._quota.record_user_message(openid, now)
        elif event.kind in ("subscribe", "scan", "click"):
            self._quota.record_user_event(openid, now)
        elif event.kind == "unsubscribe":
            self._quota.close_custom_window(openid)

    async def _deliver_late(self, attempt: _Attempt, openid: str) -> None:
        await asyncio.wait([attempt.task])
        if attempt.claimed:
            return
        attempt.claimed = True
        text = self._result(attempt.task)
        if not text:
            return
        try:
            await self._late_reply(openid, text)
        except Exception:
            log.exception("late reply to %s failed", mask(openid))

    def _result(self, task: asyncio.Task[str | None]) -> str | None:
        if task.cancelled():
            return None
        exc = task.exception()
        if exc is not None:
            log.error("WeChat message handler failed", exc_info=exc)
            return None
        return task.result() or None

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _evict(self, now: float) -> None:
        attempts = self._attempts
        while attempts:
            key, first = next(iter(attempts.items()))
            if first.expires_at > now and len(attempts) < self._dedupe_max:
                break
            del attempts[key]

    # --- conversion ----------------------------------------------------------------------------

    def _to_event(self, raw: dict[str, Any], message: Any) -> tuple[Event, str]:
        """The core event and its dedupe key; missing fields are a 400."""
        openid = _field(raw, "FromUserName")
        msg_type = _field(raw, "MsgType").lower()
        create = _field(raw, "CreateTime")
        if not openid or not msg_type or not create or not _field(raw, "ToUserName"):
            raise _Reject(400, "ToUserName, FromUserName, CreateTime or MsgType missing")
        try:
            when = datetime.fromtimestamp(int(create), UTC)
        except (ValueError, OverflowError, OSError):
            raise _Reject(400, "CreateTime is not a timestamp") from None
        user = UserRef(PLATFORM, openid)

        if msg_type == "event":
            name = _field(raw, "Event")
            if not name:
                raise _Reject(400, "event without Event")
            kind, detail = _event_kind(name, raw, message)
            key = f"evt:{openid}:{create}:{name}"
            make = SubscriptionEvent if kind in SUBSCRIPTION_KINDS else NoticeEvent
            return make(platform=PLATFORM, self_id=self._app_id, kind=kind, chat=None,
                        user=user, time=when, detail=detail), key

        msg_id = _field(raw, "MsgId")
        if not msg_id:
            raise _Reject(400, f"{msg_type} message without MsgId")
        segments = _segments(msg_type, raw)
        return MessageEvent(
            platform=PLATFORM, self_id=self._app_id,
            chat=ChatRef(PLATFORM, ChatKind.PRIVATE, openid), sender=user,
            message_id=msg_id, segments=segments, time=when, to_me=True,
        ), f"msg:{msg_id}"

    def _reply(self, text: str, message: Any, inner: _Parsed, nonce: str | None) -> web.Response:
        now = str(int(self._now()))
        if inner.fmt == "json":
            body = json.dumps({
                "ToUserName": _field(inner.raw, "FromUserName"),
                "FromUserName": _field(inner.raw, "ToUserName"),
                "CreateTime": int(now), "MsgType": "text", "Content": text,
            }, ensure_ascii=False)
        else:
            reply = create_reply(_cdata_safe(text), message=message)
            reply.time = int(now)
            body = str(reply.render())
        if nonce is not None:
            assert self._crypto is not None
            if inner.fmt == "json":
                encrypt, signature = self._crypto.encrypt(body, nonce, now)
                body = json.dumps({"Encrypt": encrypt, "MsgSignature": signature,
                                   "TimeStamp": int(now), "Nonce": nonce})
            else:
                body = self._crypto.encrypt_xml(body, nonce, now)
        content_type = "application/json" if inner.fmt == "json" else "application/xml"
        return web.Response(text=body, content_type=content_type)


# --- helpers --------------------------------------------------------------------------------------


def _parse_body(body: bytes) -> _Parsed:
    """The root mapping of an XML (``<xml>…</xml>``) or JSON body; 400 on anything else."""
    text = body.strip().lstrip(b"\xef\xbb\xbf").strip()
    if not text:
        raise _Reject(400, "empty body")
    if text.startswith(b"{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise _Reject(400, "malformed JSON") from None
        if not isinstance(data, dict):
            raise _Reject(400, "JSON body is not an object")
        return _Parsed(data, "json")
    upper = text.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise _Reject(400, "XML with a DOCTYPE or ENTITY declaration")
    try:
        doc = xmltodict.parse(text, disable_entities=True)
    except Exception:
        raise _Reject(400, "malformed XML") from None
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise _Reject(400, "XML root is not <xml> with fields")
    return _Parsed(root, "xml")


def _to_wechatpy(parsed: _Parsed) -> Any:
    """wechatpy's message object (for its event classification and ``create_reply``)."""
    fields = {k: (str(v) if isinstance(v, int | float) else v) for k, v in parsed.raw.items()}
    if not isinstance(fields.get("MsgType"), str) or not fields["MsgType"]:
        raise _Reject(400, "MsgType missing")
    try:
        return parse_message(xmltodict.unparse({"xml": fields}))
    except Exception:
        raise _Reject(400, "message fields do not parse") from None


def _field(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return ""


def _event_kind(name: str, raw: Mapping[str, Any], message: Any) -> tuple[str, dict[str, str]]:
    event = name.lower()
    ticket = _field(raw, "Ticket")
    extra = {"ticket": ticket} if ticket else {}
    if event == "subscribe":
        # wechatpy turns a subscribe with EventKey "qrscene_<scene>" into subscribe_scan and
        # strips the prefix; other keys (wechatpy issue #178) are not scenes.
        if getattr(message, "event", "") == "subscribe_scan":
            return "subscribe", {"key": str(message.scene_id or ""), **extra}
        return "subscribe", {}
    if event == "unsubscribe":
        return "unsubscribe", {}
    if event == "scan":
        return "scan", {"key": _field(raw, "EventKey"), **extra}
    if event == "click":
        return "click", {"key": _field(raw, "EventKey")}
    if event == "view":
        return "view", {"key": _field(raw, "EventKey")}
    # Anything else (TEMPLATESENDJOBFINISH, MASSSENDJOBFINISH, LOCATION, subscribe_msg_*…):
    # the lower-cased event name and its scalar fields.
    detail = {k: _field(raw, k) for k, v in raw.items()
              if k not in _ENVELOPE_KEYS and isinstance(v, str | int | float)}
    return event, detail


def _segments(msg_type: str, raw: Mapping[str, Any]) -> tuple[Segment, ...]:
    if msg_type == "text":
        return (Text(_field(raw, "Content")),)
    if msg_type == "image":
        return (Image(file=_field(raw, "MediaId"), url=_field(raw, "PicUrl")),)
    data = tuple((k, _field(raw, k)) for k, v in raw.items()
                 if k not in _ENVELOPE_KEYS and isinstance(v, str | int | float))
    return (Other(msg_type, data),)
