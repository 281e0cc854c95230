"""Look-up tables built from the vocabulary (units and tasks) for one parser."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from .model import Vocabulary
from .text import compact, normalize

QUARTER_RE: Final = re.compile(
    r"(?<![本这上下个])第?([一二三四1-4])\s*季度|q\s*([1-4])(?![0-9])|(?<![本这上下个])第?([一二三四])季(?!度)"
)
_QN: Final = MappingProxyType({"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4})

# Words that say nothing about which task is meant.
TASK_STOPWORDS: Final = frozenset(
    {"工作", "材料", "情况", "进度", "资料", "文件", "的", "有关", "关于", "相关", "一下", "季度", "第",
     "年", "提交", "上报", "报送"}
)
QUARTER_WORDS: Final = tuple(
    w for q in "一二三四" for w in (f"第{q}季度", f"{q}季度")
)


def quarter_of(text: str) -> int | None:
    m = QUARTER_RE.search(text)
    if m is None:
        return None
    return _QN[next(g for g in m.groups() if g)]


@dataclass(frozen=True)
class Index:
    unit_by_alias: MappingProxyType[str, tuple[int, ...]]
    unit_name: MappingProxyType[int, str]
    unit_kind: MappingProxyType[int, str]
    max_alias: int
    task_words: MappingProxyType[str, tuple[int, ...]]
    task_titles: tuple[tuple[str, int], ...]  # compact normalised title, id
    task_quarter: MappingProxyType[int, tuple[int, ...]]
    task_title: MappingProxyType[int, str]
    task_ids: frozenset[int]
    task_title_set: frozenset[str]


def unit_words(vocab: Vocabulary) -> dict[str, list[int]]:
    by_alias: dict[str, list[int]] = {}
    for u in vocab.units:
        for w in (u.name, u.short_name, *u.aliases):
            n = compact(normalize(w))
            if len(n) < 2:
                continue
            ids = by_alias.setdefault(n, [])
            if u.id not in ids:
                ids.append(u.id)
    return by_alias


def build_index(vocab: Vocabulary, segment: Callable[[str], Iterable[str]]) -> Index:
    """``segment`` cuts a task title into words (the parser's tokenizer, before titles are added)."""
    by_alias = unit_words(vocab)
    words: dict[str, list[int]] = {}
    titles: list[tuple[str, int]] = []
    quarters: dict[int, list[int]] = {}
    for t in vocab.tasks:
        title = compact(normalize(t.title))
        titles.append((title, t.id))
        q = quarter_of(title)
        if q is not None:
            quarters.setdefault(q, []).append(t.id)
        for w in segment(title):
            w = w.strip()
            if len(w) < 2 or w in TASK_STOPWORDS or quarter_of(w) is not None:
                continue
            if w in by_alias:
                continue
            ids = words.setdefault(w, [])
            if t.id not in ids:
                ids.append(t.id)
    return Index(
        unit_by_alias=MappingProxyType({k: tuple(v) for k, v in by_alias.items()}),
        unit_name=MappingProxyType({u.id: u.name for u in vocab.units}),
        unit_kind=MappingProxyType({u.id: u.kind for u in vocab.units}),
        max_alias=max((len(k) for k in by_alias), default=0),
        task_words=MappingProxyType({k: tuple(v) for k, v in words.items()}),
        task_titles=tuple(titles),
        task_quarter=MappingProxyType({k: tuple(v) for k, v in quarters.items()}),
        task_title=MappingProxyType({t.id: t.title for t in vocab.tasks}),
        task_ids=frozenset(t.id for t in vocab.tasks),
        task_title_set=frozenset(title for title, _ in titles),
    )
