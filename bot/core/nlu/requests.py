"""Requests in free form as a small grammar: a verb, what it is about (a task, a state), who
(a scope) and a body, in any order the words come in.

"发个任务给兰考和滑县：乡镇综合执法调研，下周三前", "帮忙@一下焦作和濮阳 让他们抓紧报走访记录",
"逾期的都催一遍", "示范点方案截止时间改成8月15号", "把年度培训总结这个任务撤销 原因是重复发布":
each is a verb from a short list, names found anywhere in the message (:mod:`.message`), and a
body cut after the verb phrase, the scope, a label (题目是, 内容：) and filler. A request that
lacks what it needs (a task, a date), or leaves words unexplained next to its verb, asks back.

Also here: help as a question about the bot itself ("这机器人能查啥", "绑定咋操作", "功能菜单发一
下"), which any verb may appear in and must win over the verb.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.domain.text import cn_int, compact

from .message import TASK, Msg
from .model import Intent, Parse
from .questions import tokens
from .slots import Slots, strip_seps
from .timeexpr import find_clock, find_time

# -- help: a question about the bot itself ---------------------------------------------------

_BOT: Final = r"(你们|你|您|机器人|小助手|助手|小程序|bot|机器|这个|这玩意儿?|它|督导助手|系统)"
_CAN: Final = r"(都|还|到底|具体)?(能|会|可以)(帮我|帮忙|帮|给我)?(干|做|查|办|弄|搞|提供)?(点|些)?"
_WHAT: Final = r"(什么|啥|嘛|哪些|什么事|啥事|啥东西|什么东西|什么功能|啥功能)"
_HOW: Final = r"(怎么|咋|如何|怎样|怎么样|咋样)"
_DO: Final = r"(用|使用|操作|弄|办|搞|玩|整)"
_ACT: Final = (r"(提交|交|报送|上报|报|上传|绑定|绑|查询|查|看|发动态|发|催办|催|发通知|通知|"
               r"发布任务|发布|审核|退回|确认|回复|注册|登录|登记|关联|延期|撤销任务|撤销|起草通报|通报|"
               r"通过)")
_OBJ: Final = (r"(材料|进度|动态|任务|单位|通知|文件|附件|东西|报告|情况|红旗榜|红旗|黄旗|蓝旗|旗帜|排名|积分|"
               r"得分|通报|回执|提醒|待办|延期|名单)?")
# How a command is typed: "提交材料要打啥命令", "绑定单位输什么", "催办用哪个指令".
_TYPE: Final = r"(打|输|输入|敲|用|回复|回)"
_COMMAND: Final = r"(命令|指令|口令|格式|关键词|关键字|字)"
_HELP_NOUNS: Final = (r"(帮助|菜单|功能|命令|指令|说明|用法|指南|手册|文档|教程)"
                      r"(列表|清单|文档|菜单|说明|介绍|大全)?")
_HELP_SHAPES: Final = (
    # 这机器人能查啥 / 你可以帮我做什么 / 小助手都能干点啥
    re.compile(rf"^(这个|这|那个|你们的|你们这个|你们|咱们的|咱们|咱|我们的)?{_BOT}?{_CAN}{_WHAT}$"),
    # 咋交材料 / 提交材料怎么操作 / 绑定咋操作 / 发动态咋弄 / 怎么查进度 / 这个怎么用
    re.compile(rf"^({_BOT}|{_ACT}?{_OBJ})?(要|该|得|应该)?{_HOW}(才能|才可以|去)?"
               rf"({_ACT}{_OBJ}|{_DO})(呢)?$"),
    # 功能菜单发一下 / 把菜单发我 / 有没有使用说明 / 操作指南
    re.compile(rf"^(把|给我|给|有没有|有无|求|要|来个|来一份)?(使用|操作)?{_HELP_NOUNS}"
               rf"(发|给|看|列|来|发出来|列出来)?(一下|一份|个|我|给我|我看看|看看|下)*$"),
    re.compile(rf"^(有没有|有无|求)(使用|操作)?{_HELP_NOUNS}$"),
    # 提交材料要打啥命令 / 绑定单位要输什么 / 交材料用哪个指令 / 催办的命令是啥
    re.compile(rf"^{_ACT}{_OBJ}(的)?(要|该|得|应该)?({_TYPE}(个|一个)?(啥|什么|哪个|哪条|哪些){_COMMAND}?"
               rf"|(啥|什么|哪个|哪条)?{_COMMAND}(是啥|是什么|怎么写|咋写|怎么打|咋打)?)$"),
)
# "不会弄 咋交材料啊": not knowing how is help, whatever the rest asks about the bot.
_CANNOT: Final = re.compile(r"^(我|俺)?(还)?(不会|不懂|不知道|不太会|不清楚)(用|弄|操作|搞|怎么|咋|如何)")
_TRAIL: Final = re.compile(r"(啊|呀|吧|呢|哈|嘛|呐|哇|哦|捏|嘞|咧|撒|\?)+$")
_LEAD: Final = re.compile(r"^(请问|请教|想问下|想问一下|我想问下|我想问一下|问下|问一下|那个|就是|"
                          r"老师|领导|您好|你好|我是新来的联络员|新来的|我|俺)+")


def asks_for_help(m: Msg) -> bool:
    """Whether the message asks what the bot does or how to use it (it names no unit)."""
    if m.units or m.refs or len(m.c) > 24:
        return False
    c = _TRAIL.sub("", m.c)
    c = _LEAD.sub("", c) or c
    if _CANNOT.match(c):
        return True
    return any(rx.match(c) for rx in _HELP_SHAPES)


# -- bodies ---------------------------------------------------------------------------------

# What may stand between a verb (or a scope) and the body it introduces: separators, filler, a
# label ("题目是：", "内容："), the nouns of the verb phrase ("创新举措").
_LEAD_IN: Final = re.compile(
    r"(?:[\s,，。:：;；!！~～]|哈|吧|啊|呀|嗯|一下|的是|题目是|题目为|题目|标题是|标题为|标题|"
    r"名称是|名称为|名称|名字叫|名字是|任务名称|任务名|任务是|内容是|内容为|内容如下|内容|"
    r"具体是|具体如下|如下)*")


def skip_lead(norm: str, pos: int, nouns: tuple[str, ...] = ()) -> int:
    """The position after separators, filler, labels and the verb phrase's own ``nouns``."""
    while True:
        h = _LEAD_IN.match(norm, pos)
        end = h.end() if h else pos
        for noun in nouns:
            if norm.startswith(noun, end):
                end += len(noun)
                break
        if end == pos:
            return pos
        pos = end


