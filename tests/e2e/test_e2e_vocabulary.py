"""The rest of the chat vocabulary end to end (DESIGN §5): 红旗榜 / 旗帜, 动态, 创新 / 通报批评,
近期要交 — and natural phrasings understood by the language layer wired into the running app.

A fake OneBot implementation talks to the real service over a real socket; the clock stands at
Wednesday 2026-07-08 10:00 (Shanghai), so "本周" and "今年" have fixed meanings. Command tests run
on SQLite and PostgreSQL; the natural-language tests (which build the jieba parser) on SQLite.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.app import SERVICES, create_app
from bot.core.nlu import Intent, State
from bot.domain.clock import FixedClock
from bot.services import groups, people, tasks
from storage.models import Attachment, AuditEntry, Dynamic, Flag, ScoreEntry
from tests.adapters.onebot.fake_impl import GROUP_ID, SELF_ID, FakeImpl, seg
from tests.e2e.conftest import TOKEN, Bot, make_settings

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 8, 10, 0, tzinfo=SH)
GROUP = f"qq:group:{GROUP_ID}"
OTHER_GROUP_ID = GROUP_ID + 1
OTHER_GROUP = f"qq:group:{OTHER_GROUP_ID}"
LIAISON = 30001  # 郑州市
OTHER_LIAISON = 30002  # 开封市
OFFICIAL = 30003  # 郑州市
ADMIN = 10001
_ids = iter(range(700000, 10**9))


async def _start(tmp_path: Path, url: str, *, nlu: bool) -> tuple[Bot, Any]:
    extra: dict[str, Any] = {"nlu": {"enabled": nlu, "refresh_s": 0.2}}
    app = create_app(make_settings(tmp_path, url, **extra), clock=FixedClock(NOW))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    impl = await FakeImpl(session, str(server.make_url("/onebot/v11/ws")), token=TOKEN).connect()
    return Bot(server, app[SERVICES], session, impl), session


async def _stop(bot: Bot) -> None:
    await bot.impl.close()
    await bot.session.close()
    await bot.server.close()


@pytest.fixture
async def cbot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    """Commands only (no language layer), on SQLite and PostgreSQL."""
    bot, _ = await _start(tmp_path, db_url, nlu=False)
    try:
        yield bot
    finally:
        await _stop(bot)


@pytest.fixture
async def nbot(tmp_path: Path) -> AsyncIterator[Bot]:
    """The language layer wired in, as `dudao serve` runs it; seeded before the parser loads."""
    bot, _ = await _start(tmp_path, f"sqlite:///{tmp_path}/dudao.db", nlu=True)
    try:
        seed(bot)
        await wait_for(lambda: bot.services.env.parser is not None
                       and any(t.title == "半年工作总结"
                               for t in bot.services.env.parser.vocabulary.tasks),
                       "parser with the seeded tasks")
        yield bot
    finally:
        await _stop(bot)


async def wait_for(cond: Any, what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def message(user: int, text: str | None = None, *, segments: list[dict[str, Any]] | None = None,
            at_bot: bool = False, group: int = GROUP_ID) -> dict[str, Any]:
    segs = list(segments or [])
    if text is not None:
        segs.append(seg("text", text=text))
    if at_bot:
        segs.insert(0, seg("at", qq=str(SELF_ID)))
    return {
        "time": 1_790_000_000, "self_id": SELF_ID, "post_type": "message",
        "message_type": "group", "sub_type": "normal", "message_id": next(_ids),
        "group_id": group, "user_id": user, "anonymous": None, "message": segs,
        "raw_message": text or "", "font": 14,
        "sender": {"user_id": user, "nickname": f"u{user}", "card": "", "role": "member"},
    }


def _text(action: dict[str, Any]) -> str:
    return "".join(s["data"].get("text", "") for s in action["params"]["message"]
                   if s["type"] == "text")


async def say(bot: Bot, payload: dict[str, Any], *, replies: int = 1) -> list[str]:
    """Send an event and return the texts of the next ``replies`` sends (none: wait and see)."""
    before = len(bot.impl.actions)
    await bot.impl.send_event(payload)
    if replies == 0:
        await asyncio.sleep(0.5)
        return [_text(a) for a in bot.impl.actions[before:]]
    await bot.impl.wait_actions(before + replies, within=10)
    return [_text(a) for a in bot.impl.actions[before:before + replies]]


async def ask(bot: Bot, user: int, text: str, **kw: Any) -> str:
    [answer] = await say(bot, message(user, text, **kw))
    return answer


def seed(bot: Bot) -> dict[str, int]:
    now = bot.services.env.clock.now()

    def go(conn: Any) -> dict[str, int]:
        people.add(conn, identity=f"qq:{LIAISON}", unit="郑州市", role="liaison", name="张三", now=now)
        people.add(conn, identity=f"qq:{OTHER_LIAISON}", unit="开封市", role="liaison", name="李四",
                   now=now)
        people.add(conn, identity=f"qq:{OFFICIAL}", unit="郑州市", role="official", name="赵局",
                   now=now)
        people.add(conn, identity=f"qq:{ADMIN}", unit=None, role="admin", name="王管理", now=now)
        groups.add(conn, chat=GROUP, name="地市联络群", units_spec="郑州市,开封市",
                   purpose="exchange", account=None, webhook_key=None, now=now)
        groups.add(conn, chat=OTHER_GROUP, name="直管县联络群", units_spec="kind:county",
                   purpose="exchange", account=None, webhook_key=None, now=now)
        report, _ = tasks.add(conn, title="三季度调研报告",
                              due=datetime(2026, 7, 10, 18, 0, tzinfo=SH),
                              units_spec="郑州市,开封市", system="supervision", created_by=None,
                              now=now)
        summary, _ = tasks.add(conn, title="半年工作总结",
                               due=datetime(2026, 7, 31, 18, 0, tzinfo=SH),
                               units_spec="郑州市,开封市,洛阳市", system="supervision",
                               created_by=None, now=now)
        return {"report": report.id, "summary": summary.id}

    return bot.db.transaction(go)


async def red_flag_for_zhengzhou(bot: Bot) -> None:
    ack = await ask(bot, LIAISON, "提交 三季度调研报告 正文见附件")
    sid = int(ack.split("#")[1].split("：")[0])
    accepted, _ = await say(bot, message(ADMIN, f"通过 #{sid} 优"), replies=2)
    assert "记红旗" in accepted


def _audit(bot: Bot, prefix: str) -> list[tuple[str, str]]:
    return bot.db.transaction(lambda c: [(r.action, r.target) for r in c.execute(
        select(AuditEntry.action, AuditEntry.target)
        .where(AuditEntry.action.like(f"{prefix}%")).order_by(AuditEntry.id))])


# ------------------------------------------------------------------ 红旗榜 / 旗帜 / 创新 / 通报批评


async def test_flags_board_innovation_and_incident(cbot: Bot) -> None:
    seed(cbot)
    await red_flag_for_zhengzhou(cbot)
    innov = await ask(cbot, ADMIN, "创新 郑州市 推行非现场执法监管 3")
    assert innov == "已记录创新举措：郑州市记红旗一面、加 3 分（创新举措：推行非现场执法监管）"
    incident = await ask(cbot, ADMIN, "通报批评 开封市 执法人员野蛮执法")
    assert incident == ("已记录通报批评：开封市记黄旗一面、扣 2 分（野蛮执法：执法人员野蛮执法）")

    board = await ask(cbot, OTHER_LIAISON, "红旗榜")
    assert board.splitlines() == [
        "2026年红旗榜（按红旗数、得分排序，2 个单位有记录）：",
        "1. 郑州市 红旗 2、蓝旗 0、黄旗 0，加 3 分，得分 9",
        "2. 开封市 红旗 0、蓝旗 0、黄旗 1，扣 2 分，得分 -3",
    ]
    mine = await ask(cbot, LIAISON, "我单位旗帜")
    assert mine.splitlines() == [
        "郑州市（2026年）：红旗 2、蓝旗 0、黄旗 0，加 3 分，得分 9",
        "· 红旗：创新举措：推行非现场执法监管",
        "· 红旗《三季度调研报告》：按时完成，成效显著",
    ]
    # An official sees their unit; an admin names one; a liaison may not look at another unit.
    assert (await ask(cbot, OFFICIAL, "旗帜 郑州市")).startswith("郑州市（2026年）：红旗 2")
    assert (await ask(cbot, ADMIN, "旗帜 开封")).startswith("开封市（2026年）：红旗 0、蓝旗 0、黄旗 1")
    assert "请写明单位" in await ask(cbot, ADMIN, "旗帜")
    assert "只能查询本单位" in await ask(cbot, LIAISON, "旗帜 开封市")
    # Another year has nothing yet.
    assert await ask(cbot, LIAISON, "红旗榜 2025年") == "2025年还没有任何单位获得旗帜或加减分"

    rows = cbot.db.transaction(lambda c: c.execute(
        select(Flag.source, Flag.color, Flag.task_id, Flag.period, ScoreEntry.points)
        .join(ScoreEntry, (ScoreEntry.unit_id == Flag.unit_id) & (ScoreEntry.kind == Flag.source))
        .order_by(Flag.id)).all())
    assert [tuple(r) for r in rows] == [("innovation", "red", None, "2026", 3.0),
                                        ("incident", "yellow", None, "2026", -2.0)]
    assert [a for a, _ in _audit(cbot, "flag.")] == ["flag.innovation", "flag.incident"]


async def test_records_are_admin_only_and_checked(cbot: Bot) -> None:
    seed(cbot)
    # A liaison saying the word in passing is talking to people; addressing the bot is refused.
    assert await say(cbot, message(LIAISON, "创新 郑州市 我们也想搞点创新"), replies=0) == []
    assert "管理员" in await ask(cbot, LIAISON, "/通报批评 开封市 乱罚款")
    # A command word run into ordinary words is talk, not a command — for admins too.
    assert await say(cbot, message(ADMIN, "创新驱动发展是关键"), replies=0) == []
    assert await say(cbot, message(LIAISON, "旗帜鲜明讲政治，大家加油"), replies=0) == []
    assert await say(cbot, message(LIAISON, "动态调整执法事项清单的通知大家看了吗"),
                     replies=0) == []
    assert cbot.db.transaction(lambda c: c.execute(select(Dynamic.id)).all()) == []
    assert "找不到单位" in await ask(cbot, ADMIN, "创新 火星市 建立制度")
    assert "请写明说明" in await ask(cbot, ADMIN, "通报批评 开封市")
    assert "分值" in await ask(cbot, ADMIN, "创新 郑州市 建立制度 500")
    both = await ask(cbot, ADMIN, "创新 郑州市、开封市 联合开展跨区域执法协作 1.5分")
    assert both.startswith("已记录创新举措：郑州市、开封市各记红旗一面、加 1.5 分")
    # A number that is part of the text is not the value.
    glued = await ask(cbot, ADMIN, "创新 洛阳市 执法案卷评查100")
    assert "加 2 分" in glued and "评查100" in glued
    # Refused attempts leave no trace; each recorded unit is audited.
    assert [a for a, _ in _audit(cbot, "flag.")] == ["flag.innovation"] * 3


# ------------------------------------------------------------------------------------- 动态


async def test_dynamics_post_share_feature_and_list(cbot: Bot) -> None:
    seed(cbot)
    picture = b"\x89PNG fake picture bytes" * 10

    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=picture)

    files_app = web.Application()
    files_app.router.add_get("/p.png", serve)
    files = TestServer(files_app, host="127.0.0.1")
    await files.start_server()
    try:
        posted = await ask(cbot, LIAISON, "动态 今天上午我市召开行政执法工作推进会", segments=[
            seg("image", file="p.png", url=str(files.make_url("/p.png")))])
    finally:
        await files.close()
    did = cbot.db.transaction(lambda c: c.execute(select(Dynamic.id)).scalar_one())
    assert posted == f"已收到郑州市的工作动态（编号 {did}，图片 1 张），管理员审核后将分享到各交流群"
    assert cbot.db.transaction(lambda c: c.execute(
        select(Attachment.size).where(Attachment.dynamic_id == did)).scalar_one()) == len(picture)

    # Pending: the unit's own liaison sees it, another unit's does not.
    own = await ask(cbot, LIAISON, "最新动态")
    assert "今天上午我市召开行政执法工作推进会" in own and "待发布" in own
    assert await ask(cbot, OTHER_LIAISON, "最新动态") == "还没有工作动态"
    # Only liaisons post; only admins publish.
    assert "联络员" in await ask(cbot, ADMIN, "动态 我们也来一条")
    assert "管理员" in await ask(cbot, OTHER_LIAISON, f"/发布动态 {did}")

    before = len(cbot.impl.actions)
    published = await ask(cbot, ADMIN, f"发布动态 {did}")
    assert published == f"已将郑州市的工作动态 {did} 发布，已排队发往 1 个交流群"
    await cbot.impl.wait_actions(before + 2, within=10)
    shared = [a for a in cbot.impl.actions[before:] if "【工作动态】" in _text(a)]
    # Shared to the other exchange group only, not back where it came from.
    assert [a["params"]["group_id"] for a in shared] == [OTHER_GROUP_ID]
    assert _text(shared[0]) == ("【工作动态】郑州市：今天上午我市召开行政执法工作推进会"
                                "（附图 1 张，见督导看板）")
    assert "已经发布过" in await ask(cbot, ADMIN, f"发布动态 {did}")
    assert "此前已分享过" in await ask(cbot, ADMIN, f"精选 {did}")
    seen = await ask(cbot, OTHER_LIAISON, "动态")  # a bare 动态 lists
    assert "郑州市：今天上午我市召开行政执法工作推进会" in seen and "精选" in seen
    assert "请写明动态编号" in await ask(cbot, ADMIN, "精选")
    assert [a for a, _ in _audit(cbot, "dynamic.")] == [
        "dynamic.create", "dynamic.publish", "dynamic.feature"]


# -------------------------------------------------------------------------------- 近期要交


async def test_due_soon(cbot: Bot) -> None:
    seed(cbot)
    week = await ask(cbot, LIAISON, "近期要交")
    assert week.splitlines() == [
        "郑州市7月8日至7月15日截止的任务 1 项：",
        "· 三季度调研报告，截止 7月10日 18:00，未提交",
    ]
    month = await ask(cbot, LIAISON, "近期要交 本月")
    assert month.splitlines()[0] == "郑州市7月1日至7月31日截止的任务 2 项："
    overall = await ask(cbot, ADMIN, "近期任务 本月")
    assert overall.splitlines() == [
        "7月1日至7月31日截止的任务 2 项：",
        "· 三季度调研报告，截止 7月10日 18:00，2/2 个单位未交",
        "· 半年工作总结，截止 7月31日 18:00，3/3 个单位未交",
    ]
    assert "只能查询本单位" in await ask(cbot, LIAISON, "近期要交 开封市")
    assert await ask(cbot, LIAISON, "近期要交 下个月") == "郑州市8月1日至8月31日没有截止的任务"


async def test_help_lists_the_new_commands_by_role(cbot: Bot) -> None:
    seed(cbot)
    liaison = await ask(cbot, LIAISON, "帮助")
    for usage in ("红旗榜", "旗帜 [单位]", "动态 内容", "最新动态", "近期要交"):
        assert usage in liaison
    assert "创新" not in liaison and "发布动态" not in liaison
    admin = await ask(cbot, ADMIN, "帮助")
    for usage in ("创新 单位 说明 [分值]", "通报批评 单位 说明 [分值]", "发布动态 编号", "精选 编号"):
        assert usage in admin


# ---------------------------------------------------------------- natural language, wired in


async def test_natural_status_questions_get_exact_answers(nbot: Bot) -> None:
    owes = await ask(nbot, ADMIN, "郑州还有哪些没交？", at_bot=True)
    assert owes == ("郑州市还有 2 项未提交：三季度调研报告（截止 7月10日 18:00）；"
                    "半年工作总结（截止 7月31日 18:00）")
    due = await ask(nbot, LIAISON, "这周有什么要交的", at_bot=True)
    assert due.splitlines() == ["郑州市7月6日至7月12日截止的任务 1 项：",
                                "· 三季度调研报告，截止 7月10日 18:00，未提交"]
    deadline = await ask(nbot, OTHER_LIAISON, "半年工作总结什么时候截止", at_bot=True)
    assert deadline == "《半年工作总结》截止 7月31日 18:00（还有 23 天）"


async def test_natural_flags_and_board(nbot: Bot) -> None:
    await red_flag_for_zhengzhou(nbot)
    mine = await ask(nbot, LIAISON, "我们单位今年几面红旗", at_bot=True)
    assert mine.splitlines()[0] == "郑州市（2026年）：红旗 1、蓝旗 0、黄旗 0，得分 3"
    board = await ask(nbot, OFFICIAL, "哪个单位红旗最多？", at_bot=True)
    assert board.splitlines()[:2] == ["2026年红旗榜（按红旗数、得分排序，1 个单位有记录）：",
                                      "1. 郑州市 红旗 1、蓝旗 0、黄旗 0，得分 3"]
    # Said in the group without addressing the bot: people talking to people.
    assert await say(nbot, message(LIAISON, "我们单位今年几面红旗"), replies=0) == []
    assert await say(nbot, message(LIAISON, "旗帜鲜明讲政治"), replies=0) == []
    # Run together, the command word still works when the language layer reads it so.
    assert (await ask(nbot, LIAISON, "旗帜郑州")).startswith("郑州市（2026年）：红旗 1")
    refused = await ask(nbot, LIAISON, "开封今年几面红旗", at_bot=True)
    assert "只能查询本单位" in refused


async def test_natural_dynamics_records_and_clarification(nbot: Bot) -> None:
    posted = await ask(nbot, LIAISON, "发一条动态：郑州市开展送法进企业活动", at_bot=True)
    assert posted.startswith("已收到郑州市的工作动态（编号 ")
    listed = await ask(nbot, ADMIN, "最近有什么动态", at_bot=True)
    assert "郑州市开展送法进企业活动" in listed
    innov = await ask(nbot, ADMIN, "给郑州记一次创新：上线执法信息平台", at_bot=True)
    assert innov == "已记录创新举措：郑州市记红旗一面、加 2 分（创新举措：上线执法信息平台）"
    # Ambiguous: a bare unit name gets a question back, never a guess.
    assert await ask(nbot, ADMIN, "郑州呢？", at_bot=True) == "您是想查询郑州市的进度吗？"
    assert await say(nbot, message(LIAISON, "郑州呢？"), replies=0) == []


async def test_new_task_reaches_the_parser_without_restart(nbot: Bot) -> None:
    old = nbot.services.env.parser
    assert old is not None
    published = await ask(nbot, ADMIN, "发布任务 安全生产执法检查 截止 7月20日 郑州市,开封市")
    assert "安全生产执法检查" in published
    await wait_for(lambda: nbot.services.env.parser is not old, "the rebuilt parser")
    new = nbot.services.env.parser
    assert new is not None
    parse = new.parse("安全生产执法检查谁没交", now=NOW)
    assert parse.intent is Intent.QUERY and len(parse.task_ids) == 1
    assert parse.query is not None and parse.query.states == (State.OWED,)
    # The old parser was swapped out, not modified.
    assert old.parse("安全生产执法检查谁没交", now=NOW).task_ids == ()
    who = await ask(nbot, ADMIN, "安全生产执法检查谁没交", at_bot=True)
    assert who == "《安全生产执法检查》（截止 7月20日 18:00）2 个单位均未提交：郑州市、开封市"


async def test_long_board_is_summarised_with_a_link(cbot: Bot) -> None:
    seed(cbot)
    cities = "郑州市、开封市、洛阳市、平顶山市、安阳市、鹤壁市、新乡市、焦作市、濮阳市、许昌市、漯河市、三门峡市"
    recorded = await ask(cbot, ADMIN, f"创新 {cities} 推行柔性执法")
    assert recorded.startswith("已记录创新举措：郑州市、开封市") and "各记红旗一面" in recorded
    board = (await ask(cbot, LIAISON, "红旗榜")).splitlines()
    assert board[0] == "2026年红旗榜（按红旗数、得分排序，12 个单位有记录）："
    assert len(board) == 12 and board[1] == "1. 郑州市 红旗 1、蓝旗 0、黄旗 0，加 2 分，得分 5"
    base = cbot.services.env.board_url
    assert board[-1] == f"……其余 2 个单位见督导看板 {base}/charts"
