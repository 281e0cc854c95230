"""Transport attacks against the whole running service (issue 12, items 2, 6, 7, 8).

Each test attacks a real ``create_app`` server on 127.0.0.1 — whose configured port is the port it
really listens on, so "dudao's own port" is the real one — and then checks that ``/healthz`` and a
normal submission still work.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.adapters.onebot.transport import signature
from bot.app import SERVICES, create_app
from bot.services import submissions
from storage.models import Submission
from tests.adapters.onebot.conftest import wait_until
from tests.adapters.onebot.fake_impl import FakeImpl, seg
from tests.e2e.conftest import TOKEN, Bot, make_settings
from tests.e2e.test_e2e_conversations import LIAISON, message, seed

MakeBot = Callable[..., Awaitable[Bot]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def make_bot(tmp_path: Path) -> AsyncIterator[MakeBot]:
    made: list[Bot] = []

    async def make(**extra: Any) -> Bot:
        port = free_port()
        extra.setdefault("http", {})["port"] = port
        settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/dudao.db", **extra)
        app = create_app(settings)
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        session = aiohttp.ClientSession()
        impl = await FakeImpl(session, str(server.make_url("/onebot/v11/ws")),
                              token=TOKEN).connect()
        bot = Bot(server, app[SERVICES], session, impl)
        made.append(bot)
        seed(bot)
        return bot

    yield make
    for bot in made:
        await bot.impl.close()
        await bot.session.close()
        await bot.server.close()


class FileSite:
    """The implementation's own file server (same host as the implementation)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.in_flight = 0
        self.peak = 0
        self.server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path_qs)
        if request.path == "/redirect":
            raise web.HTTPFound(request.query["to"])
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.05)
            n = int(request.query.get("n", "1000"))
            return web.Response(body=body_of(request.path, n))
        finally:
            self.in_flight -= 1

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))


