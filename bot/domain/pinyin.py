"""Toneless pinyin readings of the 6,763 common (GB2312) characters.

People type Chinese with pinyin input methods; a slip picks a character that sounds the same
(正州 for 郑州, 调研抱告 for 调研报告). Comparing readings instead of characters finds the name
that was meant. The table (``data/pinyin.txt``, from the pinyin-data project) is read once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

_TABLE = Path(__file__).with_name("data") / "pinyin.txt"


@functools.cache
def readings() -> Mapping[str, tuple[str, ...]]:
    """Character -> its toneless readings, most common first (read-only, loaded once)."""
    out: dict[str, tuple[str, ...]] = {}
    for line in _TABLE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        ch, _, rs = line.partition("\t")
        out[ch] = tuple(rs.split(","))
    return MappingProxyType(out)


def syllables(text: str, table: Mapping[str, tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """The most common reading of each character (a character without one stands for itself)."""
    t = readings() if table is None else table
    return tuple(t[c][0] if c in t else c for c in text)


def sound_alike(a: str, b: str, table: Mapping[str, tuple[str, ...]] | None = None) -> bool:
    """Whether two strings of the same length can be read the same (any reading per character)."""
    if len(a) != len(b):
        return False
    t = readings() if table is None else table
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        rx, ry = t.get(x), t.get(y)
        if rx is None or ry is None or not set(rx) & set(ry):
            return False
    return True
