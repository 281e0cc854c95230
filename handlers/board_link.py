"""看板: a signed read-only link to the supervision board for the asker's unit.

Officials get their unit and the units below it, admins the board address itself (they log in).
Liaisons see only their own unit, and a read-only link always covers the unit's
subtree (bot/services/view_links.py), so a liaison gets one only when the unit has no units
below it.
Links are personal, so they are only given in a private chat.
"""

from __future__ import annotations

from bot.core.context import Context
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from bot.domain.errors import NotAllowed
from bot.domain.roles import ADMIN, LIAISON, OFFICIAL
from bot.services import units as units_svc
from bot.services import view_links
from handlers.common import person_of, require_unit

router = Router("board_link")

BOARD_LINK = HandlerSpec("board_link", ("督导看板", "看板链接", "看板"), "看板",
                         "私聊获取本单位督导看板的只读链接",
                         roles=ANYONE_REGISTERED, area="board")
# Short: a link forwarded by mistake stops working within days; asking again is one message.
CHAT_LINK_DAYS = 7
ASK_PRIVATELY = "请私聊我获取看板链接"


@router.handler(BOARD_LINK)
def board_link(ctx: Context) -> None:
    person = person_of(ctx)
    if ctx.in_group:
        # "看板上……" said to colleagues is not a request; a bare "看板" or an @ is.
        if ctx.addressed or ctx.prefixed or not ctx.args:
            ctx.reply(ASK_PRIVATELY)
        return
    if person.role == ADMIN:
        note = ctx.env.local_links_note()
        ctx.reply(f"督导看板：{ctx.env.board_url}/（请用管理员账号和密码登录）"
                  + (f"\n{note}" if note else ""))
        return
    _, unit_id = require_unit(ctx)
    if person.role == LIAISON and len(units_svc.subtree_ids(ctx.conn, unit_id)) > 1:
        raise NotAllowed("本单位看板包含下级单位，请向单位领导或管理员获取看板链接",
                         log="board link refused: liaison of a unit with sub-units")
    if ctx.env.link_signer is None:
        raise NotAllowed("看板链接暂不可用，请向管理员获取", log="no link signer in this process")
    link = view_links.make_view_link(ctx.conn, signer=ctx.env.link_signer,
                                     base_url=ctx.env.board_url, unit_id=unit_id,
                                     days=CHAT_LINK_DAYS, now=ctx.now)
    ctx.audit("unit.view_link", f"unit:{unit_id}", {"days": CHAT_LINK_DAYS})
    scope = "及下级单位" if person.role == OFFICIAL else ""
    until = ctx.env.local(link.expires_at)
    note = ctx.env.local_links_note()
    ctx.reply(f"{link.unit}{scope}的督导看板（只读，{until:%Y-%m-%d %H:%M} 前有效，仅供本人使用，"
              f"请勿转发）：\n{link.url}" + (f"\n{note}" if note else ""))
