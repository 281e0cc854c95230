"""Word segmentation over jieba's dictionary plus our own words, in little memory.

jieba's main dictionary (``dict.txt`` in the jieba package: 349,000 words with frequencies) is
read once per process, without jieba's tokenizer: that one also stores every prefix of every word
(149,000 more keys) and a full-size integer per frequency, about 62 MiB; here each word maps to a
small integer, ``round(8 × ln(frequency))`` (Python keeps one shared object per small integer),
about 37 MiB, and longer words are simply tried up to the longest length there is. The
dictionary is never changed. Each parser has a :class:`Segmenter` holding only its own words
(unit names, scope words, task titles) and looks a word up there first, then in the shared
dictionary, so a rebuilt parser costs milliseconds and no second copy (bench/README.md).

Segmentation is the maximum-probability path through the word graph of the sentence (the method
jieba uses without its HMM); a run of ASCII letters and digits is one token. The parser uses it
to check where names end ("郑州市场监管局" is 郑州 + 市场监管局, not 郑州市 + 场…) and to know
which strings are ordinary words (公益 is a word, not a slip for 巩义).

The global ``jieba.dt`` is never initialised or modified; jieba's module is not even imported.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

SCALE = 8  # log frequencies are kept in steps of 1/8: exact enough to rank segmentations
BASE_MAX = 8  # longer dictionary words (0.3 %: long idioms, transliterations) are left out
_lock = threading.Lock()
_base: BaseDictionary | None = None


@dataclass(frozen=True)
class BaseDictionary:
    """Word -> round(SCALE × ln(frequency)); the natural log of the total frequency."""

    logf: Mapping[str, int]
    log_total: float


def _dict_file() -> Path:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("jieba is not installed (pip install jieba)")
    return Path(next(iter(spec.submodule_search_locations))) / "dict.txt"


def _quantise(freq: float) -> int:
    return round(SCALE * math.log(max(freq, 1.0)))


def load_dictionary(path: Path | None = None) -> BaseDictionary:
    """Read jieba's dictionary (``word frequency tag`` per line)."""
    logf: dict[str, int] = {}
    total = 0
    with open(path or _dict_file(), encoding="utf-8") as fh:
        for line in fh:
            word, freq, _ = (line.rstrip("\n") + "  ").split(" ", 2)
            if not word or not freq.isdigit():
                continue
            f = int(freq)
            total += f
            if len(word) <= BASE_MAX:
                logf[word] = _quantise(f)
    return BaseDictionary(MappingProxyType(logf), math.log(total or 1))


def base_dictionary() -> BaseDictionary:
    """Loaded on first use (a few tenths of a second), then shared by every parser."""
    global _base
    with _lock:
        if _base is None:
            _base = load_dictionary()
        return _base


def _is_ascii_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class Segmenter:
    """Cuts text into words: the shared dictionary overlaid with this parser's own words."""

    def __init__(self, words: Iterable[str], base: BaseDictionary | None = None) -> None:
        self._base = base or base_dictionary()
        self._own: dict[str, int] = {}
        self._prefixes: set[str] = set()  # of our words longer than BASE_MAX
        for w in words:
            self.add_word(w)

    def _logf(self, word: str) -> int | None:
        f = self._own.get(word)
        return self._base.logf.get(word) if f is None else f

    def add_word(self, word: str) -> None:
        """Make ``word`` one token: more likely than any way of cutting it."""
        if len(word) < 2 or word in self._own:
            return
        split = sum((self._logf(seg) or 0) / SCALE - self._base.log_total
                    for seg in self._cut(word))
        needed = split + self._base.log_total  # ln(frequency) at which the whole word wins
        self._own[word] = max(math.ceil(SCALE * needed) + 1, self._logf(word) or 0,
                              _quantise(2000))
        self._prefixes.update(word[:k] for k in range(BASE_MAX + 1, len(word)))

    def is_word(self, text: str) -> bool:
        """Whether ``text`` is a word of the dictionary (or one of ours)."""
        return self._logf(text) is not None

    def cut(self, text: str) -> list[str]:
        return self._cut(text)

    def _cut(self, s: str) -> list[str]:
        n = len(s)
        if n == 0:
            return []
        log_total = self._base.log_total
        own, base, prefixes = self._own, self._base.logf, self._prefixes
        score = [0.0] * (n + 1)
        nxt = [0] * n
        for i in range(n - 1, -1, -1):
            if _is_ascii_word(s[i]):
                j = i + 1
                while j < n and _is_ascii_word(s[j]):
                    j += 1
                score[i] = score[j]
                nxt[i] = j
                continue
            single = own.get(s[i])
            if single is None:
                single = base.get(s[i], 0)
            best = single / SCALE - log_total + score[i + 1]
            best_j = i + 1
            for j in range(i + 2, n + 1):
                w = s[i:j]
                if j - i > BASE_MAX and w not in prefixes and w not in own:
                    break
                f = own.get(w)
                if f is None:
                    f = base.get(w)
                    if f is None:
                        continue
                sc = f / SCALE - log_total + score[j]
                if sc >= best:  # a longer word wins a tie
                    best, best_j = sc, j
            score[i] = best
            nxt[i] = best_j
        out = []
        i = 0
        while i < n:
            out.append(s[i:nxt[i]])
            i = nxt[i]
        return out
