"""An issued 督导建议书 reaches the unit's group, end to end (SQLite and PostgreSQL).

A fake OneBot implementation that says it is NapCat receives ``upload_group_file`` with a URL it
can fetch (our signed link under ``[http] public_url``); one that says it is Lagrange (whose
upload takes only a path on its own host) receives a group message with the link instead, and the
link downloads the .docx over HTTP, while a tampered or expired link is refused. The officials of
the unit who follow the official account are queued a link. Each send's status is recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import docx
import pytest
from aiohttp.test_utils import TestServer, unused_port
from sqlalchemy import select

from bot.app import SERVICES, create_app
from bot.domain.clock import FixedClock
from bot.services import document_delivery, people
from storage.models import DocumentRecord, OutboxMessage
from tests.adapters.onebot.fake_impl import GROUP_ID, FakeImpl
from tests.e2e.conftest import TOKEN, Bot, make_settings
from tests.e2e.test_e2e_documents import _overdue_for_kaifeng
from tests.e2e.test_e2e_vocabulary import ADMIN, NOW, ask, seed

NAPCAT = {"app_name": "NapCat.Onebot", "app_version": "4.8.95", "protocol_version": "v11"}
LAGRANGE = {"app_name": "Lagrange.OneBot", "app_version": "0.0.3", "protocol_version": "v11"}
OPENID = "oKaifengOfficial01"


async def _start(tmp_path: Path, url: str, version: dict[str, str]) -> Bot:
    port = unused_port()
    public = f"http://127.0.0.1:{port}/"
    settings = make_settings(tmp_path, url, http={"public_url": public})
    app = create_app(settings, clock=FixedClock(NOW))
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    session = aiohttp.ClientSession()
    impl = FakeImpl(session, str(server.make_url("/onebot/v11/ws")), token=TOKEN)
    impl.results["get_version_info"] = version
    await impl.connect()
    return Bot(server, app[SERVICES], session, impl)


@pytest.fixture
async def napcat(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    bot = await _start(tmp_path, db_url, NAPCAT)
    try:
        yield bot
    finally:
        await bot.impl.close()
        await bot.session.close()
        await bot.server.close()


@pytest.fixture
async def lagrange(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    bot = await _start(tmp_path, db_url, LAGRANGE)
    try:
        yield bot
    finally:
        await bot.impl.close()
        await bot.session.close()
        await bot.server.close()


def _prepare(bot: Bot) -> None:
    seed(bot)
    _overdue_for_kaifeng(bot)
    now = bot.services.env.clock.now()
    bot.db.transaction(lambda c: people.add(c, identity=f"mp:{OPENID}", unit="开封市",
                                            role="official", name="钱局", now=now))


async def _issue(bot: Bot) -> str:
    drafted = await ask(bot, ADMIN, "督导建议书 开封市")
    assert "签发后自动送达单位群和关注公众号的单位领导" in drafted
    return await ask(bot, ADMIN, "签发 文件#1")


async def _action(bot: Bot, name: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            for a in bot.impl.actions:
                if a.get("action") == name:
                    return a
            await asyncio.sleep(0.02)


async def _states(bot: Bot, want: int) -> dict[str, str]:
    """chat → state of document 1's deliveries, once ``want`` of them are no longer pending."""
    async with asyncio.timeout(10):
        while True:
            got = bot.db.transaction(lambda c: document_delivery.statuses(c, [1]))[1]
            states = {s.chat: s.state for s in got}
            if sum(1 for s in states.values() if s != "pending") >= want:
                return states
            await asyncio.sleep(0.05)


def _record(bot: Bot) -> tuple[str, str]:
    return bot.db.transaction(lambda c: tuple(c.execute(
        select(DocumentRecord.path, DocumentRecord.sha256).where(DocumentRecord.id == 1)).one()))


