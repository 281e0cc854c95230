"""Records with required fields: a submission that must say when, where, what was found…

The 四个一 quarterly field visit (调研指导) is reported as a short record: 时间, 地点, 发现问题,
典型经验 (DESIGN §4). A task may name such fields; a submission for it is read as
``字段：内容`` parts (one per line or one after another) and refused with the missing ones named
and a template to copy, so that nothing half-filled is recorded as done.

Each field may be written by a few words people use for it (时间 / 日期, 发现问题 / 存在问题…);
a field this module does not know is written by its own name only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

VISIT: Final = ("时间", "地点", "发现问题", "典型经验")

# Field → the labels that name it (longest first when matching).
_LABELS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "时间": ("时间", "日期", "调研时间", "走访时间", "调研日期"),
    "地点": ("地点", "地方", "调研地点", "走访地点", "调研单位", "走访单位"),
    "发现问题": ("发现问题", "发现的问题", "存在问题", "存在的问题", "主要问题", "问题"),
    "典型经验": ("典型经验", "经验做法", "经验", "好的做法", "典型做法"),
})
_SEP: Final = "[:：]"


def labels(field: str) -> tuple[str, ...]:
    return _LABELS.get(field, (field,))


def read_record(text: str, fields: Iterable[str]) -> dict[str, str]:
    """The value written for each of ``fields`` in ``text`` ("" when absent or empty).

    A value runs from its ``标签：`` to the next field's label (or the end of the text).
    """
    wanted = list(dict.fromkeys(fields))
    owner = {label: f for f in wanted for label in labels(f)}
    if not owner:
        return {}
    alternation = "|".join(re.escape(w) for w in sorted(owner, key=len, reverse=True))
    # A label starts the text, a line or a clause; it is followed by a colon.
    pattern = re.compile(rf"(?:^|(?<=[\s，,。；;、]))({alternation})\s*{_SEP}", re.MULTILINE)
    hits = list(pattern.finditer(text))
    values = dict.fromkeys(wanted, "")
    if not hits:
        return values
    for hit, after in zip(hits, [*hits[1:], None], strict=True):
        end = after.start() if after is not None else len(text)
        value = text[hit.end():end].strip(" \t\r\n，,。；;、")
        field = owner[hit.group(1)]
        if value and not values[field]:
            values[field] = value
    return values


def missing_fields(text: str, fields: Iterable[str]) -> list[str]:
    """The required ``fields`` that ``text`` leaves out or leaves empty, in their order."""
    return [f for f, v in read_record(text, fields).items() if not v]


def template(fields: Iterable[str]) -> str:
    """What to copy and fill in: one ``字段：`` per line."""
    return "\n".join(f"{f}：" for f in fields)
