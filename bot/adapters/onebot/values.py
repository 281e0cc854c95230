"""Lenient readers for OneBot payload values shared by the v11 and v12 codecs.

Implementations disagree on types (NapCat sends ``file_size`` as a number, v12 sends every id as
a string, Lagrange ``subType`` as an int), so ids are read from int *or* string and kept as
text. A value of a shape nothing sends (an id that is an object, a bool) raises
``MalformedEvent``: the adapter counts that frame as bad instead of guessing.
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.core.event import Mention, Other, Reply, Segment, Text

# NapCat falls back to Date.now() (milliseconds) when the raw time is missing.
_MS_THRESHOLD = 1e12


class MalformedEvent(ValueError):
    """A payload that claims to be an event but whose fields have impossible types."""


def ident(value: Any, field: str) -> str:
    """An id as text: ``10001`` and ``"10001"`` are the same id; objects and bools are refused."""
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    if type(value) is float and value.is_integer():
        return str(int(value))
    raise MalformedEvent(f"{field} is {type(value).__name__}, not an id")


def opt_ident(value: Any, field: str) -> str:
    return "" if value is None else ident(value, field)


def scalar(value: Any) -> str:
    """Any segment/notice value as a string; nested structures as compact JSON."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def opt_int(value: Any) -> int | None:
    """A size or count that may come as a number or numeric string; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | str):
        try:
            return int(float(value))
        except (ValueError, OverflowError):
            return None
    return None


def timestamp(value: Any) -> datetime:
    """Event time: seconds (or milliseconds if > 1e12) since the epoch; now if missing."""
    if value is None:
        return datetime.fromtimestamp(_time.time(), tz=UTC)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedEvent(f"time is {type(value).__name__}")
    try:
        seconds = float(value)
        if seconds > _MS_THRESHOLD:
            seconds /= 1000.0
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedEvent(f"time {value!r:.30} is not a timestamp") from exc


def data_of(segment: Any) -> tuple[str, dict[str, Any]]:
    """``(type, data)`` of a raw segment; ``data: null`` is allowed and means no fields."""
    if type(segment) is not dict:
        raise MalformedEvent(f"segment is {type(segment).__name__}, not an object")
    kind = segment.get("type")
    if type(kind) is not str:
        raise MalformedEvent("segment type is not a string")
    data = segment.get("data")
    if data is None:
        return kind, {}
    if type(data) is not dict:
        raise MalformedEvent(f"segment data is {type(data).__name__}, not an object")
    return kind, data


def other_data(data: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), scalar(v)) for k, v in data.items())


SegmentReader = Callable[[dict[str, Any]], Segment]


def decode_segments(raw: list[Any], self_id: str, readers: Mapping[str, SegmentReader]
                    ) -> tuple[tuple[Segment, ...], bool, str | None]:
    """Core segments, whether the bot was mentioned (those mentions removed), and the quoted
    message id. ``readers`` maps a segment type of the protocol to its reader; other types are
    kept as :class:`Other`."""
    out: list[Segment] = []
    at_me = False
    strip_next = False
    reply_to: str | None = None
    for item in raw:
        kind, data = data_of(item)
        read = readers.get(kind)
        seg = read(data) if read is not None else Other(kind, other_data(data))
        if type(seg) is Mention and seg.user_id == self_id:
            # "@bot 提交 …" is a command to us: drop the @ and the space the client puts after it.
            at_me = strip_next = True
            continue
        if strip_next and type(seg) is Text:
            seg = Text(seg.text.lstrip())
            if not seg.text:
                continue
        strip_next = False
        if type(seg) is Reply and reply_to is None:
            reply_to = seg.message_id
        out.append(seg)
    return tuple(out), at_me, reply_to
