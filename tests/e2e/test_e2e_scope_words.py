"""One vocabulary of scope words for every chat command and for plain words (issue 14):
发布任务 … 各地市 / 地市 / 直管县 / 省直部门 / 全部 / unit names and short names, over a fake
OneBot implementation, on SQLite and PostgreSQL; and 谁没交 says 均未提交 when no unit has sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from bot.services import tasks
from storage.models import Task
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_questions import ADMIN, ZZ_LIAISON, ask, ready, seed, start, stop


@pytest.fixture
async def sbot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    bot = await start(tmp_path, db_url)
    try:
        seed(bot)
        await ready(bot)
        yield bot
    finally:
        await stop(bot)


def units_of(bot: Bot, title: str) -> int:
    def go(conn: Connection) -> int:
        tid = conn.execute(select(Task.id).where(Task.title == title)).scalar_one()
        return len(tasks.get(conn, tid).unit_ids)
    return bot.db.transaction(go)


@pytest.mark.parametrize(("scope", "count"), [
    ("各地市", 18), ("地市", 18), ("全部地市", 18), ("直管县", 10), ("省直部门", 38),
    ("郑州市", 1), ("郑州", 1), ("郑州和开封、洛阳", 3),
])
async def test_publish_takes_every_scope_word(sbot: Bot, scope: str, count: int) -> None:
    done = await ask(sbot, ADMIN, f"发布任务 年终总结 截止 12月20日 {scope}")
    assert done == f"已发布任务 4《年终总结》，截止 12月20日 18:00，共 {count} 个单位"
    assert units_of(sbot, "年终总结") == count


async def test_the_same_words_in_plain_phrasing_and_for_notices(sbot: Bot) -> None:
    done = await ask(sbot, ADMIN, "给各地市发个任务：年终总结，12月20日前交")
    assert done.endswith("共 18 个单位"), done
    nope = await ask(sbot, ZZ_LIAISON, "发布任务 年终总结二 截止 12月20日 各地市")
    assert nope == "只有管理员可以发布任务"


async def test_nobody_sent_it_reads_as_such(sbot: Bot) -> None:
    none = await ask(sbot, ADMIN, "谁没交三季度调研报告")
    assert none == "《三季度调研报告》（截止 9月30日 18:00）3 个单位均未提交：郑州市、开封市、洛阳市"


@pytest.mark.parametrize("said", ["通知 各地市 明天上午开会", "给地市发个通知：周五交材料"])
async def test_notices_take_the_same_words(sbot: Bot, said: str) -> None:
    notice = await ask(sbot, ADMIN, said)  # the 18 cities; the group serving three of them
    assert notice.startswith("通知 1 已排队发往 1 个群（18 个单位）"), notice


async def test_urging_takes_the_same_words(sbot: Bot) -> None:
    urged = await ask(sbot, ADMIN, "催办 地市 三季度调研报告")
    assert urged.startswith("已提醒《三季度调研报告》中未提交的 3 个单位"), urged
