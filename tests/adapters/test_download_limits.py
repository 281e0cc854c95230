"""Downloads are bounded (how many at once, how many bytes) and stream to disk, hashed on the way.

Memory figures are measured by ``bench/bench_downloads.py``; these tests pin the behaviour with
real HTTP servers and a real FileStore.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.download import ByteBudget, Downloader
from bot.core.event import StoredFile
from bot.services.files import FLUSH_BYTES, TEMP_PREFIX, FileStore, Incoming
from tests.adapters.onebot.conftest import wait_until

MB = 1024 * 1024


def blob(n: int, seed: int = 0) -> bytes:
    """``n`` bytes that differ per seed (distinct hashes)."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return (block * (n // len(block) + 1))[:n]


class FileServer:
    """Serves /sized/N/S (Content-Length) and /chunked/N/S; counts requests in flight."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.pause = asyncio.Event()
        self.pause.set()
        self.halfway = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            n, seed = int(request.match_info["n"]), int(request.match_info["seed"])
            data = blob(n, seed)
            await asyncio.sleep(0.05)  # long enough for the others to arrive
            resp = web.StreamResponse()
            if request.match_info["kind"] == "sized":
                resp.content_length = n
            else:
                resp.enable_chunked_encoding()
            await resp.prepare(request)
            half = n // 2
            await resp.write(data[:half])
            self.halfway.set()
            await self.pause.wait()
            for i in range(half, n, 256 * 1024):
                await resp.write(data[i:i + 256 * 1024])
            await resp.write_eof()
            return resp
        finally:
            self.in_flight -= 1


@pytest.fixture
async def files() -> AsyncIterator[tuple[FileServer, TestServer]]:
    fs = FileServer()
    app = web.Application()
    app.router.add_get("/{kind}/{n}/{seed}", fs.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    yield fs, server
    await server.close()


def loopback_downloader(**kw: object) -> Downloader:
    from bot.adapters.url_policy import UrlPolicy

    return Downloader(policy=UrlPolicy.build(allow=("127.0.0.1",)), **kw)  # type: ignore[arg-type]


def check(store: FileStore, stored: StoredFile | None, expected: bytes) -> None:
    assert stored is not None
    assert stored.sha256 == hashlib.sha256(expected).hexdigest()
    assert stored.size == len(expected)
    path = store.open_path(stored.sha256)
    assert path is not None and path.read_bytes() == expected


def temp_files(store: FileStore) -> list[Path]:
    return list(store.root.glob(TEMP_PREFIX + "*")) if store.root.exists() else []


async def test_streams_into_a_temp_file_in_the_store_then_renames(
        files: tuple[FileServer, TestServer], tmp_path: Path) -> None:
    fs, server = files
    store = FileStore(tmp_path / "files")
    fs.pause.clear()
    size = 12 * MB
    task = asyncio.create_task(loopback_downloader().download(
        str(server.make_url(f"/chunked/{size}/1")), functools.partial(store.writer, "报告.pdf")))
    await asyncio.wait_for(fs.halfway.wait(), 5)
    # Half the body has been sent: it is on disk in the store's directory, not in memory.
    await wait_until(lambda: bool(temp_files(store))
                     and temp_files(store)[0].stat().st_size >= 4 * MB, 5)
    fs.pause.set()
    stored = await task
    check(store, stored, blob(size, 1))
    assert stored is not None and stored.name == "报告.pdf"
    assert temp_files(store) == []


async def test_at_most_concurrency_downloads_at_once(
        files: tuple[FileServer, TestServer], tmp_path: Path) -> None:
    fs, server = files
    store = FileStore(tmp_path / "files")
    downloader = loopback_downloader(concurrency=3)
    urls = [str(server.make_url(f"/sized/{200_000 + i}/{i}")) for i in range(12)]
    results = await asyncio.gather(*(
        downloader.download(u, functools.partial(store.writer, f"f{i}"))
        for i, u in enumerate(urls)))
    for i, stored in enumerate(results):
        check(store, stored, blob(200_000 + i, i))
    assert fs.peak == 3
    assert downloader.peak_active == 3
    assert downloader.budget.free == downloader.budget.total


class CountingStore(FileStore):
    """A FileStore that records how many attachments are being written at once."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.open = 0
        self.peak = 0

    def writer(self, name: str) -> Incoming:
        store = self
        store.open += 1
        store.peak = max(store.peak, store.open)

        class Counted(Incoming):
            async def commit(self) -> StoredFile:
                try:
                    return await super().commit()
                finally:
                    store.open -= 1

            async def discard(self) -> None:
                store.open -= 1
                await super().discard()

        return Counted(self.root, name)


