"""Stored pictures in outgoing messages: reading them at send time, and the text fallback.

A :class:`~bot.core.event.StoredImage` names a file in our FileStore by hash. Each sender turns
it into what its platform can carry (base64 for OneBot v11, an uploaded file id for v12, a
separate image message for WeCom robots); whatever cannot be attached is replaced by its
``fallback`` text, once per distinct text, so one missing picture never fails the message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from bot.core.event import Segment, StoredImage, Text
from bot.core.message import OutgoingMessage

log = logging.getLogger("dudao.media")

MAX_PICTURE_BYTES = 10 * 1024 * 1024
# File signatures of the formats QQ/WeChat show as pictures; anything else falls back to text.
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")


class PictureStore(Protocol):
    def open_path(self, sha256: str) -> Path | None: ...


def is_picture(data: bytes) -> bool:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    return data.startswith(_MAGIC)


def _read(store: PictureStore, sha256: str, limit: int) -> bytes | None:
    path = store.open_path(sha256)
    if path is None:
        return None
    try:
        if path.stat().st_size > limit:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return data if is_picture(data) else None


async def read_picture(store: PictureStore | None, seg: StoredImage,
                       limit: int = MAX_PICTURE_BYTES) -> bytes | None:
    """The picture's bytes, or None when it is gone, too large or not a picture."""
    if store is None:
        return None
    data = await asyncio.to_thread(_read, store, seg.sha256, limit)
    if data is None:
        log.warning("stored picture %s not attachable (missing, over %d bytes or not an image)",
                    seg.sha256[:12], limit)
    return data


Convert = Callable[[StoredImage], Awaitable[Segment | None]]


def _with_notes(msg: OutgoingMessage, done: list[Segment | None]) -> OutgoingMessage:
    """``msg`` with each StoredImage replaced by its converted segment (``done``, in order), the
    failed ones dropped and their fallback said once, where the first of them stood."""
    failed: dict[str, int] = {}
    pictures = [s for s in msg.segments if isinstance(s, StoredImage)]
    for pic, res in zip(pictures, done, strict=True):
        if res is None and pic.fallback:
            failed[pic.fallback] = failed.get(pic.fallback, 0) + 1
    out: list[Segment] = []
    said: set[str] = set()
    results = iter(done)
    for seg in msg.segments:
        if not isinstance(seg, StoredImage):
            out.append(seg)
            continue
        res = next(results)
        if res is not None:
            out.append(res)
        elif seg.fallback and seg.fallback not in said:
            said.add(seg.fallback)
            out.append(Text(seg.fallback.replace("{n}", str(failed[seg.fallback]))))
    return OutgoingMessage(msg.chat, tuple(out))


def has_pictures(msg: OutgoingMessage) -> bool:
    return any(isinstance(s, StoredImage) for s in msg.segments)


def without_pictures(msg: OutgoingMessage) -> OutgoingMessage:
    """Every stored picture replaced by its fallback text (platforms that carry text only)."""
    if not has_pictures(msg):
        return msg
    return _with_notes(msg, [None for s in msg.segments if isinstance(s, StoredImage)])


async def attach_pictures(msg: OutgoingMessage, convert: Convert) -> OutgoingMessage:
    """Convert each stored picture in order (``None`` = could not); fall back for the rest."""
    if not has_pictures(msg):
        return msg
    done = [await convert(s) for s in msg.segments if isinstance(s, StoredImage)]
    return _with_notes(msg, done)
