"""Scope words: which units a task, a notice or a question is for. One vocabulary everywhere.

全部 / 全体 / 所有单位 / 大家 → every unit; 各地市 / 地市 / 省辖市 → the cities; 直管县 → the
directly administered counties; 省直部门 / 省直单位 / 厅局 → the provincial departments; 中央驻豫单位
→ the central units; unit names, short names and aliases; several joined by 和 / 、 / , / 及 / 与.
"所有地市" is the cities, not everyone. The CLI's ``all`` and ``kind:city`` are the same words in
ASCII. The CLI (``--units``, ``--to``), the chat commands (发布任务, 通知…) and the language layer
all read scopes with :func:`scan` / :func:`parse`, so a word that works in one works in all.

Names are matched longest first against a :class:`NameTable`, never split blindly: "省住房和城乡
建设厅" is one unit although it contains 和.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from bot.domain.text import compact, normalize

ALL: Final = "all"
KINDS: Final = ("city", "county", "department", "central", "office")

# Words for every unit or for a kind of units; matched longest first.
KIND_WORDS: Final[tuple[tuple[str, str], ...]] = tuple(sorted(
    (
        ("全体单位", ALL), ("全体", ALL), ("全部单位", ALL), ("全部", ALL), ("所有单位", ALL),
        ("所有", ALL), ("各单位", ALL), ("大家", ALL), ("全省", ALL), ("all", ALL),
        ("各地市", "city"), ("各个地市", "city"), ("各省辖市", "city"), ("省辖市", "city"), ("地市", "city"),
        ("各市", "city"), ("各直管县", "county"), ("直管县", "county"), ("省直管县", "county"),
        ("各县", "county"), ("各个直管县", "county"), ("省直部门", "department"),
        ("省直各部门", "department"), ("各个省直部门", "department"), ("省直单位", "department"),
        ("各厅局", "department"), ("厅局", "department"), ("省直", "department"),
        ("中央驻豫单位", "central"), ("驻豫单位", "central"), ("中央单位", "central"),
    ),
    key=lambda kv: -len(kv[0]),
))
# Who is addressed within a scope: "各地市联络员", "全体同志们".
_SUFFIX: Final = re.compile(r"的?(联络员|同志们|同志|各位|领导们|领导|们)")
_ASCII_KIND: Final = re.compile(r"kind:([a-z_]+)")
_COUNT: Final = re.compile(r"(\d{1,3}|[一二三四五六七八九十]{1,3})个")
JOINERS: Final = frozenset(" \t,，、;；/和及与跟以")
# Explicit separators, where an unknown name ends.
_SEPARATORS: Final = re.compile(r"[\s,，、;；/]+")


def key(word: str) -> str:
    """How a name is compared: normalised (simplified, half-width, lower case), no spaces."""
    return compact(normalize(word))


@dataclass(frozen=True)
class NameTable:
    """Unit names, short names, aliases (and codes) -> unit ids, for longest-first matching."""

    ids: Mapping[str, tuple[int, ...]]
    names: Mapping[int, str]
    max_len: int

    @classmethod
    def build(cls, units: Iterable[tuple[int, str, Iterable[str]]]) -> NameTable:
        """``units``: (id, name, other words for it)."""
        ids: dict[str, list[int]] = {}
        names: dict[int, str] = {}
        for uid, name, words in units:
            names[uid] = name
            for w in (name, *words):
                k = key(w)
                if len(k) < 2:
                    continue
                bucket = ids.setdefault(k, [])
                if uid not in bucket:
                    bucket.append(uid)
        return cls(MappingProxyType({k: tuple(v) for k, v in ids.items()}),
                   MappingProxyType(names), max((len(k) for k in ids), default=0))

    def at(self, text: str, pos: int) -> tuple[int, tuple[int, ...]]:
        """The longest name starting at ``pos``: (its length, unit ids), or (0, ())."""
        for ln in range(min(self.max_len, len(text) - pos), 1, -1):
            hit = self.ids.get(text[pos:pos + ln])
            if hit:
                return ln, hit
        return 0, ()


@dataclass(frozen=True)
class Scope:
    """Units named by scope words. ``end`` is where the words stop in the scanned text."""

    everything: bool = False
    kinds: tuple[str, ...] = ()
    unit_ids: tuple[int, ...] = ()
    end: int = 0
    unknown: tuple[str, ...] = field(default=())  # words that name no unit (parse only)

    @property
    def empty(self) -> bool:
        return not (self.everything or self.kinds or self.unit_ids)

    def spec(self, names: Mapping[int, str]) -> str | None:
        """The stored form: ``all`` | ``kind:city,kind:department,郑州市`` | None when empty."""
        if self.everything:
            return ALL
        parts = [f"kind:{k}" for k in self.kinds] + [names[u] for u in self.unit_ids]
        return ",".join(parts) or None


_BY_FIRST: Final = MappingProxyType({
    ch: tuple((w, k) for w, k in KIND_WORDS if w[0] == ch) for ch in {w[0] for w, _ in KIND_WORDS}})


def _kind_word(text: str, pos: int) -> tuple[int, str | None]:
    for word, kind in _BY_FIRST.get(text[pos:pos + 1], ()):
        if text.startswith(word, pos):
            return len(word), kind
    m = _ASCII_KIND.match(text, pos) if text.startswith("kind:", pos) else None
    if m is not None:
        return m.end() - pos, m.group(1)
    return 0, None


def kind_at(text: str, pos: int) -> tuple[int, str | None]:
    """A word for every unit (``all``) or for a kind of units at ``pos``, with what addresses
    people in it ("各地市联络员"); "所有地市" is the cities. Returns (length, kind or None)."""
    count = _COUNT.match(text, pos)  # "18个地市", "十八个地市"
    lead = count.end() - pos if count else 0
    ln, kind = _kind_word(text, pos + lead)
    if kind is None or (lead and kind == ALL):
        return 0, None
    j = pos + lead + ln
    if kind == ALL:
        ln2, kind2 = _kind_word(text, j)
        if kind2 is not None and kind2 != ALL:
            kind, j = kind2, j + ln2
    suffix = _SUFFIX.match(text, j)
    return (suffix.end() if suffix else j) - pos, kind


def scan(text: str, pos: int, table: NameTable, *, kinds: bool = True) -> Scope:
    """Scope words starting at ``pos`` of normalised ``text``, as many as are joined there.

    ``kinds=False`` reads unit names only (a title may begin with one).
    """
    everything = False
    found_kinds: list[str] = []
    ids: list[int] = []
    end = pos
    i = pos
    n = len(text)
    while i < n:
        while i < n and text[i] in JOINERS:
            i += 1
        ln, kind = kind_at(text, i) if kinds else (0, None)
        if kind is not None:
            i += ln
            if kind == ALL:
                everything = True
            elif kind not in found_kinds:
                found_kinds.append(kind)
            end = i
            continue
        ln, uids = table.at(text, i)
        if not ln:
            break
        ids.extend(u for u in uids if u not in ids)
        i += ln
        end = i
    if end == pos:
        return Scope(end=pos)
    return Scope(everything=everything, kinds=tuple(found_kinds), unit_ids=tuple(ids), end=end)


def parse(text: str, table: NameTable) -> Scope:
    """A whole scope as typed in a command or on the command line. A word that names no unit
    ("火星市", and "郑州县" although 郑州 is a unit) is collected in ``unknown`` (up to the next
    separator or 和) instead of being read as the unit it begins with."""
    norm = compact_keep_separators(text)
    n = len(norm)
    everything = False
    kinds: list[str] = []
    ids: list[int] = []
    unknown: list[str] = []

    def boundary(j: int) -> bool:
        return j >= n or norm[j] in JOINERS or _kind_word(norm, j)[1] is not None or \
            table.at(norm, j)[0] > 0

    i = 0
    while i < n:
        if norm[i] in JOINERS:
            i += 1
            continue
        ln, kind = kind_at(norm, i)
        if kind is not None and boundary(i + ln):
            if kind == ALL:
                everything = True
            elif kind not in kinds:
                kinds.append(kind)
            i += ln
            continue
        ln, uids = table.at(norm, i)
        if ln and boundary(i + ln):
            ids.extend(u for u in uids if u not in ids)
            i += ln
            continue
        j = i + 1
        while j < n and norm[j] not in JOINERS:
            j += 1
        unknown.append(norm[i:j])
        i = j
    return Scope(everything=everything, kinds=tuple(kinds), unit_ids=tuple(ids), end=n,
                 unknown=tuple(unknown))


def compact_keep_separators(text: str) -> str:
    """Normalised text with runs of blanks and separators reduced to one ``,``."""
    return _SEPARATORS.sub(",", normalize(text).strip()).strip(",")
