"""Typical cases in chat, over the fake OneBot implementation (SQLite and PostgreSQL).

A liaison sends 案例 with a file: the case and its file are stored and the acknowledgement goes
out through the outbox of the same transaction; the admin selects it (入选 案例#N) and the unit
is told in its group; 查案例 finds it; a liaison may not select or return; 退回 #N for
submissions still reaches submissions while 退回 案例#N reaches cases.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.services import cases as cases_svc
from storage.models import AuditEntry, OutboxMessage
from tests.adapters.onebot.fake_impl import seg
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_vocabulary import (
    ADMIN,
    GROUP_ID,
    LIAISON,
    OTHER_LIAISON,
    _start,
    _stop,
    ask,
    message,
    say,
    seed,
)

PAYLOAD = "某街道物业纠纷调解记录".encode() * 40


@pytest.fixture
async def cbot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    bot, _ = await _start(tmp_path, db_url, nlu=False)
    try:
        seed(bot)
        yield bot
    finally:
        await _stop(bot)


async def _submit_with_file(bot: Bot, text: str) -> str:
    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=PAYLOAD)

    files_app = web.Application()
    files_app.router.add_get("/case.docx", serve)
    server = TestServer(files_app, host="127.0.0.1")
    await server.start_server()
    try:
        return await ask(bot, LIAISON, text, segments=[
            seg("file", file="调解案例.docx", file_id="/c1", file_size=str(len(PAYLOAD)),
                url=str(server.make_url("/case.docx")))])
    finally:
        await server.close()


def _case_no(ack: str) -> int:
    return int(ack.split("案例#")[1].split("，")[0])


async def test_case_submitted_selected_told_and_found(cbot: Bot) -> None:
    ack = await _submit_with_file(
        cbot, "案例 物业纠纷调解促成和解 行政调解 某街道组织业主与物业公司调解，双方达成和解协议")
    assert "已收到郑州市的典型案例《物业纠纷调解促成和解》" in ack and "行政调解" in ack
    assert "附件 1 个" in ack
    cid = _case_no(ack)
    # Acknowledged only because it was stored: the answer's outbox row and the case are one commit.
    info = cbot.db.transaction(lambda c: cases_svc.get(c, cid))
    assert (info.unit, info.kind, info.status) == ("郑州市", "行政调解", "submitted")
    assert [(f.name, f.size, f.sha256) for f in info.files] == [
        ("调解案例.docx", len(PAYLOAD), hashlib.sha256(PAYLOAD).hexdigest())]
    stored = cbot.services.files.open_path(info.files[0].sha256)
    assert stored is not None and stored.read_bytes() == PAYLOAD
    causes = cbot.db.transaction(lambda c: c.execute(
        select(OutboxMessage.kind).where(OutboxMessage.cause == f"case:{cid}")).scalars().all())
    assert causes == ["reply"]

    # A liaison may neither select nor return a case: one line saying who may.
    refused = await ask(cbot, OTHER_LIAISON, f"/入选 案例#{cid}")
    assert refused == "只有管理员可以评选典型案例"
    refused = await ask(cbot, OTHER_LIAISON, f"/退回 案例#{cid} 不行")
    assert refused.startswith("只有管理员可以")
    assert cbot.db.transaction(lambda c: cases_svc.get(c, cid)).status == "submitted"

    # The admin selects it; the unit is told in the group it came from.
    before = len(cbot.impl.actions)
    answers = await say(cbot, message(ADMIN, f"入选 案例#{cid}"), replies=2)
    assert any(a.startswith(f"案例#{cid}《物业纠纷调解促成和解》（郑州市，行政调解）已入选")
               for a in answers)
    told = [a for a in cbot.impl.actions[before:]
            if "已入选2026年度典型案例" in "".join(
                s["data"].get("text", "") for s in a["params"]["message"])]
    assert told and told[0]["params"]["group_id"] == GROUP_ID
    assert cbot.db.transaction(lambda c: cases_svc.get(c, cid)).status == "selected"
    audits = cbot.db.transaction(lambda c: c.execute(
        select(AuditEntry.action).where(AuditEntry.target == f"case:{cid}")
        .order_by(AuditEntry.id)).scalars().all())
    assert audits == ["case.create", "case.select"]

    # Anyone registered finds it, with its number, unit, kind and a board link.
    found = await ask(cbot, OTHER_LIAISON, "查案例 物业纠纷")
    assert f"案例#{cid}《物业纠纷调解促成和解》郑州市，行政调解" in found
    assert f"/cases/{cid}" in found
    nothing = await ask(cbot, OTHER_LIAISON, "查案例 防汛抗旱")
    assert "没有找到" in nothing


async def test_return_routes_to_cases_and_submissions_still_work(cbot: Bot) -> None:
    ack = await ask(cbot, LIAISON, "案例 《行政指导助企纾困》 上门指导企业规范经营")
    cid = _case_no(ack)
    assert "行政指导" in ack  # the kind named in the text
    answers = await say(cbot, message(ADMIN, f"退回 案例#{cid} 事实部分不够完整"), replies=2)
    assert f"已退回案例#{cid}《行政指导助企纾困》（郑州市）" in answers
    assert any("已退回：事实部分不够完整" in a for a in answers)
    info = cbot.db.transaction(lambda c: cases_svc.get(c, cid))
    assert (info.status, info.reason) == ("returned", "事实部分不够完整")
    # A returned case is not shown to other units' searches, but to its own.
    assert "没有找到" in await ask(cbot, OTHER_LIAISON, "查案例 助企纾困")
    assert f"案例#{cid}" in await ask(cbot, LIAISON, "查案例 助企纾困")

    # 退回 #N without 案例 is still a submission's return.
    sub_ack = await ask(cbot, LIAISON, "提交 三季度调研报告 正文")
    sid = int(sub_ack.split("#")[1].split("：")[0])
    answers = await say(cbot, message(ADMIN, f"退回 #{sid} 缺少盖章扫描件"), replies=2)
    assert any(a.startswith(f"已退回 #{sid}") for a in answers)


async def test_bad_case_input_is_refused_and_nothing_is_stored(cbot: Bot) -> None:
    said = await ask(cbot, LIAISON, "案例 只有标题")
    assert "请写明案例内容" in said
    assert cbot.db.transaction(lambda c: cases_svc.list_cases(c)) == []
    said = await ask(cbot, ADMIN, "入选 案例#99")
    assert "没有编号为 99 的案例" in said
