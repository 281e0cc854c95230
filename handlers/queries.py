"""进度 / 谁没交: the question commands about tasks and units, answered like any question.

The command is read by the language layer's command reader into a query frame (进度 郑州 → the
tasks of 郑州市, in detail; 谁没交 月报 → the units that owe the 月报) and answered by
handlers/ask.py. Visibility: liaisons see their unit, officials their subtree, admins everything.
"""

from __future__ import annotations

from bot.core.context import Context
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from handlers import ask
from handlers.slots import command_query

router = Router("queries")

STATUS = HandlerSpec("status", ("进度", "查询进度"), "进度 [单位] [任务]",
                     "查看任务完成情况", roles=ANYONE_REGISTERED, area="queries")
MISSING = HandlerSpec("missing", ("谁没交", "未交", "哪些没交"), "谁没交 [任务]",
                      "列出还没提交的单位（不写任务则逐项列出进行中的任务）",
                      roles=ANYONE_REGISTERED, area="queries")


@router.handler(MISSING)
def missing(ctx: Context) -> None:
    ask.answer(ctx, command_query(ctx))


@router.handler(STATUS)
def status(ctx: Context) -> None:
    ask.answer(ctx, command_query(ctx))