# -- unexplained words next to a verb --------------------------------------------------------

# Words a request carries besides its names and its verb ("抓紧", "挨个", "都", "再…一遍").
_REQUEST_WORDS: Final = frozenset({
    "抓紧", "赶紧", "尽快", "马上", "及时", "按时", "赶快", "挨个", "逐个", "一一", "统一", "一遍",
    "一次", "一声", "再", "都", "全", "全部", "把", "给", "让", "叫", "跟", "对", "向", "他们",
    "她们", "那几家", "那些", "这些", "几家", "单位", "的", "了", "吧", "啊", "哈", "一下", "下",
    "拎出来", "点名", "单独", "重新", "又", "也", "还", "报上来", "交上来", "交", "报", "提交",
    "上报", "报送", "发", "个", "条", "一条", "一个", "提醒", "催办", "通知", "消息",
})


def unexplained(m: Msg, verb: tuple[int, int]) -> int:
    """Characters of the message that neither a name, the verb, a state or a known word
    explains: the lower the better a request reads."""
    skel_verb = compact(m.norm[verb[0]:verb[1]])
    n = 0
    skeleton = m.skeleton
    why = _REASON.search(skeleton)
    if why is not None:  # "…原因：与案例汇编合并": a labelled reason is the body, explained
        skeleton = skeleton[:why.start()]
    for t in tokens(skeleton, m.breaks):
        if t.cue is not None or t.word in _REQUEST_WORDS or t.word in skel_verb:
            continue
        word = t.word
        for w in sorted(_REQUEST_WORDS, key=len, reverse=True):
            word = word.replace(w, "")
        n += len(word)
    return n


