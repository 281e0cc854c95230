"""Intent and slot parser: rules over normalised text, entities from a private jieba tokenizer.

The parser decides *what* is asked; it never answers. It is deterministic: the same text at the
same moment always gives the same :class:`Parse`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from .lexicon import QUARTER_RE, QUARTER_WORDS, Index, build_index, quarter_of, unit_words
from .model import Intent, Parse, Vocabulary
from .text import compact, mask_mentions, normalize
from .timeexpr import find_clock, find_time, quarter_range
from .tokenizer import fresh_tokenizer

IsWorkday = Callable[[date], bool]
SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

# Command words at the start of a message (after an optional / or #), longest first.
COMMANDS: Final[tuple[tuple[str, Intent], ...]] = tuple(
    sorted(
        (
            ("发布通报", Intent.BULLETIN_PUBLISH),
            ("发布任务", Intent.PUBLISH_TASK),
            ("通报批评", Intent.INCIDENT),
            ("我单位旗帜", Intent.FLAGS),
            ("谁没确认", Intent.WHO_NOT_ACKED),
            ("我的任务", Intent.MY_TASKS),
            ("谁没交", Intent.MISSING),
            ("红旗榜", Intent.FLAG_BOARD),
            ("近期要交", Intent.DUE_SOON),
            ("近期任务", Intent.DUE_SOON),
            ("已收到", Intent.ACK),
            ("帮助", Intent.HELP),
            ("help", Intent.HELP),
            ("菜单", Intent.HELP),
            ("绑定", Intent.BIND),
            ("待办", Intent.MY_TASKS),
            ("提交", Intent.SUBMIT),
            ("进度", Intent.STATUS),
            ("动态", Intent.DYNAMIC),
            ("收到", Intent.ACK),
            ("通过", Intent.ACCEPT),
            ("退回", Intent.RETURN),
            ("通知", Intent.NOTICE),
            ("创新", Intent.INNOVATION),
            ("通报", Intent.BULLETIN_DRAFT),
        ),
        key=lambda kv: -len(kv[0]),
    )
)
_COMMAND_RE: Final = re.compile(
    r"^\s*[/#]?\s*(" + "|".join(re.escape(w) for w, _ in COMMANDS) + ")"
)
_COMMAND_INTENT: Final = dict(COMMANDS)

# Commands whose word, followed by a question, is rather talk about the thing.
_VETO_ON_QUESTION: Final = frozenset({
    Intent.SUBMIT, Intent.ACK, Intent.ACCEPT, Intent.NOTICE, Intent.BULLETIN_DRAFT,
    Intent.INNOVATION, Intent.RETURN, Intent.BIND, Intent.PUBLISH_TASK,
    Intent.BULLETIN_PUBLISH, Intent.INCIDENT,
})
# Continuations that make the command word part of another word (通过率, 通知书, 通报表扬 ...).
_VETO_CONT: Final = re.compile(r"^(率|书|人|表扬|性|了没|了吗|过没|没有|情况|的情况|的人|好了吗)")

_SEPS: Final = " \t\r\n,，、:：;；.。!！-—~～|/"
_QUESTION_END: Final = re.compile(
    r"(吗|么|嘛|呢|没|没有|不|没呢|了没|(如何|怎样|怎么样|咋样)了?|几面|多少)$"
)
_MY_UNIT: Final = re.compile(r"(我们|咱们|我|咱|本)(单位|市|县|厅|局)(?!场)|^(我们|咱们)")

_KIND_WORDS: Final[tuple[tuple[str, str], ...]] = tuple(
    sorted(
        (
            ("全体单位", "all"), ("全体", "all"), ("全部单位", "all"), ("全部", "all"),
            ("所有单位", "all"), ("所有", "all"), ("各单位", "all"), ("大家", "all"),
            ("all", "all"), ("全省", "all"),
            ("各地市", "kind:city"), ("各省辖市", "kind:city"), ("省辖市", "kind:city"),
            ("地市", "kind:city"), ("各市", "kind:city"),
            ("各直管县", "kind:county"), ("直管县", "kind:county"), ("省直管县", "kind:county"),
            ("各县", "kind:county"),
            ("省直部门", "kind:department"), ("省直单位", "kind:department"),
            ("各厅局", "kind:department"), ("厅局", "kind:department"), ("省直", "kind:department"),
            ("中央驻豫单位", "kind:central"), ("驻豫单位", "kind:central"),
            ("中央单位", "kind:central"),
        ),
        key=lambda kv: -len(kv[0]),
    )
)

_KIND_SUFFIX: Final = re.compile(r"的?(联络员|同志们|同志|各位|领导)")
_ID_RE: Final = re.compile(r"#\s*(\d+)|编号\s*(\d+)|第\s*(\d+)\s*号|(?<![\d.月/])(\d+)\s*号(?!前|之前)")
_RATING_RE: Final = re.compile(r"(优秀|良好|一般|合格|优|良)")
_RATING: Final = {"优秀": "优", "优": "优", "良好": "良", "良": "良", "一般": "一般", "合格": "一般"}
_RETURN_WORDS: Final = re.compile(r"退回|打回|驳回|不通过|不合格|退了|重新提交|重报|重交|退给")
_ACCEPT_WORDS: Final = re.compile(r"通过|合格|同意|没问题|可以|评为|评优|评良|给个?[优良]|验收")

_PUBLISH_RE: Final = re.compile(
    r"(发布|布置|下发|新建|新增|添加|增加|创建|安排|发)(一个|一项|一条|个|项|条)?(新的|新)?任务[:：]?"
)
_INCIDENT_RE: Final = re.compile(r"通报批评|(粗暴|野蛮|趋利|违规|不规范)执法|记(一次|个)?(黄旗|扣分)")
_INNOVATION_RE: Final = re.compile(r"创新举措|创新做法|创新经验|记(一次|一个|个)?创新|创新加分")
_BULLETIN_PUBLISH_RE: Final = re.compile(
    r"通报.{0,6}(发布|发出|发了吧|发吧|可以发|发群里|发到群|发到.{0,4}群|推送)"
    r"|(发布|发出|发一下|推送|发送|发)(一下)?(本周|这周|本期|这期|上周|本月)?的?(进度)?通报(?!批评)"
)
_BULLETIN_DRAFT_RE: Final = re.compile(
    r"(生成|起草|出|拟|做|弄|写|来|准备|草拟|看看|预览|看下|看一下)(一下|一份|一期|个|份|期)?"
    r"(本周|这周|上周|本月|这个月|本期|这期|周|月度|季度|半年)?的?(进度)?(通报|周报)(草稿)?(?!批评)"
    r"|^(本周|这周|上周|本月|本期|这期|周|月度|季度)的?(进度)?(通报|周报)(草稿)?$|通报草稿|^周报$"
)
_WHO_NOT_ACKED_RE: Final = re.compile(
    r"(谁|哪些|哪个|哪几|哪家|几家|还有|有没有人|有谁)(单位|人)?.{0,8}(没|未|没有)"
    r"(确认|回复|回执|回收到|签收|收到|阅读|看到|看|读|响应|接收|回)"
    r"|(未|没)(确认|回执|回复)的(单位|有|名单|人)|(回执|确认)(情况|率|名单)"
)
_ACK_RE: Final = re.compile(
    r"^(好的|好|嗯嗯|嗯|ok|okay|是的|收到收到|都)*(已经|已)?(收到|收悉|已阅|阅悉|知悉|明白|了解|知道了)"
)
_ACK_TAIL_RE: Final = re.compile(r"(收到|收悉|已阅|知悉)(了|啦|谢谢|!)*$")
_FLAG_BOARD_RE: Final = re.compile(
    r"红旗榜|旗帜榜|排行|排名|榜单|光荣榜|排第几|第几名|(谁|哪个|哪家|哪些|哪几)(单位|地市|市|家)?的?(红旗|旗)(最多|最少|多)"
    r"|(各单位|各地市|全省|所有单位|大家)的?(红旗|旗帜|得分|评分|积分)"
)
_FLAGS_RE: Final = re.compile(r"红旗|黄旗|蓝旗|旗帜|旗子|几面旗|面旗|得分|积分|评分|分数|扣分|加分|扣了|几分|多少分")
_SOON_RE: Final = re.compile(
    r"快到期|即将到期|马上到期|快截止|即将截止|临近截止|要到期|快到截止|近期|最近|这几天|近几天|马上要交|快要交"
)
_ASK_RE: Final = re.compile(r"什么|啥|哪些|哪几|几个|多少|有没有|有无|哪个|几项|几件")
_DUE_RE: Final = re.compile(
    r"要交|要报|需要交|需要报|需交|需报|该交|得交|要提交|要上报|要报送|截止|到期|任务|要完成|交啥|交什么"
    r"|报啥|报什么|需提交|要做"
)
_FIRST_PERSON_RE: Final = re.compile(r"^(我们单位|我单位|本单位|咱们单位|我们|咱们|我市|我县|我厅|我局|我|咱)")
_MY_TASKS_RE: Final = re.compile(r"我的(任务|待办)|待办|我(们|们单位|单位)?还?欠")
_MY_WHAT_RE: Final = re.compile(r"什么|啥|哪些|哪几|几个|多少|几项|几件")
_MY_OWE_RE: Final = re.compile(
    r"任务|没交|没报|没提交|没完成|没上报|要交|要报|欠|待办|材料|要做|要弄|要办|活"
)
_MY_BARE_RE: Final = re.compile(r"^(还有|还剩|有)(什么|啥)(任务|没交|没报|要交|没完成|没提交)")
_MISSING_RE: Final = re.compile(
    r"(谁|哪些|哪个|哪几|哪家|几家|多少家|多少个|多少|几个|什么|啥)(单位|地市|市|县|部门|家)?.{0,8}"
    r"(没有|没|未|不)"
    r"(交|报|提交|上报|报送|上交|完成|递交|按时)"
    r"|(没|未)(交|报|提交|上报|报送|完成)的(单位|地市|有|是|名单|都有)"
    r"|(未交|未报|未提交|未报送|没交齐|缺交|欠交)(名单|单位|情况|的)"
    r"|(缺|差|欠)(谁|哪些|哪几|哪个|几家)"
)
_STATUS_RE: Final = re.compile(
    r"进度(?!条)|进展|(啥|什么)情况|(咋|怎么|为啥|为什么)还?(没|不)(交|报)|情况咋样|完成情况|提交情况|报送情况|上报情况|交的情况|交没交|报没报|交了没有"
    r"|(交|报|提交|上报|报送|交齐|报齐|完成|搞定|弄完|做完|写完|上传|发|交上来|报上来|报上去|交上去)"
    r"(了|过)?(没有|没|吗|么|嘛|没呢)"
    r"|有没有(交|报|提交|上报|报送|上传)|收到.{0,10}(吗|没)$|到哪一?步了|情况(如何|怎样|怎么样)"
)
_VAGUE_STATUS_RE: Final = re.compile(r"(怎么样|咋样|如何|怎样)了?$")
_DYNAMIC_POST_RE: Final = re.compile(
    r"(发|报|报送|投|上传|推|分享)(一个|一条|一下|条|个)?(工作)?动态[:：]?|工作动态[:：]?|^今日动态[:：]?"
)
_DYNAMIC_QUERY_RE: Final = re.compile(
    r"(最新|最近|近期|有什么|有啥|有哪些|看看|查看|看下|看一下).{0,8}?动态|动态(有哪些|呢|有啥|有什么)"
)
_BIND_RE: Final = re.compile(r"绑定|我是.{2,12}的?联络员|(关联|加入|绑)到?(单位)?")
_SUBMIT_RE: Final = re.compile(
    r"(提交|上报|报送|呈报|上交|递交|报上|交上|上传|交一下|报一下|报给您|交给您)"
    r"|^这是(我们|我市|我县|我单位|我们单位|本单位)"
)
_SUBMIT_TAIL_RE: Final = re.compile(r"请查收|请审阅|请审核|详见附件|见附件|附件已上传|已上传|已报送|已提交|已上报")
_HELP_RE: Final = re.compile(
    r"^(帮助|help|菜单|命令|指令|功能|说明|使用帮助)$|怎么用|如何使用|使用说明|使用方法|操作说明"
    r"|你能(干|做)(什么|啥)|你会(干|做)?(什么|啥)|有(哪些|什么|啥)(功能|命令|指令)"
    r"|(怎么|如何)(提交|绑定|查询?|报送|上报|发动态|用|操作)"
)
_NOTICE_RE: Final = re.compile(r"(发|下发|群发|推送|转发|广播)(一个|一条|一下|个|条)?通知[:：]?|^广播[:：]?")
_ACKED_NOTICE_RE: Final = re.compile(r"通知.{0,10}(收到|确认|回复|看到|回执)|(收到|确认|看到)(.{0,4})通知")
_PUBLISH_WORDS: Final = re.compile(r"发布|发出|发了吧|发吧|可以发|推送|发群里")
_DYNAMIC_QUERY_REST: Final = re.compile(
    r"(有哪些|有什么|有啥|呢|最新|最近|列表|查看|看看|查询|的)*"
)
_NAMED_NOTICE_RE: Final = re.compile(
    r"\s*(\S{1,14}?(通知|会议|文件))的?\s*(谁|哪些|哪个|还有|有谁|有没有|有哪些|哪几)"
)
_TASK_DUE_RE: Final = re.compile(
    r"(截止|到期|deadline)(时间|日期)?(是)?(哪天|什么时候|几号|哪一天|多会|啥时候|几月几号)"
    r"|(什么时候|几号|哪天|啥时候|几月几号)(截止|到期|前?交|前?报)|(截止|到期)(时间|日期)"
)
_CODE_RE: Final = re.compile(r"(?<![a-z0-9])[a-z0-9]{4,16}(?![a-z0-9])")


@dataclass
class _Msg:
    """One message being parsed (local to a ``parse`` call)."""

    raw: str  # the text with mentions blanked; bodies are cut from it
    norm: str  # same length, normalised
    c: str  # compact
    tokens: list[tuple[str, int]]  # (token, start offset in norm)
    today: date
    local: datetime
    question: bool = False
    units: tuple[int, ...] = ()
    my_unit: bool = False


def _is_question(norm: str, c: str) -> bool:
    return "?" in norm or bool(_QUESTION_END.search(c))


def _strip_seps(s: str) -> str:
    return s.strip().lstrip(_SEPS).strip()


class Parser:
    """Builds its own jieba tokenizer from the vocabulary; ``parse`` is then cheap (< 1 ms)."""

    def __init__(self, vocabulary: Vocabulary, *, is_workday: Callable[[date], bool],
                 tz: ZoneInfo = SHANGHAI) -> None:
        self._is_workday = is_workday
        self._tz = tz
        # A private copy of the main dictionary (the global jieba.dt is never touched).
        self._tk = fresh_tokenizer()
        self._words: set[str] = set()
        for w in (*QUARTER_WORDS, "那边", "这边", "红旗榜", "谁没交", "谁没确认", "我单位", "本单位",
                  "我们单位", "工作日", "红旗渠", "发布通报", "通报批评", "发布任务", "待办"):
            self._add_word(w)
        self._index = self._build(vocabulary)
        self.vocabulary = vocabulary  # what it was built from: a rebuild is due when it differs

    # -- vocabulary -------------------------------------------------------------------------

    def _add_word(self, word: str) -> None:
        if word in self._words or len(word) < 2:
            return
        freq = max(int(self._tk.suggest_freq(word, False)), 2000)
        self._tk.add_word(word, freq)
        self._words.add(word)

    def _build(self, vocabulary: Vocabulary) -> Index:
        for alias in unit_words(vocabulary):
            self._add_word(alias)

        def segment(title: str) -> list[str]:
            return [str(w) for w in self._tk.lcut(title, HMM=False)]

        index = build_index(vocabulary, segment)
        for title, _ in index.task_titles:
            self._add_word(title)
        for w in index.task_words:
            self._add_word(w)
        return index

    def refresh(self, vocabulary: Vocabulary) -> None:
        """Units or tasks changed: add new words to the tokenizer and rebuild the look-ups.

        Words of removed units or tasks stay in the tokenizer (harmless: they map to nothing).
        """
        self._index = self._build(vocabulary)
        self.vocabulary = vocabulary

    # -- parsing ----------------------------------------------------------------------------

    def parse(self, text: str, *, now: datetime) -> Parse:
        local = now.astimezone(self._tz) if now.tzinfo else now.replace(tzinfo=self._tz)
        raw = mask_mentions(text)
        norm = normalize(raw)
        c = compact(norm)
        if not c:
            if norm.strip() in ("?", "??", "???"):
                return Parse(Intent.HELP, 0.6, False)
            return Parse(Intent.UNKNOWN, 0.0, False)
        tokens: list[tuple[str, int]] = []
        pos = 0
        for tok in self._tk.lcut(norm, HMM=False):
            tokens.append((str(tok), pos))
            pos += len(tok)
        m = _Msg(raw=raw, norm=norm, c=c, tokens=tokens, today=local.date(), local=local)
        m.question = _is_question(norm, c)
        m.units = self._units(m, 0)
        m.my_unit = bool(_MY_UNIT.search(c))
        result = self._canonical(m)
        if result is None:
            result = self._natural(m)
        return result

    # -- slots ------------------------------------------------------------------------------

    def _units(self, m: _Msg, start: int, end: int | None = None) -> tuple[int, ...]:
        idx = self._index
        out: list[int] = []
        prev_local = -1  # end offset of the last city/county token
        for tok, pos in m.tokens:
            if pos < start or (end is not None and pos >= end):
                continue
            uids = idx.unit_by_alias.get(tok, ())
            if uids and pos == prev_local and not tok.startswith("省") and all(
                    idx.unit_kind[u] in ("department", "central") for u in uids):
                continue  # 郑州市场监管局: the city's own bureau, not the province's
            if any(idx.unit_kind[u] in ("city", "county") for u in uids):
                prev_local = pos + len(tok)
            for uid in uids:
                if uid not in out:
                    out.append(uid)
        return tuple(out)

    def _strip_entities(self, m: _Msg, start: int) -> str:
        """The compact text after ``start`` without unit names and time expressions."""
        chars = list(m.norm)
        for tok, pos in m.tokens:
            if pos >= start and tok in self._index.unit_by_alias:
                chars[pos:pos + len(tok)] = " " * len(tok)
        text = "".join(chars)[start:]
        span = find_time(text, m.today, self._is_workday)
        if span is not None:
            a, b = span.span
            text = text[:a] + " " * (b - a) + text[b:]
        return compact(text)

    def _tasks(self, m: _Msg, start: int = 0) -> tuple[tuple[int, ...], int | None]:
        """Matched task ids and, when a quarter matched no task, that quarter."""
        idx = self._index
        c = compact(m.norm[start:])
        ids: list[int] = []
        for h in re.finditer(r"#\s*(\d+)", m.norm[start:]):
            tid = int(h.group(1))
            if tid not in ids:
                ids.append(tid)
        if ids:
            return tuple(ids), None
        full = [tid for title, tid in idx.task_titles if title in c]
        if full:
            return tuple(full), None
        scores: dict[int, float] = {}
        for tok, pos in m.tokens:
            if pos < start:
                continue
            tids = idx.task_words.get(tok)
            if tids:
                for tid in tids:
                    scores[tid] = scores.get(tid, 0.0) + 1.0 / len(tids)
        q = quarter_of(c)
        if q is not None:
            in_q = idx.task_quarter.get(q, ())
            if in_q:
                scored = {t: scores.get(t, 0.0) for t in in_q}
                best = max(scored.values())
                return tuple(t for t in in_q if scored[t] == best), None
        if not scores:
            return (), q
        best = max(scores.values())
        order = [tid for _, tid in idx.task_titles]
        return tuple(t for t in order if scores.get(t) == best), q

    def _time(self, m: _Msg, quarter: int | None, start: int = 0) -> tuple[
            date | None, date | None]:
        span = find_time(m.norm[start:], m.today, self._is_workday)
        if span is not None:
            return span.start, span.end
        if quarter is not None:
            return quarter_range(m.today.year, quarter)
        return None, None

    def _query(self, m: _Msg, intent: Intent, conf: float, canonical: bool, start: int = 0,
               *, default_range: bool = False, units: bool = True) -> Parse:
        tasks, quarter = self._tasks(m, start)
        if default_range and quarter is None:  # "三季度有什么要交的": the quarter is the range
            quarter = quarter_of(compact(m.norm[start:]))
        d1, d2 = self._time(m, quarter, start)
        if default_range and d1 is None and d2 is None:
            d1, d2 = m.today, m.today + timedelta(days=7)
        return Parse(intent, conf, canonical, unit_ids=self._units(m, start) if units else (),
                     task_ids=tasks, date_from=d1, date_to=d2, my_unit=m.my_unit)

    def _scope_at(self, m: _Msg, pos: int, *, kinds: bool = True) -> tuple[
            str | None, tuple[int, ...], int]:
        """Scope words (各地市, 全体, unit names ...) starting at ``pos``; returns the end."""
        idx = self._index
        norm = m.norm
        parts: list[str] = []
        ids: list[int] = []
        end = pos
        i = pos
        while i < len(norm):
            while i < len(norm) and norm[i] in " ,，、和及与":
                i += 1
            hit = False
            if kinds:
                for word, kind in _KIND_WORDS:
                    if norm.startswith(word, i):
                        if kind not in parts:
                            parts.append(kind)
                        i += len(word)
                        suffix = _KIND_SUFFIX.match(norm, i)
                        if suffix:
                            i = suffix.end()
                        hit = True
                        break
            if not hit:
                for ln in range(min(idx.max_alias, len(norm) - i), 1, -1):
                    uids = idx.unit_by_alias.get(norm[i:i + ln])
                    if uids:
                        for uid in uids:
                            if uid not in ids:
                                ids.append(uid)
                            name = idx.unit_name[uid]
                            if name not in parts:
                                parts.append(name)
                        i += ln
                        hit = True
                        break
            if not hit:
                break
            end = i
        if not parts:
            return None, (), pos
        scope = "all" if "all" in parts else ",".join(parts)
        return scope, tuple(ids), end

    def _body(self, m: _Msg, start: int, end: int | None = None) -> str:
        return _strip_seps(m.raw[start:end])

    # -- canonical commands -----------------------------------------------------------------

    def _canonical(self, m: _Msg) -> Parse | None:
        hit = _COMMAND_RE.match(m.norm)
        if hit is None:
            return None
        intent = _COMMAND_INTENT[hit.group(1)]
        rest = hit.end()
        rest_c = compact(m.norm[rest:])
        if intent in _VETO_ON_QUESTION and (m.question or _VETO_CONT.match(rest_c)):
            return None
        glued = rest < len(m.norm) and m.norm[rest] not in _SEPS and m.norm[rest] not in "#?"
        if glued and not self._glued_ok(m, intent, rest):
            return None
        if intent is Intent.BULLETIN_PUBLISH or (
                intent is Intent.BULLETIN_DRAFT and _PUBLISH_WORDS.search(rest_c)):
            return Parse(Intent.BULLETIN_PUBLISH, 0.95, True)
        conf = 0.98
        if intent is Intent.HELP:
            return Parse(intent, conf, True)
        if intent is Intent.ACK:
            return Parse(intent, conf, True)
        if intent is Intent.BIND:
            return self._bind(m, rest, conf, True)
        if intent in (Intent.STATUS, Intent.MISSING, Intent.MY_TASKS, Intent.FLAG_BOARD):
            return self._query(m, intent, conf, True, rest)
        if intent is Intent.DUE_SOON:
            return self._query(m, intent, conf, True, rest, default_range=True)
        if intent is Intent.FLAGS:
            p = self._query(m, intent, conf, True, rest)
            return Parse(intent, conf, True, unit_ids=p.unit_ids, date_from=p.date_from,
                         date_to=p.date_to, my_unit=True)
        if intent is Intent.SUBMIT:
            return self._submit(m, rest, conf, True)
        if intent is Intent.DYNAMIC:
            body = self._body(m, rest)
            if not rest_c or _DYNAMIC_QUERY_REST.fullmatch(self._strip_entities(m, rest)) \
                    or (m.question and len(rest_c) <= 12):
                return self._query(m, intent, conf, True, rest)
            return Parse(intent, conf, True, body=body)
        if intent is Intent.WHO_NOT_ACKED:
            return Parse(intent, conf, True, body=self._body(m, rest))
        if intent is Intent.PUBLISH_TASK:
            return self._publish(m, rest, conf, True)
        if intent in (Intent.ACCEPT, Intent.RETURN):
            return self._review(m, intent, rest, True)
        if intent is Intent.NOTICE:
            return self._notice(m, rest, conf, True)
        if intent in (Intent.INNOVATION, Intent.INCIDENT):
            return self._flag_event(m, intent, rest, conf, True)
        # 通报: a bulletin draft, possibly for a period
        d1, d2 = self._time(m, None, rest)
        return Parse(Intent.BULLETIN_DRAFT, conf, True, date_from=d1, date_to=d2)

    def _glued_ok(self, m: _Msg, intent: Intent, rest: int) -> bool:
        """A command word run together with what follows (no space): is it still the command?"""
        nxt = next((t for t, p in m.tokens if p >= rest and t.strip()), "")
        rest_c = compact(m.norm[rest:])

        def entity() -> bool:  # only some intents need it, and find_time is the costly part
            return (nxt in self._index.unit_by_alias or self._is_task_token(nxt)
                    or find_time(m.norm[rest:rest + 8], m.today, self._is_workday) is not None)

        if intent in (Intent.ACCEPT, Intent.RETURN):
            return rest_c[:1].isdigit()
        if intent in (Intent.INNOVATION, Intent.INCIDENT, Intent.DYNAMIC):
            return nxt in self._index.unit_by_alias or bool(re.match(r"(举措|做法|加分)", rest_c))
        if intent is Intent.NOTICE:
            return self._scope_at(m, rest)[0] is not None
        if intent is Intent.SUBMIT:
            return self._is_task_token(nxt) and nxt != "的"
        if intent is Intent.HELP:
            return False
        if intent is Intent.DUE_SOON:  # "近期任务很重" is talk; "近期任务郑州" asks
            return entity()
        if intent is Intent.STATUS:
            return entity() or bool(re.match(r"(怎么样|如何|咋样|呢|情况|查询|怎样|到哪)", rest_c))
        if intent is Intent.BULLETIN_DRAFT:
            return entity() or bool(re.match(
                r"(一下|草稿|一期|本周|这周|上周|本月|本期|这期|发布|发出|发了|可以发|发吧|发群)", rest_c))
        return True

    def _bind(self, m: _Msg, rest: int, conf: float, canonical: bool) -> Parse:
        code = ""
        units = self._units(m, rest)
        for h in _CODE_RE.finditer(m.norm, rest):
            word = h.group(0)
            if word.isdigit() and len(word) < 4:
                continue
            code = m.raw[h.start():h.end()]
            break
        if not units:
            return Parse(Intent.BIND, 0.6 if canonical else 0.5, canonical, body=code,
                         clarify="请说明要绑定的单位，例如：绑定 郑州市 邀请码")
        return Parse(Intent.BIND, conf, canonical, unit_ids=units, body=code)

    def _submit(self, m: _Msg, rest: int, conf: float, canonical: bool) -> Parse:
        tasks, _ = self._tasks(m, rest)
        # skip a leading task phrase (title words, quarter, #id) to reach the content
        body_start = rest
        if tasks:
            body_start = self._skip_task_phrase(m, rest)
        body = self._body(m, body_start)
        return Parse(Intent.SUBMIT, conf, canonical, task_ids=tasks, body=body)

    def _is_task_token(self, tok: str) -> bool:
        idx = self._index
        return (tok in idx.task_words or tok in idx.task_title_set
                or QUARTER_RE.fullmatch(tok) is not None or re.fullmatch(r"#?\d+", tok) is not None
                or tok in ("#", "的"))

    def _skip_task_phrase(self, m: _Msg, rest: int) -> int:
        norm = m.norm
        i = rest
        while i < len(norm) and norm[i] in _SEPS:
            i += 1
        sep = next((j for j in range(i, len(norm)) if norm[j] in _SEPS), len(norm))
        toks = [(t, p) for t, p in m.tokens if i <= p < sep]
        if sep < len(norm) and toks and all(self._is_task_token(t) for t, _ in toks):
            return sep  # "提交 三季度调研报告 内容": the first segment names the task
        j = i
        for tok, pos in m.tokens:  # no separator: eat leading task words
            if pos < i:
                continue
            if pos != j or not self._is_task_token(tok) or tok == "的":
                break
            j = pos + len(tok)
        return j

    def _publish(self, m: _Msg, rest: int, conf: float, canonical: bool) -> Parse:
        norm = m.norm
        scope, ids, after_scope = self._scope_at(m, rest, kinds=True)
        if scope is not None and ids:  # a title may begin with a unit name: only kinds lead
            scope, ids, after_scope = None, (), rest
        title_start = after_scope
        span = find_time(norm[title_start:], m.today, self._is_workday, future=True)
        deadline: datetime | None = None
        title_end = len(norm)
        tail = len(norm)
        if span is not None and (span.end or span.start) is not None:
            a, b = span.span
            a += title_start
            b += title_start
            day = span.end or span.start
            assert day is not None
            hh, mm = 18, 0
            clock = find_clock(norm[b:])
            if clock is not None:
                hh, mm, ln = clock
                b += ln
            deadline = datetime.combine(day, time(hh, mm), tzinfo=self._tz)
            pre = norm[title_start:a]
            cut = re.search(r"[\s,，、;；]*(截止(时间|日期)?|截至|到期|期限|deadline|完成时间|时间|于|在|要求)?"
                            r"[\s:：]*$", pre)
            title_end = title_start + (cut.start() if cut else len(pre))
            tail = b
            while tail < len(norm) and (norm[tail] in _SEPS or norm[tail] in "前之以止"):
                tail += 1
            if norm.startswith("截止", tail) or norm.startswith("为止", tail):
                tail += 2
            if scope is None:
                s2, ids2, _ = self._scope_at(m, tail)
                if s2 is not None:
                    scope, ids = s2, ids2
                else:
                    rng = re.search(r"范围[:：]?\s*", norm[tail:])
                    if rng:
                        scope, ids, _ = self._scope_at(m, tail + rng.end())
        else:
            rng = re.search(r"[\s,，]*范围[:：]?\s*", norm[title_start:])
            if rng:
                title_end = title_start + rng.start()
                scope, ids, _ = self._scope_at(m, title_start + rng.end())
        title = self._body(m, title_start, title_end).rstrip(_SEPS)
        if deadline is None:
            return Parse(Intent.PUBLISH_TASK, 0.7, canonical, unit_ids=ids, scope=scope, body=title,
                         clarify="请注明截止时间，例如：发布任务 三季度调研报告 截止 9月30日 各地市")
        return Parse(Intent.PUBLISH_TASK, conf, canonical, unit_ids=ids, deadline=deadline,
                     scope=scope, body=title)

    def _review(self, m: _Msg, intent: Intent, rest: int, canonical: bool) -> Parse:
        norm = m.norm
        sid: int | None = None
        after = rest
        h = re.match(r"[\s,，:：]*(?:#\s*|编号\s*|第\s*)?(\d+)\s*号?", norm[rest:]) if canonical else None
        if h is None:
            h2 = _ID_RE.search(norm)
            if h2 is not None:
                sid = int(next(g for g in h2.groups() if g))
                after = max(h2.end(), rest)
        else:
            sid = int(h.group(1))
            after = rest + h.end()
        rating: str | None = None
        body_start = after
        if intent is Intent.ACCEPT:
            seg = norm[after:]
            r = re.match(r"[\s,，:：]*(?:通过)?[\s,，]*(?:评为|评级|评|等级|给个|给)?[\s:：]*(优秀|良好|一般|合格|优|良)",
                         seg)
            if r is None:
                r2 = _RATING_RE.search(m.c)
                rating = _RATING[r2.group(1)] if r2 else None
            else:
                rating = _RATING[r.group(1)]
                body_start = after + r.end()
        else:
            rw = _RETURN_WORDS.search(norm, after)
            if rw is not None and rw.start() - after <= 3:
                body_start = rw.end()
            rr = re.match(r"[\s,，:：]*(原因|理由)[\s:：]*", norm[body_start:])
            if rr:
                body_start += rr.end()
        body = self._body(m, body_start)
        if intent is Intent.ACCEPT and not canonical:
            body = ""
        if sid is None:
            return Parse(intent, 0.5, canonical, rating=rating, body=body,
                         clarify="请注明提交编号，例如：通过 #12 优 或 退回 #12 原因")
        return Parse(intent, 0.97 if canonical else 0.9, canonical, submission_id=sid,
                     rating=rating, body=body)

    def _notice(self, m: _Msg, rest: int, conf: float, canonical: bool) -> Parse:
        scope, ids, end = self._scope_at(m, rest)
        return Parse(Intent.NOTICE, conf, canonical, unit_ids=ids, scope=scope,
                     body=self._body(m, end))

    def _flag_event(self, m: _Msg, intent: Intent, rest: int, conf: float,
                    canonical: bool) -> Parse:
        i = rest
        r = re.match(r"\s*(举措|做法|加分)", m.norm[i:]) if intent is Intent.INNOVATION else None
        if r:
            i += r.end()
        while i < len(m.norm) and m.norm[i] in _SEPS:
            i += 1
        _, ids, end = self._scope_at(m, i, kinds=False)
        if not ids:
            ids = self._units(m, i)
            end = i
        if not ids:
            return Parse(intent, 0.6, canonical, body=self._body(m, i),
                         clarify="请注明单位，例如：创新 郑州市 说明 或 通报批评 郑州市 说明")
        return Parse(intent, conf, canonical, unit_ids=ids, body=self._body(m, end))

    # -- natural language -------------------------------------------------------------------

    def _natural(self, m: _Msg) -> Parse:
        c, q = m.c, m.question
        # review with a submission number: "#12 通过 优", "12号退回，缺盖章"
        idm = _ID_RE.search(m.norm)
        if idm is not None and not q:
            rw = _RETURN_WORDS.search(c)
            if rw is not None:
                return self._review(m, Intent.RETURN, 0, False)
            bare = compact(m.norm[:idm.start()] + " " + m.norm[idm.end():])
            if _ACCEPT_WORDS.search(c) or (idm.group(1) and _RATING_RE.search(c)) or (
                    bare in _RATING):
                return self._review(m, Intent.ACCEPT, 0, False)
        if not q:
            h = _PUBLISH_RE.search(m.norm)
            if h is not None:
                return self._publish(m, h.end(), 0.85, False)
            if _INCIDENT_RE.search(c) and m.units:
                return self._natural_flag_event(m, Intent.INCIDENT, _INCIDENT_RE)
            if _INNOVATION_RE.search(c) and m.units:
                return self._natural_flag_event(m, Intent.INNOVATION, _INNOVATION_RE)
            if "批评" not in c and _BULLETIN_PUBLISH_RE.search(c):
                return Parse(Intent.BULLETIN_PUBLISH, 0.85, False)
        if "批评" not in c and _BULLETIN_DRAFT_RE.search(c):
            d1, d2 = self._time(m, None)
            return Parse(Intent.BULLETIN_DRAFT, 0.85, False, date_from=d1, date_to=d2)
        if _WHO_NOT_ACKED_RE.search(c) or (q and _ACKED_NOTICE_RE.search(c)):
            notice = _NAMED_NOTICE_RE.match(m.norm)
            body = _strip_seps(m.raw[notice.start(1):notice.end(1)]) if notice else ""
            return Parse(Intent.WHO_NOT_ACKED, 0.85, False, unit_ids=m.units, body=body)
        ack_c = c
        if m.units and m.tokens:
            lead = next((t for t, _ in m.tokens if t.strip()), "")
            if lead in self._index.unit_by_alias:
                ack_c = c[len(lead):]
        if not q and len(c) <= 30 and (
                _ACK_RE.match(ack_c) or (len(c) <= 12 and _ACK_TAIL_RE.search(c))):
            weak = not re.search(r"收到|收悉|已阅|知悉", c)
            return Parse(Intent.ACK, 0.7 if weak else 0.9, False)
        if _FLAG_BOARD_RE.search(c):
            return self._query(m, Intent.FLAG_BOARD, 0.85, False, units=False)
        if _FLAGS_RE.search(c) and "红旗渠" not in c and (
                q or m.units or m.my_unit or re.search(r"几|多少|情况|查|看|统计", c)):
            return self._query(m, Intent.FLAGS, 0.85, False)
        if _TASK_DUE_RE.search(c):
            tasks, _ = self._tasks(m)
            if tasks:
                return Parse(Intent.DUE_SOON, 0.8, False, unit_ids=m.units, task_ids=tasks)
        has_who = "谁" in c
        if not has_who and not _MISSING_RE.search(c):
            has_time = (find_time(m.norm, m.today, self._is_workday) is not None
                        or quarter_of(c) is not None)
            if (has_time or _SOON_RE.search(c)) and (
                    (_ASK_RE.search(c) and _DUE_RE.search(c))
                    or re.search(r"(截止|到期|要交|要报|需要交|需要提交)的", c)):
                return self._query(m, Intent.DUE_SOON, 0.85, False, default_range=True)
        if not has_who and not m.units and (
                _MY_TASKS_RE.search(c) or _MY_BARE_RE.search(c) or (
                    (_FIRST_PERSON_RE.match(c) or m.my_unit)
                    and _MY_WHAT_RE.search(c) and _MY_OWE_RE.search(c))):
            return self._query(m, Intent.MY_TASKS, 0.85, False)
        if _MISSING_RE.search(c):
            return self._query(m, Intent.MISSING, 0.85, False)
        if not _handed_in(c) and _STATUS_RE.search(c):
            return self._query(m, Intent.STATUS, 0.85, False)
        if (_DYNAMIC_QUERY_RE.search(c) and (q or len(c) <= 14)) or re.fullmatch(
                r"的?(工作)?动态(呢|有哪些|有啥)?", self._strip_entities(m, 0)):
            return self._query(m, Intent.DYNAMIC, 0.8, False)
        h = _DYNAMIC_POST_RE.search(m.norm)
        if h is not None and not q:
            body = self._body(m, h.end())
            if body:
                return Parse(Intent.DYNAMIC, 0.8, False, body=body)
            return self._query(m, Intent.DYNAMIC, 0.7, False)
        if _HELP_RE.search(c):
            return Parse(Intent.HELP, 0.85, False)
        if _BIND_RE.search(c) and not q:
            start = _BIND_RE.search(m.norm)
            return self._bind(m, start.start() if start else 0, 0.85, False)
        if not q:
            h = _NOTICE_RE.search(m.norm)
            if h is not None:
                return self._natural_notice(m, h.start(), h.end())
            if _SUBMIT_RE.search(c) or _SUBMIT_TAIL_RE.search(c):
                tasks, _ = self._tasks(m)
                if tasks or _SUBMIT_TAIL_RE.search(c):
                    return Parse(Intent.SUBMIT, 0.8 if tasks else 0.6, False, task_ids=tasks,
                                 body=_strip_seps(m.raw))
        if m.units and q and _VAGUE_STATUS_RE.search(c):
            return self._query(m, Intent.STATUS, 0.7, False)
        return self._unknown(m)

    def _natural_flag_event(self, m: _Msg, intent: Intent, rx: re.Pattern[str]) -> Parse:
        norm = m.norm
        kw = re.search("通报批评", norm) if intent is Intent.INCIDENT else None
        if kw is None:
            kw = rx.search(norm)
        assert kw is not None
        after = kw.end()
        while after < len(norm) and norm[after] in _SEPS:
            after += 1
        _, _, after = self._scope_at(m, after, kinds=False)
        if compact(norm[after:]):
            body = self._body(m, after)
        else:
            lead = re.match(r"\s*(给|对|将|把)?\s*", norm)
            start = lead.end() if lead else 0
            _, _, start = self._scope_at(m, start, kinds=False)
            body = self._body(m, start, kw.start()).rstrip(_SEPS)
        return Parse(intent, 0.8, False, unit_ids=m.units, body=body)

    def _natural_notice(self, m: _Msg, start: int, end: int) -> Parse:
        norm = m.norm
        scope: str | None = None
        ids: tuple[int, ...] = ()
        g = re.search(r"(给|向|对)\s*", norm[:start])
        if g is not None:
            scope, ids, _ = self._scope_at(m, g.end())
        body_start = end
        if scope is None:
            to = re.match(r"\s*(给|到)?\s*", norm[end:])
            pos = end + (to.end() if to else 0)
            s2, ids2, e2 = self._scope_at(m, pos)
            if s2 is not None:
                scope, ids, body_start = s2, ids2, e2
        colon = re.search(r"[:：]", norm[body_start:])
        if colon is not None and colon.start() <= 8:
            body_start += colon.end()
        return Parse(Intent.NOTICE, 0.8, False, unit_ids=ids, scope=scope,
                     body=self._body(m, body_start))

    def _unknown(self, m: _Msg) -> Parse:
        """Nothing matched. A bare unit name (or a question about one) gets a clarifying question."""
        if m.units:
            rest = self._strip_entities(m, 0)
            for tok, _ in m.tokens:
                if tok != "的" and self._is_task_token(tok):
                    rest = rest.replace(tok, "")
            rest = re.sub(r"(那边|这边|的|呢|吧|啊|呀|市)", "", rest)
            if m.question or not rest:
                names = "、".join(self._index.unit_name[u] for u in m.units)
                return Parse(Intent.UNKNOWN, 0.4, False, unit_ids=m.units,
                             clarify=f"您是想查询{names}的进度吗？")
        return Parse(Intent.UNKNOWN, 0.1, False)


def _handed_in(c: str) -> bool:
    """A statement that something was handed in (已报送, 请查收), not a question about it."""
    return bool(_SUBMIT_TAIL_RE.search(c)) and not _QUESTION_END.search(c)
