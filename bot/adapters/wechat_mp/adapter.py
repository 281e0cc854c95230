"""The WeChat official account (公众号) as an Adapter: the callback at ``/wechat/mp`` and the
``mp`` sender.

- **In**: the callback (``callback.py``) turns each request into a core event and calls
  :meth:`WeChatMpAdapter.handle`, which feeds it through the host and answers with the replies
  addressed to the sender's chat as a *passive reply* when they are ready in time; those outbox
  rows are then skipped by the sender and recorded as sent (platform id ``passive``). A slower
  answer is ``success`` and the outbox delivers the same rows as customer-service messages. A
  menu ``CLICK`` becomes the text command of its key (:data:`MENU_COMMANDS`), so that the
  normal handlers answer it; subscribe, scan and unsubscribe go to the handlers as subscription
  events (``handlers/subscriptions.py``). Pictures are stored like any attachment: fetched by
  their MediaId through the API (``media/get``), else from their PicUrl.
- **Out**: :class:`~bot.adapters.wechat_mp.sender.MpSender` (customer-service and template
  messages) through the API client, which exists when ``app_id`` and ``app_secret`` are set;
  access tokens and quotas are shared by every process through the host's store.
- Created only when ``[wechat_mp] token`` is set.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.adapters.download import Downloader
from bot.adapters.url_policy import UrlPolicy
from bot.adapters.wechat_mp.api import WeChatAPI
from bot.adapters.wechat_mp.callback import WeChatCallback
from bot.adapters.wechat_mp.menu import MENU_COMMANDS
from bot.adapters.wechat_mp.quota import QuotaLimits, QuotaTracker
from bot.adapters.wechat_mp.sender import MpSender, PassiveReplies, message_text
from bot.adapters.wechat_mp.templates import TemplateSpec
from bot.adapters.wechat_mp.util import mask
from bot.core.adapter import Envelope, Host
from bot.core.blobs import NewBlob, keep_attachments
from bot.core.event import (
    ChatKind,
    ChatRef,
    Event,
    File,
    Image,
    MessageEvent,
    NoticeEvent,
    StoredFile,
    SubscriptionEvent,
    Text,
    UserRef,
)

if TYPE_CHECKING:
    from config.settings import Settings, WechatMpSettings

log = logging.getLogger("dudao.wechat")

PLATFORM = "mp"

PASSIVE_LIMIT_BYTES = 2048
"""A longer answer goes out as customer-service messages (split), not as a passive reply."""
# WeChat's own limit for an image it keeps as temporary media.
PICTURE_MAX_BYTES = 10 * 1024 * 1024


def quota_limits(mp: WechatMpSettings) -> QuotaLimits:
    """The ``[wechat_mp] quota_*`` settings as limits per day and month."""
    return QuotaLimits(
        per_day={"custom": mp.quota_custom_per_day, "template": mp.quota_template_per_day,
                 "mass": mp.quota_mass_per_day},
        per_month={"mass": mp.quota_mass_per_month})


def template_specs(mp: WechatMpSettings) -> dict[str, TemplateSpec]:
    """The configured reminder and notice templates (an empty id: no template)."""
    return {"reminder": TemplateSpec.parse(mp.reminder_template_id, mp.reminder_template_fields),
            "notice": TemplateSpec.parse(mp.notice_template_id, mp.notice_template_fields)}


class WeChatMpAdapter:
    name = "wechat_mp"
    platforms = (PLATFORM,)

    def __init__(self, settings: Settings, host: Host) -> None:
        self.host = host
        self.mp = mp = settings.wechat_mp
        # quotas are counted in the database, shared by every process; the customer-service
        # windows are this process's (the callback that saw the message)
        self.quota = QuotaTracker(host.store.quota_counter(mp.app_id), quota_limits(mp))
        self.passive = PassiveReplies()
        self.api: WeChatAPI | None = None
        self.session: aiohttp.ClientSession | None = None
        deadline = float(mp.reply_deadline_s)
        # answer passively only with some margin left before the callback's own deadline;
        # later answers go through the outbox (a race at the boundary ends in ``late_reply``)
        self.passive_budget_s = deadline - min(0.5, max(0.02, deadline * 0.2))
        self.callback = WeChatCallback(
            app_id=mp.app_id, token=mp.token, aes_key=mp.aes_key, mode=mp.effective_mode,
            replay_window_s=mp.replay_window_s, reply_deadline_s=deadline, handle=self.handle,
            late_reply=self.late_reply, quota=self.quota,
            max_concurrent_reads=settings.http.max_unauthenticated_reads)
        self.sender = MpSender(passive=self.passive, templates=template_specs(mp),
                               board_url=host.board_url, unlink=self._unreachable,
                               clock=host.clock.now)
        # Pictures come from WeChat's servers: public addresses only, never our own port.
        self._pictures = Downloader(
            policy=UrlPolicy.build(own_port=settings.http.port,
                                   public_url=settings.http.public_url, allow=(),
                                   trust_impl_host=False),
            max_bytes=PICTURE_MAX_BYTES, concurrency=4, inflight_bytes=4 * PICTURE_MAX_BYTES)

    @property
    def api_configured(self) -> bool:
        return bool(self.mp.token and self.mp.app_id and self.mp.app_secret)

    # --- the Adapter protocol -----------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return self.callback.routes()

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()
        if self.api_configured:
            self.api = WeChatAPI(self.session, app_id=self.mp.app_id,
                                 app_secret=self.mp.app_secret, api_base=self.mp.api_base,
                                 token_store=self.host.store.token_store(), quota=self.quota)
            self.sender.api = self.api
        log.info("official account callback at /wechat/mp (%s mode)%s", self.mp.effective_mode,
                 "" if self.api_configured else "; API not configured (no app_id/app_secret)")

    async def stop(self) -> None:
        await self.callback.close(grace_s=float(self.mp.reply_deadline_s) + 1.0)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    def health(self) -> dict[str, Any]:
        return {"mode": self.mp.effective_mode, "api": self.api is not None}

    def available_accounts(self, platform: str) -> list[str]:
        return self.sender.available_accounts(platform)

    async def send(self, envelope: Envelope) -> str:
        return await self.sender.send(envelope)

    async def resolve_attachments(self, event: MessageEvent) -> MessageEvent:
        # A picture message has no file name; its MediaId is no name for people.
        return await keep_attachments(event, self.host.files, self._fetch,
                                      name_of=lambda seg: seg.name or "图片.jpg")

    # --- the callback's handler ---------------------------------------------------------------

    async def handle(self, event: Event) -> str | None:
        started = asyncio.get_running_loop().time()
        if isinstance(event, MessageEvent):
            return await self._feed(event, event.chat, started)
        if event.user is None:
            await self.host.feed(event)
            return None
        chat = ChatRef(PLATFORM, ChatKind.PRIVATE, event.user.id)
        if event.kind == "click":
            command = MENU_COMMANDS.get(event.detail.get("key", ""))
            if command is not None:
                return await self._feed(_click_message(event, chat, command), chat, started)
        return await self._feed(event, chat, started)

    async def _feed(self, event: Event, chat: ChatRef, started: float) -> str | None:
        loop = asyncio.get_running_loop()
        with self.passive.hold(chat.key):
            delivered = await self.host.feed(event)
            replies = [d for d in delivered if d.chat == chat]
            texts = [t for t in (message_text(d.message) for d in replies) if t]
            if not texts:
                return None
            text = "\n".join(texts)
            if (loop.time() - started > self.passive_budget_s
                    or len(text.encode("utf-8")) > PASSIVE_LIMIT_BYTES):
                return None  # too late or too long for a passive reply: the outbox sends them
            self.passive.delivered([d.outbox_id for d in replies if d.outbox_id is not None])
        return text

    async def late_reply(self, openid: str, text: str) -> None:
        """The callback gave up waiting although the answer was ready (a race at the deadline):
        send it as a customer-service message."""
        if self.sender.api is None:
            log.warning("late reply to %s dropped: the API is not configured", mask(openid))
            return
        await self.sender.send_text_now(openid, text)

    # --- the rest -----------------------------------------------------------------------------

    async def _fetch(self, seg: Image | File, new_blob: NewBlob) -> StoredFile | None:
        """A picture by its MediaId through the API, else from its PicUrl."""
        media_id = seg.file if isinstance(seg, Image) else seg.file_id
        if self.api is not None and media_id:
            stored = await self.api.download_media(media_id, new_blob,
                                                   max_bytes=PICTURE_MAX_BYTES)
            if stored is not None:
                return stored
        if seg.url.startswith(("http://", "https://")):
            return await self._pictures.download(seg.url, new_blob)
        return None

    async def _unreachable(self, openid: str, reason: str) -> None:
        """WeChat says the openid cannot be reached any more (40003, 43004): the handlers
        remove the binding, committed before the send is recorded as failed."""
        await self.host.feed(SubscriptionEvent(
            platform=PLATFORM, self_id=self.mp.app_id, kind="unreachable", chat=None,
            user=UserRef(PLATFORM, openid), time=self.host.clock.now(),
            detail={"reason": reason}))
        log.warning("binding %s reported unreachable: %s", mask(openid), reason)


def create(settings: Settings, host: Host) -> WeChatMpAdapter | None:
    return WeChatMpAdapter(settings, host) if settings.wechat_mp.token else None


def _click_message(event: NoticeEvent, chat: ChatRef, command: str) -> MessageEvent:
    assert event.user is not None
    stamp = int(event.time.timestamp())
    return MessageEvent(platform=PLATFORM, self_id=event.self_id, chat=chat, sender=event.user,
                        message_id=f"click-{stamp}-{event.detail.get('key', '')}",
                        segments=(Text(command),), time=event.time, to_me=True)
