"""Pictures of a shared work dynamic (发布动态 / 精选) are forwarded to the other exchange groups.

The real app talks to the fake OneBot v11 implementation over a real socket; the picture is
downloaded from a real HTTP server when the liaison posts, stored by hash, and read again when
the outbox sends the share: it must arrive as ``base64://`` of the very same bytes, or, when the
stored file is gone, as the text note the share used to carry.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.core.event import ChatRef, StoredImage, Text
from bot.core.media import without_pictures
from bot.core.message import OutgoingMessage
from bot.core.serialize import dump, load
from storage.models import Dynamic, OutboxMessage
from tests.adapters.onebot.fake_impl import seg
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_vocabulary import (
    ADMIN,
    LIAISON,
    OTHER_GROUP_ID,
    _start,
    _stop,
    _text,
    ask,
    seed,
)

NOTE = "（附图 1 张，见督导看板）"


def png(seed_byte: int) -> bytes:
    """A real (tiny, 1×1) PNG, different per ``seed_byte``."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = zlib.compress(bytes([0, seed_byte, 0, 0]))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


@pytest.fixture
async def pbot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    bot, _ = await _start(tmp_path, db_url, nlu=False)
    try:
        seed(bot)
        yield bot
    finally:
        await _stop(bot)


async def post_dynamic(bot: Bot, pictures: list[bytes]) -> int:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=pictures[int(request.match_info["n"])])

    files_app = web.Application()
    files_app.router.add_get("/p{n}.png", serve)
    files = TestServer(files_app, host="127.0.0.1")
    await files.start_server()
    try:
        posted = await ask(bot, LIAISON, "动态 我市开展执法案卷评查", segments=[
            seg("image", file=f"p{i}.png", url=str(files.make_url(f"/p{i}.png")))
            for i in range(len(pictures))])
    finally:
        await files.close()
    assert f"图片 {len(pictures)} 张" in posted
    return int(bot.db.transaction(lambda c: c.execute(
        select(Dynamic.id).order_by(Dynamic.id.desc())).scalars().first()))


async def share(bot: Bot, command: str) -> dict[str, Any]:
    before = len(bot.impl.actions)
    answer = await ask(bot, ADMIN, command)
    assert "已排队发往 1 个交流群" in answer
    await bot.impl.wait_actions(before + 2, within=10)
    [shared] = [a for a in bot.impl.actions[before:]
                if a["params"].get("group_id") == OTHER_GROUP_ID]
    return shared


def images(action: dict[str, Any]) -> list[bytes]:
    out = []
    for s in action["params"]["message"]:
        if s["type"] == "image":
            file = s["data"]["file"]
            assert file.startswith("base64://")
            out.append(base64.b64decode(file.removeprefix("base64://")))
    return out


async def test_published_dynamic_forwards_the_picture_bytes(pbot: Bot) -> None:
    picture = png(7)
    did = await post_dynamic(pbot, [picture])
    shared = await share(pbot, f"发布动态 {did}")
    assert images(shared) == [picture]
    assert [s["type"] for s in shared["params"]["message"]] == ["text", "image"]
    # Attached, so the count is not announced in the text.
    assert _text(shared) == "【工作动态】郑州市：我市开展执法案卷评查"
    # The outbox row names the stored file; it does not carry the bytes.
    [content] = pbot.db.transaction(lambda c: c.execute(
        select(OutboxMessage.content).where(OutboxMessage.cause == f"dynamic:{did}", OutboxMessage.kind == "dynamic")).scalars().all())
    assert [s["t"] for s in content] == ["text", "stored_image"]
    assert "base64" not in str(content) and len(str(content)) < 500


async def test_missing_stored_picture_falls_back_to_the_note(pbot: Bot) -> None:
    first, second = png(1), png(2)
    did = await post_dynamic(pbot, [first, second])
    # The second picture's file disappeared from the store before the share went out.
    gone = pbot.services.files.open_path(hashlib.sha256(second).hexdigest())
    assert gone is not None
    gone.unlink()
    shared = await share(pbot, f"精选 {did}")  # featuring an unshared dynamic shares it
    assert images(shared) == [first]
    assert _text(shared) == "【精选动态】郑州市：我市开展执法案卷评查" + NOTE


async def test_all_pictures_missing_still_sends_the_text(pbot: Bot) -> None:
    picture = png(3)
    did = await post_dynamic(pbot, [picture])
    path = pbot.services.files.open_path(hashlib.sha256(picture).hexdigest())
    assert path is not None
    path.write_bytes(b"not a picture any more")  # not an image: never sent as one
    shared = await share(pbot, f"发布动态 {did}")
    assert images(shared) == []
    assert _text(shared) == "【工作动态】郑州市：我市开展执法案卷评查" + NOTE


def test_stored_image_round_trips_and_falls_back_once_per_note() -> None:
    chat = ChatRef.parse("qq:group:1")
    pics = tuple(StoredImage(sha256=f"{i:064x}", name=f"p{i}.png", size=10 + i,
                             fallback="（附图 {n} 张，见督导看板）") for i in range(3))
    msg = OutgoingMessage(chat, (Text("正文"), *pics))
    assert load(dump(msg.segments)) == msg.segments
    assert without_pictures(msg).segments == (Text("正文"), Text("（附图 3 张，见督导看板）"))
