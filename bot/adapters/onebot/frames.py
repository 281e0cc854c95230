"""Turning one frame's text (a WebSocket message or an HTTP push body) into a JSON object.

Every v11/v12 frame and every HTTP push goes through :func:`decode_frame`, so the limits on what
a frame may look like hold in one place. Nesting is limited because the JSON decoder, and any
code walking the result, recurse: ``[[[[…]]]]`` a few thousand levels deep raises
``RecursionError`` in the decoder (which is not a ``ValueError``) and, just under the
interpreter's limit, would do so later in whatever walks the event. Real events are shallow: a
message event with segments is 4 levels, each nested forward adds about 5.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64

_loads = json.loads


class BadFrame(ValueError):
    """A frame that is not a usable JSON object; the message is a short reason for the log."""


def decode_frame(data: str | bytes) -> dict[str, Any]:
    """The frame's JSON object, or ``BadFrame`` saying why not."""
    try:
        frame = _loads(data)
    except RecursionError:
        raise BadFrame(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError (HTTP bodies) alike
        raise BadFrame("invalid JSON") from None
    if type(frame) is not dict:
        raise BadFrame(f"JSON {type(frame).__name__} instead of an object")
    if _brackets(data) > MAX_DEPTH and _depth_exceeds(frame, MAX_DEPTH):
        raise BadFrame(f"JSON nested deeper than {MAX_DEPTH} levels")
    return frame


def _brackets(data: str | bytes) -> int:
    """An upper bound of the nesting depth, counted in C: the walk below is only needed when a
    frame has more opening brackets than the limit, which ordinary events do not."""
    if isinstance(data, str):
        return data.count("[") + data.count("{")
    return data.count(b"[") + data.count(b"{")


def _depth_exceeds(root: Any, limit: int) -> bool:
    """True when containers nest deeper than ``limit`` (iterative: no recursion of our own)."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if type(node) is dict else node
        for child in children:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False
