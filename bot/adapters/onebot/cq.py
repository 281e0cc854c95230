"""CQ-code strings (OneBot v11 "string" message format) <-> raw array segments.

Some implementations (go-cqhttp by default) post messages as CQ strings; everything else in the
adapter works on the array form ``{"type": ..., "data": {...}}``, so this module only converts.
We never *send* CQ strings (user text could inject codes); ``encode`` exists for logs, tests and
the message store.

Escaping follows the spec exactly
(https://github.com/botuniverse/onebot-11/blob/master/message/string.md): in text ``&``,
``[``, ``]``; in parameter values also ``,``. Decoding is one left-to-right pass over the four entities, which is what the prescribed
"``&amp;`` last" replace order achieves, so ``&amp;#91;`` decodes to the literal ``&#91;``.
"""

from __future__ import annotations

import re
from typing import Any

RawSegment = dict[str, Any]

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "[": "&#91;", "]": "&#93;"})
_VALUE_ESCAPES = str.maketrans({"&": "&amp;", "[": "&#91;", "]": "&#93;", ",": "&#44;"})
_ENTITIES = {"&amp;": "&", "&#91;": "[", "&#93;": "]", "&#44;": ","}
_ENTITY_RE = re.compile(r"&(?:amp|#91|#93|#44);")
# A code: "[CQ:" type, then ",k=v" parts, then "]". Escaped content never holds a raw "[" or "]",
# so the first "]" ends the code. Anything that does not match stays literal text (lenient).
_CODE_RE = re.compile(r"\[CQ:([^,\[\]]+)((?:,[^,\[\]]*)*)\]")


def escape_text(text: str) -> str:
    return text.translate(_TEXT_ESCAPES)


def escape_value(value: str) -> str:
    return value.translate(_VALUE_ESCAPES)


def unescape(text: str) -> str:
    if "&" not in text:
        return text
    return _ENTITY_RE.sub(lambda m: _ENTITIES[m.group(0)], text)


def _text_segment(text: str) -> RawSegment:
    return {"type": "text", "data": {"text": text}}


def parse(message: str) -> list[RawSegment]:
    """Split a CQ string into raw segments; values are unescaped strings, never nested."""
    segments: list[RawSegment] = []
    pos = 0
    for match in _CODE_RE.finditer(message):
        start = match.start()
        if start > pos:
            segments.append(_text_segment(unescape(message[pos:start])))
        data: dict[str, str] = {}
        params = match.group(2)
        if params:
            for part in params[1:].split(","):
                key, _, value = part.partition("=")
                # Spaces around separators are invalid per spec; nonebot tolerates them, so do we.
                key = key.strip()
                if key:
                    data[key] = unescape(value)
        segments.append({"type": match.group(1).strip(), "data": data})
        pos = match.end()
    if pos < len(message):
        segments.append(_text_segment(unescape(message[pos:])))
    return segments


def encode(segments: list[RawSegment]) -> str:
    """Render raw segments as a CQ string; ``None`` values are left out, others become ``str``."""
    out: list[str] = []
    for seg in segments:
        kind = str(seg.get("type", ""))
        data = seg.get("data") or {}
        if kind == "text":
            out.append(escape_text(str(data.get("text", ""))))
            continue
        params = "".join(f",{k}={escape_value(str(v))}" for k, v in data.items() if v is not None)
        out.append(f"[CQ:{kind}{params}]")
    return "".join(out)