# -- 延期: a task's new deadline -------------------------------------------------------------

EXTEND_RE: Final = re.compile(
    r"(延期|延长|推迟|顺延|往后延|往后推|延后|宽限)(到|至|为|成)?"
    # the verb with its goal: "月报延到8月3号中午12点", "自查报告推到7月28号"
    r"|(延|推|挪|放)(到|至)(?=\s*(\d|[一二三四五六七八九十]|下|本|这|月底|月末|周|明|后|大后))"
    r"|(截止(?:时间|日期|日)?|期限|deadline|到期时间|到期日)\s*(?:改成|改为|改到|调整为|调整到|"
    r"调成|调到|延到|推到|放宽到|延长到|推迟到|变成|定在|定为|更改为|修改为|改)"
)
_ABOUT_A_TASK: Final = re.compile(r"任务|截止|期限|deadline")
_ASKS_PERMISSION: Final = re.compile(r"能不能|可不可以|能否|可否|行不行|可以吗|行吗|能吗|好吗|吗$|\?")
# Said by whoever owes the task: the first person, or asking for grace ("宽限", "缓两天").
_PLEADS: Final = re.compile(r"我们|我|咱|俺|本单位|宽限|缓|晚几天|晚两天|多给")
_LEADING_NUMBER: Final = re.compile(r"[\s:：]*(?:任务|编号)?\s*[#＃]?\s*(\d{1,9})(?!\s*[月日号点])")


# A task by its number said before the verb: "3号任务发错了，撤了吧", "任务3延到月底".
_NUMBERED_TASK: Final = re.compile(
    r"(?:(\d{1,9})\s*号\s*任务|任务\s*[#＃]?\s*(\d{1,9})(?!\s*[月日号点天周])"
    r"|第\s*(\d{1,9})\s*[项个号]\s*任务|[#＃]\s*(\d{1,9}))")


def _numbered_before(m: Msg, end: int) -> re.Match[str] | None:
    """The first task number before ``end`` (the verb), if any."""
    return _NUMBERED_TASK.search(m.norm, 0, end)


def _number_of(h: re.Match[str]) -> int:
    return int(next(g for g in h.groups() if g is not None))


def _task_or_number(m: Msg, slots: Slots, rest: int) -> tuple[int, ...]:
    """The task named after ``rest``: a number ("撤销任务 3", "延期 #4"), else a name."""
    h = _LEADING_NUMBER.match(m.norm, rest)
    if h is not None:
        return (int(h.group(1)),)
    return slots.tasks_from(m, rest) or m.tasks


def _new_deadline(m: Msg, slots: Slots, tz: ZoneInfo, start: int) -> tuple[datetime | None, int]:
    """The new deadline said after ``start`` (18:00 unless a time follows) and where it ends."""
    span = find_time(m.norm[start:], m.today, slots.is_workday, future=True)
    day = (span.end or span.start) if span is not None else None
    if span is None or day is None:
        return None, start
    end = start + span.span[1]
    hh, mm = 18, 0
    clock = find_clock(m.norm[end:].lstrip("前之以日号 "))
    if clock is not None:
        hh, mm = clock[0], clock[1]
    return datetime.combine(day, time(hh, mm), tzinfo=tz), end


# "延期一周", "往后推三天", "延长5个工作日": the new deadline counted from the present one.
_BY: Final = re.compile(r"(\d{1,2}|[一二两三四五六七八九十半]{1,3})\s*(个)?\s*(天|日|周|星期|礼拜|工作日|个月|月)")


