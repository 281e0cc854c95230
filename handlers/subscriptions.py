"""关注 / 取消关注 / 扫码 / unreachable: subscription events of an official account.

An unsubscribe removes the ``mp:<openid>`` identity (WeChat asks developers to delete a user's
data) and cancels what was still waiting for them; a subscribe or scan whose QR scene is an
invite code binds the openid like ``绑定 CODE``; a plain subscribe is welcomed. An identity the
platform says it can no longer reach is unlinked. Menu clicks arrive as the text command of
their key (the adapter knows the menu), so the ordinary handlers answer them.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import Connection

from bot.core.context import Outgoing
from bot.core.env import ServiceEnv
from bot.core.event import ChatKind, ChatRef, NoticeEvent
from bot.core.message import OutgoingMessage
from bot.domain.errors import DomainError
from bot.services import subscriptions as subscriptions_svc

log = logging.getLogger("dudao.handlers")

WELCOME_TEXT = ("欢迎关注督导助手。已登记的人员请发送“绑定 邀请码”完成绑定；"
                "发送“帮助”查看可用命令。")
_CODE_RE = re.compile(r"^[A-Za-z0-9]{6,16}$")
# The audit log's name for where a subscription event came from.
_CHANNELS = {"mp": "wechat"}


def looks_like_code(key: str) -> bool:
    return bool(_CODE_RE.match(key)) and not key.isdigit()


def handle(ev: NoticeEvent, conn: Connection, env: ServiceEnv, outgoing: list[Outgoing]) -> None:
    if ev.user is None:
        return
    identity = ev.user.key
    chat = ChatRef(ev.platform, ChatKind.PRIVATE, ev.user.id)
    channel = _CHANNELS.get(ev.platform, ev.platform)
    now = env.clock.now()
    key = ev.detail.get("key", "")
    answer: str | None = None
    if ev.kind == "unsubscribe":
        subscriptions_svc.forget(conn, identity, chat.key, channel=channel, now=now)
    elif ev.kind == "unreachable":
        subscriptions_svc.unlink(conn, identity, reason=ev.detail.get("reason", ""),
                                 channel=channel, now=now)
    elif ev.kind in ("subscribe", "scan"):
        answer = WELCOME_TEXT if ev.kind == "subscribe" else None
        if looks_like_code(key):
            try:
                person = subscriptions_svc.bind_by_code(conn, identity, key, channel=channel,
                                                        now=now)
            except DomainError as exc:
                log.info("QR binding of %s refused: %s", ev.user.key[:8] + "…", exc.log)
                answer = f"{WELCOME_TEXT}\n{exc.message}"
            else:
                who = person.name or identity
                answer = (f"欢迎关注督导助手。绑定成功：{who}（{person.unit_name or '管理员'}）。"
                          "发送“帮助”查看可用命令。")
    if answer:
        outgoing.append(Outgoing(OutgoingMessage.text(chat, answer), "reply", "", ev.self_id))
