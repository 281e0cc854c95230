"""What the parser knows by name: units (and scope words) and open tasks, indexed for matching.

Built from a :class:`Vocabulary` in a few milliseconds and without jieba, so a command can be
parsed with a vocabulary read from the database a moment ago. Names are matched on normalised
text (see :mod:`bot.domain.text`): units longest first (:mod:`bot.domain.scopes`), tasks by
whole title or by a fragment of two or more characters ("调研报告", "月报", "半年总结"), and a
name mistyped with a pinyin input method (洛杨 → 洛阳) by its sound.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from bot.domain import pinyin, scopes
from bot.domain.text import compact, normalize

from .model import Vocabulary

QUARTER_RE: Final = re.compile(
    r"(?<![本这上下个])第?([一二三四1-4])\s*季度|q\s*([1-4])(?![0-9])|(?<![本这上下个])第?([一二三四])季(?!度)"
)
_QN: Final = MappingProxyType({"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4})

# Fragments that say nothing about which task is meant, alone.
GENERIC: Final = frozenset({
    "工作", "材料", "情况", "进度", "资料", "文件", "任务", "东西", "事情", "有关", "关于", "相关",
    "一下", "季度", "年度", "月份", "提交", "上报", "报送", "行政", "执法", "典型", "建设", "检查",
    "交流", "专项", "报告", "总结", "方案", "记录", "汇编", "统计", "表格", "汇总", "第三", "第二",
    "第一", "第四", "自查", "活动", "开展", "单位", "我们", "各地", "全省",
})

# Fragments are indexed up to this length and extended along the titles that contain them
# (indexing every substring of every title would cost megabytes for a thousand open tasks).
_PIECE: Final = 4

# Similar-sounding syllables that pinyin input methods confuse (z/zh, c/ch, s/sh, -n/-ng, l/n).
_FUZZY: Final = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("ang", "an"), ("eng", "en"),
                 ("ing", "in"), ("ong", "on"))


def quarter_of(text: str) -> int | None:
    m = QUARTER_RE.search(text)
    if m is None:
        return None
    return _QN[next(g for g in m.groups() if g)]


def fuzzy_syllable(s: str) -> str:
    for a, b in _FUZZY:
        s = s.replace(a, b)
    return "n" + s[1:] if s.startswith("l") else s


@functools.cache
def folded() -> Mapping[str, str]:
    """Character -> its most common syllable, folded (read-only, built once per process)."""
    return MappingProxyType({ch: fuzzy_syllable(rs[0]) for ch, rs in pinyin.readings().items()})


def sound_key(text: str, table: Mapping[str, str] | None = None) -> tuple[str, ...] | None:
    """The text's syllables, folded so that common slips sound the same; None unless every
    character has a reading."""
    t = folded() if table is None else table
    out = []
    for ch in text:
        r = t.get(ch)
        if r is None:
            return None
        out.append(r)
    return tuple(out)


@dataclass(frozen=True)
class TaskMention:
    """One place in a text that names tasks: a whole title, a fragment ("调研报告"), a slip in
    a title ("调言报告"), or a document word alone ("总结"). ``ids`` holds every task it fits
    best: more than one means the text does not say which."""

    start: int
    end: int
    ids: tuple[int, ...]
    score: int  # characters that matched
    how: str  # "title" | "fragment" | "slip" | "kind"


# How sure each way of naming is, when several places name different tasks.
MENTION_RANK: Final = MappingProxyType({"title": 3, "fragment": 2, "slip": 1, "kind": 0})

# Words that say what kind of document a task asks for: alone they name every open task of
# that kind ("总结交了没": 年度培训总结 or 半年工作总结?), unlike 材料 / 工作 (anything).
DOCUMENT_WORDS: Final = ("报告", "总结", "方案", "记录", "汇编", "案例", "计划", "台账", "清单")

# Nouns that name a subject of the programme's questions (programme.py): alone, or with less than
# two more characters of a title, they are no fragment or slip of a task's title ("几个案例" is no
# slip of 典型案例, "示范点" alone no name of 示范点建设方案; 典型案例 itself stays a fragment).
SUBJECT_NOUNS: Final = ("示范点", "案例", "整改")

# A slip in a task's name is looked for over this many characters at least: shorter stretches
# with one character changed are too often other words ("还差报告" is no 自查报告).
_SLIP_MIN: Final = 4
_SLIP_MAX: Final = 6


def _edit1(a: str, b: str) -> bool:
    """Whether two syllables differ by at most one letter (li / lie, bao / bai)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:k] + long_[k + 1:] == short for k in range(len(long_)))


def near_sound(a: str, b: str, table: Mapping[str, str] | None = None) -> bool:
    """Whether character ``a`` could be a pinyin-input slip for ``b``: the same syllable once
    folded (z/zh, -n/-ng, l/n), or one letter off with the same initial (列 lie for 例 li)."""
    t = folded() if table is None else table
    x, y = t.get(a), t.get(b)
    if x is None or y is None:
        return False
    return x == y or (x[0] == y[0] and min(len(x), len(y)) >= 2 and _edit1(x, y))


