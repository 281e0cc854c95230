"""Stored pictures (FileStore, by hash) sent over OneBot 12: uploaded as data, then by file id;
a failed upload or a missing file says the text note instead of failing the send."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from bot.core.event import ChatRef, StoredImage, Text
from bot.core.message import OutgoingMessage
from bot.services.files import FileStore

from .conftest import HarnessFactory, wait_until

PATH = "/onebot/v12/ws"
BOT = "wxid_bot"
ROOM = "123@chatroom"
PICTURE = b"\xff\xd8\xff\xe0" + b"jpeg body" * 50
NOTE = "（附图 {n} 张，见督导看板）"


def status_update() -> dict[str, object]:
    return {"id": "m", "time": time.time(), "type": "meta", "detail_type": "status_update",
            "sub_type": "", "status": {"good": True, "bots": [
                {"self": {"platform": "wechat", "user_id": BOT}, "online": True}]}}


async def test_v12_uploads_the_stored_picture_then_sends_its_file_id(
        make_harness: HarnessFactory, tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    stored = await store.put("a.jpg", PICTURE)
    harness = await make_harness(files=store)
    impl = await harness.impl(PATH, v12=True)
    impl.results["upload_file"] = {"file_id": "fid-1"}
    await impl.send_event(status_update())
    await wait_until(lambda: BOT in harness.adapter.accounts())
    missing = StoredImage(sha256="0" * 64, name="b.jpg", fallback=NOTE)
    msg = OutgoingMessage(ChatRef.parse(f"wx:group:{ROOM}"), (
        Text("正文"), StoredImage(sha256=stored.sha256, name="a.jpg", fallback=NOTE), missing))
    await harness.adapter.send_message(BOT, msg)
    upload, send = impl.actions
    assert upload["action"] == "upload_file"
    assert upload["params"]["type"] == "data" and upload["params"]["name"] == "a.jpg"
    assert base64.b64decode(upload["params"]["data"]) == PICTURE
    assert send["params"]["message"] == [
        {"type": "text", "data": {"text": "正文"}},
        {"type": "image", "data": {"file_id": "fid-1"}},
        {"type": "text", "data": {"text": "（附图 1 张，见督导看板）"}},
    ]


async def test_v12_failed_upload_falls_back_to_the_note(
        make_harness: HarnessFactory, tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    stored = await store.put("a.jpg", PICTURE)
    harness = await make_harness(files=store)
    impl = await harness.impl(PATH, v12=True)
    impl.failures["upload_file"] = {"retcode": 32001, "message": "upload failed"}
    await impl.send_event(status_update())
    await wait_until(lambda: BOT in harness.adapter.accounts())
    msg = OutgoingMessage(ChatRef.parse(f"wx:group:{ROOM}"), (
        Text("正文"), StoredImage(sha256=stored.sha256, name="a.jpg", fallback=NOTE)))
    await harness.adapter.send_message(BOT, msg)
    assert impl.actions[-1]["params"]["message"] == [
        {"type": "text", "data": {"text": "正文"}},
        {"type": "text", "data": {"text": "（附图 1 张，见督导看板）"}},
    ]
