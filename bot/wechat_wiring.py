"""The WeChat official account and WeCom group robots, wired into the running service.

``setup_wechat(app, services)`` (called by ``bot.app.create_app``):

- **Official account** (when ``[wechat_mp] token`` is set): the callback routes at ``/wechat/mp``
  and the ``mp`` sender. The callback's handler feeds each event to the dispatcher and answers
  with the replies addressed to the sender's chat as a passive reply when they are ready in time;
  those outbox rows are then skipped by the sender and marked sent (platform id ``passive``).
  A slower answer is answered ``success`` and the outbox delivers the same rows as
  customer-service messages. The API client (access tokens shared through ``app_tokens``,
  customer-service and template messages) exists when ``app_id`` and ``app_secret`` are set too.
- Before feeding: an ``unsubscribe`` removes the ``mp:<openid>`` identity (WeChat asks developers
  to delete a user's data), cancels messages still pending for that chat and writes an audit
  entry, in one transaction; a ``subscribe``/``SCAN`` whose QR scene is an invite code binds the
  openid (like ``绑定 CODE``) and is answered with a welcome; a menu ``CLICK`` becomes the text
  command of its key (:data:`MENU_COMMANDS`), so that the normal handlers answer it.
- **WeCom** (always; it is cheap): the ``wecom`` sender, sending to groups whose row has a
  ``webhook_key`` through their robots.

One aiohttp session serves both; it is opened before the service starts and closed after the
outbox has drained (a cleanup context registered before the app's own).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from sqlalchemy import Connection

from bot.adapters.wechat_mp.api import WeChatAPI
from bot.adapters.wechat_mp.callback import WeChatCallback
from bot.adapters.wechat_mp.menu import DEFAULT_MENU, MENU_COMMANDS
from bot.adapters.wechat_mp.quota import QuotaLimits, QuotaTracker
from bot.adapters.wechat_mp.sender import MpSender, PassiveReplies, message_text
from bot.adapters.wechat_mp.templates import TemplateSpec
from bot.adapters.wechat_mp.util import mask
from bot.adapters.wecom_robot.client import WeComRobot
from bot.adapters.wecom_robot.sender import WeComSender
from bot.core.event import ChatKind, ChatRef, Event, MessageEvent, NoticeEvent, Text
from bot.domain.errors import DomainError
from bot.services import audit as audit_svc
from bot.services import groups as groups_svc
from bot.services import outbox as outbox_svc
from bot.services import people as people_svc
from storage.db import Database
from storage.quota_store import DbQuotaCounter
from storage.token_store import DbTokenStore

if TYPE_CHECKING:
    from bot.app import Services
    from config.settings import WechatMpSettings

log = logging.getLogger("dudao.wechat")

PLATFORM = "mp"

WELCOME_TEXT = ("欢迎关注督导助手。已登记的人员请发送“绑定 邀请码”完成绑定；"
                "发送“帮助”查看可用命令。")

PASSIVE_LIMIT_BYTES = 2048
"""A longer answer goes out as customer-service messages (split), not as a passive reply."""

_CODE_RE = re.compile(r"^[A-Za-z0-9]{6,16}$")


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


async def create_default_menu(api: WeChatAPI) -> None:
    """Create the account's menu: 我的任务 / 进度 / 红旗榜 as CLICK buttons."""
    await api.create_menu(DEFAULT_MENU)


async def create_menu(db: Database, mp: WechatMpSettings, menu: Mapping[str, Any]) -> None:
    """``menu/create`` outside the running service (``dudao wechat menu``): our own client, with
    the access token shared through ``app_tokens`` like the service's."""
    async with aiohttp.ClientSession() as session:
        api = WeChatAPI(session, app_id=mp.app_id, app_secret=mp.app_secret,
                        api_base=mp.api_base, token_store=DbTokenStore(db))
        await api.create_menu(menu)


