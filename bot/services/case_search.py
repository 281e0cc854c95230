"""Full-text search over typical cases: jieba-segmented words in the database's own index.

Segmenting is done here, in Python, with the language layer's dictionary segmenter (jieba's
dictionary, ``bot/core/nlu/segment.py``): a case's title goes to ``search_title``, its unit,
kind and text to ``search_body``, each as space-separated words — every word the segmenter cuts,
plus the dictionary words inside longer ones (as jieba's search mode does: 行政调解 also gives
行政 and 调解), so that a shorter query word finds a longer one. The database indexes those
columns (migration 0007): SQLite with an external-content FTS5 table kept in sync by triggers,
PostgreSQL with a GIN index over ``setweight(to_tsvector('simple', …))``.

The same results on both, in the same order: the index finds the cases holding every word of the
query (cut with the same segmenter; filler words dropped), and one SQL expression both
databases evaluate alike orders them (:func:`score`: how often each word stands in the title,
weighing ten, and in the unit, kind and text), then newest first. The databases' own rankings
(FTS5 ``bm25``, PostgreSQL ``ts_rank``) are not used: they disagree with each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, literal, literal_column, select, text

from bot.core.nlu.segment import Segmenter
from storage.models import Case

# Words that say nothing about which case is meant ("有没有关于行政调解的案例").
STOP_WORDS = frozenset({"的", "了", "和", "与", "及", "或", "在", "是", "有", "关于", "有关", "有没有",
                        "案例", "典型", "典型案例", "一个", "哪些", "什么", "方面", "相关", "类",
                        "吗", "呢", "啊", "找", "查", "查找", "搜索", "看看", "一下"})
_WORD = re.compile(r"\w+")
SUB_MIN, SUB_MAX = 2, 4  # lengths of the dictionary words looked for inside a longer word
PG_VECTOR = ("(setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
             "setweight(to_tsvector('simple'::regconfig, search_body), 'B'))")
TITLE_WEIGHT = 10  # a word in the title counts as ten in the text


@lru_cache(maxsize=1)
def _segmenter() -> Segmenter:
    # Immutable once built (its words are fixed here); shared like the base dictionary.
    return Segmenter(("行政指导", "行政调解", "行政契约"))


def _tokens(text_: str) -> list[str]:
    out: list[str] = []
    for piece in _WORD.findall(text_.lower()):
        out += [t for t in _segmenter().cut(piece) if _WORD.fullmatch(t)]
    return out


def index_words(text_: str) -> str:
    """The words a text is indexed under: each word cut, and the dictionary words inside."""
    seg = _segmenter()
    words: list[str] = []
    for tok in _tokens(text_):
        words.append(tok)
        if len(tok) > SUB_MIN and not tok.isascii():
            for n in range(SUB_MIN, min(SUB_MAX, len(tok) - 1) + 1):
                words += [tok[i:i + n] for i in range(len(tok) - n + 1)
                          if seg.is_word(tok[i:i + n])]
    return " ".join(words)


def query_words(query: str) -> list[str]:
    """The words every match must hold (filler words dropped unless nothing else is left)."""
    toks = list(dict.fromkeys(_tokens(query)))
    kept = [t for t in toks if t not in STOP_WORDS]
    return kept or toks


@dataclass(frozen=True, slots=True)
class Hit:
    case_id: int
    score: int


def _occurrences(column: Any, word: str) -> ColumnElement[int]:
    """How often ``word`` stands as a whole word in ``column`` — in plain SQL that SQLite and
    PostgreSQL evaluate alike: the words are spaced by two blanks and padded, each `` word ``
    removed, and the lost length divided by the word's."""
    spaced = literal(" ") + func.replace(column, " ", "  ") + literal(" ")
    gone = func.replace(spaced, f" {word} ", "")
    lost: ColumnElement[int] = func.length(spaced) - func.length(gone)
    return lost // (len(word) + 2)


def score(words: list[str]) -> ColumnElement[int]:
    """Relevance, the same on both databases: each query word counts TITLE_WEIGHT per time it
    stands in the title and once per time in the unit, kind and text."""
    total: ColumnElement[int] = literal(0)
    for w in words:
        total = total + TITLE_WEIGHT * _occurrences(Case.search_title, w) + _occurrences(
            Case.search_body, w)
    return total


def matches(conn: Connection, words: list[str], *, where: list[ColumnElement[bool]],
            limit: int) -> tuple[list[Hit], int]:
    """Ids of the cases holding every word, best first, and how many match in all. The index
    finds the cases; :func:`score` orders them, then the newest first."""
    if not words:
        return [], 0
    found = _postgres(words) if conn.dialect.name == "postgresql" else _sqlite(words)
    total = conn.execute(select(func.count(Case.id)).where(found, *where)).scalar_one()
    rank = score(words).label("score")
    rows = conn.execute(select(Case.id, rank).where(found, *where)
                        .order_by(rank.desc(), Case.id.desc()).limit(limit))
    return [Hit(int(r.id), int(r.score)) for r in rows], int(total)


def _sqlite(words: list[str]) -> ColumnElement[bool]:
    fts = " ".join(f'"{w}"' for w in words)  # \w words only: nothing to escape
    ids: Any = (select(literal_column("rowid")).select_from(text("cases_fts"))
           .where(literal_column("cases_fts").op("MATCH")(fts)))
    return Case.id.in_(ids)


def _postgres(words: list[str]) -> ColumnElement[bool]:
    vector: ColumnElement[Any] = literal_column(PG_VECTOR)
    query = func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(words))
    found: ColumnElement[bool] = vector.op("@@")(query)
    return found
