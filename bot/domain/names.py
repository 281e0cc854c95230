"""The closest known names to a name nobody has heard of ("绑定 火星市", "郑洲市").

Similarity is the better of two readings: the characters (one wrong character in a three-
character name) and their sound (an input-method slip keeps the syllables: 正州 → 郑州).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from difflib import SequenceMatcher
from typing import TypeVar

from bot.domain.pinyin import syllables

H = TypeVar("H", bound=Hashable)


_SUFFIXES = ("示范区", "市", "县", "区", "厅", "局", "办")


def _core(name: str) -> tuple[str, str]:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[:-len(suffix)], suffix
    return name, ""


def similarity(a: str, b: str) -> float:
    """0..1: how alike two names are, in writing or in sound. A shared place suffix (市, 县…)
    says nothing: 火星市 is not like 新乡市; 郑州县 is much like 郑州市."""
    (ca, sa), (cb, sb) = _core(a), _core(b)
    if not ca or not cb:
        return 0.0
    chars = SequenceMatcher(None, ca, cb, autojunk=False).ratio()
    sound = SequenceMatcher(None, syllables(ca), syllables(cb), autojunk=False).ratio()
    score = max(chars, 0.95 * sound)
    return score * (0.9 if sa != sb and sa and sb else 1.0)


def closest(text: str, candidates: Iterable[tuple[str, H]], *, limit: int = 3,
            threshold: float = 0.0) -> list[tuple[float, H]]:
    """The ``limit`` best candidates (name, value) at or above ``threshold``, best first; a value
    named by several of its names counts once, with its best score."""
    best: dict[H, tuple[float, int]] = {}
    for i, (name, value) in enumerate(candidates):
        score = similarity(text, name)
        if score >= threshold and (value not in best or score > best[value][0]):
            best[value] = (score, best[value][1] if value in best else i)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    return [(score, value) for value, (score, _) in ranked[:limit]]