class WeChatWiring:
    """What ``setup_wechat`` built; kept on the app under :data:`WECHAT`."""

    def __init__(self, services: Services) -> None:
        self.services = services
        s = services.settings
        self.mp = s.wechat_mp
        # quotas are counted in the database, shared by every process (storage/quota_store.py);
        # the customer-service windows are this process's (the callback that saw the message)
        self.quota = QuotaTracker(DbQuotaCounter(services.db, self.mp.app_id),
                                  quota_limits(self.mp))
        self.passive = PassiveReplies()
        self.api: WeChatAPI | None = None
        self.robot: WeComRobot | None = None
        self.wecom_sender: WeComSender | None = None
        self.session: aiohttp.ClientSession | None = None
        self.token_store = DbTokenStore(services.db)
        deadline = float(self.mp.reply_deadline_s)
        # answer passively only with some margin left before the callback's own deadline;
        # later answers go through the outbox (a race at the boundary ends in ``late_reply``)
        self.passive_budget_s = deadline - min(0.5, max(0.02, deadline * 0.2))
        self.callback: WeChatCallback | None = None
        self.mp_sender: MpSender | None = None
        if self.mp.token:
            self.callback = WeChatCallback(
                app_id=self.mp.app_id, token=self.mp.token, aes_key=self.mp.aes_key,
                mode=self.mp.effective_mode, replay_window_s=self.mp.replay_window_s,
                reply_deadline_s=deadline, handle=self.handle, late_reply=self.late_reply,
                quota=self.quota, max_concurrent_reads=s.http.max_unauthenticated_reads)
            self.mp_sender = MpSender(
                passive=self.passive, templates=template_specs(self.mp),
                board_url=services.env.board_url, unlink=self._unlink,
                clock=self._now)

    @property
    def api_configured(self) -> bool:
        return bool(self.mp.token and self.mp.app_id and self.mp.app_secret)

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        if self.api_configured and self.mp_sender is not None:
            self.api = WeChatAPI(session, app_id=self.mp.app_id, app_secret=self.mp.app_secret,
                                 api_base=self.mp.api_base, token_store=self.token_store,
                                 quota=self.quota)
            self.mp_sender.api = self.api
        wecom = self.services.settings.wecom
        self.robot = WeComRobot(session, api_base=wecom.api_base, per_minute=wecom.per_minute)
        self.wecom_sender = WeComSender(self.robot, self._webhook_key)
        self.services.senders["wecom"] = self.wecom_sender

    async def close_callback(self) -> None:
        if self.callback is not None:
            await self.callback.close(grace_s=float(self.mp.reply_deadline_s) + 1.0)

    # --- the callback's handler ------------------------------------------------------------------

    async def handle(self, event: Event) -> str | None:
        started = asyncio.get_running_loop().time()
        if isinstance(event, MessageEvent):
            return await self._feed(event, event.chat, started)
        if event.user is None:
            await self.services.dispatcher.feed(event)
            return None
        openid = event.user.id
        chat = ChatRef(PLATFORM, ChatKind.PRIVATE, openid)
        if event.kind == "click":
            command = MENU_COMMANDS.get(event.detail.get("key", ""))
            if command is not None:
                return await self._feed(_click_message(event, chat, command), chat, started)
        elif event.kind == "unsubscribe":
            await self._forget(openid)
        elif event.kind in ("subscribe", "scan"):
            key = event.detail.get("key", "")
            welcome: str | None = WELCOME_TEXT if event.kind == "subscribe" else None
            if _looks_like_code(key):
                welcome = await self._bind(openid, key)
            return await self._feed(event, chat, started, prefix=welcome)
        return await self._feed(event, chat, started)

    async def _feed(self, event: Event, chat: ChatRef, started: float, *,
                    prefix: str | None = None) -> str | None:
        loop = asyncio.get_running_loop()
        with self.passive.hold(chat.key):
            delivered = await self.services.dispatcher.feed(event)
            replies = [d for d in delivered if d.message.chat == chat]
            texts = [t for t in (message_text(d.message) for d in replies) if t]
            if prefix:
                texts.insert(0, prefix)
            if not texts:
                return None
            text = "\n".join(texts)
            if (loop.time() - started > self.passive_budget_s
                    or len(text.encode("utf-8")) > PASSIVE_LIMIT_BYTES):
                # too late or too long for a passive reply: the outbox sends the rows
                return prefix
            self.passive.delivered([d.outbox_id for d in replies if d.outbox_id is not None])
        if replies:
            self.services.spawn(self._mark_passive(
                [d.outbox_id for d in replies if d.outbox_id is not None]))
        return text

    async def late_reply(self, openid: str, text: str) -> None:
        """The callback gave up waiting although the answer was ready (a race at the deadline,
        or a welcome): send it as a customer-service message."""
        if self.mp_sender is None or self.mp_sender.api is None:
            log.warning("late reply to %s dropped: the API is not configured", mask(openid))
            return
        await self.mp_sender.send_text_now(openid, text)

    # --- database work ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        now: datetime = self.services.env.clock.now()
        return now

    async def _mark_passive(self, ids: list[int]) -> None:
        now = self._now()
        try:
            await self.services.db.run(lambda conn: outbox_svc.mark_sent(
                conn, [(i, "passive") for i in ids], now=now))
        except Exception as exc:  # the outbox records them too when it skips them
            log.warning("could not mark passive replies %s sent: %s", ids, exc)

    async def _forget(self, openid: str) -> None:
        """Unsubscribe: the identity goes, pending messages are cancelled, an audit entry stays."""
        identity = f"{PLATFORM}:{openid}"
        chat = ChatRef(PLATFORM, ChatKind.PRIVATE, openid).key
        now = self._now()

        def forget(conn: Connection) -> None:
            person = people_svc.by_identity(conn, identity)
            removed = people_svc.unlink_identity(conn, identity)
            cancelled = outbox_svc.cancel_pending(conn, chat, reason="unsubscribed")
            audit_svc.record(conn, at=now, actor="system", channel="wechat",
                             action="person.unsubscribe",
                             target=f"person:{person.id}" if person else identity,
                             detail={"identity": identity, "removed": removed,
                                     "cancelled": cancelled})

        try:
            await self.services.db.run(forget)
        except Exception:
            log.exception("unsubscribe of %s not recorded", mask(openid))
        else:
            log.info("%s unsubscribed; identity removed", mask(openid))

    async def _bind(self, openid: str, code: str) -> str:
        identity = f"{PLATFORM}:{openid}"
        now = self._now()

        def bind(conn: Connection) -> str:
            try:
                with conn.begin_nested():
                    person = people_svc.bind_with_code(conn, identity=identity, code=code,
                                                       unit_text=None, name="", now=now)
                    audit_svc.record(conn, at=now, actor="system", channel="wechat",
                                     action="person.bind", target=f"person:{person.id}",
                                     detail={"identity": identity, "via": "qrcode"})
            except DomainError as exc:
                log.info("QR binding of %s refused: %s", mask(openid), exc.log)
                return f"{WELCOME_TEXT}\n{exc.message}"
            who = person.name or identity
            return (f"欢迎关注督导助手。绑定成功：{who}（{person.unit_name or '管理员'}）。"
                    "发送“帮助”查看可用命令。")

        try:
            return await self.services.db.run(bind)
        except Exception:
            log.exception("QR binding of %s failed", mask(openid))
            return WELCOME_TEXT

    async def _unlink(self, openid: str, reason: str) -> None:
        """WeChat says the openid cannot be reached any more (40003, 43004)."""
        identity = f"{PLATFORM}:{openid}"
        now = self._now()

        def unlink(conn: Connection) -> None:
            person = people_svc.by_identity(conn, identity)
            if people_svc.unlink_identity(conn, identity):
                audit_svc.record(conn, at=now, actor="system", channel="wechat",
                                 action="person.unlink",
                                 target=f"person:{person.id}" if person else identity,
                                 detail={"identity": identity, "reason": reason})

        await self.services.db.run(unlink)
        log.warning("binding %s removed: %s", mask(openid), reason)

    async def _webhook_key(self, chat: str) -> str | None:
        return await self.services.db.run(lambda conn: groups_svc.webhook_key(conn, chat))


