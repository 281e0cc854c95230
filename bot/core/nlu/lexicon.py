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
class TaskHit:
    """Tasks named in a text and where: whole titles or fragments."""

    ids: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]


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

    def tasks_in(self, text: str, taken: list[tuple[int, int]]) -> TaskHit:
        """Tasks named in normalised ``text`` outside the ``taken`` spans: whole titles first,
        else fragments (the tasks that share the most characters with the text win)."""
        free = [True] * len(text)
        for a, b in taken:
            for i in range(max(a, 0), min(b, len(text))):
                free[i] = False
        for title, tid in self.titles:
            start = text.find(title)
            while start >= 0:
                if all(free[start:start + len(title)]):
                    return TaskHit((tid,), ((start, start + len(title)),))
                start = text.find(title, start + 1)
        scores: dict[int, int] = {}
        spans: dict[int, list[tuple[int, int]]] = {}
        i = 0
        n = len(text)
        while i < n:
            j = self._fragment_end(text, free, i)
            if j - i >= 2 and text[i:j] not in GENERIC:
                piece = text[i:j]
                for tid in self.pieces[piece[:_PIECE]]:
                    if len(piece) <= _PIECE or piece in self._norm_title[tid]:
                        scores[tid] = scores.get(tid, 0) + len(piece)
                        spans.setdefault(tid, []).append((i, j))
                i = j
            else:
                i += 1
        if not scores:
            return TaskHit((), ())
        top = max(scores.values())
        ids = tuple(t for t in self.task_order if scores.get(t) == top)
        found = sorted({s for t in ids for s in spans[t]})
        return TaskHit(ids, tuple(self._widen(text, free, found, ids)))

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
