"""Reading one message: normalised text, the names in it, and its skeleton.

Names are found on the normalised text (same length as what was typed, so bodies can be cut from
the original): submission or notice numbers (#12), whole task titles, time expressions, scope
words and unit names, "we" (我们, 本单位, 咱), then task fragments. The *skeleton* is the compact
text with each name replaced by one marker letter (normalised text is lower case, so upper case
letters cannot clash), which is what the question rules read: "那个 麻烦问下郑州那边调研报告交了没
有啊" becomes "那个麻烦问下U那边T交了没有啊".
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Final

from bot.domain import scopes
from bot.domain.text import PUNCT, cn_int, compact, mask_mentions, normalize

from .cues import CUES, MAX_CUE
from .lexicon import (
    MENTION_RANK,
    QUARTER_RE,
    SUBJECT_NOUNS,
    Lexicon,
    TaskMention,
    folded,
    quarter_of,
)
from .segment import Segmenter
from .timeexpr import IsWorkday, TimeSpan, find_time, quarter_range

UNIT: Final = "U"
KIND: Final = "G"
MINE: Final = "M"
TASK: Final = "T"
TIME: Final = "D"
REF: Final = "R"
NOTICE_REF: Final = "N"  # a notice named in words ("防汛通知", "昨天那个通知")

_REF_RE: Final = re.compile(r"#\s*(\d+)|编号\s*(\d+)")
# "We": a first person (我 / 咱 / 俺, plural or not) or 本, with the kind of body it is (单位,
# 县, 市, 局…), or a first person before what it owes or has.
_MINE_RE: Final = re.compile(
    r"(?:我们|咱们|俺们|我|咱|俺|本)(?:单位|县|市|区|局|厅|委|办)"
    r"|(?:我们|咱们|俺们|我|咱|俺)(?:这边|这儿|这里)"
    r"|我们|咱们|俺们"
    r"|(?:我|咱|俺)(?=还|的|这|有|要|欠|该|拿|得|排|今|本|上|下|几|啥|什么|单位|现在|目前)"
    # what we handed in ("咱报上去的材料", "俺交的东西")
    r"|(?:咱|俺)(?=报|交|提交|上报|传)"
)
_QUESTION_END: Final = re.compile(
    r"(吗|么|嘛|呢|没|没有|不|没呢|了没|木|木有|冇|(如何|怎样|怎么样|咋样)了?|几面|多少)$"
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    mark: str
    ids: tuple[int, ...] = ()
    kind: str = ""


@dataclass
class Msg:
    """One message being parsed (local to a ``parse`` call)."""

    raw: str  # the text with mentions blanked; bodies are cut from it
    norm: str  # same length, normalised
    c: str  # compact
    today: date
    local: datetime
    question: bool = False
    spans: list[Span] = field(default_factory=list)
    units: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    mine: bool = False
    tasks: tuple[int, ...] = ()
    time: TimeSpan | None = None
    quarter: int | None = None
    refs: tuple[str, ...] = ()
    notice_ref: str = ""
    unknown_unit: str = ""  # "郑州县": a known name with a place suffix it does not have
    skeleton: str = ""
    breaks: frozenset[int] = frozenset()  # places in the skeleton where the text had a break
    by_sound: bool = False  # a unit was recognised by its sound (洛杨 → 洛阳)
    task_by_sound: bool = False  # a task was recognised with a slip in its name (调言报告)
    # A task named by a fragment that fits several ("总结"): the candidates; ``tasks`` then
    # holds only what was named unambiguously.
    task_choices: tuple[int, ...] = ()

    @property
    def has_entities(self) -> bool:
        return bool(self.units or self.kinds or self.mine or self.tasks or self.time or self.refs
                    or self.quarter is not None)

    def dates(self) -> tuple[date | None, date | None]:
        if self.time is not None:
            return self.time.start, self.time.end
        if self.quarter is not None:
            return quarter_range(self.today.year, self.quarter)
        return None, None


_QUESTION_WORDS: Final = re.compile(r"哪些|哪个|哪几|哪家|谁|几[家个项份面天号]|什么|啥|多少|是否|有没有|是不是")


_FILLER_WITH_QUESTION_WORD: Final = re.compile(r"那个啥|那啥|干啥呢|在吗|在么")
_TRAILING: Final = re.compile(r"[啊呀吧哈啦哦噢嘞撒咯滴嘀哒呗~～.。!！]+$")


def is_question(norm: str, c: str) -> bool:
    """A question mark, a question particle at the end (before 啊/呀…), or a question word."""
    bare = _TRAILING.sub("", c)
    words = _FILLER_WITH_QUESTION_WORD.sub("", c)  # "那个啥，新建任务…" asks nothing
    return "?" in norm or bool(_QUESTION_END.search(bare)) or bool(_QUESTION_WORDS.search(words))


# "@一下郑州": the verb "mention", not a mention of someone.
_AT_VERB: Final = re.compile(r"[@＠](?=\s*(一下|下|一声|下子))")


def _mask_mentions(text: str) -> str:
    """Mentions (``@name`` up to the next space) blanked, positions kept; an @ used as a verb
    ("帮忙@一下焦作和濮阳") stays, with what follows it."""
    if "@" not in text and "＠" not in text:
        return text
    verbs = {h.start() for h in _AT_VERB.finditer(text)}
    if not verbs:
        return mask_mentions(text)
    chars = list(text)
    i = 0
    while i < len(chars):
        if chars[i] in "@＠" and i not in verbs:
            while i < len(chars) and not chars[i].isspace():
                chars[i] = " "
                i += 1
        else:
            i += 1
    return "".join(chars)


def start(text: str, local: datetime) -> Msg:
    raw = _mask_mentions(text)
    norm = normalize(raw)
    c = compact(norm)
    m = Msg(raw=raw, norm=norm, c=c, today=local.date(), local=local)
    m.question = is_question(norm, c)
    return m


def _free(spans: list[Span], a: int, b: int) -> bool:
    return all(b <= s.start or a >= s.end for s in spans)


def read_names(m: Msg, lex: Lexicon, is_workday: IsWorkday,
               segmenter: Segmenter | None) -> None:
    """Find every name in ``m.norm`` and build the skeleton. ``segmenter``: where words end
    (natural language); without it names are matched longest first (commands)."""
    norm = m.norm
    spans: list[Span] = []
    refs: list[str] = []
    for h in _REF_RE.finditer(norm):
        spans.append(Span(h.start(), h.end(), REF))
        refs.append("#" + (h.group(1) or h.group(2)))
    # whole titles first: "7月份工作月报" must not lose "7月份" to the calendar
    mentions: list[TaskMention] = []
    for title, tid in lex.titles:
        i = norm.find(title)
        while i >= 0:
            if _free(spans, i, i + len(title)):
                spans.append(Span(i, i + len(title), TASK, (tid,)))
                mentions.append(TaskMention(i, i + len(title), (tid,), len(title), "title"))
            i = norm.find(title, i + len(title))
    _units(m, lex, spans, segmenter)  # before time words: "查下周口" is 周口, not 下周
    time_span = _time(m, spans, is_workday)
    if time_span is not None:
        spans.append(Span(time_span.span[0], time_span.span[1], TIME))
    q_match = _quarter_span(norm, spans)
    quarter = None
    if q_match is not None:
        quarter = q_match[2]
        spans.append(Span(q_match[0], q_match[1], TIME))
    taken = [(s.start, s.end) for s in spans]
    mentions += _not_subject_nouns(norm, lex.task_mentions(norm, taken))
    if not mentions:
        guess = _period_task(m, lex, spans, q_match)
        if guess is not None:
            (a, b), guessed = guess
            mentions.append(TaskMention(a, b, guessed, b - a, "fragment"))
    if segmenter is not None:  # natural language only: commands stay exact
        if not mentions:
            mentions = _not_subject_nouns(norm, lex.task_slips(norm, taken)) or \
                lex.document_mentions(norm, taken)
            m.task_by_sound = any(t.how == "slip" for t in mentions)
        elif any(t.how == "fragment" for t in mentions):
            mentions, m.task_by_sound = _grown_by_slips(mentions, lex.task_slips(norm, taken))
    chosen, task_ids, choices = _choose_tasks(sorted(mentions, key=lambda t: t.start), norm)
    # "三季度的调研指导记录": of the tasks the words name (a series has one per quarter), the
    # quarter's; of several years' (2026 and 2027), this year's
    pool = task_ids + [c for c in choices if c not in task_ids]
    if q_match is not None and len(pool) > 1:
        narrowed = _of_quarter(lex, pool, q_match[2], m.today.year)
        if narrowed != pool:
            if len(narrowed) == 1:
                task_ids, choices = narrowed, ()
            else:
                task_ids = [t for t in task_ids if t in narrowed]
                choices = tuple(c for c in choices if c in narrowed)
            chosen = [replace(t, ids=tuple(i for i in t.ids if i in narrowed) or t.ids)
                      for t in chosen]
    m.task_choices = choices
    spans = [s for s in spans if s.mark != TASK]
    spans.extend(Span(t.start, t.end, TASK, t.ids) for t in chosen)
    # a time expression that is part of the task's title belongs to the title ("7月份月报",
    # "Q3调研报告"), not a filter
    if task_ids:
        titles = [lex.task_title[t] for t in task_ids]
        keep = []
        for s in spans:
            if s.mark == TIME and _touches_task(s, spans) and _in_titles(norm[s.start:s.end],
                                                                          titles):
                if time_span is not None and s.start == time_span.span[0]:
                    time_span = None
                if q_match is not None and s.start == q_match[0]:
                    quarter = None
                keep.append(Span(s.start, s.end, TASK, tuple(task_ids)))
                continue
            keep.append(s)
        spans = keep
    notice = _notice_ref(norm, [s for s in spans if s.mark != TIME])
    if notice is not None:
        a, b = notice
        absorbed = [s for s in spans if s.mark == TIME and a <= s.start and s.end <= b]
        if absorbed:  # "昨天那个通知": the day names the notice, it is no filter
            spans = [s for s in spans if s not in absorbed]
            time_span = quarter = None
        spans.append(Span(a, b, NOTICE_REF))
        m.notice_ref = m.raw[a:b].strip()
    if time_span is not None and quarter is not None:
        quarter = None  # an explicit date wins over a quarter
    spans.sort(key=lambda s: s.start)
    m.spans = spans
    m.time = time_span
    m.quarter = quarter
    m.tasks = tuple(task_ids)
    m.refs = tuple(refs)
    ids: list[int] = []
    kinds: list[str] = []
    for s in spans:
        if s.mark == UNIT:
            ids.extend(u for u in s.ids if u not in ids)
        elif s.mark == KIND and s.kind not in kinds:
            kinds.append(s.kind)
        elif s.mark == MINE:
            m.mine = True
    m.units = tuple(ids)
    m.kinds = tuple(kinds)
    m.skeleton, m.breaks = skeleton(norm, spans)


def _not_subject_nouns(norm: str, mentions: list[TaskMention]) -> list[TaskMention]:
    """Drop fragments and slips that are a subject noun of the programme and little else
    ("几个案例" is no slip of "典型案例"; "示范点" alone is no name of 示范点建设方案): at least two
    characters of the title must be there besides the noun. The noun alone still names tasks as
    a document word ("案例交了没"), which asks which."""
    out = []
    for t in mentions:
        text = norm[t.start:t.end]
        for noun in SUBJECT_NOUNS:
            text = text.replace(noun, "")
        if t.how in ("fragment", "slip") and len(text) - (t.how == "slip") < 2:
            continue
        out.append(t)
    return out


# What may stand between two task names that are asked about together ("月报和调研报告").
_TASK_JOINERS: Final = frozenset({"", "和", "及", "与", "跟", "以及", "还有", "或", "或者", "同",
                                  "的和", "和那个"})


def _grown_by_slips(mentions: list[TaskMention], slips: list[TaskMention]) -> tuple[
        list[TaskMention], bool]:
    """A fragment that is part of a longer name with a slip in it ("执法安例汇编": 例汇编 is
    found, 安 for 案 is not) takes in the whole name."""
    out = []
    grown = False
    for t in mentions:
        s = next((s for s in slips if t.how == "fragment" and s.start <= t.start and t.end <= s.end
                  and set(s.ids) & set(t.ids) and s.end - s.start > t.end - t.start), None)
        if s is None:
            out.append(t)
            continue
        out.append(TaskMention(s.start, s.end, tuple(i for i in t.ids if i in s.ids),
                               s.end - s.start, "fragment"))
        grown = True
    return out, grown


# A task added after the question, at the end ("…交没交，还有月报", "…以及调研报告呢").
_AFTERTHOUGHT: Final = re.compile(r"(还有|以及|另外|外加|再加上|加上)$")
_AFTERTHOUGHT_END: Final = re.compile(r"(的)?(呢|嘞|咧|也是|也一样|也查下|一起|一起查)?[?？]*")


def _choose_tasks(mentions: list[TaskMention], norm: str) -> tuple[
        list[TaskMention], list[int], tuple[int, ...]]:
    """The tasks a message is about: the names joined by 和 / 、 / 及 (or only spaces) are
    asked about together; of separate names, the surest (a whole title over a fragment over a
    slip over a document word, then the most characters). Returns the mentions taken, the
    task ids named unambiguously, and the candidates of a name that fits several tasks."""
    if not mentions:
        return [], [], ()
    chains: list[list[TaskMention]] = [[mentions[0]]]
    for prev, cur in itertools.pairwise(mentions):
        if compact(norm[prev.end:cur.start]) in _TASK_JOINERS:
            chains[-1].append(cur)
        else:
            chains.append([cur])
    last = mentions[-1]
    afterthought = len(chains) > 1 and chains[-1] == [last] and bool(
        _AFTERTHOUGHT.search(compact(norm[:last.start]))) and bool(
        _AFTERTHOUGHT_END.fullmatch(compact(norm[last.end:])))
    best = max(chains[:-1] if afterthought else chains,
               key=lambda ch: (max(MENTION_RANK[t.how] for t in ch), sum(t.score for t in ch)))
    if afterthought:
        best = [*best, last]  # "…调研报告交没交，还有月报": the question asked of one more
    ids: list[int] = []
    for t in best:
        if len(t.ids) == 1 and t.ids[0] not in ids:
            ids.append(t.ids[0])
    choices = tuple(dict.fromkeys(i for t in best if len(t.ids) > 1 for i in t.ids if i not in ids))
    return best, ids, choices


_NOTICE_STOP: Final = ("收到", "确认", "回复", "回执", "看到", "哪些", "哪个", "哪几", "什么", "大家",
                       "各位", "最近", "最新", "发了", "发的", "下发", "一下", "还有", "没有")
_NOTICE_STOP_CHARS: Final = frozenset("发看谁啥给向对把将被")
_DEMONSTRATIVES: Final = re.compile(
    r"^(这个|那个|这条|那条|这|那|该|此|上个|上一个|刚才|刚刚|的|关于|个|条|一个|一条|群|下|一下)*$")


def _notice_ref(norm: str, spans: list[Span]) -> tuple[int, int] | None:
    """A notice named by what it is about or when ("防汛通知", "关于防汛的通知", "昨天那个通知")."""
    for h in re.finditer("通知", norm):
        j = h.start()
        if not _free(spans, j, j + 2):
            continue
        i = j
        while i > 0 and j - i < 12 and norm[i - 1] not in PUNCT and _free(spans, i - 1, i) and \
                norm[i - 1] not in _NOTICE_STOP_CHARS and not norm[:i].endswith(_NOTICE_STOP):
            i -= 1
        words = compact(norm[i:j])
        if not _DEMONSTRATIVES.match(words) and _unexplained(words) >= 2:
            return i, j + 2
    return None


def _unexplained(text: str) -> int:
    """Characters of ``text`` that no cue word explains ("过几个" has none: it is no notice's
    name, "这周发过几个通知" asks how many)."""
    i = n = 0
    while i < len(text):
        for ln in range(min(MAX_CUE, len(text) - i), 0, -1):
            if text[i:i + ln] in CUES:
                i += ln
                break
        else:
            n += 1
            i += 1
    return n


def skeleton(norm: str, spans: list[Span]) -> tuple[str, frozenset[int]]:
    """The compact text with each name replaced by its marker, and the places in it where the
    typed text had a space or punctuation (where one clause may end and another begin)."""
    out: list[str] = []
    breaks: set[int] = set()
    size = 0

    def gap(text: str) -> None:
        nonlocal size
        for ch in text:
            kept = compact(ch)
            if kept:
                out.append(kept)
                size += len(kept)
            elif size:
                breaks.add(size)

    i = 0
    last = ""
    for s in sorted(spans, key=lambda s: s.start):
        if s.start < i:
            continue
        before = size
        gap(norm[i:s.start])
        if size != before or s.mark != TASK or last != TASK:  # two pieces of one title: one name
            out.append(s.mark)
            size += 1
        last = s.mark
        i = s.end
    gap(norm[i:])
    return "".join(out), frozenset(b for b in breaks if b < size)


# "问下下周…": the first 下 belongs to the verb ("ask a bit"), not to 下下周.
_VERB_XIA: Final = re.compile(
    r"(?<=问|看|查|说|催|醒|知|烦|忙|等|教)下(?=下)|(?:一|(?<=问|看|查|催))下(?=月|周|个|星期|礼拜|季)")


def _time(m: Msg, spans: list[Span], is_workday: IsWorkday) -> TimeSpan | None:
    text = list(_VERB_XIA.sub(lambda h: " " * len(h.group(0)), m.norm))
    for s in spans:
        text[s.start:s.end] = "\x01" * (s.end - s.start)  # a name is no gap a date may bridge
    return find_time("".join(text), m.today, is_workday)


def _quarter_span(norm: str, spans: list[Span]) -> tuple[int, int, int] | None:
    for h in QUARTER_RE.finditer(norm):
        if _free(spans, h.start(), h.end()):
            q = quarter_of(h.group(0))
            if q is not None:
                return h.start(), h.end(), q
    return None


_GENERIC_AFTER: Final = re.compile(r"的?(报告|总结|方案|记录|材料|计划|月报|汇编)")


def _period_task(m: Msg, lex: Lexicon, spans: list[Span],
                 q_match: tuple[int, int, int] | None) -> tuple[tuple[int, int], tuple[int, ...]] | None:
    """"三季度报告": a quarter (or month) followed by a generic word is the one task of that
    period whose title has the word."""
    if q_match is None:
        return None
    h = _GENERIC_AFTER.match(m.norm, q_match[1])
    if h is None or not _free(spans, h.start(), h.end()):
        return None
    ids = lex.tasks_of_quarter_with(q_match[2], h.group(1))
    if len(ids) != 1:
        return None
    return (h.start(), h.end()), ids


def _of_quarter(lex: Lexicon, task_ids: list[int], quarter: int, year: int) -> list[int]:
    """Those of ``task_ids`` whose title names ``quarter`` (all when none does), and of those
    the ones whose title names ``year`` (when some do)."""
    same = [t for t in task_ids if quarter_of(compact(normalize(lex.task_title[t]))) == quarter]
    if not same:
        return task_ids
    this_year = [t for t in same if f"{year}年" in lex.task_title[t]]
    return this_year or same


def _touches_task(s: Span, spans: list[Span]) -> bool:
    return any(t.mark == TASK and (t.start <= s.end + 1 and s.start <= t.end + 1)
               for t in spans if t is not s)


_NUMBER: Final = re.compile(r"\d+|[一二两三四五六七八九十]+")


def _first_number(text: str) -> int | None:
    h = _NUMBER.search(text)
    return cn_int(h.group(0)) if h else None


def _in_titles(text: str, titles: list[str]) -> bool:
    """Whether a time expression next to a task's name is part of that title (same words, same
    quarter, or the same month number: "七月份" and "7月份工作月报")."""
    c = compact(text)
    q = quarter_of(c)
    number = _first_number(c)
    for title in titles:
        t = compact(normalize(title))
        if c and c in t:
            return True
        if q is not None and quarter_of(t) == q:
            return True
        if number is not None and "月" in c and _first_number(t) == number and "月" in t:
            return True
    return False


def _units(m: Msg, lex: Lexicon, spans: list[Span], segmenter: Segmenter | None) -> None:
    """Unit names, scope words and "we", left to right outside the spans found so far."""
    norm = m.norm
    bounds: set[int] | None = None
    if segmenter is not None:
        bounds = {0}
        pos = 0
        for tok in segmenter.cut(norm):
            pos += len(tok)
            bounds.add(pos)
    i = 0
    n = len(norm)
    prev_local_end = -1
    while i < n:
        if norm[i] in PUNCT or not _free(spans, i, i + 1):
            i += 1
            continue
        mine = _MINE_RE.match(norm, i)
        if mine is not None and _free(spans, i, mine.end()):
            spans.append(Span(i, mine.end(), MINE))
            i = mine.end()
            continue
        ln, uids = lex.unit_at(norm, i)
        if ln and bounds is not None and i + ln not in bounds:
            ln, uids = _unit_at_boundary(norm, i, lex, bounds, ln, uids)
        if ln and _place_suffix(norm, i, ln, lex, bounds):
            m.unknown_unit = norm[i:i + ln + 1]
            i += ln + 1
            continue
        if ln and _free(spans, i, i + ln):
            local = any(lex.unit_kind.get(u) in ("city", "county") for u in uids)
            if i == prev_local_end and not norm.startswith("省", i) and all(
                    lex.unit_kind.get(u) in ("department", "central") for u in uids):
                # 郑州市场监管局: the city's own bureau, part of the city's name here
                spans[-1] = Span(spans[-1].start, i + ln, UNIT, spans[-1].ids)
                i += ln
                continue
            spans.append(Span(i, i + ln, UNIT, uids))
            prev_local_end = i + ln if local else -1
            i += ln
            continue
        which = _WHICH_KIND.match(norm, i)
        if which is not None and _free(spans, which.start(2), which.end(2)):
            # "哪个县得分最高": a question about the units of a kind
            spans.append(Span(which.start(2), which.end(2), KIND, kind=_KIND_OF[which.group(2)]))
            i = which.end()
            continue
        ln, kind = scopes.kind_at(norm, i)
        if kind is not None and kind != scopes.ALL and _free(spans, i, i + ln):
            spans.append(Span(i, i + ln, KIND, kind=kind))
            i += ln
            continue
        i += 1
    if segmenter is not None and not any(s.mark == UNIT for s in spans):
        _units_by_sound(m, lex, spans, segmenter)


_WHICH_KIND: Final = re.compile(r"(哪个|哪些|哪几个|哪几|哪一个|哪家|哪|几个|多少个)(县|市|厅|局)(?![\u4e00-\u9fff]{0,1}(区|场|委))")
_KIND_OF: Final = {"县": "county", "市": "city", "厅": "department", "局": "department"}


def _place_suffix(norm: str, i: int, ln: int, lex: Lexicon, bounds: set[int] | None) -> bool:
    """"郑州县": a unit's name run into a place suffix that makes another, unknown name."""
    j = i + ln
    if j >= len(norm) or norm[j] not in "市县区厅局":
        return False
    if norm[i:j + 1] in lex.names.ids:
        return False
    return bounds is None or j + 1 in bounds