WECHAT = web.AppKey("wechat", WeChatWiring)


def setup_wechat(app: web.Application, services: Services) -> WeChatWiring:
    """Routes, senders and the shared HTTP session; see the module docstring."""
    wiring = WeChatWiring(services)
    app[WECHAT] = wiring
    if wiring.callback is not None and wiring.mp_sender is not None:
        app.add_routes(wiring.callback.routes())
        services.senders[PLATFORM] = wiring.mp_sender
        services.extra_cleanup.append(wiring.close_callback)
        log.info("official account callback at /wechat/mp (%s mode)%s", wiring.mp.effective_mode,
                 "" if wiring.api_configured else "; API not configured (no app_id/app_secret)")

    async def session_ctx(_app: web.Application) -> AsyncIterator[None]:
        # Registered before the app's own lifecycle: opened before the outbox starts, closed
        # after it has drained.
        session = aiohttp.ClientSession()
        wiring.start(session)
        try:
            yield
        finally:
            await session.close()

    app.cleanup_ctx.append(session_ctx)
    return wiring


def _click_message(event: NoticeEvent, chat: ChatRef, command: str) -> MessageEvent:
    assert event.user is not None
    stamp = int(event.time.timestamp())
    return MessageEvent(platform=PLATFORM, self_id=event.self_id, chat=chat, sender=event.user,
                        message_id=f"click-{stamp}-{event.detail.get('key', '')}",
                        segments=(Text(command),), time=event.time, to_me=True)


def _looks_like_code(key: str) -> bool:
    return bool(_CODE_RE.match(key)) and not key.isdigit()
