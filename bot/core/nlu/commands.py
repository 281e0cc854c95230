"""Canonical commands (DESIGN §5): a command word at the start, with or without / or #.

Read with the same names, scope words and dates as natural phrasing, and without the word
segmenter, so a command is understood the same way whether or not the language model has
loaded. The question commands (进度, 谁没交, 我的任务, 红旗榜, 旗帜, 近期要交, 谁没确认) become
query frames like any question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from bot.domain.text import compact

from . import requests
from .actions import Actions
from .frame import Form, Query, State
from .message import Msg
from .model import Intent, Parse
from .slots import SEPS, Slots

# Query commands: (subject, form, states, mine) of the frame they stand for.
_QUERY_COMMANDS: Final[dict[str, tuple[str, Form, tuple[State, ...], bool]]] = {
    "进度": ("tasks", Form.DETAIL, (), False),
    "查询进度": ("tasks", Form.DETAIL, (), False),
    "谁没交": ("units", Form.LIST, (State.OWED,), False),
    "未交": ("units", Form.LIST, (State.OWED,), False),
    "哪些没交": ("units", Form.LIST, (State.OWED,), False),
    "我的任务": ("tasks", Form.LIST, (State.OWED,), True),
    "待办": ("tasks", Form.LIST, (State.OWED,), True),
    "红旗榜": ("flags", Form.RANK, (), False),
    "旗帜榜": ("flags", Form.RANK, (), False),
    "我单位旗帜": ("flags", Form.DETAIL, (), True),
    "旗帜": ("flags", Form.DETAIL, (), False),
    "近期要交": ("tasks", Form.LIST, (), False),
    "近期任务": ("tasks", Form.LIST, (), False),
    "谁没确认": ("notices", Form.LIST, (State.NOT_ACKED,), False),
    "未确认": ("notices", Form.LIST, (State.NOT_ACKED,), False),
}
_ACTION_COMMANDS: Final[dict[str, Intent]] = {
    "发布通报": Intent.BULLETIN_PUBLISH, "发布任务": Intent.PUBLISH_TASK,
    "通报批评": Intent.INCIDENT, "已收到": Intent.ACK, "帮助": Intent.HELP, "help": Intent.HELP,
    "菜单": Intent.HELP, "绑定": Intent.BIND, "提交": Intent.SUBMIT, "动态": Intent.DYNAMIC,
    "收到": Intent.ACK, "通过": Intent.ACCEPT, "退回": Intent.RETURN, "通知": Intent.NOTICE,
    "创新举措": Intent.INNOVATION, "创新": Intent.INNOVATION, "通报": Intent.BULLETIN_DRAFT,
    "催办": Intent.REMIND, "延期": Intent.EXTEND, "撤销任务": Intent.CANCEL_TASK,
}
WORDS: Final = tuple(sorted((*_QUERY_COMMANDS, *_ACTION_COMMANDS), key=lambda w: -len(w)))
_COMMAND_RE: Final = re.compile(r"^\s*[/#]?\s*(" + "|".join(re.escape(w) for w in WORDS) + ")")

# Commands whose word, followed by a question, is rather talk about the thing.
_VETO_ON_QUESTION: Final = frozenset({
    Intent.SUBMIT, Intent.ACK, Intent.ACCEPT, Intent.NOTICE, Intent.BULLETIN_DRAFT,
    Intent.INNOVATION, Intent.RETURN, Intent.BIND, Intent.PUBLISH_TASK,
    Intent.BULLETIN_PUBLISH, Intent.INCIDENT, Intent.REMIND, Intent.EXTEND, Intent.CANCEL_TASK,
})
# Continuations that make the command word part of another word (通过率, 通知书, 通报表扬 ...).
_VETO_CONT: Final = re.compile(r"^(率|书|人|表扬|性|了没|了吗|过没|没有|情况|的情况|的人|好了吗)")
# What may follow 收到 directly in an acknowledgement (see the parser).
ACK_GOES_ON: Final = re.compile(
    r"(了|啦|啊|呀|哈|嘞|咧|滴|的|哦|喽|!|收到|谢谢|感谢|多谢|老师|领导|好的|明白|马上|立即|立刻|"
    r"这就|尽快|随后|会|将|一定|保证|按时|及时|正在|已|安排|落实|办理|转发|照办|遵照"
    r"|(通知|文件|消息)(?=$|[了啦!,，。\s]))")
_PUBLISH_WORDS: Final = re.compile(r"发布|发出|发了吧|发吧|可以发|推送|发群里")
DYNAMIC_QUERY_REST: Final = re.compile(r"(有哪些|有什么|有啥|呢|最新|最近|列表|查看|看看|查询|的)*")


@dataclass(frozen=True)
class Commands:
    slots: Slots
    actions: Actions

    def parse(self, m: Msg) -> Parse | None:
        hit = _COMMAND_RE.match(m.norm)
        if hit is None:
            return None
        word = hit.group(1)
        rest = hit.end()
        rest_c = compact(m.norm[rest:])
        if word in _QUERY_COMMANDS:
            glued = rest < len(m.norm) and m.norm[rest] not in SEPS and m.norm[rest] not in "#?"
            if glued and not self._glued_query_ok(m, word, rest, rest_c):
                return None
            return self._query(m, word, rest)
        intent = _ACTION_COMMANDS[word]
        if intent in _VETO_ON_QUESTION and (m.question or _VETO_CONT.match(rest_c)):
            return None
        glued = rest < len(m.norm) and m.norm[rest] not in SEPS and m.norm[rest] not in "#?"
        if glued and not self._glued_ok(m, intent, rest, rest_c):
            return None
        if intent is Intent.BULLETIN_PUBLISH or (
                intent is Intent.BULLETIN_DRAFT and _PUBLISH_WORDS.search(rest_c)):
            return Parse(Intent.BULLETIN_PUBLISH, 0.95, True)
        conf = 0.98
        a = self.actions
        if intent in (Intent.HELP, Intent.ACK):
            return Parse(intent, conf, True)
        if intent is Intent.BIND:
            return a.bind(m, rest, conf, True)
        if intent is Intent.SUBMIT:
            return a.submit(m, rest, conf, True)
        if intent is Intent.DYNAMIC:
            if not rest_c or DYNAMIC_QUERY_REST.fullmatch(self.slots.without_names(m, rest)) \
                    or (m.question and len(rest_c) <= 12):
                d1, d2 = m.dates()
                return Parse(intent, conf, True, unit_ids=self.slots.units_from(m, rest),
                             date_from=d1, date_to=d2)
            return Parse(intent, conf, True, body=self.slots.body(m, rest))
        if intent is Intent.PUBLISH_TASK:
            return a.publish(m, rest, conf, True)
        if intent in (Intent.ACCEPT, Intent.RETURN):
            return a.review(m, intent, rest, True)
        if intent is Intent.NOTICE:
            lead = re.match(r"\s*(一下|下)(?=\s|[^\s])", m.norm[rest:])
            return a.notice(m, rest + (lead.end() if lead else 0), conf, True)
        if intent in (Intent.INNOVATION, Intent.INCIDENT):
            return a.flag_event(m, intent, rest, conf, True)
        if intent is Intent.REMIND:
            return a.remind(m, conf, True)
        if intent is Intent.EXTEND:
            return requests.extend(m, self.slots, a.tz, rest=rest, canonical=True)
        if intent is Intent.CANCEL_TASK:
            return requests.cancel(m, self.slots, rest=rest, canonical=True)
        # 通报: a bulletin draft, possibly for a period
        d1, d2 = m.dates()
        return Parse(Intent.BULLETIN_DRAFT, conf, True, date_from=d1, date_to=d2)

    def _query(self, m: Msg, word: str, rest: int) -> Parse:
        subject, form, states, mine = _QUERY_COMMANDS[word]
        sl = self.slots
        units = sl.units_from(m, rest)
        tasks = sl.tasks_from(m, rest)
        d1, d2 = m.dates()
        kinds = m.kinds
        ref = ""
        if subject == "tasks" and form is Form.DETAIL and not units and tasks:
            subject = "units"  # 进度 三季度调研报告: the task's units
        if subject == "units" and (units or m.mine):
            subject = "tasks"  # 谁没交 郑州: what 郑州 still owes
        if word in ("近期要交", "近期任务") and d1 is None and d2 is None:
            d1, d2 = m.today, m.today + timedelta(days=7)
        if subject == "notices":
            ref = sl.body(m, rest)
            units, tasks = (), ()
        q = Query(subject=subject, form=form, states=states, unit_ids=units, kinds=kinds,
                  mine=mine or m.mine, task_ids=tasks, date_from=d1, date_to=d2, ref=ref)
        return Parse(Intent.QUERY, 0.98, True, unit_ids=units, task_ids=tasks, date_from=d1,
                     date_to=d2, my_unit=q.mine, query=q, body=ref)

    def _glued_query_ok(self, m: Msg, word: str, rest: int, rest_c: str) -> bool:
        """"进度郑州" asks; "进度条卡住了", "旗帜鲜明讲政治", "近期任务很重" are talk."""
        if self.slots.next_is_name(m, rest):
            return True
        if word in ("进度", "查询进度"):
            return bool(re.match(r"(怎么样|如何|咋样|呢|情况|查询|怎样|到哪)", rest_c))
        if word in ("我的任务", "待办", "谁没交", "谁没确认", "红旗榜"):
            return not re.match(r"[\u4e00-\u9fff]{3,}", rest_c) or bool(
                re.match(r"(呢|吗|有哪些|是什么|都有啥|情况)", rest_c))
        return False

    def _glued_ok(self, m: Msg, intent: Intent, rest: int, rest_c: str) -> bool:
        """A command word run together with what follows (no space): is it still the command?"""
        unit_next = any(s.start == rest and s.mark == "U" for s in m.spans)
        if intent in (Intent.ACCEPT, Intent.RETURN):
            return rest_c[:1].isdigit()
        if intent in (Intent.INNOVATION, Intent.INCIDENT, Intent.DYNAMIC):
            return unit_next or bool(re.match(r"(举措|做法|加分)", rest_c))
        if intent is Intent.NOTICE:
            after = re.match(r"(一下|下)?", rest_c)
            skip = len(after.group(0)) if after else 0
            return self.slots.scope_at(m, rest + skip)[0] is not None
        if intent is Intent.SUBMIT:
            return any(s.start == rest and s.mark in ("T", "R") for s in m.spans)
        if intent in (Intent.HELP, Intent.REMIND):
            return False
        if intent is Intent.ACK:  # "收到了谢谢" acknowledges; "收到红包啦" tells of a gift
            return ACK_GOES_ON.match(m.norm, rest) is not None
        if intent is Intent.EXTEND:  # "延期到8月5日" / "延期至…": the command with its date first
            return m.norm.startswith(("到", "至"), rest) or any(
                s.start == rest and s.mark in ("T", "R") for s in m.spans)
        if intent is Intent.CANCEL_TASK:
            return rest_c[:1].isdigit()
        if intent is Intent.BULLETIN_DRAFT:
            return self.slots.next_is_name(m, rest) or bool(re.match(
                r"(一下|草稿|一期|本周|这周|上周|本月|本期|这期|发布|发出|发了|可以发|发吧|发群)", rest_c))
        return True
