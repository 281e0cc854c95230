"""The year's recurring work in chat, end to end over the fake OneBot implementation (SQLite and
PostgreSQL): a field-visit record missing its fields is refused with what is missing; a complete
one is received; questions about a quarter's instance and about 四个一 are answered from the
records. The clock stands at Wednesday 2026-07-08 10:00 (Shanghai); the 四个一 were created on
1 June, so the second quarter's record is overdue and the third's is open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.services import groups, people, plans
from storage.models import Submission, Task
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_questions import (
    ADMIN,
    GROUP,
    KF_LIAISON,
    LY_LIAISON,
    SH,
    ZZ_LIAISON,
    ask,
    start,
    stop,
)

CREATED = datetime(2026, 6, 1, 9, 0, tzinfo=SH)


def seed(bot: Bot) -> dict[str, int]:
    def go(conn: Any) -> dict[str, int]:
        for ident, unit, role in ((ZZ_LIAISON, "郑州市", "liaison"), (KF_LIAISON, "开封市", "liaison"),
                                  (LY_LIAISON, "洛阳市", "liaison"), (ADMIN, None, "admin")):
            people.add(conn, identity=f"qq:{ident}", unit=unit, role=role, name="", now=CREATED)
        groups.add(conn, chat=GROUP, name="地市联络群", units_spec="郑州市、开封市和洛阳市",
                   purpose="exchange", account=None, webhook_key=None, now=CREATED)
        plans.preset(conn, bot.services.env, "四个一", year=2026, now=CREATED, actor="cli:test",
                     channel="cli", units_spec="郑州市,开封市,洛阳市")
        return {t.period or t.title: t.id for t in conn.execute(select(Task)).all()}

    return bot.db.transaction(go)


async def ready(bot: Bot, title: str) -> None:
    import asyncio
    import time

    deadline = time.monotonic() + 15
    while not (bot.services.env.parser is not None
               and any(t.title == title for t in bot.services.env.parser.vocabulary.tasks)):
        if time.monotonic() > deadline:
            raise AssertionError("parser did not learn the series instances")
        await asyncio.sleep(0.05)


@pytest.fixture
async def pbot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    bot = await start(tmp_path, db_url)
    try:
        seed(bot)
        await ready(bot, "2026年第三季度调研指导记录")
        yield bot
    finally:
        await stop(bot)


def submissions(bot: Bot) -> int:
    return int(bot.db.transaction(
        lambda c: c.execute(select(func.count()).select_from(Submission)).scalar_one()))


async def test_a_visit_record_needs_its_fields(pbot: Bot) -> None:
    short = await ask(pbot, ZZ_LIAISON, "提交 三季度调研指导记录 时间：7月3日 地点：中牟县城关镇")
    assert short.startswith("《2026年第三季度调研指导记录》的记录需写明时间、地点、发现问题、典型经验，"
                            "还缺：发现问题、典型经验。")
    assert "发现问题：\n典型经验：" in short  # the form to fill in
    assert submissions(pbot) == 0  # nothing half-filled is recorded
    full = await ask(pbot, ZZ_LIAISON, "提交 三季度调研指导记录\n时间：7月3日\n地点：中牟县城关镇\n"
                                       "发现问题：执法公示不全\n典型经验：说理式执法文书")
    assert full.startswith("已收到 #1：郑州市《2026年第三季度调研指导记录》")
    assert submissions(pbot) == 1


async def test_questions_about_an_instance_and_about_the_plan(pbot: Bot) -> None:
    await ask(pbot, ZZ_LIAISON, "提交 三季度调研指导记录 时间：7月3日 地点：中牟县 发现问题：无 "
                                "典型经验：说理式执法")
    q3 = await ask(pbot, ADMIN, "郑州三季度的调研指导记录交了没")
    assert q3 == "郑州市《2026年第三季度调研指导记录》：已提交待审核"
    q2 = await ask(pbot, ADMIN, "郑州二季度调研指导记录交了没")
    assert q2 == "郑州市《2026年第二季度调研指导记录》：未提交，已逾期"
    who = await ask(pbot, ADMIN, "四个一还有谁没完成")
    lines = who.splitlines()
    assert lines[0] == "2026年周期性工作（四个一等），3 个单位："
    assert "·《2026年第二季度调研指导记录》（截止 6月30日 18:00）未提交 3 个：开封市、洛阳市、郑州市" in lines
    assert "·《2026年第三季度调研指导记录》（截止 9月30日 18:00）未提交 2 个：开封市、洛阳市" in lines
    mine = await ask(pbot, KF_LIAISON, "我们单位四个一完成了吗")
    assert mine.splitlines()[0] == ("开封市2026年周期性工作（四个一等）：已报送 0 期，已到期 1 期，"
                                    "全年 6 期。还有 5 期未完成：")
    assert mine.splitlines()[1:3] == ["· 2026年第二季度调研指导记录（截止 6月30日 18:00）：逾期未报送",
                                      "· 2026年第三季度调研指导记录（截止 9月30日 18:00）：未报送"]
    # the fourth quarter's record is not created yet (it opens on 1 September): not owed yet
    assert "第四季度" not in mine
