"""Conversations end to end: a fake OneBot implementation talks to the real service.

Every test runs on SQLite and on PostgreSQL (the ``db_url`` fixture).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.services import groups, people, submissions, tasks, units
from storage.models import AuditEntry, InboundMessage
from tests.adapters.onebot.fake_impl import GROUP_ID, seg
from tests.e2e.conftest import Bot

GROUP = f"qq:group:{GROUP_ID}"
LIAISON = 30001
OTHER_LIAISON = 30002
ADMIN = 10001
_ids = iter(range(500000, 10**9))


def message(user: int, text: str | None = None, *, segments: list[dict[str, Any]] | None = None,
            reply_to: int | None = None, at_bot: bool = False) -> dict[str, Any]:
    segs = list(segments or [])
    if text is not None:
        segs.append(seg("text", text=text))
    if at_bot:
        segs.insert(0, seg("at", qq="3889000001"))
    if reply_to is not None:
        segs.insert(0, seg("reply", id=str(reply_to)))
    return {
        "time": 1_790_000_000, "self_id": 3889000001, "post_type": "message",
        "message_type": "group", "sub_type": "normal", "message_id": next(_ids),
        "group_id": GROUP_ID, "user_id": user, "anonymous": None, "message": segs,
        "raw_message": text or "", "font": 14,
        "sender": {"user_id": user, "nickname": f"u{user}", "card": "", "role": "member"},
    }


def seed(bot: Bot, *, due: str = "2030-09-30T18:00:00+08:00") -> int:
    from datetime import datetime

    now = bot.services.env.clock.now()

    def go(conn: Any) -> int:
        people.add(conn, identity=f"qq:{LIAISON}", unit="郑州市", role="liaison", name="张三", now=now)
        people.add(conn, identity=f"qq:{OTHER_LIAISON}", unit="开封市", role="liaison", name="李四",
                   now=now)
        people.add(conn, identity=f"qq:{ADMIN}", unit=None, role="admin", name="王管理", now=now)
        groups.add(conn, chat=GROUP, name="地市联络群", units_spec="kind:city", purpose="exchange",
                   account=None, webhook_key=None, now=now)
        t, _ = tasks.add(conn, title="三季度调研报告", due=datetime.fromisoformat(due),
                         units_spec="郑州市,开封市", system="supervision", created_by=None, now=now)
        return t.id

    return bot.db.transaction(go)


async def say(bot: Bot, payload: dict[str, Any], *, replies: int = 1) -> list[str]:
    """Send an event and return the texts of the next ``replies`` sends."""
    before = len(bot.impl.actions)
    await bot.impl.send_event(payload)
    if replies == 0:
        await asyncio.sleep(0.4)
        return [_text(a) for a in bot.impl.actions[before:]]
    await bot.impl.wait_actions(before + replies, within=10)
    return [_text(a) for a in bot.impl.actions[before:before + replies]]


def _text(action: dict[str, Any]) -> str:
    # Actions other than sends (get_version_info before a reaction) say nothing.
    msg = action["params"].get("message", [])
    return "".join(s["data"].get("text", "") for s in msg if s["type"] == "text")


async def test_help_and_silence_when_not_addressed(bot: Bot) -> None:
    seed(bot)
    [answer] = await say(bot, message(LIAISON, "帮助"))
    assert "提交" in answer and "进度" in answer
    # Ordinary chatter in the group is not for the bot.
    assert await say(bot, message(LIAISON, "大家辛苦了"), replies=0) == []


async def test_submit_resubmit_after_return_and_status(bot: Bot) -> None:
    task_id = seed(bot)
    [ack] = await say(bot, message(LIAISON, "提交 三季度调研报告 见正文"))
    assert ack.startswith("已收到 #") and "郑州市" in ack
    # The acknowledgement quotes the message it answers.
    sent = bot.impl.actions[-1]["params"]["message"]
    assert sent[0]["type"] == "reply"
    sid = int(ack.split("#")[1].split("：")[0])
    returned, told = await say(bot, message(ADMIN, f"退回 #{sid} 缺少盖章扫描件"), replies=2)
    assert "已退回" in returned
    assert "缺少盖章扫描件" in told and "重新提交" in told
    [ack2] = await say(bot, message(LIAISON, "提交 修改后的报告"))
    assert "第2版" in ack2
    rows = bot.db.transaction(lambda c: submissions.list_submissions(c, task_id=task_id))
    assert [(s.version, s.status) for s in rows] == [(1, "returned"), (2, "received")]
    [status] = await say(bot, message(ADMIN, "谁没交 三季度调研报告"))
    assert "开封市" in status and "郑州市" not in status


async def test_a_correction_before_review_replaces_the_pending_version(bot: Bot) -> None:
    """A unit does not pile versions onto one under review: the correction replaces it."""
    task_id = seed(bot)
    payload_bytes = "初稿".encode() * 50

    async def serve_file(_: web.Request) -> web.Response:
        return web.Response(body=payload_bytes)

    files_app = web.Application()
    files_app.router.add_get("/draft.docx", serve_file)
    file_server = TestServer(files_app, host="127.0.0.1")
    await file_server.start_server()
    try:
        [ack1] = await say(bot, message(LIAISON, "提交 三季度调研报告 初稿", segments=[
            seg("file", file="初稿.docx", file_id="/d1", file_size=str(len(payload_bytes)),
                url=str(file_server.make_url("/draft.docx")))]))
    finally:
        await file_server.close()
    first = int(ack1.split("#")[1].split("：")[0])
    [ack2] = await say(bot, message(LIAISON, "提交 三季度调研报告 更正后的报告"))
    second = int(ack2.split("#")[1].split("：")[0])
    assert "第2版（已替换尚未审核的第1版）" in ack2
    rows = bot.db.transaction(lambda c: submissions.list_submissions(c, task_id=task_id))
    assert [(s.id, s.version, s.status, s.text) for s in rows] == [
        (first, 1, "superseded", "初稿"), (second, 2, "received", "更正后的报告")]
    # The replaced version keeps its file: what was sent stays traceable.
    assert [(f.name, f.size) for f in rows[0].attachments] == [("初稿.docx", len(payload_bytes))]
    assert rows[1].attachments == ()
    # Reviewing the replaced one is refused and says why; the correction is reviewed.
    [refused] = await say(bot, message(ADMIN, f"通过 #{first} 优"))
    assert f"#{first} 已被本单位更正（现为第 2 版），请审核最新提交" in refused
    [accepted, _told] = await say(bot, message(ADMIN, f"通过 #{second} 优"), replies=2)
    assert "已通过" in accepted
    # Accepted work is not corrected any more.
    [done] = await say(bot, message(LIAISON, "提交 三季度调研报告 再改一版"))
    assert "没有需要提交的任务" in done or "无需" in done
    detail = bot.db.transaction(lambda c: c.execute(
        select(AuditEntry.detail).where(AuditEntry.target == f"submission:{second}",
                                        AuditEntry.action == "submission.create")).scalar_one())
    assert detail["replaces"] == 1


async def test_submit_with_file_downloads_and_hashes_it(bot: Bot) -> None:
    seed(bot)
    payload_bytes = "调研报告正文".encode() * 100

    async def serve_file(_: web.Request) -> web.Response:
        return web.Response(body=payload_bytes)

    files_app = web.Application()
    files_app.router.add_get("/report.docx", serve_file)
    file_server = TestServer(files_app, host="127.0.0.1")
    await file_server.start_server()
    try:
        url = str(file_server.make_url("/report.docx"))
        [ack] = await say(bot, message(LIAISON, "提交 三季度调研报告", segments=[
            seg("file", file="报告.docx", file_id="/abc", file_size=str(len(payload_bytes)),
                url=url)]))
    finally:
        await file_server.close()
    assert "附件1个" in ack
    [sub] = bot.db.transaction(submissions.list_submissions)
    import hashlib

    assert sub.attachments[0].sha256 == hashlib.sha256(payload_bytes).hexdigest()
    assert sub.attachments[0].size == len(payload_bytes)


async def test_permissions(bot: Bot) -> None:
    seed(bot)
    [ack] = await say(bot, message(LIAISON, "提交 三季度调研报告 材料"))
    sid = int(ack.split("#")[1].split("：")[0])
    # A liaison cannot review, even when addressing the bot explicitly.
    [refusal] = await say(bot, message(LIAISON, f"/通过 #{sid} 优"))
    assert "管理员" in refusal
    # Another unit's liaison cannot see this unit's status.
    [refusal2] = await say(bot, message(OTHER_LIAISON, "进度 郑州市"))
    assert "本单位" in refusal2
    # An unbound person is told how to bind.
    [bind_hint] = await say(bot, message(99999, "提交 材料"))
    assert "绑定" in bind_hint
    n = bot.db.transaction(lambda c: c.execute(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("submission.%"))
    ).scalar_one())
    assert n == 1  # only the real submission was audited


async def test_bind_with_invite_code(bot: Bot) -> None:
    seed(bot)
    now = bot.services.env.clock.now()
    code = bot.db.transaction(lambda c: units.create_invite(c, units.require(c, "洛阳市"), now=now))
    [wrong] = await say(bot, message(40001, "绑定 洛阳市 WRONGCODE"))
    assert "邀请码无效" in wrong
    [ok] = await say(bot, message(40001, f"绑定 洛阳 {code}"))
    assert "洛阳市" in ok and "联络员" in ok
    person = bot.db.transaction(lambda c: people.by_identity(c, "qq:40001"))
    assert person is not None and person.unit_name == "洛阳市"


async def test_notice_acknowledgement(bot: Bot) -> None:
    seed(bot)
    queued, _ = await say(bot, message(ADMIN, "通知 周五前报送半年总结"), replies=2)
    assert "已排队" in queued
    await asyncio.sleep(0.3)
    notice_action = next(a for a in bot.impl.actions if "【通知】" in _text(a))
    # The fake implementation gave the notice a message id; reply 收到 to it.
    notice_mid = 90000 + bot.impl.actions.index(notice_action) + 1
    await say(bot, message(LIAISON, "收到", reply_to=notice_mid), replies=0)
    [who] = await say(bot, message(ADMIN, "谁没确认"))
    assert "已确认 1 个单位" in who and "郑州市" not in who.split("：", 1)[1]


async def test_duplicate_delivery_is_processed_once(bot: Bot) -> None:
    seed(bot)
    payload = message(LIAISON, "提交 三季度调研报告 一次")
    await say(bot, payload)
    await say(bot, payload, replies=0)
    rows = bot.db.transaction(submissions.list_submissions)
    assert len(rows) == 1
    stored = bot.db.transaction(lambda c: c.execute(
        select(func.count()).select_from(InboundMessage)).scalar_one())
    assert stored == 1


async def test_healthz_reports_database_and_account(bot: Bot) -> None:
    async with bot.session.get(bot.server.make_url("/healthz")) as resp:
        body = await resp.json()
    assert resp.status == 200 and body["database"]["ok"] is True
    assert body["adapters"]["onebot"][0]["connected"] is True
