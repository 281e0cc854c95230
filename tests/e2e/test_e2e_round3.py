"""The language layer's third round, end to end over the fake OneBot implementation (SQLite and
PostgreSQL), one test per kind of miss of the second blind set: chatter with only a way of asking
gets no confident answer; how a command is typed is help; a submission said with an apology is
recorded; a notice said to the group reaches the groups; a roll call in dialect with traditional
characters is answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, Submission
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_questions import (
    ADMIN,
    ZZ_LIAISON,
    ask,
    message,
    ready,
    say,
    seed,
    start,
    stop,
)


@pytest.fixture
async def qbot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    bot = await start(tmp_path, db_url)
    try:
        seed(bot)
        await ready(bot)
        yield bot
    finally:
        await stop(bot)


async def test_chatter_with_a_question_word_gets_no_answer(qbot: Bot) -> None:
    # before round 3, "中午吃啥" was answered as a list of tasks (confidence 0.92)
    for text in ("中午吃点啥", "明天谁值班", "晚上去哪吃饭"):
        assert "没太明白" in await ask(qbot, ZZ_LIAISON, text), text


async def test_how_a_command_is_typed_is_help(qbot: Bot) -> None:
    for text in ("提交材料要打什么命令", "查红旗榜要怎么弄", "延期的指令是啥"):
        assert (await ask(qbot, ZZ_LIAISON, text)).startswith("可用指令"), text


async def test_a_submission_said_with_an_apology_is_recorded(qbot: Bot) -> None:
    ack = await ask(qbot, ZZ_LIAISON, "补交一下月报 拖了几天 抱歉")
    assert ack.startswith("已收到 #") and "郑州市《7月份工作月报》" in ack, ack
    texts = qbot.db.transaction(lambda c: c.execute(select(Submission.text)).scalars().all())
    assert texts == ["补交一下月报 拖了几天 抱歉"]


async def test_a_notice_said_to_the_group_reaches_it(qbot: Bot) -> None:
    replies = await say(qbot, message(ADMIN, "群里通知一下 各地市 明天上午九点开视频会"), replies=2)
    sent = next(r for r in replies if r.startswith("通知 "))
    assert "已排队发往 1 个群" in sent, sent
    broadcast = next(r for r in replies if r.startswith("【通知】"))
    assert broadcast.startswith("【通知】明天上午九点开视频会")  # the body, without the scope
    audited = qbot.db.transaction(lambda c: c.execute(
        select(AuditEntry.detail).where(AuditEntry.action == "notice.send")).scalars().all())
    assert [d["targets"] for d in audited] == ["kind:city"]  # whom, read after 群里通知一下


async def test_a_roll_call_in_dialect_and_traditional_characters(qbot: Bot) -> None:
    owed = await ask(qbot, ADMIN, "月報還有誰沒交滴 點個名")
    assert owed.startswith("《7月份工作月报》") and "郑州市、开封市、洛阳市" in owed, owed
