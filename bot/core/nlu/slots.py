"""Slots read from part of a message: units, scopes, tasks and bodies after a command word.

Commands and actions name things at a position ("发布任务 标题 截止 7月15日 各地市", "提交 月报
见附件"); these helpers read what stands there, on the names :mod:`.message` found.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final

from bot.domain.text import compact

from .lexicon import QUARTER_RE, Lexicon
from .message import REF, TASK, TIME, UNIT, Msg
from .timeexpr import find_time

SEPS: Final = " \t\r\n,，、:：;；.。!！-—~～|/"
# What joins task names into one list ("自查报告、月报", "走访记录和调研报告").
_JOINED: Final = re.compile(r"\s*(、|和|及|与|以及|还有|跟|,|，|\s)\s*")


def strip_seps(s: str) -> str:
    return s.strip().lstrip(SEPS).strip()


@dataclass(frozen=True)
class Slots:
    """Slot readers over one message, for one lexicon and calendar."""

    lex: Lexicon
    is_workday: Callable[[date], bool]

    def units_from(self, m: Msg, start: int, end: int | None = None) -> tuple[int, ...]:
        out: list[int] = []
        for s in m.spans:
            if s.mark == UNIT and s.start >= start and (end is None or s.start < end):
                out.extend(u for u in s.ids if u not in out)
        return tuple(out)

    def tasks_from(self, m: Msg, start: int = 0) -> tuple[int, ...]:
        """Task ids named at or after ``start``: #numbers, then titles or fragments."""
        ids = [int(h.group(1)) for h in re.finditer(r"#\s*(\d+)", m.norm[start:])]
        if ids:
            return tuple(dict.fromkeys(ids))
        found: list[int] = []
        last = -1
        for s in sorted(m.spans, key=lambda s: s.start):
            if s.mark != TASK or s.start < start:
                continue
            if found and not _JOINED.fullmatch(m.norm[last:s.start]):
                break  # "自查报告、月报 至…": names joined by 、/和/及 are one list
            if m.task_choices and set(s.ids) <= set(m.task_choices) and not (
                    set(s.ids) & set(m.tasks)):
                return ()  # "延期 总结 至…": a fragment that fits several; ask which
            found += [i for i in s.ids if i not in found]
            last = s.end
        return tuple(found)

    def scope_at(self, m: Msg, pos: int, *, kinds: bool = True) -> tuple[
            str | None, tuple[int, ...], int]:
        """Scope words (各地市, 全体, unit names…) starting at ``pos``: (stored form, unit ids,
        where they end)."""
        s = self.lex.scope_at(m.norm, pos, kinds=kinds)
        if s.empty:
            return None, (), pos
        return s.spec(self.lex.unit_name), s.unit_ids, s.end

    def body(self, m: Msg, start: int, end: int | None = None) -> str:
        return strip_seps(m.raw[start:end])

    def without_names(self, m: Msg, start: int) -> str:
        """The compact text after ``start`` without unit names and time expressions."""
        chars = list(m.norm)
        for s in m.spans:
            if s.mark in (UNIT, TIME) and s.start >= start:
                chars[s.start:s.end] = " " * (s.end - s.start)
        text = "".join(chars)[start:]
        span = find_time(text, m.today, self.is_workday)
        if span is not None:
            a, b = span.span
            text = text[:a] + " " * (b - a) + text[b:]
        return compact(text)

    def is_task_word(self, m: Msg, pos: int, end: int) -> bool:
        """Whether norm[pos:end] names a task (a title, a fragment, a quarter, a number)."""
        piece = m.norm[pos:end]
        if any(s.mark in (TASK, REF) and s.start <= pos and end <= s.end for s in m.spans):
            return True
        return QUARTER_RE.fullmatch(piece) is not None or re.fullmatch(r"#?\s*\d+", piece) is not None

    def task_phrase_end(self, m: Msg, rest: int) -> int:
        """Where a leading task phrase ("三季度调研报告", "#4", "案例汇编的") after ``rest`` ends;
        ``rest`` when none leads."""
        norm = m.norm
        i = rest
        while i < len(norm) and norm[i] in SEPS:
            i += 1
        j = i
        for s in m.spans:
            if s.end <= j:
                continue
            if s.start != j and not (j > i and norm[j:s.start] == "的"):
                break
            quarter = s.mark == TIME and QUARTER_RE.fullmatch(compact(norm[s.start:s.end]))
            if s.mark not in (TASK, REF) and not quarter:
                break
            j = s.end
        return rest if j == i else j

    def next_is_name(self, m: Msg, rest: int) -> bool:
        """Whether a unit, task or time expression starts right at ``rest``."""
        if any(s.start == rest and s.mark in (UNIT, TASK, TIME, REF) for s in m.spans):
            return True
        span = find_time(m.norm[rest:rest + 8], m.today, self.is_workday)
        return span is not None and span.span[0] == 0
