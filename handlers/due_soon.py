"""近期要交: open tasks due in a time range (default the next 7 days), answered as a question.

A liaison or official is answered for their own unit (or a unit they may see and name); an
admin without a unit for everything, with how many units still owe each task (handlers/ask.py).
"""

from __future__ import annotations

from bot.core.context import Context
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from handlers import ask
from handlers.slots import command_query

router = Router("due_soon")

DUE_SOON = HandlerSpec("due_soon", ("近期要交", "近期任务"), "近期要交 [时间]",
                       "查看一段时间内截止的任务（默认未来 7 天）", roles=ANYONE_REGISTERED,
                       area="due_soon", example="近期要交 本周", word_alone=True)


@router.handler(DUE_SOON)
def due_soon(ctx: Context) -> None:
    ask.answer(ctx, command_query(ctx))
