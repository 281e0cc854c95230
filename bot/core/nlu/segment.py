"""Word segmentation over jieba's dictionary plus our own words, without copying the dictionary.

jieba's main dictionary (350,000 words; ~70 MB in memory) is loaded once per process and never
changed. Each parser has a :class:`Segmenter` holding only its own words (unit names, scope
words, task titles) and their prefixes, and looks a word up there first, then in the shared
dictionary. A rebuilt parser therefore costs a few milliseconds and no second copy (the previous
design copied the prefix dictionary per parser: ~20 MB; bench/README.md).

Segmentation is the maximum-probability path through the word graph of the sentence, the method
jieba itself uses without its HMM; a run of ASCII letters and digits is one token. The parser
uses it to check where names end ("郑州市场监管局" is 郑州 + 市场监管局, not 郑州市 + 场…) and to
know which strings are ordinary words (公益 is a word, not a slip for 巩义).

The global ``jieba.dt`` is never initialised or modified.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_lock = threading.Lock()
_base: BaseDictionary | None = None


@dataclass(frozen=True)
class BaseDictionary:
    """jieba's main dictionary: word (and every word prefix, with 0) -> frequency."""

    freq: Mapping[str, int]
    total: int


def base_dictionary() -> BaseDictionary:
    """Loaded on first use (about half a second; jieba caches it in its temp dir), then shared."""
    global _base
    with _lock:
        if _base is None:
            import jieba  # here, not at module level: importing handlers must not cost 0.2 s

            logging.getLogger("jieba").setLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            _base = BaseDictionary(tk.FREQ, int(tk.total))
        return _base


def _is_ascii_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class Segmenter:
    """Cuts text into words: the shared dictionary overlaid with this parser's own words."""

    def __init__(self, words: Iterable[str], base: BaseDictionary | None = None) -> None:
        self._base = base or base_dictionary()
        self._own: dict[str, int] = {}
        self._total = self._base.total
        for w in words:
            self.add_word(w)

    def _freq(self, word: str) -> int | None:
        f = self._own.get(word)
        return self._base.freq.get(word) if f is None else f

    def add_word(self, word: str) -> None:
        """Make ``word`` one token (frequency high enough to beat any split of it)."""
        if len(word) < 2 or self._own.get(word):
            return
        p = 1.0
        for seg in self._cut(word):
            p *= (self._freq(seg) or 1) / self._total
        freq = max(int(p * self._total) + 1, self._freq(word) or 1, 2000)
        self._own[word] = freq
        self._total += freq
        for i in range(1, len(word)):
            self._own.setdefault(word[:i], self._base.freq.get(word[:i], 0))

    def is_word(self, text: str) -> bool:
        """Whether ``text`` is a word of the dictionary (or one of ours)."""
        return bool(self._freq(text))

    def cut(self, text: str) -> list[str]:
        return self._cut(text)

    def _cut(self, s: str) -> list[str]:
        n = len(s)
        if n == 0:
            return []
        log_total = math.log(self._total)
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
            best = math.log(self._freq(s[i]) or 1) - log_total + score[i + 1]
            best_j = i + 1
            j = i + 2
            while j <= n:
                w = s[i:j]
                f = self._own.get(w)
                if f is None:
                    f = self._base.freq.get(w)
                    if f is None:
                        break  # no word starts with this: stop growing
                if f:
                    sc = math.log(f) - log_total + score[j]
                    if sc >= best:  # a longer word wins a tie
                        best, best_j = sc, j
                j += 1
            score[i] = best
            nxt[i] = best_j
        out = []
        i = 0
        while i < n:
            out.append(s[i:nxt[i]])
            i = nxt[i]
        return out
