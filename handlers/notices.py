"""通知 / 收到 / 谁没确认: broadcasts with acknowledgement tracking; a 👍 on a notice is 收到."""

from __future__ import annotations

from bot.core.context import Context, NoticeContext
from bot.core.nlu import Intent
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.roles import ADMIN
from bot.services import notices as notices_svc
from bot.services import outbox as outbox_svc
from handlers import ask
from handlers.common import person_of, require_unit
from handlers.slots import command_action, command_query

router = Router("notices")

NOTICE = HandlerSpec("notice", ("通知",), "通知 [范围] 内容",
                     "向各群发通知（范围：全部、各地市、直管县、省直部门、单位名，默认全部）",
                     intents=("notice",), roles=(ADMIN,), area="notices", action="发通知")
ACK = HandlerSpec("ack", ("收到", "已收到", "已阅"), "收到（回复通知）", "确认收到通知",
                  intents=("ack",), roles=ANYONE_REGISTERED, area="notices")
WHO = HandlerSpec("who_not_acked", ("谁没确认", "未确认"), "谁没确认 [通知编号]",
                  "列出还没确认通知的单位", roles=(ADMIN,), area="notices",
                  action="查看通知回执")
# Reactions that mean "thumbs up": QQ's classic face 76 (赞), the Unicode 👍, face 201.
THUMBS_UP = {"76", "👍", "201"}
# The reaction to a 收到 in a group (QQ's face 124, 👌 "OK"): seen, without a message to the group.
RECEIVED = "124"


@router.handler(NOTICE)
def notice(ctx: Context) -> None:
    admin = person_of(ctx)
    p = command_action(ctx, Intent.NOTICE)
    scope, text = p.scope or "all", p.body
    if not text.strip():
        raise InvalidInput("请写上通知内容，例如：通知 周五前报送半年总结", log="empty notice")
    res = notices_svc.send(ctx.conn, text=text, targets=scope, created_by=admin.id, now=ctx.now)
    ctx.audit("notice.send", f"notice:{res.id}", {"targets": scope, "groups": res.groups})
    ctx.reply(f"通知 {res.id} 已排队发往 {res.groups} 个群（{res.units} 个单位），"
              f"发送“谁没确认 {res.id}”查看回执")


@router.handler(ACK)
def ack(ctx: Context) -> None:
    person, unit_id = require_unit(ctx)
    notice_id = None
    if ctx.quoted is not None and ctx.quoted.cause.startswith("notice:"):
        notice_id = int(ctx.quoted.cause.split(":")[1])
    if notice_id is None:
        notice_id = notices_svc.latest_for_chat(ctx.conn, ctx.event.chat.key)
    if notice_id is None:
        if ctx.addressed:
            raise NotFound("这里还没有需要确认的通知", log="ack without notice")
        return  # an ordinary "收到" in conversation: say nothing
    if notices_svc.acknowledge(ctx.conn, notice_id=notice_id, unit_id=unit_id,
                               person_id=person.id, now=ctx.now):
        ctx.audit("notice.ack", f"notice:{notice_id}", {"unit": unit_id})
    # No reply in groups: a "已确认" for every 收到 would flood the group. A reaction where the
    # platform can show one (the adapter decides; elsewhere nothing is sent).
    if ctx.in_group:
        ctx.react(RECEIVED)
    else:
        ctx.reply(f"已确认通知 {notice_id}")


@router.handler(WHO)
def who_not_acked(ctx: Context) -> None:
    ask.answer(ctx, command_query(ctx))


@router.observe("reaction")
def on_reaction(ctx: NoticeContext) -> None:
    """A 👍 on a notice counts as 收到 where the platform reports reactions (NapCat)."""
    ev, person = ctx.event, ctx.person
    if ev.chat is None or ev.detail.get("emoji", "") not in THUMBS_UP:
        return
    found = outbox_svc.find_by_platform_id(ctx.conn, ev.chat.key, ev.detail.get("message_id", ""))
    if not found or not found[1].startswith("notice:"):
        return
    if person is None or person.unit_id is None:
        return
    notices_svc.acknowledge(ctx.conn, notice_id=int(found[1].split(":")[1]),
                            unit_id=person.unit_id, person_id=person.id, now=ctx.now)
