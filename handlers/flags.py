"""红旗榜 / 旗帜: units ranked by red flags and score, and one unit's flags with their reasons.

Default period: the current year. Liaisons see their own unit, officials their subtree, admins
any unit they name; the ranking is public to everyone bound (it is posted in bulletins anyway).
"""

from __future__ import annotations

from bot.core.context import Context
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from handlers import ask
from handlers.slots import command_query

router = Router("flags")

BOARD = HandlerSpec("flag_board", ("红旗榜", "旗帜榜"), "红旗榜 [时间]",
                    "各单位红旗数和得分排名（默认今年）", roles=ANYONE_REGISTERED, area="flags",
                    example="红旗榜 三季度", word_alone=True)
FLAGS = HandlerSpec("flags", ("我单位旗帜", "旗帜"), "旗帜 [单位] [时间]",
                    "查看单位的红、蓝、黄旗和得分（默认本单位、今年）", roles=ANYONE_REGISTERED,
                    area="flags", example="我单位旗帜", word_alone=True)


@router.handler(BOARD)
def flag_board(ctx: Context) -> None:
    ask.answer(ctx, command_query(ctx))


@router.handler(FLAGS)
def flags(ctx: Context) -> None:
    ask.answer(ctx, command_query(ctx))
