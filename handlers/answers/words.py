"""Words the answers share: state names, how names and deadlines are written, list limits."""

from __future__ import annotations

from datetime import datetime

from bot.core.context import Context
from bot.core.nlu.describe import STATE_WORDS

STATE_NAMES = {"owed": "未提交", "received": "已提交待审核", "accepted": "已通过",
               "returned": "已退回待重新提交"}
SHORT_STATE = {"owed": "未提交", "returned": "退回待改", "received": "已提交待审核",
               "accepted": "已通过"}
ASKED_STATE = STATE_WORDS  # the parser's questions back use the same words
MAX_NAMES = 30
TOP_N = 10
MAX_UNITS = 5
MAX_REASONS = 5
SHOWN = 8


def fmt_due(ctx: Context, moment: datetime) -> str:
    return ctx.env.fmt(moment)


def name_list(items: list[str], more: int = 0) -> str:
    shown = "、".join(items[:MAX_NAMES])
    extra = len(items) - MAX_NAMES + more
    return shown + (f" 等 {len(items) + more} 个" if extra > 0 else "")


def asked(states: tuple[str, ...]) -> str:
    return "、".join(ASKED_STATE.get(s, s) for s in states) or ""
