"""HTTP event push before authentication: small cap, streamed HMAC, bounded concurrent reads.

Before the fix every push body was read whole (up to the 16 MiB frame cap) before its signature
was looked at: 80 concurrent unsigned 15.5 MB bodies took the service from 452 MB to 1.5 GB. The
memory figures are in ``bench/bench_unauth_bodies.py``; these tests pin the behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from bot.adapters.onebot.transport import signature

from . import fake_impl as fi
from .conftest import Harness, HarnessFactory, wait_until

SELF = str(fi.SELF_ID)
KEY = "push-secret"
BIG = 15_500_000  # what the attack sent: under the 16 MiB frame cap
FORGED = "sha1=" + "0" * 40  # well-formed, wrong: the body has to be read to find out


async def _raw_push(h: Harness, headers: dict[str, str], first: bytes
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a connection, send a push's headers and the first part of its body."""
    assert h.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", h.server.port)
    lines = ["POST /onebot/v11/http HTTP/1.1", "Host: 127.0.0.1",
             "Content-Type: application/json", f"X-Self-ID: {SELF}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + first)
    await writer.drain()
    return reader, writer


async def _status_and_closed(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The response's status, and whether the server then closed the connection."""
    async with asyncio.timeout(5):
        status_line = await reader.readuntil(b"\r\n")
        try:
            while await reader.read(65536):
                pass
        except ConnectionResetError:
            pass  # closed with our unread data still in its buffer: closed all the same
    return int(status_line.split(b" ", 2)[1]), True


async def _signed_push_works(h: Harness, text: str = "after the attack") -> None:
    body = json.dumps(fi.group_message(text, message_id=len(h.events) + 900)).encode()
    async with h.session.post(h.url("/onebot/v11/http"), data=body, headers={
            "X-Signature": signature(body, KEY), "X-Self-ID": SELF}) as resp:
        assert resp.status == 204
    await wait_until(lambda: any(getattr(e, "text", "") == text for e in h.events))


async def test_oversized_push_is_413_without_reading_it(make_harness: HarnessFactory) -> None:
    h = await make_harness(secret=KEY)
    # 64 KB of a declared 15.5 MB: the answer must come while the rest is still unsent, and the
    # connection must then be closed rather than left open to take the remainder.
    reader, writer = await _raw_push(h, {"X-Signature": FORGED, "Content-Length": str(BIG)},
                                     b"{" * 65536)
    assert await _status_and_closed(reader) == (413, True)
    writer.close()
    await _signed_push_works(h)


async def test_chunked_push_is_cut_off_at_the_cap(make_harness: HarnessFactory) -> None:
    h = await make_harness(secret=KEY, push_max_bytes=64 * 1024)
    # No Content-Length: 96 KB of chunks and no end; the cap must hold while streaming.
    chunk = b"8000\r\n" + b"x" * 0x8000 + b"\r\n"
    reader, writer = await _raw_push(h, {"X-Signature": FORGED,
                                         "Transfer-Encoding": "chunked"}, chunk * 3)
    assert await _status_and_closed(reader) == (413, True)
    writer.close()
    await _signed_push_works(h)


async def test_unsigned_push_is_refused_before_its_body_is_read(
        make_harness: HarnessFactory) -> None:
    h = await make_harness(secret=KEY)
    for headers, status in [({}, 401), ({"X-Signature": "sha1=nothex"}, 403),
                            ({"X-Signature": "md5=abc"}, 403)]:
        reader, writer = await _raw_push(h, {**headers, "Content-Length": str(BIG)}, b"{")
        assert await _status_and_closed(reader) == (status, True)
        writer.close()
    await _signed_push_works(h)


@contextlib.asynccontextmanager
async def _held_reads(h: Harness, n: int) -> AsyncIterator[None]:
    """``n`` pushes whose body never finishes arriving: each holds a read slot."""
    held = [await _raw_push(h, {"X-Signature": FORGED, "Content-Length": "100000"}, b"{")
            for _ in range(n)]
    try:
        yield
    finally:
        for _, writer in held:
            writer.close()


async def test_concurrent_reads_over_the_bound_get_503_at_once(
        make_harness: HarnessFactory) -> None:
    h = await make_harness(secret=KEY, push_concurrency=4)
    async with _held_reads(h, 4):
        await asyncio.sleep(0.2)  # the four reads have started and wait for their bodies
        loop = asyncio.get_running_loop()
        started = loop.time()
        reader, writer = await _raw_push(h, {"X-Signature": FORGED,
                                             "Content-Length": str(BIG)}, b"{")
        assert await _status_and_closed(reader) == (503, True)
        assert loop.time() - started < 2
        writer.close()
        # A genuine push is refused too while the slots are taken...
        body = json.dumps(fi.private_message()).encode()
        async with h.session.post(h.url("/onebot/v11/http"), data=body, headers={
                "X-Signature": signature(body, KEY), "X-Self-ID": SELF}) as resp:
            assert resp.status == 503
            assert resp.headers["Retry-After"] == "1"
    # ...and accepted as soon as they are free again.
    await asyncio.sleep(0.2)
    await _signed_push_works(h)


async def test_signed_pushes_up_to_the_cap_still_work(make_harness: HarnessFactory) -> None:
    h = await make_harness(secret=KEY)
    body = json.dumps(fi.group_message("长" * 80_000, raw_message=""),
                      ensure_ascii=False).encode()
    assert 200_000 < len(body) < 512 * 1024
    async with h.session.post(h.url("/onebot/v11/http"), data=body, headers={
            "X-Signature": signature(body, KEY), "X-Self-ID": SELF}) as resp:
        assert resp.status == 204
    await wait_until(lambda: len(h.events) == 1)