async def test_document_to_napcat_is_uploaded_as_a_group_file(napcat: Bot) -> None:
    _prepare(napcat)
    issued = await _issue(napcat)
    assert issued.startswith("已签发 文件#1：豫依法行政领办督〔2026〕1号")
    assert "正在送达：地市联络群、钱局" in issued

    up = await _action(napcat, "upload_group_file")
    params = up["params"]
    assert params["group_id"] == GROUP_ID
    assert params["name"] == ("豫依法行政领办督〔2026〕1号 "
                              "关于开封市推进服务型行政执法建设工作的督导建议书.docx")
    public = napcat.services.settings.http.public_url.rstrip("/")
    assert params["file"].startswith(f"{public}/d/")
    # The implementation fetches the URL itself: it must give the issued file, byte for byte.
    async with napcat.session.get(params["file"]) as resp:
        assert resp.status == 200
        body = await resp.read()
    _, sha = _record(napcat)
    assert hashlib.sha256(body).hexdigest() == sha
    assert not [a for a in napcat.impl.actions if a.get("action") == "send_group_msg"
                and "/d/" in str(a["params"])]

    states = await _states(napcat, 1)
    assert states[f"qq:group:{GROUP_ID}"] == "file"
    # No official account is connected in this test: the official's link waits in the outbox.
    assert states[f"mp:user:{OPENID}"] == "pending"
    mp_text = napcat.db.transaction(lambda c: c.execute(
        select(OutboxMessage.content).where(OutboxMessage.chat == f"mp:user:{OPENID}")).scalar_one())
    assert mp_text[0]["t"] == "file_offer" and f"{public}/d/" in mp_text[0]["fallback"]


async def test_document_to_lagrange_is_a_link_that_downloads(lagrange: Bot) -> None:
    _prepare(lagrange)
    await _issue(lagrange)
    await _action(lagrange, "get_version_info")
    states = await _states(lagrange, 1)
    assert states[f"qq:group:{GROUP_ID}"] == "link"
    assert not [a for a in lagrange.impl.actions if a.get("action") == "upload_group_file"]
    [sent] = [a for a in lagrange.impl.actions if a.get("action") == "send_group_msg"
              and "/d/" in str(a["params"])]
    text = "".join(s["data"].get("text", "") for s in sent["params"]["message"])
    assert text.startswith("开封市：豫依法行政领办督〔2026〕1号《关于开封市推进服务型行政执法")
    assert "8月7日前有效" in text  # 30 days from 7月8日
    url = text.split("请下载查收：", 1)[1].split("（", 1)[0]
    public = lagrange.services.settings.http.public_url.rstrip("/")
    assert url.startswith(f"{public}/d/")

    async with lagrange.session.get(url) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        d = docx.Document(io.BytesIO(await resp.read()))
    assert "豫依法行政领办督〔2026〕1号" in [p.text for p in d.paragraphs]

    # A token changed in any part is refused, and so is every other document's number.
    token = url.rsplit("/", 1)[1]
    doc, expires, mac = token.split(".")
    forged = [f"{doc}.{expires}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
              f"{doc}.{int(expires) + 86400}.{mac}", f"2.{expires}.{mac}", "garbage"]
    for bad in forged:
        async with lagrange.session.get(f"{public}/d/{bad}") as resp:
            assert resp.status == 403, bad
            assert "下载链接无效或已过期" in await resp.text()
    # Expired: the same link 31 days later.
    clock = lagrange.services.env.clock
    assert isinstance(clock, FixedClock)
    clock.set(NOW + timedelta(days=31))
    async with lagrange.session.get(url) as resp:
        assert resp.status == 403


async def test_failed_upload_falls_back_to_the_link_without_pausing(napcat: Bot) -> None:
    """NapCat answers 1200 when it cannot fetch the file (the code risk control also uses):
    the group gets the link at once, recorded as link only, and the account is not paused."""
    napcat.impl.failures["upload_group_file"] = {"retcode": 1200,
                                                 "message": "download file failed"}
    _prepare(napcat)
    await _issue(napcat)
    await _action(napcat, "upload_group_file")
    states = await _states(napcat, 1)
    assert states[f"qq:group:{GROUP_ID}"] == "link"
    [sent] = [a for a in napcat.impl.actions if a.get("action") == "send_group_msg"
              and "/d/" in str(a["params"])]
    assert "请下载查收" in str(sent["params"]["message"])
    # Not treated as risk control: the next reply goes out at once.
    assert "文件#1 已于" in await ask(napcat, ADMIN, "签发 文件#1")
