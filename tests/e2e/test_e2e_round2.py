"""The language layer's second round, end to end over the fake OneBot implementation (SQLite and
PostgreSQL): a question back names what the bot thinks was meant and 是 acts on it (a request
included); a fragment that fits several tasks is asked about and naming one answers; talk that
contains request words is no request; help in plain words; follow-ups with other particles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import tasks
from storage.models import AuditEntry
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_questions import (
    ADMIN,
    KF_LIAISON,
    SH,
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


async def _add_task(bot: Bot, title: str) -> None:
    now = bot.services.env.clock.now()
    bot.db.transaction(lambda c: tasks.add(
        c, title=title, due=datetime(2026, 7, 20, 18, tzinfo=SH), units_spec="郑州市,开封市",
        system="supervision", created_by=None, now=now))
    import asyncio
    import time

    deadline = time.monotonic() + 15
    while not any(t.title == title for t in bot.services.env.parser.vocabulary.tasks):  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "parser did not learn the new task"
        await asyncio.sleep(0.05)


async def test_a_fragment_that_fits_two_tasks_asks_which(qbot: Bot) -> None:
    await _add_task(qbot, "涉企检查自查报告")
    which = await ask(qbot, ADMIN, "报告谁没交")
    assert which == "您说的是哪一项任务：《涉企检查自查报告》、《三季度调研报告》？请回复任务名称"
    answer = await ask(qbot, ADMIN, "自查报告")
    assert answer == ("《涉企检查自查报告》（截止 7月20日 18:00）2 个单位均未提交："
                      "郑州市、开封市")


async def test_a_request_with_words_left_over_is_confirmed_before_it_is_done(qbot: Bot) -> None:
    asked = await ask(qbot, ADMIN, "催一下开封的月报 领导下午要听汇报")
    assert asked == "您是想催办开封市的《7月份工作月报》吗？"
    reply, reminder = await say(qbot, message(ADMIN, "对 就是这个"), replies=2)
    assert reply.startswith("已提醒《7月份工作月报》中未提交的 1 个单位")
    assert reminder.startswith("【催办】《7月份工作月报》") and "开封市" in reminder
    # a no: nothing is done
    assert await ask(qbot, ADMIN, "催一下开封的月报 领导下午要听汇报") == (
        "您是想催办开封市的《7月份工作月报》吗？")
    assert await ask(qbot, ADMIN, "不是") == "好的，没有执行。请重新说明您的要求"
    urged = qbot.db.transaction(lambda c: c.execute(
        select(AuditEntry.action).where(AuditEntry.action == "task.urge")).scalars().all())
    assert urged == ["task.urge"]
    # 是 to a request does not skip the role check
    assert await ask(qbot, KF_LIAISON, "催一下开封的月报 领导下午要听汇报") == (
        "您是想催办开封市的《7月份工作月报》吗？")
    assert await ask(qbot, KF_LIAISON, "是") == "只有管理员可以催办"


async def test_talk_with_request_words_is_no_request(qbot: Bot) -> None:
    for text in ("收到红包啦谢谢领导", "领导又在催了", "别催了马上交", "郑州的王主任电话多少"):
        assert "没太明白" in await ask(qbot, ZZ_LIAISON, text), text


async def test_help_as_a_question_about_the_bot(qbot: Bot) -> None:
    for text in ("这机器人能查啥", "绑定咋操作", "功能菜单发一下", "不会弄 咋交材料啊"):
        answer = await ask(qbot, ZZ_LIAISON, text)
        assert answer.startswith("可用指令"), text


async def test_follow_ups_with_other_particles_and_states_alone(qbot: Bot) -> None:
    assert (await ask(qbot, ADMIN, "郑州有逾期的吗")).startswith("郑州市有逾期未交的任务 1 项")
    assert (await ask(qbot, ADMIN, "那开封嘞")).startswith("开封市有逾期未交的任务 1 项")
    # the state alone: the same question (开封, yes or no) about what is not handed in
    owed: Any = await ask(qbot, ADMIN, "没交的呢")
    assert owed.startswith("开封市有未提交的任务 3 项：《第二季度走访记录》")
