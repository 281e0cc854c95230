"""督导建议书 / 签发 in chat, end to end: a fake OneBot implementation talks to the real service
(SQLite and PostgreSQL); the clock stands at Wednesday 2026-07-08 10:00 (Shanghai)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import docx
import pytest
from sqlalchemy import select

from bot.services import tasks
from storage.models import AuditEntry, DocumentRecord
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_vocabulary import (
    ADMIN,
    LIAISON,
    SH,
    _start,
    _stop,
    ask,
    message,
    say,
    seed,
)


@pytest.fixture
async def cbot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    """Commands only (no language layer), on SQLite and PostgreSQL."""
    bot, _ = await _start(tmp_path, db_url, nlu=False)
    try:
        yield bot
    finally:
        await _stop(bot)


def _overdue_for_kaifeng(bot: Bot) -> None:
    now = bot.services.env.clock.now()
    bot.db.transaction(lambda c: tasks.add(
        c, title="半年自查报告", due=datetime(2026, 6, 30, 18, 0, tzinfo=SH), units_spec="开封市",
        system="supervision", created_by=None, now=now))


async def test_documents_letter_and_issue_in_chat(cbot: Bot) -> None:
    seed(cbot)
    _overdue_for_kaifeng(cbot)
    drafted = await ask(cbot, ADMIN, "督导建议书 开封市")
    assert drafted.splitlines() == [
        "已起草 文件#1《关于开封市推进服务型行政执法建设工作的督导建议书》（草稿），提出整改要求3项，"
        "回复期限 2026-07-15。",
        "审核无误后发送“签发 文件#1”编号签发，签发后自动送达单位群和关注公众号的单位领导。",
    ]
    # A liaison who addresses the bot is told who may; one who does not is not answered.
    assert await ask(cbot, LIAISON, "督导建议书 开封市", at_bot=True) == "只有管理员可以起草督导建议书"
    assert await say(cbot, message(LIAISON, "签发 文件#1"), replies=0) == []
    assert await ask(cbot, LIAISON, "签发 文件#1", at_bot=True) == "只有管理员可以签发公文"

    issued = await ask(cbot, ADMIN, "签发 文件#1")
    assert issued.startswith("已签发 文件#1：豫依法行政领办督〔2026〕1号"
                             "《关于开封市推进服务型行政执法建设工作的督导建议书》。"
                             "正在送达：地市联络群；")
    # The fake implementation names no implementation: the group gets the link as a message
    # (tests/e2e/test_e2e_document_delivery.py covers both ways). Wait for it before asking more.
    async with asyncio.timeout(10):
        while True:
            if [a for a in cbot.impl.actions if a.get("action") == "send_group_msg"
                    and "/d/" in str(a["params"])]:
                break
            await asyncio.sleep(0.02)
    again = await ask(cbot, ADMIN, "签发 #1")
    assert again == "文件#1 已于 2026-07-08 签发，文号 豫依法行政领办督〔2026〕1号"
    assert "请写明文件编号" in await ask(cbot, ADMIN, "签发 明天")
    assert "找不到单位" in await ask(cbot, ADMIN, "督导建议书 火星市")

    path = cbot.db.transaction(lambda c: c.execute(
        select(DocumentRecord.path).where(DocumentRecord.id == 1)).scalar_one())
    d = docx.Document(path)
    assert "豫依法行政领办督〔2026〕1号" in [p.text for p in d.paragraphs]
    text = "\n".join(p.text for p in d.paragraphs)
    assert "《半年自查报告》（6月30日截止）至7月8日仍未报送，已逾期7天16小时" in text
    assert Path(path).parent.parent.name == "documents"
    audit = cbot.db.transaction(lambda c: [tuple(r) for r in c.execute(
        select(AuditEntry.action, AuditEntry.target, AuditEntry.channel)
        .where(AuditEntry.action.like("document.%")).order_by(AuditEntry.id))])
    assert audit == [("document.draft", "document:1", "chat"),
                     ("document.issue", "document:1", "chat")]


async def test_documents_help_lists_them_for_admins_only(cbot: Bot) -> None:
    seed(cbot)
    admin = await ask(cbot, ADMIN, "帮助")
    assert "督导建议书 单位" in admin and "签发 文件#编号" in admin
    liaison = await ask(cbot, LIAISON, "帮助")
    assert "督导建议书" not in liaison and "签发" not in liaison
