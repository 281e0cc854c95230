"""延期 and 撤销任务 over the fake OneBot implementation (issue 14), SQLite and PostgreSQL, with the
language model loaded: the canonical commands and natural phrasings change the task through the
parser's slots, the units' group is told once, the change is audited, and a liaison is told who
may. The clock stands at Wednesday 2026-07-08 10:00 (Shanghai); see test_e2e_questions.py for
the seeded tasks (三季度调研报告 9/30, 7月份工作月报 7/31, 第二季度走访记录 7/6, past due).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services import flag_rules, people
from storage.models import AuditEntry, Flag, Task
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_questions import (
    ADMIN,
    KF_LIAISON,
    SH,
    ask,
    message,
    ready,
    say,
    seed,
    start,
    stop,
)


@pytest.fixture
async def cbot(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[Bot, dict[str, int]]]:
    bot = await start(tmp_path, db_url)
    try:
        ids = seed(bot)
        await ready(bot)
        yield bot, ids
    finally:
        await stop(bot)


def _due(bot: Bot, tid: int) -> datetime:
    return bot.db.transaction(lambda c: c.execute(select(Task.due).where(Task.id == tid)).scalar_one())


def _audit(bot: Bot, action: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in bot.db.transaction(lambda c: c.execute(  # type: ignore[misc]
        select(AuditEntry.actor, AuditEntry.target).where(AuditEntry.action == action)
        .order_by(AuditEntry.id)).all())]


async def test_extend_by_command_and_in_plain_words(cbot: tuple[Bot, dict[str, int]]) -> None:
    bot, ids = cbot
    report = ids["report"]
    texts = await say(bot, message(ADMIN, "延期 三季度调研报告 至 12月30日"), replies=2)
    reply = next(t for t in texts if t.startswith("已将"))
    told = next(t for t in texts if t.startswith("【任务变更】"))
    assert reply == (f"已将任务 {report}《三季度调研报告》的截止时间改为 12月30日 18:00，"
                     "已在 1 个群通知相关单位")
    assert told == (f"【任务变更】《三季度调研报告》（任务 {report}）截止时间由 9月30日 18:00 改为 "
                    "12月30日 18:00。\n涉及单位：郑州市、开封市、洛阳市")
    assert _due(bot, report) == datetime(2026, 12, 30, 18, tzinfo=SH)

    # natural phrasing: the task by a fragment, the date relative (next Friday is 17 July)
    texts = await say(bot, message(ADMIN, "帮我把调研报告那个任务延到下周五"), replies=2)
    assert any(t.startswith(f"已将任务 {report}《三季度调研报告》的截止时间改为 7月17日 18:00")
               for t in texts), texts
    assert _due(bot, report) == datetime(2026, 7, 17, 18, tzinfo=SH)
    assert _audit(bot, "task.edit") == [("person:4", f"task:{report}")] * 2

    # a liaison is told who may; nothing changes
    assert await ask(bot, KF_LIAISON, "延期 三季度调研报告 至 12月30日") == "只有管理员可以延期任务"
    assert _due(bot, report) == datetime(2026, 7, 17, 18, tzinfo=SH)
    # a missing date is asked for
    assert await ask(bot, ADMIN, "延期 三季度调研报告") == (
        "请写明新的截止日期，例如：延期 三季度调研报告 至 12月30日")


async def test_cancel_by_command_and_in_plain_words(cbot: tuple[Bot, dict[str, int]]) -> None:
    bot, ids = cbot
    visits, monthly = ids["visits"], ids["monthly"]
    now = bot.services.env.clock.now()
    bot.db.transaction(lambda c: flag_rules.mark_passed_deadlines(c, bot.services.env, now))
    texts = await say(bot, message(ADMIN, f"撤销任务 {visits} 重复发布"), replies=2)
    reply = next(t for t in texts if t.startswith("已撤销"))
    assert reply == (f"已撤销任务 {visits}《第二季度走访记录》（原因：重复发布），撤回旗帜 2 面，"
                     "已在 1 个群通知相关单位")
    assert any(t.startswith(f"【任务撤销】《第二季度走访记录》（任务 {visits}）已撤销，原因：重复发布")
               for t in texts)
    flags = bot.db.transaction(lambda c: c.execute(
        select(Flag.current, Flag.withdrawn_reason).where(Flag.task_id == visits)).all())
    assert [tuple(f) for f in flags] == [(False, "任务已撤销：重复发布")] * 2

    # "N号任务发错了，撤了吧": the number and the reason from the parser's slots
    texts = await say(bot, message(ADMIN, f"{monthly}号任务发错了，撤了吧"), replies=2)
    assert any(t.startswith(f"已撤销任务 {monthly}《7月份工作月报》（原因：发错了）") for t in texts), texts
    assert any(t.startswith(f"已撤销任务 {monthly}《7月份工作月报》") for t in texts), texts
    status = bot.db.transaction(lambda c: c.execute(
        select(Task.status).where(Task.id == monthly)).scalar_one())
    assert status == "cancelled"
    assert [t for _, t in _audit(bot, "task.cancel")] == [f"task:{visits}", f"task:{monthly}"]

    # cancelled twice, a liaison, no reason
    assert await ask(bot, ADMIN, f"撤销任务 {visits} 再撤一次") == (
        f"任务 {visits}《第二季度走访记录》已经撤销过了")
    assert await ask(bot, KF_LIAISON, f"撤销任务 {ids['report']} 不想做") == "只有管理员可以撤销任务"
    assert await ask(bot, ADMIN, f"撤销任务 {ids['report']}") == (
        "请写明撤销的原因，例如：撤销任务 3 重复发布")


async def test_a_removed_person_is_no_longer_recognised(cbot: tuple[Bot, dict[str, int]]) -> None:
    bot, _ = cbot
    assert (await ask(bot, KF_LIAISON, "我的任务")).startswith("开封市")
    now = bot.services.env.clock.now()
    bot.db.transaction(lambda c: people.remove(c, f"qq:{KF_LIAISON}", now=now))
    assert (await ask(bot, KF_LIAISON, "我的任务")).startswith("您还没有绑定单位")