def _later(m: Msg, slots: Slots, tz: ZoneInfo, tasks: tuple[int, ...],
           start: int) -> datetime | None:
    """The deadline moved by a length of time ("延期一周") from the one task's present due date."""
    h = _BY.search(m.norm, start)
    if h is None or len(tasks) != 1:
        return None
    due = next((t.due for t in slots.lex.vocabulary.tasks if t.id == tasks[0]), None)
    word = h.group(1)
    n = 0.5 if word == "半" else cn_int(word)
    if due is None or n is None or n <= 0:
        return None
    unit = h.group(3)
    if unit == "工作日":
        day = due
        for _ in range(int(n)):
            day += timedelta(days=1)
            while not slots.is_workday(day):
                day += timedelta(days=1)
    else:
        days = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "个月": 30, "月": 30}[unit]
        day = due + timedelta(days=round(n * days))
    return datetime.combine(day, time(18, 0), tzinfo=tz)


def extend(m: Msg, slots: Slots, tz: ZoneInfo, *, rest: int | None = None,
           canonical: bool = False) -> Parse | None:
    """延期 任务 至 日期, "月报延期到8月5日", "示范点方案截止时间改成8月15号"."""
    if rest is None:
        h = EXTEND_RE.search(m.norm)
        if h is None:
            return None
        verb_end = h.end()
        tasks = m.tasks or _task_or_number(m, slots, verb_end)
        if not tasks and (before := _numbered_before(m, h.start())) is not None:
            tasks = (_number_of(before),)
        if not tasks and not m.task_choices and not _ABOUT_A_TASK.search(m.norm):
            return None  # "明天上午的会推迟了": something else put off
    else:
        verb_end = rest
        tasks = _task_or_number(m, slots, rest)
    deadline, _ = _new_deadline(m, slots, tz, verb_end if rest is None else rest)
    if deadline is None and rest is None:
        deadline, _ = _new_deadline(m, slots, tz, 0)
    relative = False
    if deadline is None and tasks:
        deadline = _later(m, slots, tz, tasks, verb_end)
        relative = deadline is not None
    conf = 0.97 if canonical else 0.85
    if not canonical and _ASKS_PERMISSION.search(m.c) and (relative or _PLEADS.search(m.c)):
        return None  # "我们自查报告能不能宽限两天": a liaison asking for time, no command
    if not canonical and _ASKS_PERMISSION.search(m.c):
        # "月报能不能延期几天": a plea to the office, not an order to the bot; with every slot
        # said it may be an admin asking, so ask back before changing anything.
        if not tasks or deadline is None:
            return None
        return Parse(Intent.EXTEND, 0.45, False, task_ids=tasks, deadline=deadline,
                     clarify=f"您是想把{_titles(slots, tasks)}的截止时间改为"
                             f"{deadline.month}月{deadline.day}日吗？")
    if not tasks:
        choices = m.task_choices
        return Parse(Intent.EXTEND, 0.5, canonical, deadline=deadline, choices=choices,
                     clarify=which_task(slots, choices) if choices else
                     "请写明要延期的任务，例如：延期 三季度调研报告 至 12月30日")
    if deadline is None:
        return Parse(Intent.EXTEND, 0.5, canonical, task_ids=tasks,
                     clarify="请写明新的截止日期，例如：延期 三季度调研报告 至 12月30日")
    if relative:  # counted from the present deadline: say the date before changing it
        return Parse(Intent.EXTEND, 0.45, canonical, task_ids=tasks, deadline=deadline,
                     confirm=True, clarify=f"您是想把{_titles(slots, tasks)}的截止时间改为"
                                           f"{deadline.month}月{deadline.day}日 18:00 吗？")
    return Parse(Intent.EXTEND, conf, canonical, task_ids=tasks, deadline=deadline)


# -- 撤销任务: cancel a task -----------------------------------------------------------------

