"""How a question back names what the bot thinks was meant: "您是想查询郑州市的进度吗？".

A question back must say what 是 would confirm, so it is written from the parse itself (the
query frame or the action and its slots), with the names the parser knows. The handler that
asks a question back of its own (a follow-up with nothing to follow) uses the same words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from .frame import Query
from .model import Intent, Parse

STATE_WORDS: Final = {"owed": "未提交", "submitted": "已提交", "overdue": "逾期未交",
                      "returned": "被退回", "accepted": "已通过", "pending": "待审核",
                      "acked": "已确认", "not_acked": "未确认"}
KIND_WORDS: Final = {"city": "各地市", "county": "各直管县", "department": "省直部门",
                     "central": "中央驻豫单位", "office": "督导办"}
_COLOURS: Final = {"red": "红旗", "blue": "蓝旗", "yellow": "黄旗"}


def titles(names: Sequence[str]) -> str:
    return "、".join(f"《{n}》" for n in names)


def who(q: Query, unit_names: Sequence[str]) -> str:
    words = list(unit_names) + [KIND_WORDS.get(k, k) for k in q.kinds]
    if not words and q.mine:
        words = ["本单位"]
    return "、".join(words)


def describe(q: Query, unit_names: Sequence[str], task_names: Sequence[str] = ()) -> str:
    """What a query asks, in a few words: "郑州市的进度", "《月报》未提交的情况"."""
    people = who(q, unit_names)
    tasks = titles(task_names)
    if q.subject == "flags":
        colour = _COLOURS.get(q.colour or "", "旗帜")
        return f"{people}的{colour}" if people else f"{colour}情况"
    if q.subject == "notices":
        return f"{people}的通知回执" if people else "通知回执"
    if q.subject == "submissions":
        states = "、".join(STATE_WORDS.get(s.value, s.value) for s in q.states)
        return f"{people}{tasks}{states}的提交记录"
    states = "、".join(STATE_WORDS.get(s.value, s.value) for s in q.states)
    if states:
        head = people + tasks
        return f"{head}{states}的情况" if head else f"{states}的情况"
    if people or tasks:
        return f"{people}{'的' if people and tasks else ''}{tasks}的进度"
    return "任务进度"


def question_back(q: Query, unit_names: Mapping[int, str], task_titles: Mapping[int, str]) -> str:
    """"您是想查询……吗？" for a query the bot is not sure of."""
    return (f"您是想查询{describe(q, [unit_names[u] for u in q.unit_ids if u in unit_names], [task_titles[t] for t in q.task_ids if t in task_titles])}"
            "吗？")


def confirm_action(p: Parse, unit_names: Mapping[int, str], task_titles: Mapping[int, str]) -> str:
    """"您是想催办……吗？" for a request read with words left unexplained."""
    units = [unit_names[u] for u in p.unit_ids if u in unit_names]
    q = p.query or Query()
    people = who(q, units) if p.query is not None else "、".join(units)
    tasks = titles([task_titles.get(t, f"任务 {t}") for t in p.task_ids])
    if p.intent is Intent.REMIND:
        if p.ref == "notice":
            return f"您是想提醒{people or '未确认的单位'}确认通知吗？"
        return f"您是想催办{people}{'的' if people and tasks else ''}{tasks or '未提交的任务'}吗？"
    if p.intent is Intent.EXTEND and p.deadline is not None:
        return f"您是想把{tasks}的截止时间改为{p.deadline.month}月{p.deadline.day}日吗？"
    if p.intent is Intent.CANCEL_TASK:
        return f"您是想撤销{tasks}吗？"
    return "您是想让我办这件事吗？"
