"""绑定: binding a person to a unit, by invite code or with an admin's approval."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.event import ChatRef
from bot.core.nlu import Intent
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import ADMIN
from bot.services import groups as groups_svc
from bot.services import people as people_svc
from bot.services import units as units_svc
from handlers.common import person_of
from handlers.slots import command_parse

router = Router("units")

BIND = HandlerSpec("bind", ("绑定",), "绑定 单位 [邀请码]", "把您的账号绑定到本单位",
                   intents=("bind",), area="units", example="绑定 郑州市 K7M2QX9P")
APPROVE = HandlerSpec("approve_bind", ("批准绑定", "同意绑定"), "批准绑定 编号",
                      "批准一条绑定申请", roles=(ADMIN,), area="units", action="批准绑定申请")


@router.handler(BIND)
def bind(ctx: Context) -> None:
    p = command_parse(ctx) if ctx.command else ctx.parse
    if p is None or p.intent is not Intent.BIND:
        raise InvalidInput("请写明单位，例如：绑定 郑州市 邀请码", log="bind not understood")
    if p.unknown_name:  # "绑定 火星市": no such unit, here are the closest
        raise units_svc.unknown_unit(units_svc.list_units(ctx.conn), p.unknown_name)
    name = ctx.event.sender_name
    code = p.body
    if not p.unit_ids:
        if not code:
            raise InvalidInput("请写明单位，例如：绑定 郑州市 邀请码", log="bind without args")
        # "绑定 CODE": a personal invite (officials linking another platform).
        person = people_svc.bind_with_code(ctx.conn, identity=ctx.event.sender.key, code=code,
                                           unit_text=None, name=name, now=ctx.now)
        ctx.audit("person.bind", f"person:{person.id}", {"identity": ctx.event.sender.key})
        ctx.reply(f"绑定成功：{person.name or ctx.event.sender.key}（{person.unit_name or '管理员'}）")
        return
    if len(p.unit_ids) > 1:
        names = "、".join(units_svc.get(ctx.conn, u).name for u in p.unit_ids)
        raise InvalidInput(f"一次只能绑定一个单位（您写了：{names}）", log="bind to several units")
    unit_text = units_svc.get(ctx.conn, p.unit_ids[0]).name
    if code:
        person = people_svc.bind_with_code(ctx.conn, identity=ctx.event.sender.key, code=code,
                                           unit_text=unit_text, name=name, now=ctx.now)
        ctx.audit("person.bind", f"person:{person.id}",
                  {"identity": ctx.event.sender.key, "unit": person.unit_name})
        ctx.reply(f"绑定成功：您现在是{person.unit_name}的{people_svc.ROLE_NAMES[person.role]}")
        return
    rid, unit = people_svc.request_binding(ctx.conn, identity=ctx.event.sender.key,
                                           unit_text=unit_text, name=name,
                                           chat=ctx.event.chat.key, now=ctx.now)
    ctx.audit("person.bind_request", f"bind_request:{rid}", {"unit": unit.name})
    ctx.reply(f"已提交绑定{unit.name}的申请（编号 {rid}），等待管理员确认")
    for g in groups_svc.list_groups(ctx.conn, purpose="admin"):
        ctx.send(ChatRef.parse(g.chat),
                 f"绑定申请 {rid}：{name or ctx.event.sender.key}（{ctx.event.sender.key}）"
                 f"申请绑定{unit.name}。同意请回复：批准绑定 {rid}", kind="alert",
                 cause=f"bind_request:{rid}", account=g.account)


@router.handler(APPROVE)
def approve(ctx: Context) -> None:
    admin = person_of(ctx)
    digits = "".join(ch for ch in ctx.args if ch.isdigit())
    if not digits:
        raise InvalidInput("请写明申请编号，例如：批准绑定 3", log="approve without id")
    person, chat = people_svc.approve_binding(ctx.conn, int(digits), admin_id=admin.id, now=ctx.now)
    ctx.audit("person.bind_approve", f"person:{person.id}", {"request": int(digits)})
    ctx.reply(f"已批准：{person.name or '该联络员'}绑定到{person.unit_name}")
    ctx.send(ChatRef.parse(chat), f"您绑定{person.unit_name}的申请已获批准", kind="notify")