def body_of(path: str, n: int) -> bytes:
    block = hashlib.sha256(path.encode()).digest()
    return (block * (n // 32 + 1))[:n]


@pytest.fixture
async def site() -> AsyncIterator[FileSite]:
    fs = FileSite()
    app = web.Application()
    app.router.add_get("/{tail:.*}", fs.handle)
    fs.server = TestServer(app, host="127.0.0.1", port=0)
    await fs.server.start_server()
    yield fs
    await fs.server.close()


def sends(bot: Bot) -> list[dict[str, Any]]:
    return [a for a in bot.impl.actions if a["action"].startswith("send_")]


async def say(bot: Bot, payload: dict[str, Any]) -> list[str]:
    """Send an event; the text of the bot's next message (get_file calls are not answers)."""
    before = len(sends(bot))
    await bot.impl.send_event(payload)
    await wait_until(lambda: len(sends(bot)) > before, 10)
    msg = sends(bot)[before]["params"]["message"]
    return ["".join(s["data"].get("text", "") for s in msg if s["type"] == "text")]


def file_seg(url: str = "", file_id: str = "", name: str = "报告.docx") -> dict[str, Any]:
    return seg("file", file=name, file_id=file_id, file_size="1000", url=url)


def stored_files(bot: Bot) -> list[Path]:
    root = bot.services.files.root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def submission_count(bot: Bot) -> int:
    return int(bot.db.transaction(
        lambda c: c.execute(select(func.count()).select_from(Submission)).scalar_one()))


async def still_works(bot: Bot, site: FileSite | None = None) -> None:
    """/healthz answers and a liaison's submission (with a file when a site is given) is taken."""
    async with bot.session.get(bot.server.make_url("/healthz")) as resp:
        assert resp.status == 200
        assert (await resp.json())["database"]["ok"] is True
    before = submission_count(bot)
    segments = [file_seg(site.url("/normal.docx"))] if site is not None else []
    [ack] = await say(bot, message(LIAISON, "提交 三季度调研报告 正常材料", segments=segments))
    assert ack.startswith("已收到 #"), ack
    assert submission_count(bot) == before + 1


# --- item 7: server-side request forgery through attachment URLs ----------------------------------


async def test_attachment_urls_to_dudao_itself_are_refused(make_bot: MakeBot,
                                                           site: FileSite) -> None:
    bot = await make_bot()
    own = str(bot.server.make_url("/healthz"))
    assert bot.server.port == bot.services.settings.http.port
    attacks = [
        [file_seg(own)],  # a file segment pointing at our own port
        [file_seg(site.url("/redirect?to=" + own))],  # a redirect to it
    ]
    for segments in attacks:
        [answer] = await say(bot, message(LIAISON, "提交 三季度调研报告", segments=segments))
        assert "没能下载下来" in answer, answer
    # a get_file answer pointing at it (no URL in the segment)
    bot.impl.results["get_file"] = {"url": own}
    bot.impl.results["get_group_file_url"] = {"url": own}
    [answer] = await say(bot, message(LIAISON, "提交 三季度调研报告",
                                      segments=[file_seg(file_id="/f1")]))
    assert "没能下载下来" in answer, answer
    assert submission_count(bot) == 0
    assert stored_files(bot) == []
    await still_works(bot, site)
    [sub] = bot.db.transaction(submissions.list_submissions)
    assert sub.attachments[0].sha256 == hashlib.sha256(body_of("/normal.docx", 1000)).hexdigest()


async def test_other_local_services_are_refused(make_bot: MakeBot, site: FileSite) -> None:
    bot = await make_bot()
    other = FileSite()  # a service on another loopback address than the implementation's
    app = web.Application()
    app.router.add_get("/{tail:.*}", other.handle)
    other.server = TestServer(app, host="127.0.0.2", port=0)
    await other.server.start_server()
    try:
        for url in (other.url("/secret"), site.url("/redirect?to=" + other.url("/secret")),
                    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"):
            [answer] = await say(bot, message(LIAISON, "提交 三季度调研报告",
                                              segments=[file_seg(url)]))
            assert "没能下载下来" in answer, (url, answer)
        assert other.hits == []
    finally:
        await other.server.close()
    await still_works(bot, site)


# --- item 8: downloads are bounded ---------------------------------------------------------------


async def test_many_messages_with_files_download_a_few_at_a_time(make_bot: MakeBot,
                                                                  site: FileSite) -> None:
    bot = await make_bot(onebot={"download_concurrency": 2, "download_inflight_mb": 64})
    n = 10
    for i in range(n):
        await bot.impl.send_event(message(LIAISON, "提交 三季度调研报告", segments=[
            file_seg(site.url(f"/f{i}.docx?n={300_000 + i}"), name=f"f{i}.docx")]))
    # Counted by acknowledgement, not by message: under load the waiting ones for the group go
    # out merged into one message ([outbox] coalesce_acks).
    await wait_until(lambda: sum(str(a["params"]).count("已收到 #") for a in sends(bot)) >= n, 30)
    assert site.peak == 2
    subs = bot.db.transaction(submissions.list_submissions)
    assert len(subs) == n
    got = sorted(s.attachments[0].sha256 for s in subs)
    assert got == sorted(hashlib.sha256(body_of(f"/f{i}.docx", 300_000 + i)).hexdigest()
                         for i in range(n))
    await still_works(bot, site)


# --- items 2 and 6: unauthenticated bodies and nested JSON ---------------------------------------


async def test_push_floods_and_nested_frames_leave_the_service_working(
        make_bot: MakeBot, site: FileSite) -> None:
    bot = await make_bot()
    url = bot.server.make_url("/onebot/v11/http")

    async def oversized() -> int:
        body = io.BytesIO(b"{" * 2_000_000)
        headers = {"X-Signature": "sha1=" + "0" * 40}
        async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as resp:
            return resp.status

    statuses = await asyncio.gather(*(oversized() for _ in range(20)), return_exceptions=True)
    assert all(s in (413, 503) or isinstance(s, aiohttp.ClientError) for s in statuses), statuses
    deep = json.dumps(message(LIAISON, "提交 三季度调研报告")).replace(
        '"message": [', '"message": [' + "[" * 50_000 + "]" * 50_000 + ",", 1)
    await bot.impl.send_raw(deep)
    body = deep.encode()
    async with bot.session.post(url, data=body,
                                headers={"X-Signature": signature(body, TOKEN)}) as resp:
        assert resp.status == 400
    await still_works(bot, site)
    assert bot.services.adapter("onebot").accounts()["3889000001"].bad_frames >= 1
