"""The parser: a message in, a :class:`Parse` out (intent, slots, and for questions a query).

It decides *what* is asked; it never answers. It is deterministic: the same text at the same
moment always gives the same parse. The work is split by seam:

- :mod:`.message` normalises the text, finds the names in it and builds its skeleton;
- :mod:`.commands` reads canonical commands (DESIGN §5), with or without the language model;
- :mod:`.actions` reads what the bot is asked to do (publish, notify, urge, review, record…);
- :mod:`.questions` reads any question into a query frame (:mod:`.frame`, :mod:`.subjects`);
- :mod:`.lexicon` and :mod:`.segment` hold the vocabulary and the word segmenter.

Without the segmenter (``language=False``) only commands are understood; that parser is cheap
to build, so a command can be read with a vocabulary fetched from the database a moment ago.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.domain import scopes

from . import programme, questions, requests
from .actions import ACCEPT_WORDS, ID_RE, RATING, RATING_RE, RETURN_WORDS, Actions
from .commands import ACK_GOES_ON, Commands
from .describe import confirm_action, question_back
from .frame import Form, Query
from .lexicon import Lexicon, folded
from .message import TASK, Msg, read_names, start
from .model import Intent, Parse, Vocabulary
from .segment import Segmenter
from .slots import SEPS, Slots, strip_seps

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

_PUBLISH_RE: Final = re.compile(
    r"((发布|布置|下发|新建|新增|添加|增加|创建|安排|派|下达|发)(一个|一项|一条|个|项|条)?"
    r"|(来|弄|搞|加|开|建|整)(一个|一项|个|项))(新的|新)?任务[:：]?"
    r"|^\s*(新任务|任务发布|发布新任务|任务)\s*[:：]"
)
# "发个任务给兰考和滑县：…": the scope right after the verb phrase.
_TO: Final = re.compile(r"\s*(给|向|对|到)\s*")
_INCIDENT_RE: Final = re.compile(r"通报批评|(粗暴|野蛮|趋利|违规|不规范)执法|记(一次|个)?(黄旗|扣分)")
_INNOVATION_RE: Final = re.compile(r"创新举措|创新做法|创新经验|记(一次|一个|个)?创新|创新加分")
_BULLETIN_PUBLISH_RE: Final = re.compile(
    r"通报.{0,6}(发布|发出|发了吧|发吧|可以发|发群里|发到群|发到.{0,4}群|推送)"
    r"|(发布|发出|发一下|推送|发送|发)(一下)?(本周|这周|本期|这期|上周|本月)?的?(进度)?通报(?!批评)"
)
_DRAFT_VERBS: Final = r"(生成|起草|出|拟|做|弄|写|来|准备|草拟|看看|预览|看下|看一下)"
_BULLETIN_DRAFT_RE: Final = re.compile(
    _DRAFT_VERBS + r"(一下|一份|一期|一版|一稿|个|份|期|版)?"
    # the period may be any time expression: read on the skeleton, where it is "D"
    r"(本周|这周|上周|本月|这个月|本期|这期|周|月度|季度|半年|D)?的?(进度)?(通报|周报)(草稿|初稿|稿子)?(?!批评)"
    # the noun, then a draft asked for: "这周的通报先出个稿子", "本月通报先起个草"
    r"|(通报|周报)(?!批评).{0,3}(出个稿|出稿|起个草|起草|打个草稿|拟个稿|出个初稿|出个草稿|出一稿|"
    r"先出个?稿子|稿子|初稿)"
    r"|^(本周|这周|上周|本月|本期|这期|周|月度|季度)的?(进度)?(通报|周报)(草稿)?$|通报草稿|^周报$"
    # the noun first: "上周的进度通报拟一下", "本周的通报起草一下"
    r"|(通报|周报)(草稿)?(给我|帮我)?" + _DRAFT_VERBS + r"(一下|一份|一期|个|份|下|出来)?$"
)
_ACK_RE: Final = re.compile(
    r"^(好的|好|嗯嗯|嗯|ok|okay|是的|收到收到|都)*(已经|已)?(收到|收悉|已阅|阅悉|知悉|明白|了解|知道了)"
)
_ACK_TAIL_RE: Final = re.compile(r"(收到|收悉|已阅|知悉)(了|啦|谢谢|!)*$")
_DYNAMIC_POST_RE: Final = re.compile(
    r"(发|报|报送|投|上传|推|分享)(一个|一条|一下|条|个)?(工作)?动态[:：]?|工作动态[:：]?|^今日动态[:：]?"
)
_DYNAMIC_QUERY_RE: Final = re.compile(
    r"(最新|最近|近期|有什么|有啥|有哪些|看看|查看|看下|看一下).{0,8}?动态|动态(有哪些|呢|有啥|有什么)"
)
_BIND_RE: Final = re.compile(r"绑定|我是.{2,12}的?联络员|(关联|加入|绑)到?(单位)?")
_SUBMIT_RE: Final = re.compile(
    r"(提交|上报|报送|呈报|上交|递交|报上|交上|上传|交一下|报一下|报给您|交给您|发群里)"
    r"|(发|传|交|报|放)(到|至|进|给)?(邮箱|群里|群文件|系统|平台|您|你|老师)"
    r"|^这是(我们|我市|我县|我单位|我们单位|本单位)"
)
_SUBMIT_TAIL_RE: Final = re.compile(
    r"请查收|请审阅|请审核|详见附件|见附件|附件已上传|已上传|已报送|已提交|已上报|发群里了|查收|请过目"
    r"|审阅一下|审核一下")
# Handing in said as what one does now ("交一下走访记录 晚了几天", "补交一下案例汇编"), or as
# done, followed by a request to look at it ("半年总结传上来了 您看下行不行"): a submission even
# when an apology or the request has a question word in it.
_HANDING_IN: Final = re.compile(
    r"^(老师|领导|您好|你好|我们|我们单位|我|俺|咱)*((补交|补报|补传|重新提交|重新交|重新报)(一下|下)?"
    r"|(交|报|提交|上传|传|再交|再提交)(一下|下))")
_HANDED_IN: Final = re.compile(
    r"(传上来|发上来|交上来|报上来|传上去|发上去|报上去|交上去|传过来|发过来|已经?上传|已经?传|已经?发|"
    r"已经?交|已经?提交)了?")
_LOOK_AT: Final = re.compile(r"(看下|看一下|看看|审一下|审核一下|审下|审审|过目|把关|瞅瞅|指导)")
# "没交上来…的单位": talk about what was not handed in is no submission.
_NOT_SUBMITTED: Final = re.compile(r"(没|未|还没|没有)(交|报|提交|上报|报送|上传|递交)")
_HELP_RE: Final = re.compile(
    r"^(帮助|help|菜单|命令|指令|功能|说明|使用帮助|求助|求教)$|怎么用|咋用|如何使用|使用说明|使用方法"
    r"|操作说明|不会用|怎么操作|咋操作"
    r"|你能(干|做)(什么|啥|嘛)|你会(干|做)?(什么|啥)|你(都)?能(帮我)?(干|做)(点)?(什么|啥|嘛)"
    r"|有(哪些|什么|啥)(功能|命令|指令|用)"
    r"|(怎么|如何|咋|怎样)(才能)?(提交|绑定|查询?|报送|上报|发动态|用|操作|看|交)(材料|进度|动态|任务|单位)?$"
)
# Where it is said first ("群里通知一下 所有单位 …", "在群里广播一下 全体 …"): the group.
_IN_GROUP: Final = r"(?:(?:在|往|到|给)?(?:工作群|大群|群)(?:里|内|上|中)?\s*)"
_NOTICE_RE: Final = re.compile(
    r"(发|下发|群发|推送|转发|广播)(一个|一条|一下|个|条)?(群|个群)?通知[:：]?"
    r"|^" + _IN_GROUP + r"?广播(一下|下)?[:：]?")
# "跟省直部门说一声 周四开会", "转告各地市联络员：…": telling units something, when a scope is said.
_TELL_RE: Final = re.compile(r"(转告|告知|知会|告诉)(一下|下)?|(说一声|说一下|说下|讲一声|讲一下)[:：]?")
# "请通知省直部门：…", "麻烦通知一下各地市…": a notice when a scope follows.
_ASK_TO_NOTIFY: Final = re.compile(
    r"(?:^|(?<=[\s,，:：;；。]))(请|麻烦|帮忙|帮我)?\s*" + _IN_GROUP + r"?通知(一下|下)?\s*")
_REMIND_RE: Final = re.compile(
    r"催(一下|一催|催|下|办|交|报|促|一遍|一声)?|督办|督促(一下|下)?|提醒(一下|下|一遍)?|提个醒"
    r"|@(一下|下)|艾特(一下|下)?"
    r"|通知(一下|下)(?=.{0,6}(谁|没|未|还))"
    r"|(跟|给|让|叫)(?P<who>.{1,12}?)(说一声|说下|说一下|打个招呼|赶紧|抓紧|尽快)"
)
# What urging is about, anywhere in the message: who still owes (a state, a task) or has not
# acknowledged ("逾期的都催一遍", "给还没确认的单位再发一遍提醒").
_REMIND_TARGET: Final = re.compile(
    r"没交|没报|未交|未报|没提交|没确认|没回复|没回|未确认|未回复|没收到|还没|交|报|提交|上报|报送"
    r"|逾期|超期|过期|拖期|延误|没完成|未完成|没签收|通知|材料|任务")
# Urging described, not asked for: "领导在催", "已经提醒过了".
_REMIND_TOLD: Final = re.compile(r"(在|正在|一直|已经|已|都在|有人|刚|刚刚|又|别|不要|不用|甭|莫|不必|没)$")
# A place name in what no cue explained ("火星市交了没"): a unit we do not know.
_UNKNOWN_UNIT: Final = re.compile(
    r"(?<![哪些个几各每这那本我咱俺全该])(?!哪|各|每|这|那|本|我|咱|俺|全|该|几|多少|啥|什么)"
    r"[\u4e00-\u9fff]{1,6}?(示范区|市|县|区|厅|局)")
# How a question ends (an imperative with a question word does not end like this).
_ASKS: Final = re.compile(r"(吗|么|嘛|呢|没有|了没|没呢|是否|有没有)[啊呀吧哈]*$|\?")
_CONFIRM_RE: Final = re.compile(
    r"^(是|是的|是啊|是呀|对|对的|对啊|对呀|嗯|嗯嗯|没错|是这个|就是|确定|yes|y|是的没错|对没错|没毛病)+$")
# "对 就查这个", "没错 就是它", "是的 查吧": a yes, then words that only point back at the question.
_CONFIRM_TAIL: Final = re.compile(
    r"^(就是|就|是|这个|这|它|那个|那|查|查吧|查询|问|问的|吧|的|呀|啊|嘛|要|意思|对|没错|嗯|好|好的|"
    r"可以|行|没问题|我问的|我说的|就这个|这个意思|确定|确认|正确|对头|没毛病|麻烦了|了)+$")
_DENY_RE: Final = re.compile(
    r"^(不是|不对|错了|否|no|不不|不用了?|不要了?|不需要|算了|不查了|不(?=[,，。\s]|$)|没有(?=[,，。\s]|$))"
    r"(的|啊|呀|吧)?")
# After a no, words that only point back at the question ("不是这个意思").
_DENY_TAIL: Final = re.compile(r"^(这个|那个|这样|这个意思|那个意思|意思|的|啊|呀|吧|了|谢谢)+$")


class Parser:
    """Built from a vocabulary; ``parse`` is then cheap (well under a millisecond)."""

    def __init__(self, vocabulary: Vocabulary, *, is_workday: Callable[[date], bool],
                 tz: ZoneInfo = SHANGHAI, language: bool = True) -> None:
        self._is_workday = is_workday
        self._tz = tz
        self.language = language
        self._build(vocabulary)

    def _build(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary  # what it was built from: a rebuild is due when it differs
        self.lexicon = Lexicon(vocabulary)
        self._segmenter = Segmenter(self._words(self.lexicon)) if self.language else None
        if self.language:
            folded()  # the sound table for slips, read once per process: not on a first message
        self._slots = Slots(self.lexicon, self._is_workday)
        self._actions = Actions(self._slots, self._tz, self.no_such_unit)
        self._commands = Commands(self._slots, self._actions)

    @staticmethod
    def _words(lex: Lexicon) -> list[str]:
        words = [w for w, _ in scopes.KIND_WORDS]
        words += list(lex.names.ids)
        words += [t for t, _ in lex.titles]
        words += ["红旗榜", "谁没交", "谁没确认", "我单位", "本单位", "我们单位", "工作日", "红旗渠",
                  "发布通报", "通报批评", "发布任务", "待办", "那边", "这边"]
        return words

    def refresh(self, vocabulary: Vocabulary) -> None:
        """Units or tasks changed: rebuild the look-ups (the shared dictionary is kept)."""
        self._build(vocabulary)

    # -- parsing ----------------------------------------------------------------------------

    def parse(self, text: str, *, now: datetime) -> Parse:
        local = now.astimezone(self._tz) if now.tzinfo else now.replace(tzinfo=self._tz)
        m = start(text, local)
        if not m.c:
            if m.norm.strip() in ("?", "??", "???"):
                return Parse(Intent.HELP, 0.6, False)
            return Parse(Intent.UNKNOWN, 0.0, False)
        read_names(m, self.lexicon, self._is_workday, self._segmenter)
        if self.language and requests.asks_for_help(m):  # before commands: "绑定咋操作"
            return Parse(Intent.HELP, 0.85, False)
        result = self._commands.parse(m)
        if result is None:
            result = self._natural(m) if self.language else Parse(Intent.UNKNOWN, 0.0, False)
        return result

    # -- natural language -------------------------------------------------------------------

    def _natural(self, m: Msg) -> Parse:
        c, q = m.c, m.question
        a = self._actions
        programme = _programme_question(m)  # before #12: "退回整改#R3" is no submission's
        if programme is not None:
            return programme
        idm = ID_RE.search(m.norm)
        if idm is not None and not q:  # "#12 通过 优", "12号退回，缺盖章"
            if RETURN_WORDS.search(c) is not None:
                return a.review(m, Intent.RETURN, 0, False)
            bare = m.norm[:idm.start()] + " " + m.norm[idm.end():]
            if ACCEPT_WORDS.search(c) or (idm.group(1) and RATING_RE.search(c)) or (
                    strip_seps(bare) in RATING):
                return a.review(m, Intent.ACCEPT, 0, False)
        first = requests.first_verb(m)
        extend = requests.extend(m, self._slots, self._tz) if first is not Intent.CANCEL_TASK \
            else None
        if extend is not None:
            return self._confirmed(m, extend)
        if not q:
            cancel = requests.cancel(m, self._slots)
            if cancel is not None:
                return self._confirmed(m, cancel)
        if not _ASKS.search(c):  # imperatives may contain 谁 / 哪些 ("通知下谁还没回复收到")
            remind = self._remind(m)
            if remind is not None:
                return remind
        if not q:
            h = _PUBLISH_RE.search(m.norm)
            if h is not None:
                return self._publish(m, h.start(), h.end())
            if _INCIDENT_RE.search(c) and m.units:
                return a.natural_flag_event(m, Intent.INCIDENT, _INCIDENT_RE)
            if _INNOVATION_RE.search(c) and m.units:
                return a.natural_flag_event(m, Intent.INNOVATION, _INNOVATION_RE)
            if "批评" not in c and _BULLETIN_PUBLISH_RE.search(c):
                return Parse(Intent.BULLETIN_PUBLISH, 0.85, False)
        if "批评" not in c and (_BULLETIN_DRAFT_RE.search(c) or _BULLETIN_DRAFT_RE.search(
                m.skeleton)) and not (q and _ASKS.search(c)):
            d1, d2 = m.dates()
            return Parse(Intent.BULLETIN_DRAFT, 0.85, False, date_from=d1, date_to=d2)
        ack = self._ack(m)
        if ack is not None:
            return ack
        answer = self._answer(m)
        if answer is not None:
            return answer
        if _HELP_RE.search(c):
            return Parse(Intent.HELP, 0.85, False)
        dynamic = self._dynamic(m)
        if dynamic is not None:
            return dynamic
        if _BIND_RE.search(c) and not q:
            h = _BIND_RE.search(m.norm)
            at = 0 if h is None else h.start() if h.group(0).startswith("我是") else h.end()
            return a.bind(m, at, 0.85, False)
        if not q:
            h = _NOTICE_RE.search(m.norm) or _ASK_TO_NOTIFY.search(m.norm) or \
                _TELL_RE.search(m.norm)
            if h is not None and (h.re is _NOTICE_RE or self._slots.scope_at(
                    m, h.end())[0] is not None or (h.re is _TELL_RE and self._told(m, h.start()))):
                return a.natural_notice(m, h.start(), h.end())
            if (_SUBMIT_RE.search(c) or _SUBMIT_TAIL_RE.search(c)) and not _NOT_SUBMITTED.search(c):
                tasks = m.tasks
                if tasks or _SUBMIT_TAIL_RE.search(c):
                    return Parse(Intent.SUBMIT, 0.8 if tasks else 0.6, False, task_ids=tasks,
                                 body=strip_seps(m.raw))
        if m.tasks and self._hands_in(m):
            return Parse(Intent.SUBMIT, 0.8, False, task_ids=m.tasks, body=strip_seps(m.raw))
        return self._question(m)

    @staticmethod
    def _hands_in(m: Msg) -> bool:
        """A submission said as a statement with a question word in its tail (see
        ``_HANDING_IN``): not when the message ends asking ("…传上来了吗")."""
        c = m.c
        if _ASKS.search(c) or _NOT_SUBMITTED.search(c) or m.units or m.kinds:
            return False  # "郑州的月报已经交了 你看下": told of another unit's, not handed in
        if _HANDING_IN.match(c):
            return True
        done = _HANDED_IN.search(c)
        return done is not None and _LOOK_AT.search(c, done.end()) is not None

    def _confirmed(self, m: Msg, p: Parse) -> Parse:
        """A request read whole but with words its grammar does not explain: ask before acting
        ("您是想撤销《月报》吗？"); one that lacks a slot already asks for it."""
        if p.clarify is not None or p.confidence < 0.5:
            return p
        verb = requests.EXTEND_RE.search(m.norm) if p.intent is Intent.EXTEND else (
            requests.CANCEL_RE.search(m.norm))
        span = (verb.start(), verb.end()) if verb is not None else (0, 0)
        if requests.unexplained(m, span) > 3:
            return replace(p, confidence=0.45, confirm=True, clarify=confirm_action(
                p, self.lexicon.unit_name, self.lexicon.task_title))
        return p

    @staticmethod
    def no_such_unit(name: str) -> str:
        """The question back for a name that is no unit (the handler adds the closest names:
        finding them is not the parser's work, and costs a millisecond)."""
        return f"找不到单位：{name}"

    @staticmethod
    def _after_to(m: Msg, end: int) -> int:
        """Where the scope of "给各地市发个任务" starts (after 给/向/对), or ``end`` if none."""
        g = re.search(r"(给|向|对|为)\s*", m.norm[:end])
        return g.end() if g is not None else end

    def _told(self, m: Msg, start: int) -> bool:
        """Whether units are named as whom to tell before ``start`` ("跟省直部门说一声")."""
        g = re.search(r"(跟|给|向|对|和)\s*", m.norm[:start])
        return g is not None and self._slots.scope_at(m, g.end())[0] is not None

    def _publish(self, m: Msg, start: int, end: int) -> Parse:
        """"给各地市发个任务：…" (the scope before the verb) or "发个任务给兰考和滑县：…" (after)."""
        before = self._slots.scope_at(m, self._after_to(m, start))
        scope_before = (before[0], before[1])
        to = _TO.match(m.norm, end)
        if to is not None and before[0] is None:
            scope, ids, after = self._slots.scope_at(m, to.end())
            if scope is not None:
                scope_before, end = (scope, ids), after
        return self._actions.publish(m, requests.skip_lead(m.norm, end), 0.85, False,
                                     scope_before=scope_before)

    def _remind(self, m: Msg) -> Parse | None:
        """Urging as verb × target × scope: the verb anywhere (催 / 督办 / 提醒 / @一下 …), what
        it is about anywhere (a task, 没交 / 逾期, 没确认 / 通知) or at least whom."""
        h = next((x for x in _REMIND_RE.finditer(m.norm)
                  if not _REMIND_TOLD.search(m.norm[:x.start()].rstrip())), None)
        if h is None:
            return None
        strong = h.group(0).startswith(("催", "督"))  # 催一下郑州: urging needs only whom
        unsure = False
        if not _REMIND_TARGET.search(m.c) and not m.tasks:
            if not (m.units or m.kinds) or h.group("who") is not None:
                return None  # "跟省直部门说一声 周四开会": telling, not urging
            unsure = not strong  # 提醒一下开封: of what? ask before urging
        if h.group(0).startswith("通知") and not re.search(r"谁|没|未", m.norm[h.start():]):
            return None
        p = self._actions.remind(m, 0.85, False)
        if m.task_choices and not p.task_ids and p.ref == "task":
            return replace(p, confidence=0.5, choices=m.task_choices,
                           clarify=requests.which_task(self._slots, m.task_choices))
        if unsure or requests.unexplained(m, h.span()) > 2:
            return replace(p, confidence=0.45, confirm=True, clarify=confirm_action(
                p, self.lexicon.unit_name, self.lexicon.task_title))
        return p

    def _ack(self, m: Msg) -> Parse | None:
        """收到 as the whole message or its first clause ("已收到，马上安排落实"), not 收到 with an
        object ("收到红包啦谢谢领导")."""
        c = m.c
        if m.question or len(c) > 30:
            return None
        ack_c = c
        lead = next((s for s in m.spans if s.start == len(m.norm) - len(m.norm.lstrip())), None)
        if lead is not None and lead.mark == "U":
            ack_c = re.sub(r"^[^收已知明了好嗯ok都是]*", "", c)
        hit = _ACK_RE.match(ack_c)
        if hit is not None and not acknowledges(m.norm, hit.group(0)):
            hit = None
        if hit is not None or (len(c) <= 12 and _ACK_TAIL_RE.search(c)):
            weak = not re.search(r"收到|收悉|已阅|知悉", c)
            return Parse(Intent.ACK, 0.7 if weak else 0.9, False)
        return None

    def _answer(self, m: Msg) -> Parse | None:
        """是 / 对 / 不是，是开封: an answer to a question the bot asked."""
        core = re.sub(r"[。.!！~～]+$", "", m.c)
        core = re.sub(r"(?<=[是对])[滴嘀哒]", "的", core)  # 是滴 / 对滴: dialect spellings of 的
        if _CONFIRM_RE.match(core):
            return Parse(Intent.CONFIRM, 0.9, False)
        yes = re.match(r"(是的|是啊|是|对的|对啊|对|嗯嗯|嗯|没错|确定)+", core)
        if yes is not None and not m.has_entities and _CONFIRM_TAIL.match(core[yes.end():]):
            return Parse(Intent.CONFIRM, 0.85, False)
        if yes is not None and m.has_entities and re.fullmatch(r"[UGMTDR、和]+", re.sub(
                r"^(是的|是啊|是|对的|对啊|对|嗯嗯|嗯|没错|确定)+(是|就是|查)?", "", m.skeleton)):
            # "对，开封": yes, and the names again (the question is answered for them)
            return Parse(Intent.CONFIRM, 0.85, False, unit_ids=m.units, task_ids=m.tasks,
                         query=questions.read(m).query)
        deny = _DENY_RE.match(core)
        if deny is not None:
            rest = core[deny.end():]
            if not rest or rest.startswith(("是", "我问的是", "我说的是", "我要", "要", "问的是", "查")) \
                    or (m.has_entities and len(rest) <= 12) or _DENY_TAIL.match(rest):
                said = questions.read(m).query if m.has_entities else None
                units = m.units
                right = [h.end() for h in re.finditer(r"是|要", m.norm)]
                corrected = self._slots.units_from(m, right[-1]) if right else ()
                if corrected and corrected != units:
                    units = corrected  # "不是郑州 是郑州海关": the name after 是, not the one denied
                    if said is not None:
                        said = replace(said, unit_ids=units)
                return Parse(Intent.DENY, 0.85, False, unit_ids=units, task_ids=m.tasks,
                             query=said)
        return None

    def _dynamic(self, m: Msg) -> Parse | None:
        c, q = m.c, m.question
        if (_DYNAMIC_QUERY_RE.search(c) and (q or len(c) <= 14)) or re.fullmatch(
                r"的?(工作)?(最新|最近)?动态(呢|有哪些|有啥)?", self._slots.without_names(m, 0)):
            d1, d2 = m.dates()
            return Parse(Intent.DYNAMIC, 0.8, False, unit_ids=m.units, date_from=d1, date_to=d2)
        h = _DYNAMIC_POST_RE.search(m.norm)
        if h is not None and not q:
            body = self._slots.body(m, h.end())
            if body:
                return Parse(Intent.DYNAMIC, 0.8, False, body=body)
            d1, d2 = m.dates()
            return Parse(Intent.DYNAMIC, 0.7, False, unit_ids=m.units, date_from=d1, date_to=d2)
        return None

    def _question(self, m: Msg) -> Parse:
        r = questions.read(m)
        q = r.query
        if r.follow_up and (m.has_entities or q.states or q.colour):
            return Parse(Intent.QUERY, 0.8, False, unit_ids=q.unit_ids, task_ids=q.task_ids,
                         date_from=q.date_from, date_to=q.date_to, my_unit=q.mine, query=q,
                         follow_up=True)
        unknown = _UNKNOWN_UNIT.search(m.skeleton) if r.content and not m.units else None
        if r.content and (m.unknown_unit or unknown is not None):
            name = m.unknown_unit or (unknown.group(0) if unknown else "")
            return Parse(Intent.QUERY, 0.5, False, query=q, unknown_name=name,
                         clarify=self.no_such_unit(name))
        if r.content and r.confidence >= 0.6 and r.choices and not q.task_ids:
            # "总结交了没" with two open 总结: ask which, never answer for one silently
            return Parse(Intent.QUERY, 0.5, False, unit_ids=q.unit_ids, date_from=q.date_from,
                         date_to=q.date_to, my_unit=q.mine, query=q, choices=r.choices,
                         clarify=requests.which_task(self._slots, r.choices))
        if r.content and r.confidence >= 0.6:
            conf = min(r.confidence, 0.8) if m.task_by_sound else r.confidence
            return Parse(Intent.QUERY, conf, False, unit_ids=q.unit_ids,
                         task_ids=q.task_ids, date_from=q.date_from, date_to=q.date_to,
                         my_unit=q.mine, query=q)
        named = bool(m.units or m.kinds or m.tasks)
        if named and r.residue == 0 and len(re.sub(r"[UGMTDRN的呢吗么嘛啊呀?]", "", m.skeleton)) <= 1:
            # only names ("郑州", "开封市？"): ask whether their progress is meant
            guess = replace(q, subject="tasks" if m.units or m.mine or not m.tasks else "units",
                            form=Form.DETAIL, said=q.said | {"subject", "form"})
            return self._ask_back(Intent.QUERY, guess)
        if m.units and r.question and r.residue == 0:
            guess = Query(subject="tasks", form=Form.DETAIL, unit_ids=m.units, states=q.states,
                          task_ids=q.task_ids, date_from=q.date_from, date_to=q.date_to,
                          said=frozenset({"unit_ids", "kinds", "mine", "subject", "form"}))
            return self._ask_back(Intent.UNKNOWN, guess)
        return Parse(Intent.UNKNOWN, 0.1, False)

    def _ask_back(self, intent: Intent, guess: Query) -> Parse:
        text = question_back(guess, self.lexicon.unit_name, self.lexicon.task_title)
        return Parse(intent, 0.4, False, unit_ids=guess.unit_ids, task_ids=guess.task_ids,
                     date_from=guess.date_from, date_to=guess.date_to, my_unit=guess.mine,
                     query=guess, clarify=text, confirm=True)


# The rectification commands run into their item number ("整改#R3 …", "退回整改R3 …"): the
# command itself, as canonical as with a space.
_RECT_COMMAND: Final = re.compile(r"^\s*[/#＃]?\s*(确认整改|退回整改|整改)\s*[#＃]?\s*[Rr]?\s*\d")


def _programme_question(m: Msg) -> Parse | None:
    """A question about cases, sites or rectification items, read as a frame (programme.py)."""
    if _RECT_COMMAND.match(m.norm):
        return Parse(Intent.RECTIFY_ACTION, 0.9, True)
    c = m.c
    s = programme.subject_of(c, m.norm)
    # "示范点建设方案交了没": a task named with the word; "整改报告交了没": a document word (a
    # case question's own 案例 is a document word too, and its cues said which it is)
    tasks = m.tasks
    if s is not None and s.name == "cases" and all(
            programme.names_kind_only(m.norm[t.start:t.end].replace(" ", ""), c)
            for t in m.spans if t.mark == TASK):
        tasks = ()  # "有没有调解方面的案例": the kind of case, not the task 行政调解典型案例
    if s is None or tasks or (m.task_choices and s.name != "cases"):
        return None
    if not programme.asks(c, m.question or _ASKS.search(c) is not None):
        return None
    d1, d2 = m.dates()
    q = programme.frame(s, c, unit_ids=m.units, kinds=m.kinds, mine=m.mine, date_from=d1,
                        date_to=d2)
    return Parse(s.intent, 0.85, False, unit_ids=m.units, my_unit=m.mine, date_from=d1,
                 date_to=d2, query=q, body=q.ref)


def acknowledges(norm: str, word: str) -> bool:
    """Whether the acknowledgement ``word`` found at the start of a message is one: what comes
    right after it (without a pause) is a particle, thanks, a promise, or nothing."""
    at = norm.find(word[-2:]) + 2 if len(word) >= 2 else len(word)
    rest = norm[at:]
    if not rest or rest[0] in SEPS or not ("\u4e00" <= rest[0] <= "\u9fff"):
        return True
    return ACK_GOES_ON.match(rest) is not None
