"""Attachment fetching: segment URL first, then get_file, then get_group_file_url."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.onebot import HttpFileFetcher
from bot.core.event import ChatRef, File, Image

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
async def fetching(make_harness: HarnessFactory) -> Harness:
    return await make_harness(downloader=HttpFileFetcher(max_bytes=4096))


async def test_segment_url_first(fetching: Harness, files: TestServer) -> None:
    impl = await fetching.impl()
    seg = Image(file="a.jpg", url=str(files.make_url("/ok")))
    assert await fetching.adapter.fetch_attachment(SELF, GROUP, seg) == PAYLOAD
    assert impl.actions == []


async def test_get_file_base64_when_the_url_fails(fetching: Harness, files: TestServer) -> None:
    impl = await fetching.impl()
    impl.results["get_file"] = {"file": "/tmp/x", "base64": base64.b64encode(PAYLOAD).decode()}
    seg = File(name="r.pdf", file_id="/abc", url=str(files.make_url("/gone")))
    assert await fetching.adapter.fetch_attachment(SELF, GROUP, seg) == PAYLOAD
    assert impl.actions[0]["action"] == "get_file"
    assert impl.actions[0]["params"]["file_id"] == "/abc"


async def test_group_file_url_fallback(fetching: Harness, files: TestServer) -> None:
    impl = await fetching.impl()
    impl.failures["get_file"] = {"retcode": 1404, "message": "不支持的Api"}
    impl.results["get_group_file_url"] = {"url": str(files.make_url("/ok"))}
    seg = File(name="总结.doc", file_id="/a0b1", busid="102")
    assert await fetching.adapter.fetch_attachment(SELF, GROUP, seg) == PAYLOAD
    req = impl.actions[-1]
    assert req["action"] == "get_group_file_url"
    assert req["params"] == {"group_id": fi.GROUP_ID, "file_id": "/a0b1", "busid": 102}


async def test_size_cap_and_failures_give_none(fetching: Harness, files: TestServer) -> None:
    impl = await fetching.impl()
    assert await fetching.adapter.fetch_attachment(
        SELF, GROUP, Image(url=str(files.make_url("/big")))) is None
    impl.results["get_file"] = {"base64": "!!not base64!!"}
    assert await fetching.adapter.fetch_attachment(
        SELF, GROUP, File(name="x", file_id="/x")) is None
    # Never a local path, never a non-http scheme.
    fetcher = HttpFileFetcher()
    assert await fetcher.download("file:///etc/passwd") is None
    # Not connected: the actions fail quietly.
    assert await fetching.adapter.fetch_attachment(
        "424242", GROUP, File(name="x", file_id="/x")) is None


async def test_no_downloader_configured(harness: Harness) -> None:
    assert await harness.adapter.fetch_attachment(SELF, GROUP, Image(url="https://x")) is None
