"""The outbox's sender for the official account (platform ``mp``), and passive-reply bookkeeping.

Chats are ``mp:user:<openid>``. Which way a message goes depends on its outbox row's kind:

- ``reminder``, ``notice``, ``bulletin`` (pushed to officials, who may not have written for
  days): as a **template message** when its template is configured (``[wechat_mp]
  reminder_template_id`` / ``notice_template_id``, fields mapped as in
  :mod:`bot.adapters.wechat_mp.templates`; one template per outbox row even when the outbox split
  the text). Without a template: a customer-service message while the user's 48-hour window is
  open, otherwise it is **skipped** with a log line (the row is recorded with platform id
  ``skipped``; nothing else can reach them).
- anything else (replies, alerts): a customer-service text message (split at 2,048 bytes); a
  closed window (45015/45047) fails it for good.

Quotas (:mod:`bot.adapters.wechat_mp.quota`): when the template quota is used up, a reminder or
notice falls back to a customer-service message if the window is open; with no channel left (or
the customer-service quota used up) it fails for good, so the outbox tells the admins. Nothing is
sent over a quota.

Errors become :class:`~bot.core.adapter.SendError` for the outbox: a dead binding (40003, 43004)
unlinks the ``mp:<openid>`` identity and is permanent; WeChat's "system busy" (-1) pauses the
account (``risk_control``); network failures are retried; configuration problems (48001, IP
whitelist…) are permanent, so the admins are told.

**Passive replies.** The callback answers a message with the bot's replies in the HTTP response
when they are ready in time. Those replies are outbox rows too, pushed to delivery right after
their commit; :class:`PassiveReplies` makes sure they are not sent a second time. Before feeding
an event, the callback's handler takes a *hold* on the chat; a send to a held chat waits until
the hold is settled, then a row the handler delivered passively is skipped (the outbox records
it as sent with platform id ``passive``); anything else is sent as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.adapters.wechat_mp.api import WeChatAPI
from bot.adapters.wechat_mp.errors import Decision, WeChatAPIError
from bot.adapters.wechat_mp.templates import TEMPLATE_OF_KIND, TemplateSpec
from bot.adapters.wechat_mp.util import mask
from bot.adapters.wecom_robot.client import split_by_bytes
from bot.core.adapter import Envelope, SendError
from bot.core.event import ChatKind, Image, Text
from bot.core.media import without_pictures
from bot.core.message import OutgoingMessage

log = logging.getLogger("dudao.wechat_mp")

PLATFORM = "mp"
TEXT_LIMIT_BYTES = 2048
PASSIVE_ID = "passive"
SKIPPED_ID = "skipped"


# --- passive replies --------------------------------------------------------------------------


@dataclass(eq=False)
class Hold:
    """One handler's claim on a chat until it knows which replies it delivers passively."""

    chat: str
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class PassiveReplies:
    """The outbox rows a passive reply delivered, and the holds of running handlers."""

    def __init__(self, *, ttl_s: float = 3600.0, max_items: int = 20_000,
                 settle_timeout_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._holds: dict[str, list[Hold]] = {}
        # outbox id -> expiry
        self._delivered: OrderedDict[int, float] = OrderedDict()
        self._ttl = ttl_s
        self._max = max_items
        self._settle_timeout = settle_timeout_s
        self._clock = clock

    @contextlib.contextmanager
    def hold(self, chat: str) -> Iterator[Hold]:
        """Held while a handler runs; sends to ``chat`` wait for it (at most
        ``settle_timeout_s``)."""
        h = Hold(chat)
        self._holds.setdefault(chat, []).append(h)
        try:
            yield h
        finally:
            holds = self._holds.get(chat, [])
            if h in holds:
                holds.remove(h)
            if not holds:
                self._holds.pop(chat, None)
            if not h.done.done():
                h.done.set_result(None)

    def delivered(self, outbox_ids: list[int]) -> None:
        """The rows ``outbox_ids`` went out in a passive reply: the sender skips them."""
        now = self._clock()
        self._prune(now)
        for oid in outbox_ids:
            self._delivered[oid] = now + self._ttl
        while len(self._delivered) > self._max:
            self._delivered.popitem(last=False)

    def take(self, outbox_id: int | None) -> bool:
        """True (once) if the row ``outbox_id`` was delivered passively."""
        return outbox_id is not None and self._delivered.pop(outbox_id, None) is not None

    def held(self, chat: str) -> bool:
        return bool(self._holds.get(chat))

    async def settle(self, chat: str) -> None:
        """Wait until no handler holds ``chat`` (bounded by ``settle_timeout_s``)."""
        waiting = [h.done for h in self._holds.get(chat, ())]
        if waiting:
            await asyncio.wait(waiting, timeout=self._settle_timeout)

    def _prune(self, now: float) -> None:
        d = self._delivered
        while d:
            expiry = next(iter(d.values()))
            if expiry > now:
                break
            d.popitem(last=False)


# --- the sender -----------------------------------------------------------------------------------


Unlink = Callable[[str, str], Awaitable[None]]
"""Remove the identity ``mp:<openid>``; the second argument is the reason."""


def message_text(message: OutgoingMessage) -> str:
    """What an official-account text message can carry: the text, ``[图片]`` for images."""
    parts: list[str] = []
    for seg in without_pictures(message).segments:
        if isinstance(seg, Text):
            parts.append(seg.text)
        elif isinstance(seg, Image):
            parts.append("[图片]")
    return "".join(parts).strip()


class MpSender:
    """The ``mp`` platform's :class:`~bot.core.sending.Sender` (see the module docstring)."""

    platform = PLATFORM

    def __init__(self, *, passive: PassiveReplies, api: WeChatAPI | None = None,
                 templates: Mapping[str, TemplateSpec] | None = None, board_url: str = "",
                 unlink: Unlink | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.passive = passive
        self.api = api
        # "reminder" / "notice" -> the configured template (absent when its id is empty)
        self._templates = {k: t for k, t in (templates or {}).items() if t.template_id}
        self._board_url = board_url
        self._unlink = unlink
        self._clock = clock
        # outbox ids already answered by a template (the other parts of a split message)
        self._templated: OrderedDict[int, None] = OrderedDict()

    def available_accounts(self, platform: str) -> list[str]:
        return [""] if self.api is not None else []

    async def send(self, envelope: Envelope) -> str:
        chat = envelope.chat
        if chat.kind is not ChatKind.PRIVATE:
            raise SendError(f"the official account has no group chats: {chat.key}",
                            permanent=True)
        if self.passive.held(chat.key):
            await self.passive.settle(chat.key)
        if self.passive.take(envelope.outbox_id):
            return PASSIVE_ID
        if self.api is None:
            raise SendError("the official account's API is not configured (app_id, app_secret)",
                            unavailable=True)
        text = message_text(envelope.message)
        if not text:
            raise SendError("nothing an official-account message can carry", permanent=True)
        if envelope.kind in TEMPLATE_OF_KIND and envelope.outbox_id is not None:
            return await self._send_push(chat.id, text, envelope.outbox_id, envelope.kind)
        return await self._send_text(chat.id, text)

    async def send_text_now(self, openid: str, text: str) -> None:
        """A customer-service message outside the outbox (a late reply); errors are logged."""
        try:
            await self._send_text(openid, text)
        except SendError as exc:
            log.error("late reply to %s not delivered: %s", mask(openid), exc)

    async def _send_text(self, openid: str, text: str) -> str:
        assert self.api is not None
        try:
            await self._custom(openid, text)
        except WeChatAPIError as exc:
            raise await self._send_error(openid, exc) from None
        return ""

    async def _custom(self, openid: str, text: str) -> None:
        assert self.api is not None
        for part in split_by_bytes(text, TEXT_LIMIT_BYTES):
            await self.api.send_text(openid, part)

    async def _send_push(self, openid: str, text: str, outbox_id: int, kind: str) -> str:
        """A reminder, notice or bulletin: template first, else the customer-service window."""
        spec = self._templates.get(TEMPLATE_OF_KIND[kind])
        if spec is None:
            return await self._custom_or_skip(openid, text, kind, outbox_id)
        if outbox_id in self._templated:
            return "template"  # a later part of a split message: the template covered it
        assert self.api is not None
        try:
            msgid = await self.api.send_template(openid, spec.template_id,
                                                 spec.data(kind, text, self._clock()),
                                                 url=self._board_url)
        except WeChatAPIError as exc:
            if exc.decision is not Decision.QUOTA_EXCEEDED:
                raise await self._send_error(openid, exc) from None
            # the template quota is used up: the customer-service window is the other channel
            log.warning("template quota used up (%s); trying a customer-service message to %s",
                        exc.errcode, mask(openid))
            try:
                await self._custom(openid, text)
            except WeChatAPIError as exc2:
                raise await self._send_error(
                    openid, exc2, note=f"after the template quota was used up: {exc}") from None
            return ""
        self._templated[outbox_id] = None
        while len(self._templated) > 1000:
            self._templated.popitem(last=False)
        log.info("%s to %s sent as a template message", kind, mask(openid))
        return f"template:{msgid}"

    async def _custom_or_skip(self, openid: str, text: str, kind: str, outbox_id: int) -> str:
        """No template for ``kind``: a customer-service message if the window allows it."""
        try:
            await self._custom(openid, text)
        except WeChatAPIError as exc:
            if exc.errcode in (45015, 45047):
                log.warning("%s (outbox %s) to %s skipped: no %s template configured and no "
                            "open customer-service window (errcode %s)", kind, outbox_id,
                            mask(openid), TEMPLATE_OF_KIND[kind], exc.errcode)
                return SKIPPED_ID
            raise await self._send_error(openid, exc) from None
        return ""

    async def _send_error(self, openid: str, exc: WeChatAPIError, *,
                          note: str = "") -> SendError:
        reason = f"{exc} ({note})" if note else str(exc)
        decision = exc.decision
        if decision is Decision.BINDING_DEAD:
            if self._unlink is not None:
                try:
                    await self._unlink(openid, f"errcode {exc.errcode}")
                except Exception as e:  # the send still fails for good
                    log.error("could not unlink mp:%s: %s", mask(openid), e)
            return SendError(f"{reason} (binding removed)", permanent=True)
        if decision is Decision.BACK_OFF and exc.errcode == -1:
            return SendError(reason, risk_control=True)
        if decision in (Decision.ALERT_ADMIN, Decision.FALLBACK_CHANNEL,
                        Decision.QUOTA_EXCEEDED):
            # a used-up quota: no channel is left for this message, so it fails now and the
            # outbox tells the admins (retrying before the quota resets would only fail again)
            return SendError(reason, permanent=True)
        return SendError(reason)  # network trouble, unknown errcode: retried with back-off