CANCEL_RE: Final = re.compile(r"(撤销|撤回|取消|作废|删除|删掉|撤掉|撤了|撤下|废除)(掉|了|吧)?")
_TASK_WORD: Final = re.compile(r"任务")
_CANCEL_LEAD: Final = re.compile(r"[\s,，:：]*(这个任务|这项任务|该任务|任务)?[\s,，:：]*")
_REASON: Final = re.compile(r"(原因|理由)(是|为)?[\s:：]*|因为|由于")
_PARTICLES: Final = re.compile(r"[吧了啊呀哈吗嘛\s,，.。!！]*")
_TRAILING_ASK: Final = re.compile(r"[\s,，]*(把它|给|帮我|麻烦)?[\s,，]*$")


def cancel(m: Msg, slots: Slots, *, rest: int | None = None,
           canonical: bool = False) -> Parse | None:
    """撤销任务 编号 原因, "把年度培训总结这个任务撤销 原因是重复发布"."""
    norm = m.norm
    before = None
    if rest is None:
        h = CANCEL_RE.search(norm)
        if h is None or m.question or not (m.tasks or _TASK_WORD.search(norm)):
            return None
        word = _TASK_WORD.match(norm, h.end())  # "删除任务 8"
        num = None if m.tasks else _LEADING_NUMBER.match(norm, word.end() if word else h.end())
        tasks = m.tasks or ((int(num.group(1)),) if num is not None else ())
        after = max([num.end() if num is not None else h.end()]
                    + [s.end for s in m.spans if s.mark == TASK])
        if not tasks:  # "撤销2号任务 发错了"
            numbered = _NUMBERED_TASK.match(norm, word.end() if word else h.end())
            if numbered is not None:
                tasks, after = (_number_of(numbered),), numbered.end()
        before = _numbered_before(m, h.start()) if not tasks else None
        if before is not None:
            tasks = (_number_of(before),)
    else:
        tasks = _task_or_number(m, slots, rest)
        num = _LEADING_NUMBER.match(norm, rest)
        after = num.end() if num is not None else slots.task_phrase_end(m, rest)
    why = _REASON.search(norm)
    if why is not None:
        reason = strip_seps(m.raw[why.end():])
    else:
        tail = _CANCEL_LEAD.match(norm, after)
        verb = CANCEL_RE.match(norm, tail.end() if tail else after)
        reason = strip_seps(m.raw[verb.end() if verb else (tail.end() if tail else after):])
        if rest is None and _PARTICLES.fullmatch(reason):
            # "3号任务发错了，撤了吧": the reason is said between the task and the verb
            h = CANCEL_RE.search(norm)
            named = [s.end for s in m.spans if s.mark == TASK and h is not None and s.end <= h.start()]
            start = before.end() if before is not None else max(named, default=-1)
            if h is not None and start >= 0:
                reason = strip_seps(_CANCEL_LEAD.sub("", m.raw[start:h.start()], count=1))
                reason = _TRAILING_ASK.sub("", reason)
    if not tasks:
        return Parse(Intent.CANCEL_TASK, 0.5, canonical, body=reason, choices=m.task_choices,
                     clarify=which_task(slots, m.task_choices) if m.task_choices else
                     "请写明要撤销的任务编号，例如：撤销任务 3 重复发布")
    if not reason:
        return Parse(Intent.CANCEL_TASK, 0.5, canonical, task_ids=tasks,
                     clarify="请写明撤销的原因，例如：撤销任务 3 重复发布")
    return Parse(Intent.CANCEL_TASK, 0.97 if canonical else 0.85, canonical, task_ids=tasks,
                 body=reason)


def first_verb(m: Msg) -> Intent | None:
    """延期 or 撤销 when both are said ("取消研讨会材料任务，会议延期了"): the one said first."""
    e, c = EXTEND_RE.search(m.norm), CANCEL_RE.search(m.norm)
    if e is None or c is None:
        return None
    return Intent.EXTEND if e.start() < c.start() else Intent.CANCEL_TASK


def _titles(slots: Slots, tasks: tuple[int, ...]) -> str:
    return "、".join(f"《{slots.lex.task_title.get(t, f'任务 {t}')}》" for t in tasks)


def which_task(slots: Slots, choices: tuple[int, ...]) -> str:
    return f"您说的是哪一项任务：{_titles(slots, choices)}？请回复任务名称"
