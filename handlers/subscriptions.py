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

from bot.core.context import NoticeContext
from bot.core.event import ChatKind, ChatRef
from bot.core.router import Router
from bot.domain.errors import DomainError
from bot.services import subscriptions as subscriptions_svc

log = logging.getLogger("dudao.handlers")

router = Router("subscriptions")

WELCOME_TEXT = ("欢迎关注督导助手。已登记的人员请发送“绑定 邀请码”完成绑定；"
                "发送“帮助”查看可用命令。")
_CODE_RE = re.compile(r"^[A-Za-z0-9]{6,16}$")
# The audit log's name for where a subscription event came from.
_CHANNELS = {"mp": "wechat"}


def looks_like_code(key: str) -> bool:
    return bool(_CODE_RE.match(key)) and not key.isdigit()


@router.observe("unsubscribe")
def unsubscribed(ctx: NoticeContext) -> None:
    user = ctx.event.user
    if user is not None:
        chat = ChatRef(ctx.event.platform, ChatKind.PRIVATE, user.id)
        subscriptions_svc.forget(ctx.conn, user.key, chat.key, channel=_channel(ctx),
                                 now=ctx.now)


@router.observe("unreachable")
def unreachable(ctx: NoticeContext) -> None:
    user = ctx.event.user
    if user is not None:
        subscriptions_svc.unlink(ctx.conn, user.key, reason=ctx.event.detail.get("reason", ""),
                                 channel=_channel(ctx), now=ctx.now)


@router.observe("subscribe", "scan")
def subscribed(ctx: NoticeContext) -> None:
    """Welcome a new follower; a QR scene that is an invite code binds them at once."""
    ev, user = ctx.event, ctx.event.user
    if user is None:
        return
    answer = WELCOME_TEXT if ev.kind == "subscribe" else None
    key = ev.detail.get("key", "")
    if looks_like_code(key):
        try:
            person = subscriptions_svc.bind_by_code(ctx.conn, user.key, key,
                                                    channel=_channel(ctx), now=ctx.now)
        except DomainError as exc:
            log.info("QR binding of %s… refused: %s", user.key[:8], exc.log)
            answer = f"{WELCOME_TEXT}\n{exc.message}"
        else:
            who = person.name or user.key
            answer = (f"欢迎关注督导助手。绑定成功：{who}（{person.unit_name or '管理员'}）。"
                      "发送“帮助”查看可用命令。")
    if answer:
        ctx.reply(answer)


def _channel(ctx: NoticeContext) -> str:
    return _CHANNELS.get(ctx.event.platform, ctx.event.platform)
