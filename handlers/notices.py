"""通知 / 收到 / 谁没确认: broadcasts with acknowledgement tracking."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.nlu import Intent
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput, NotFound
from bot.services import notices as notices_svc
from bot.services import outbox as outbox_svc
from handlers import ask
from handlers.common import require_admin, require_unit
from handlers.slots import command_action, command_query

router = Router("notices")

NOTICE = HandlerSpec("notice", ("通知",), "通知 [范围] 内容",
                     "向各群发通知（范围：全部、各地市、直管县、省直部门、单位名，默认全部）",
                     intents=("notice",), roles=("admin",), area="notices")
ACK = HandlerSpec("ack", ("收到", "已收到", "已阅"), "收到（回复通知）", "确认收到通知",
                  intents=("ack",), area="notices")
WHO = HandlerSpec("who_not_acked", ("谁没确认", "未确认"), "谁没确认 [通知编号]",
                  "列出还没确认通知的单位", roles=("admin",), area="notices")


@router.handler(NOTICE)
def notice(ctx: Context) -> None:
    admin = require_admin(ctx, "发通知")
    p = command_action(ctx, Intent.NOTICE)
    if p is None:
        return
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
    if ctx.event.reply_to:
        found = outbox_svc.find_by_platform_id(ctx.conn, ctx.event.chat.key, ctx.event.reply_to)
        if found and found[1].startswith("notice:"):
            notice_id = int(found[1].split(":")[1])
    if notice_id is None:
        notice_id = notices_svc.latest_for_chat(ctx.conn, ctx.event.chat.key)
    if notice_id is None:
        if ctx.event.to_me:
            raise NotFound("这里还没有需要确认的通知", log="ack without notice")
        return  # an ordinary "收到" in conversation: say nothing
    if notices_svc.acknowledge(ctx.conn, notice_id=notice_id, unit_id=unit_id,
                               person_id=person.id, now=ctx.now):
        ctx.audit("notice.ack", f"notice:{notice_id}", {"unit": unit_id})
    # No reply in groups: a "已确认" for every 收到 would flood the group (DESIGN §2).
    if not ctx.in_group:
        ctx.reply(f"已确认通知 {notice_id}")


@router.handler(WHO)
def who_not_acked(ctx: Context) -> None:
    require_admin(ctx)
    q = command_query(ctx)
    if q is not None:
        ask.answer(ctx, q)