@pytest.mark.parametrize("kind", ["sized", "chunked"])
async def test_bytes_in_flight_are_bounded(files: tuple[FileServer, TestServer],
                                           tmp_path: Path, kind: str) -> None:
    _, server = files
    store = CountingStore(tmp_path / "files")
    # 2 MB files, 3 MB budget: one at a time though eight may run (chunked ones reserve the
    # per-file cap of 4 MB, cut to the budget).
    downloader = loopback_downloader(concurrency=8, inflight_bytes=3 * MB, max_bytes=4 * MB)
    results = await asyncio.gather(*(
        downloader.download(str(server.make_url(f"/{kind}/{2 * MB}/{i}")),
                            functools.partial(store.writer, f"f{i}")) for i in range(5)))
    for i, stored in enumerate(results):
        check(store, stored, blob(2 * MB, i))
    assert store.peak == 1
    assert downloader.budget.free == 3 * MB
    assert temp_files(store) == []


async def test_a_file_over_the_cap_leaves_nothing(files: tuple[FileServer, TestServer],
                                                  tmp_path: Path) -> None:
    _, server = files
    store = FileStore(tmp_path / "files")
    downloader = loopback_downloader(max_bytes=3 * MB)
    for kind in ("sized", "chunked"):
        assert await downloader.download(str(server.make_url(f"/{kind}/{5 * MB}/1")),
                                         functools.partial(store.writer, "x")) is None
    assert temp_files(store) == []
    assert not store.root.exists() or not any(p.is_file() for p in store.root.rglob("*"))
    assert downloader.budget.free == downloader.budget.total


async def test_budget_is_fifo_clamped_and_cancellation_safe() -> None:
    budget = ByteBudget(100)
    order: list[str] = []

    async def take(name: str, n: int, hold: asyncio.Event) -> None:
        async with budget.reserve(n):
            order.append(name)
            await hold.wait()

    first, second, third, huge = (asyncio.Event() for _ in range(4))
    t1 = asyncio.create_task(take("a60", 60, first))
    await asyncio.sleep(0)
    t2 = asyncio.create_task(take("b60", 60, second))
    t3 = asyncio.create_task(take("c10", 10, third))  # would fit, but waits its turn
    await asyncio.sleep(0.01)
    assert order == ["a60"] and budget.free == 40
    first.set()
    await t1
    await asyncio.sleep(0.01)
    assert order == ["a60", "b60", "c10"] and budget.free == 30
    second.set()
    third.set()
    await asyncio.gather(t2, t3)
    assert budget.free == 100
    # A reservation over the whole budget is cut to it: it runs alone instead of never.
    t4 = asyncio.create_task(take("huge", 10**9, huge))
    await asyncio.sleep(0.01)
    assert budget.free == 0
    # A waiter cancelled while waiting gives nothing back and takes nothing.
    waiting = asyncio.create_task(take("never", 50, asyncio.Event()))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    huge.set()
    await t4
    assert budget.free == 100
    assert "never" not in order


async def test_incoming_writes_in_flush_sized_pieces(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    incoming = store.writer("a")
    data = blob(3 * FLUSH_BYTES + 123)
    for i in range(0, len(data), 50_000):
        await incoming.write(data[i:i + 50_000])
        assert len(incoming._buf) < FLUSH_BYTES  # never more than one buffer in memory
    check(store, await incoming.commit(), data)
    # the same bytes again: stored once, the second temp file removed
    again = await store.put("b", data)
    assert again.sha256 == hashlib.sha256(data).hexdigest()
    assert temp_files(store) == []
    with pytest.raises(RuntimeError):
        await incoming.write(b"late")