class Lexicon:
    """Look-up tables for one vocabulary. Immutable once built."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.names = scopes.NameTable.build(
            (u.id, u.name, (u.short_name, *u.aliases)) for u in vocabulary.units)
        self.unit_name: Mapping[int, str] = MappingProxyType({u.id: u.name for u in vocabulary.units})
        self.unit_kind: Mapping[int, str] = MappingProxyType({u.id: u.kind for u in vocabulary.units})
        self.task_title: Mapping[int, str] = MappingProxyType({t.id: t.title for t in vocabulary.tasks})
        self.task_ids = frozenset(t.id for t in vocabulary.tasks)
        titles: list[tuple[str, int]] = []
        pieces: dict[str, list[int]] = {}
        quarters: dict[int, list[int]] = {}
        for t in vocabulary.tasks:
            title = compact(normalize(t.title))
            titles.append((title, t.id))
            q = quarter_of(title)
            if q is not None:
                quarters.setdefault(q, []).append(t.id)
            for i in range(len(title)):
                for j in range(i + 2, min(i + _PIECE, len(title)) + 1):
                    bucket = pieces.setdefault(title[i:j], [])
                    if t.id not in bucket:
                        bucket.append(t.id)
        self.titles: tuple[tuple[str, int], ...] = tuple(sorted(titles, key=lambda x: -len(x[0])))
        self.title_set = frozenset(t for t, _ in titles)
        self._norm_title = {tid: t for t, tid in titles}
        self.pieces: Mapping[str, tuple[int, ...]] = MappingProxyType(
            {k: tuple(v) for k, v in pieces.items()})
        self.task_quarter: Mapping[int, tuple[int, ...]] = MappingProxyType(
            {k: tuple(v) for k, v in quarters.items()})
        self.task_order = tuple(t.id for t in vocabulary.tasks)
        self._sounds: dict[tuple[str, ...], list[int]] | None = None
        self._slips: dict[tuple[str, int], tuple[tuple[str, int], ...]] | None = None
        self._sound_starts: frozenset[str] = frozenset()
        self._sound_lengths: tuple[int, ...] = ()

    # -- units ------------------------------------------------------------------------------

    def unit_at(self, text: str, pos: int) -> tuple[int, tuple[int, ...]]:
        return self.names.at(text, pos)

    def scope_at(self, text: str, pos: int, *, kinds: bool = True) -> scopes.Scope:
        return scopes.scan(text, pos, self.names, kinds=kinds)

    def sounds(self) -> Mapping[tuple[str, ...], list[int]]:
        """Unit names by their folded sound (built on first use: only slips need it)."""
        if self._sounds is None:
            out: dict[tuple[str, ...], list[int]] = {}
            for word, ids in self.names.ids.items():
                k = sound_key(word)
                if k is None:
                    continue
                bucket = out.setdefault(k, [])
                bucket.extend(i for i in ids if i not in bucket)
            self._sound_starts = frozenset(k[0] for k in out)
            self._sound_lengths = tuple(sorted({len(k) for k in out}, reverse=True))
            self._sounds = out
        return self._sounds

    def sound_starts(self) -> tuple[frozenset[str], tuple[int, ...]]:
        """The first syllables and the lengths of the names' sounds (to skip hopeless places)."""
        self.sounds()
        return self._sound_starts, self._sound_lengths

    # -- tasks ------------------------------------------------------------------------------

    def task_mentions(self, text: str, taken: list[tuple[int, int]]) -> list[TaskMention]:
        """Places in normalised ``text`` (outside the ``taken`` spans) that name tasks by their
        whole title or by fragments, in text order. Fragments next to each other (or joined by
        的) are one mention; each mention names the tasks that share the most characters with
        it."""
        free = [True] * len(text)
        for a, b in taken:
            for i in range(max(a, 0), min(b, len(text))):
                free[i] = False
        out: list[TaskMention] = []
        for title, tid in self.titles:
            start = text.find(title)
            while start >= 0:
                end = start + len(title)
                if all(free[start:end]):
                    out.append(TaskMention(start, end, (tid,), len(title), "title"))
                    for i in range(start, end):
                        free[i] = False
                start = text.find(title, start + 1)
        pieces: list[tuple[int, int, tuple[int, ...]]] = []
        i = 0
        n = len(text)
        while i < n:
            j = self._fragment_end(text, free, i)
            if j - i >= 2 and text[i:j] not in GENERIC:
                piece = text[i:j]
                holders = tuple(t for t in self.pieces[piece[:_PIECE]]
                                if len(piece) <= _PIECE or piece in self._norm_title[t])
                if holders:
                    pieces.append((i, j, holders))
                i = j
            else:
                i += 1
        group: list[tuple[int, int, tuple[int, ...]]] = []
        for found in pieces:
            if group and text[group[-1][1]:found[0]] not in ("", "的"):
                out.append(self._fragment_mention(text, free, group))
                group = []
            group.append(found)
        if group:
            out.append(self._fragment_mention(text, free, group))
        return sorted(out, key=lambda t: t.start)

    def _fragment_mention(self, text: str, free: list[bool],
                          group: list[tuple[int, int, tuple[int, ...]]]) -> TaskMention:
        scores: dict[int, int] = {}
        for a, b, holders in group:
            for tid in holders:
                scores[tid] = scores.get(tid, 0) + b - a
        top = max(scores.values())
        ids = tuple(t for t in self.task_order if scores.get(t) == top)
        mine = [(a, b) for a, b, holders in group if set(holders) & set(ids)]
        widened = self._widen(text, free, mine, ids)
        return TaskMention(widened[0][0], widened[-1][1], ids, top, "fragment")

    def task_slips(self, text: str, taken: list[tuple[int, int]]) -> list[TaskMention]:
        """A stretch of four to six characters that is part of a title but for one character
        typed with a similar sound ("调言报告" → 第三季度调研报告, "案列汇编" → 执法案例汇编);
        the longest wins. Built on first use (only messages that name no task need it)."""
        index = self._slip_index()
        table = folded()
        free = [True] * len(text)
        for a, b in taken:
            for i in range(max(a, 0), min(b, len(text))):
                free[i] = False
        out: list[TaskMention] = []
        i = 0
        n = len(text)
        while i < n:
            found: TaskMention | None = None
            for ln in range(min(_SLIP_MAX, n - i), _SLIP_MIN - 1, -1):
                window = text[i:i + ln]
                if not all(free[i:i + ln]) or not all("\u4e00" <= ch <= "\u9fff" for ch in window):
                    continue
                ids: list[int] = []
                for k in range(ln):
                    for ch, tid in index.get((window[:k] + window[k + 1:], k), ()):
                        if ch != window[k] and tid not in ids and near_sound(window[k], ch, table):
                            ids.append(tid)
                if ids:
                    found = TaskMention(i, i + ln, tuple(t for t in self.task_order if t in ids),
                                        ln - 1, "slip")
                    break
            if found is not None:
                out.append(found)
                i = found.end
            else:
                i += 1
        return out

    def _slip_index(self) -> Mapping[tuple[str, int], tuple[tuple[str, int], ...]]:
        """(a title's stretch without its k-th character, k) -> (that character, task id)."""
        if self._slips is None:
            index: dict[tuple[str, int], list[tuple[str, int]]] = {}
            for title, tid in self.titles:
                for ln in range(_SLIP_MIN, _SLIP_MAX + 1):
                    for a in range(len(title) - ln + 1):
                        piece = title[a:a + ln]
                        if piece in GENERIC:
                            continue
                        for k in range(ln):
                            bucket = index.setdefault((piece[:k] + piece[k + 1:], k), [])
                            if (piece[k], tid) not in bucket:
                                bucket.append((piece[k], tid))
            self._slips = {k: tuple(v) for k, v in index.items()}
        return self._slips

    def document_mentions(self, text: str, taken: list[tuple[int, int]]) -> list[TaskMention]:
        """A document word standing alone ("总结交了没"): every open task of that kind."""
        out: list[TaskMention] = []
        for word in DOCUMENT_WORDS:
            start = text.find(word)
            while start >= 0:
                end = start + len(word)
                if all(b <= start or a >= end for a, b in taken):
                    ids = tuple(tid for tid in self.task_order if word in self._norm_title[tid])
                    if ids:
                        out.append(TaskMention(start, end, ids, len(word), "kind"))
                start = text.find(word, end)
        return sorted(out, key=lambda t: t.start)

    def _widen(self, text: str, free: list[bool], found: list[tuple[int, int]],
               ids: tuple[int, ...]) -> list[tuple[int, int]]:
        """Take in the generic words next to a fragment that the titles also have: "示范点方案"
        is one name, not 示范点 + 方案."""
        titles = [self._norm_title[t] for t in ids]
        out = []
        for a, b in found:
            grown = True
            while grown:
                grown = False
                gap = 1 if text[b:b + 1] == "的" else 0  # "示范点的方案"
                for ln in (4, 3, 2):
                    piece = text[b + gap:b + gap + ln]
                    if len(piece) == ln and all(free[b:b + gap + ln]) and all(
                            piece in t for t in titles):
                        b += gap + ln
                        grown = True
                        break
            out.append((a, b))
        return out

    def _fragment_end(self, text: str, free: list[bool], i: int) -> int:
        """The end of the longest run from ``i`` that some title contains (``i`` if none)."""
        best = i
        for ln in range(min(_PIECE, len(text) - i), 1, -1):
            if text[i:i + ln] in self.pieces and all(free[i:i + ln]):
                best = i + ln
                break
        if best - i == _PIECE:  # extend along the titles holding it
            holders = [self._norm_title[t] for t in self.pieces[text[i:best]]]
            while best < len(text) and free[best] and any(text[i:best + 1] in t for t in holders):
                best += 1
        return best

    def tasks_of_quarter_with(self, quarter: int, word: str) -> tuple[int, ...]:
        """Tasks of a quarter whose title has ``word`` ("三季度报告")."""
        return tuple(tid for title, tid in self.titles
                     if word in title and quarter_of(title) == quarter)

    def tasks_of_quarter(self, q: int) -> tuple[int, ...]:
        return self.task_quarter.get(q, ())
