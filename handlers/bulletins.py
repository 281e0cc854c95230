"""通报 / 发布通报: weekly progress bulletins and supervision letters, approved by an admin."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import NotFound
from bot.domain.roles import ADMIN
from bot.services import bulletins as bulletins_svc
from handlers.common import person_of

router = Router("bulletins")

DRAFT = HandlerSpec("bulletin_draft", ("通报",), "通报",
                    "按当前数据起草本周进度通报（审核后用“发布通报”发布）",
                    intents=("bulletin_draft",), roles=(ADMIN,), area="bulletins",
                    action="起草通报")
PUBLISH = HandlerSpec("bulletin_publish", ("发布通报",), "发布通报 [编号]",
                      "把通报草稿（默认最新一份）发到各交流群；督导建议书私信发给单位",
                      intents=("bulletin_publish",), roles=(ADMIN,), area="bulletins",
                      example="发布通报 3", action="发布通报")


@router.handler(DRAFT)
def draft(ctx: Context) -> None:
    bid = bulletins_svc.draft_weekly(ctx.conn, ctx.env, ctx.now, notify_admins=False)
    info = bulletins_svc.get(ctx.conn, bid)
    ctx.audit("bulletin.draft", f"bulletin:{bid}", {"period": info.period})
    ctx.reply(f"【通报草稿 {bid}】确认无误后发送“发布通报 {bid}”发布到各交流群。\n\n{info.text}")


@router.handler(PUBLISH)
def publish(ctx: Context) -> None:
    admin = person_of(ctx)
    digits = "".join(ch for ch in ctx.args if ch.isdigit())
    if digits:
        bid = int(digits)
    else:
        latest = bulletins_svc.latest_draft(ctx.conn)
        if latest is None:
            raise NotFound("没有待发布的通报草稿，请先发送“通报”起草", log="publish without draft")
        bid = latest
    info = bulletins_svc.get(ctx.conn, bid)
    sent = bulletins_svc.publish(ctx.conn, bid, admin.id, ctx.now)
    ctx.audit("bulletin.publish", f"bulletin:{bid}", {"kind": info.kind, "messages": sent})
    where = "私信发给单位领导和联络员" if info.kind == bulletins_svc.KIND_LETTER else "发往各交流群"
    name = "督导建议书" if info.kind == bulletins_svc.KIND_LETTER else "通报"
    ctx.reply(f"{name} {bid} 已发布：{sent} 条消息排队{where}")
