"""Reading request bodies whose sender is not yet authenticated (OneBot HTTP push, WeChat callback).

Such a body has to be read before its signature can be checked, so anyone who can reach the
port can make us read. Three bounds keep that cheap: a size cap checked against
``Content-Length`` before reading and again while reading in chunks; a deadline for the whole
body (a sender trickling bytes cannot hold a slot for long); and a gate on how many such bodies
are read at once, over which a request is answered 503 at once. Refusals close the connection
instead of letting aiohttp read and discard the rest of the body (its "lingering" close reads
for up to 10 s).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

from aiohttp import web

READ_DEADLINE_S = 15.0
LINGER_S = 0.5
LINGER_BYTES = 1024 * 1024
_CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    pass


class ReadGate:
    """Admits at most ``limit`` body reads at a time; more are refused, never queued."""

    __slots__ = ("_busy", "_limit", "refused")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._busy = 0
        self.refused = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[bool]:
        """Yields True with a slot held until the block ends, or False when all are taken."""
        if self._busy >= self._limit:
            self.refused += 1
            yield False
            return
        self._busy += 1
        try:
            yield True
        finally:
            self._busy -= 1


async def read_capped(request: web.BaseRequest, limit: int,
                      on_chunk: Callable[[bytes], None] | None = None, *,
                      deadline_s: float = READ_DEADLINE_S) -> bytes:
    """The body, at most ``limit`` bytes, each chunk also given to ``on_chunk`` (a running
    HMAC) as it arrives. Raises ``BodyTooLarge`` as soon as the cap is passed (before reading
    when ``Content-Length`` says so) and ``TimeoutError`` past the deadline."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    buf = bytearray()
    async with asyncio.timeout(deadline_s):
        async for chunk in request.content.iter_chunked(_CHUNK):
            if len(buf) + len(chunk) > limit:
                raise BodyTooLarge
            if on_chunk is not None:
                on_chunk(chunk)
            buf += chunk
    return bytes(buf)


async def refuse(request: web.BaseRequest, status: int, text: str) -> web.StreamResponse:
    """Answer ``status`` and close the connection, leaving the rest of the body unread.

    Before closing, what is already on its way is dropped for a moment (at most
    ``LINGER_BYTES``, ``LINGER_S``): closing a socket with unread data sends a reset, which can
    make the client lose the answer. aiohttp's own lingering close would read for 10 s.
    """
    resp = web.Response(status=status, text=text)
    resp.force_close()
    if status == 503:
        resp.headers["Retry-After"] = "1"
    await resp.prepare(request)
    await resp.write_eof()
    dropped = 0
    with contextlib.suppress(Exception):
        async with asyncio.timeout(LINGER_S):
            while dropped < LINGER_BYTES and not request.content.at_eof():
                chunk = await request.content.readany()
                if not chunk:
                    break
                dropped += len(chunk)
    request.protocol.force_close()
    return resp
