"""Full-text search over typical cases: jieba-segmented words in the database's own index.

Segmenting is done here, in Python, with the language layer's dictionary segmenter (jieba's
dictionary, ``bot/core/nlu/segment.py``): a case's title goes to ``search_title``, its unit,
kind and text to ``search_body``, each as space-separated words — every word the segmenter cuts,
plus the dictionary words inside longer ones (as jieba's search mode does: 行政调解 also gives
行政 and 调解), so that a shorter query word finds a longer one. The database indexes those
columns (migration 0007): SQLite with an external-content FTS5 table kept in sync by triggers,
PostgreSQL with a GIN index over ``setweight(to_tsvector('simple', …))``.

The same semantics on both: a case matches when it holds every word of the query (the query is
cut with the same segmenter; filler words are dropped); best matches first — relevance by term
frequency with a title hit weighing more than a body hit (FTS5 ``bm25`` with weights 10:1,
PostgreSQL ``ts_rank`` over weights A and B) — then newest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, literal_column, select, text

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
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0  # FTS5 bm25 column weights (PostgreSQL: A=1.0, B=0.4)


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
    rank: float


def matches(conn: Connection, words: list[str], *, where: list[ColumnElement[bool]],
            limit: int) -> tuple[list[Hit], int]:
    """Ids of the cases holding every word, best first, and how many match in all."""
    if not words:
        return [], 0
    if conn.dialect.name == "postgresql":
        return _postgres(conn, words, where, limit)
    return _sqlite(conn, words, where, limit)


def _sqlite(conn: Connection, words: list[str], where: list[ColumnElement[bool]], limit: int
            ) -> tuple[list[Hit], int]:
    fts = " ".join(f'"{w}"' for w in words)  # \w words only: nothing to escape
    rank: ColumnElement[float] = literal_column(f"bm25(cases_fts, {TITLE_WEIGHT}, {BODY_WEIGHT})")
    matched = (select(literal_column("rowid").label("id"), rank.label("rank"))
               .select_from(text("cases_fts")).where(text("cases_fts MATCH :q"))
               .subquery("m"))
    base = select(Case.id, matched.c.rank).join(matched, matched.c.id == Case.id).where(*where)
    total = conn.execute(select(func.count()).select_from(base.subquery()), {"q": fts}
                         ).scalar_one()
    rows = conn.execute(base.order_by(matched.c.rank, Case.id.desc()).limit(limit), {"q": fts})
    return [Hit(int(r.id), -float(r.rank)) for r in rows], int(total)


def _postgres(conn: Connection, words: list[str], where: list[ColumnElement[bool]], limit: int
              ) -> tuple[list[Hit], int]:
    vector: ColumnElement[Any] = literal_column(PG_VECTOR)
    query = func.plainto_tsquery(literal_column("'simple'::regconfig"), " ".join(words))
    cond: Any = vector.op("@@")(query)
    rank = func.ts_rank(vector, query)
    total = conn.execute(select(func.count()).select_from(Case).where(cond, *where)).scalar_one()
    rows = conn.execute(select(Case.id, rank.label("rank")).where(cond, *where)
                        .order_by(rank.desc(), Case.id.desc()).limit(limit))
    return [Hit(int(r.id), float(r.rank)) for r in rows], int(total)