def _whole_words(segmenter: Segmenter, norm: str, i: int, j: int) -> bool:
    """Whether norm[i:j] starts where a word does ("走访记录一共": 录一 is no name; the slip
    itself may run into the next word: "新相交了吗" is cut 新 / 相交)."""
    pos = 0
    starts = {0}
    for tok in segmenter.cut(norm):
        pos += len(tok)
        starts.add(pos)
    return i in starts


def _unit_at_boundary(norm: str, i: int, lex: Lexicon, bounds: set[int], ln: int,
                      uids: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """A shorter name that ends where a word ends ("郑州|市场" rather than "郑州市|场")."""
    for k in range(ln - 1, 1, -1):
        if i + k in bounds:
            hit = lex.names.ids.get(norm[i:i + k])
            if hit:
                return k, hit
    return ln, uids


def _units_by_sound(m: Msg, lex: Lexicon, spans: list[Span], segmenter: Segmenter) -> None:
    """A unit name typed with a pinyin slip (洛杨, 开丰, 平顶三): a stretch that sounds like
    exactly one unit's name and is no word of the dictionary (公益 is a word, not 巩义)."""
    sounds = lex.sounds()
    starts, lengths = lex.sound_starts()
    table = folded()
    norm = m.norm
    syll = [table.get(ch) for ch in norm]
    n = len(norm)
    i = 0
    while i < n:
        first = syll[i]
        if first is None or first not in starts:
            i += 1
            continue
        for ln in lengths:
            j = i + ln
            if j > n or any(s is None for s in syll[i:j]) or not _free(spans, i, j):
                continue
            ids = sounds.get(tuple(syll[i:j]))  # type: ignore[arg-type]
            if ids and len(ids) == 1 and not segmenter.is_word(norm[i:j]) and \
                    _whole_words(segmenter, norm, i, j):
                spans.append(Span(i, j, UNIT, tuple(ids)))
                m.by_sound = True
                i = j - 1
                break
        i += 1
