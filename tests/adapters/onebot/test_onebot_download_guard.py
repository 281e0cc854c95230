"""Attachment URLs may not reach dudao itself or private services (server-side request forgery).

Real HTTP servers on loopback addresses play the implementation's own file server, another local
service (on 127.0.0.2, or another port when only one port is allowed) and a redirector; dudao's
own port is the adapter's server. Before the fix every one of these URLs was fetched and stored.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.adapters.onebot import Downloader, HttpFileFetcher, UrlPolicy
from bot.core.event import ChatRef, File, Image, StoredFile
from bot.services.files import FileStore

from . import fake_impl as fi
from .conftest import TOKEN, Harness, HarnessFactory, wait_until

SELF = str(fi.SELF_ID)
GROUP = ChatRef.parse(f"qq:group:{fi.GROUP_ID}")
SECRET_PAGE = b"internal: not for chat"
REPORT = b"%PDF-1.7 the implementation's own file"


@dataclass
class Site:
    """A local HTTP server that counts what it was asked for."""

    server: TestServer
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


@pytest.fixture
async def make_site() -> AsyncIterator[Callable[..., Any]]:
    sites: list[Site] = []

    async def make(host: str = "127.0.0.1", body: bytes = SECRET_PAGE) -> Site:
        site: Site

        async def any_path(request: web.Request) -> web.Response:
            site.hits.append(request.path_qs)
            if request.path == "/redirect":
                raise web.HTTPFound(request.query["to"])
            return web.Response(body=body)

        app = web.Application()
        app.router.add_get("/{tail:.*}", any_path)
        server = TestServer(app, host=host, port=0)
        await server.start_server()
        site = Site(server)
        sites.append(site)
        return site

    yield make
    for site in sites:
        await site.server.close()


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


async def guarded(make_harness: HarnessFactory, **policy: Any) -> Harness:
    """A harness whose downloader knows the harness's own port as dudao's port."""
    downloader = Downloader()
    h = await make_harness(downloader=HttpFileFetcher(downloader))
    downloader.policy = UrlPolicy.build(own_port=h.server.port, **policy)
    return h


async def fetch(h: Harness, store: FileStore, segment: File | Image) -> StoredFile | None:
    return await h.adapter.fetch_attachment(SELF, GROUP, segment,
                                            functools.partial(store.writer, "a.pdf"))


def stored_bytes(store: FileStore, stored: StoredFile | None) -> bytes:
    assert stored is not None
    path = store.open_path(stored.sha256)
    assert path is not None
    return path.read_bytes()


async def test_the_implementations_own_file_server_is_allowed(
        make_harness: HarnessFactory, make_site: Any, store: FileStore) -> None:
    h = await guarded(make_harness)
    await h.impl()  # connects from 127.0.0.1
    impl_files = await make_site(body=REPORT)
    stored = await fetch(h, store, File(name="r.pdf", url=impl_files.url("/f/r.pdf")))
    assert stored_bytes(store, stored) == REPORT
    # "localhost" resolves to the implementation's address too
    local = impl_files.url("/f/r.pdf").replace("127.0.0.1", "localhost")
    assert stored_bytes(store, await fetch(h, store, File(name="r.pdf", url=local))) == REPORT
    # a redirect to another of its paths is followed
    hop = impl_files.url("/redirect?to=/f/again.pdf")
    assert stored_bytes(store, await fetch(h, store, Image(url=hop))) == REPORT
    assert impl_files.hits == ["/f/r.pdf", "/f/r.pdf", "/redirect?to=/f/again.pdf", "/f/again.pdf"]


async def test_dudaos_own_port_is_refused(make_harness: HarnessFactory, store: FileStore,
                                          caplog: pytest.LogCaptureFixture) -> None:
    h = await guarded(make_harness)
    await h.impl()  # from 127.0.0.1: the host is the implementation's, the port is ours
    for host in ("127.0.0.1", "localhost"):
        url = f"http://{host}:{h.server.port}/onebot/v11/ws"
        with caplog.at_level(logging.WARNING, "dudao.onebot"):
            assert await fetch(h, store, File(name="x", url=url)) is None
    assert sum("dudao's own port" in r.getMessage() for r in caplog.records) == 2


async def test_another_loopback_service_is_refused(
        make_harness: HarnessFactory, make_site: Any, store: FileStore,
        caplog: pytest.LogCaptureFixture) -> None:
    h = await guarded(make_harness)
    impl = await h.impl()
    other = await make_site(host="127.0.0.2")  # not where the implementation connects from
    impl_files = await make_site(body=REPORT)
    with caplog.at_level(logging.WARNING, "dudao.onebot"):
        assert await fetch(h, store, File(name="x", url=other.url("/admin"))) is None
        # a redirect from an allowed server to it
        hop = impl_files.url("/redirect?to=" + other.url("/admin"))
        assert await fetch(h, store, Image(url=hop)) is None
        # a get_file answer pointing at it (and no group file URL either)
        impl.results["get_file"] = {"url": other.url("/metadata")}
        impl.results["get_group_file_url"] = {"url": other.url("/metadata")}
        assert await fetch(h, store, File(name="x", file_id="/abc")) is None
    assert other.hits == []
    assert impl_files.hits == ["/redirect?to=" + other.url("/admin")]
    assert "127.0.0.2, not a public address" in caplog.text
    # the implementation's inline bytes are still taken
    impl.results["get_file"] = {"base64": "JVBERi0x"}
    assert stored_bytes(store, await fetch(h, store, File(name="x", file_id="/abc"))) == b"%PDF-1"


async def test_a_name_resolving_to_a_refused_address(
        make_harness: HarnessFactory, make_site: Any, store: FileStore) -> None:
    h = await guarded(make_harness)
    # The implementation connects from 127.0.0.2; "localhost" (127.0.0.1) is another host now.
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0)))
    try:
        impl = fi.FakeImpl(session, h.ws_url(), token=TOKEN)
        await impl.connect()
        await wait_until(lambda: h.adapter.peer_of(SELF) == "127.0.0.2")
        site = await make_site()
        url = site.url("/f").replace("127.0.0.1", "localhost")
        assert await fetch(h, store, File(name="x", url=url)) is None
        assert site.hits == []
        own = await make_site(host="127.0.0.2", body=REPORT)
        assert stored_bytes(store, await fetch(h, store, File(name="x", url=own.url("/f")))) \
            == REPORT
        await impl.close()
    finally:
        await session.close()


async def test_allow_list_can_name_the_one_port(
        make_harness: HarnessFactory, make_site: Any, store: FileStore) -> None:
    impl_files = await make_site(body=REPORT)
    other_port = await make_site()  # same address, another port
    port = impl_files.server.port
    h = await guarded(make_harness, allow=(f"127.0.0.1:{port}",), trust_impl_host=False)
    await h.impl()
    assert stored_bytes(store, await fetch(h, store, File(name="x", url=impl_files.url("/r")))) \
        == REPORT
    assert await fetch(h, store, File(name="x", url=other_port.url("/r"))) is None
    assert other_port.hits == []


async def test_http_push_accounts_trust_the_pushing_address(
        make_harness: HarnessFactory, make_site: Any, store: FileStore) -> None:
    import json

    from bot.adapters.onebot.transport import signature

    h = await guarded(make_harness)
    body = json.dumps(fi.heartbeat()).encode()
    async with h.session.post(h.url("/onebot/v11/http"), data=body, headers={
            "X-Signature": signature(body, TOKEN), "X-Self-ID": SELF}) as resp:
        assert resp.status == 204
    assert h.adapter.peer_of(SELF) == "127.0.0.1"
    site = await make_site(body=REPORT)
    assert stored_bytes(store, await fetch(h, store, File(name="x", url=site.url("/r")))) \
        == REPORT
