"""Attachment fetching: segment URL first, then get_file, then get_group_file_url."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.onebot import Downloader, HttpFileFetcher
from bot.core.event import ChatRef, File, Image, StoredFile
from bot.services.files import TEMP_PREFIX, FileStore

from . import fake_impl as fi
from .conftest import Harness, HarnessFactory

SELF = str(fi.SELF_ID)
GROUP = ChatRef.parse(f"qq:group:{fi.GROUP_ID}")
PAYLOAD = b"%PDF-1.7 fake report" * 10


@pytest.fixture
async def files() -> AsyncIterator[TestServer]:
    async def ok(_: web.Request) -> web.Response:
        return web.Response(body=PAYLOAD)

    async def big(_: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()  # no Content-Length: the cap must hold while streaming
        resp.enable_chunked_encoding()
        await resp.prepare(_)
        for _i in range(20):
            await resp.write(b"x" * 1024)
        await resp.write_eof()
        return resp

    async def gone(_: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.add_routes([web.get("/ok", ok), web.get("/big", big), web.get("/gone", gone)])
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


@pytest.fixture
async def fetching(make_harness: HarnessFactory) -> Harness:
    return await make_harness(downloader=HttpFileFetcher(Downloader(max_bytes=4096)))


async def fetch(h: Harness, store: FileStore, segment: File | Image,
                self_id: str = SELF) -> StoredFile | None:
    return await h.adapter.fetch_attachment(self_id, GROUP, segment,
                                            functools.partial(store.writer, "a.bin"))


def content(store: FileStore, stored: StoredFile | None) -> bytes:
    assert stored is not None
    path = store.open_path(stored.sha256)
    assert path is not None
    data = path.read_bytes()
    assert (stored.sha256, stored.size) == (hashlib.sha256(data).hexdigest(), len(data))
    return data


def no_temp_files(store: FileStore) -> bool:
    return not store.root.exists() or not list(store.root.glob(TEMP_PREFIX + "*"))


async def test_segment_url_first(fetching: Harness, files: TestServer, store: FileStore) -> None:
    impl = await fetching.impl()
    seg = Image(file="a.jpg", url=str(files.make_url("/ok")))
    assert content(store, await fetch(fetching, store, seg)) == PAYLOAD
    assert impl.actions == []
    assert no_temp_files(store)


async def test_get_file_base64_when_the_url_fails(fetching: Harness, files: TestServer,
                                                 store: FileStore) -> None:
    impl = await fetching.impl()
    impl.results["get_file"] = {"file": "/tmp/x", "base64": base64.b64encode(PAYLOAD).decode()}
    seg = File(name="r.pdf", file_id="/abc", url=str(files.make_url("/gone")))
    assert content(store, await fetch(fetching, store, seg)) == PAYLOAD
    assert impl.actions[0]["action"] == "get_file"
    assert impl.actions[0]["params"]["file_id"] == "/abc"


async def test_group_file_url_fallback(fetching: Harness, files: TestServer,
                                       store: FileStore) -> None:
    impl = await fetching.impl()
    impl.failures["get_file"] = {"retcode": 1404, "message": "不支持的Api"}
    impl.results["get_group_file_url"] = {"url": str(files.make_url("/ok"))}
    seg = File(name="总结.doc", file_id="/a0b1", busid="102")
    assert content(store, await fetch(fetching, store, seg)) == PAYLOAD
    req = impl.actions[-1]
    assert req["action"] == "get_group_file_url"
    assert req["params"] == {"group_id": fi.GROUP_ID, "file_id": "/a0b1", "busid": 102}


async def test_size_cap_and_failures_give_none(fetching: Harness, files: TestServer,
                                               store: FileStore) -> None:
    impl = await fetching.impl()
    assert await fetch(fetching, store, Image(url=str(files.make_url("/big")))) is None
    assert no_temp_files(store)  # the part written before the cap was passed is gone
    impl.results["get_file"] = {"base64": "!!not base64!!"}
    assert await fetch(fetching, store, File(name="x", file_id="/x")) is None
    impl.results["get_file"] = {"base64": base64.b64encode(b"y" * 5000).decode()}
    assert await fetch(fetching, store, File(name="x", file_id="/x")) is None  # over the cap
    # Never a local path, never a non-http scheme.
    impl.results["get_file"] = {"file": "/etc/passwd", "url": "file:///etc/passwd"}
    assert await fetch(fetching, store, File(name="x", file_id="/x")) is None
    downloader = Downloader()
    assert await downloader.download("file:///etc/passwd",
                                     functools.partial(store.writer, "x")) is None
    # Not connected: the actions fail quietly.
    assert await fetch(fetching, store, File(name="x", file_id="/x"), self_id="424242") is None
    assert not store.root.exists() or not any(p.is_file() for p in store.root.rglob("*"))


async def test_no_downloader_configured(harness: Harness, store: FileStore) -> None:
    assert await fetch(harness, store, Image(url="https://x")) is None
