"""Questions in plain words, end to end (issue 15): a fake OneBot implementation talks to the
running service, with the language model loaded, on SQLite and on PostgreSQL.

One test per kind of message the issue lists: states with new words, answer forms, flags as a
question about units, several units or a kind, a task by fragment or not named, admin actions in
free form (with role refusals), unknown names, help in plain words, tolerance (traditional
characters, fillers, emoji, a pinyin slip), and conversations (是 / 不是，是开封 / 那开封呢 / 退回的
呢, kept in the database). The clock stands at Wednesday 2026-07-08 10:00 (Shanghai).
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
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.app import SERVICES, create_app
from bot.domain.clock import FixedClock
from bot.services import groups, notices, people, records, submissions, tasks
from storage.models import AuditEntry, Conversation, Task
from tests.adapters.onebot.fake_impl import GROUP_ID, SELF_ID, FakeImpl, seg
from tests.e2e.conftest import TOKEN, Bot, make_settings

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 8, 10, 0, tzinfo=SH)
GROUP = f"qq:group:{GROUP_ID}"
ZZ_LIAISON = 30001  # 郑州市
KF_LIAISON = 30002  # 开封市
LY_LIAISON = 30004  # 洛阳市
ADMIN = 10001
_ids = iter(range(900000, 10**9))


async def start(tmp_path: Path, url: str, **nlu: Any) -> Bot:
    settings = make_settings(tmp_path, url, nlu={"enabled": True, "refresh_s": 0.2, **nlu})
    app = create_app(settings, clock=FixedClock(NOW))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    impl = await FakeImpl(session, str(server.make_url("/onebot/v11/ws")), token=TOKEN).connect()
    return Bot(server, app[SERVICES], session, impl)


async def stop(bot: Bot) -> None:
    await bot.impl.close()
    await bot.session.close()
    await bot.server.close()


def seed(bot: Bot) -> dict[str, int]:
    now = bot.services.env.clock.now()

    def go(conn: Any) -> dict[str, int]:
        people.add(conn, identity=f"qq:{ZZ_LIAISON}", unit="郑州市", role="liaison", name="张三",
                   now=now)
        people.add(conn, identity=f"qq:{KF_LIAISON}", unit="开封市", role="liaison", name="李四",
                   now=now)
        people.add(conn, identity=f"qq:{LY_LIAISON}", unit="洛阳市", role="liaison", name="王五",
                   now=now)
        people.add(conn, identity=f"qq:{ADMIN}", unit=None, role="admin", name="王管理", now=now)
        groups.add(conn, chat=GROUP, name="地市联络群", units_spec="郑州市、开封市和洛阳市",
                   purpose="exchange", account=None, webhook_key=None, now=now)
        report, _ = tasks.add(conn, title="三季度调研报告", due=datetime(2026, 9, 30, 18, tzinfo=SH),
                              units_spec="郑州市,开封市,洛阳市", system="supervision",
                              created_by=None, now=now)
        monthly, _ = tasks.add(conn, title="7月份工作月报", due=datetime(2026, 7, 31, 18, tzinfo=SH),
                               units_spec="郑州市,开封市,洛阳市", system="supervision",
                               created_by=None, now=now)
        visits, _ = tasks.add(conn, title="第二季度走访记录", due=datetime(2026, 7, 6, 18, tzinfo=SH),
                              units_spec="郑州市,开封市", system="supervision", created_by=None,
                              now=now)
        return {"report": report.id, "monthly": monthly.id, "visits": visits.id}

    return bot.db.transaction(go)


async def ready(bot: Bot) -> None:
    """The parser knows the seeded tasks (it was built before they were added)."""
    deadline = time.monotonic() + 15
    while True:
        p = bot.services.env.parser
        if p is not None and any(t.title == "第二季度走访记录" for t in p.vocabulary.tasks):
            return
        if time.monotonic() > deadline:
            raise AssertionError("parser did not learn the seeded tasks")
        await asyncio.sleep(0.05)


@pytest.fixture
async def qbot(tmp_path: Path, db_url: str) -> AsyncIterator[Bot]:
    bot = await start(tmp_path, db_url)
    try:
        seed(bot)
        await ready(bot)
        yield bot
    finally:
        await stop(bot)


def message(user: int, text: str, *, at_bot: bool = True, reply_to: str | None = None
            ) -> dict[str, Any]:
    segs = [seg("text", text=text)]
    if at_bot:
        segs.insert(0, seg("at", qq=str(SELF_ID)))
    if reply_to is not None:
        segs.insert(0, seg("reply", id=reply_to))
    return {
        "time": 1_790_000_000, "self_id": SELF_ID, "post_type": "message",
        "message_type": "group", "sub_type": "normal", "message_id": next(_ids),
        "group_id": GROUP_ID, "user_id": user, "anonymous": None, "message": segs,
        "raw_message": text, "font": 14,
        "sender": {"user_id": user, "nickname": f"u{user}", "card": "", "role": "member"},
    }


def _text(action: dict[str, Any]) -> str:
    return "".join(s["data"].get("text", "") for s in action["params"]["message"]
                   if s["type"] == "text").strip()


async def say(bot: Bot, payload: dict[str, Any], *, replies: int = 1) -> list[str]:
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


def submit(bot: Bot, task_id: int, unit: str) -> int:
    now = bot.services.env.clock.now()

    def go(conn: Any) -> int:
        uid = {"郑州市": ZZ_LIAISON, "开封市": KF_LIAISON, "洛阳市": LY_LIAISON}[unit]
        p = people.by_identity(conn, f"qq:{uid}")
        assert p is not None and p.unit_id is not None
        return submissions.submit(conn, task_id=task_id, unit_id=p.unit_id, person_id=p.id,
                                  text="见附件", files=(), now=now, source_chat=GROUP,
                                  source_message_id="m").id

    return bot.db.transaction(go)


# -- states, forms, subjects ------------------------------------------------------------------


async def test_states_the_old_parser_had_no_word_for(qbot: Bot) -> None:
    t = seed_ids(qbot)
    # 第二季度走访记录 was due on 07-06: 郑州 and 开封 are overdue with it
    overdue = await ask(qbot, ADMIN, "开封有逾期的吗")
    assert overdue == "开封市有逾期未交的任务 1 项：《第二季度走访记录》截止 7月6日 18:00"
    assert await ask(qbot, ADMIN, "洛阳有超期的吗") == "洛阳市没有逾期未交的任务"
    submit(qbot, t["monthly"], "开封市")
    who = await ask(qbot, ADMIN, "哪几家报了月报")
    assert who == "《7月份工作月报》（截止 7月31日 18:00）已提交的单位（1 个）：开封市"


async def test_answer_forms_count_yes_no_when_detail(qbot: Bot) -> None:
    t = seed_ids(qbot)
    submit(qbot, t["report"], "郑州市")
    count = await ask(qbot, ADMIN, "三季度调研报告交了几家")
    assert count == "《三季度调研报告》（截止 9月30日 18:00）3 个单位中已提交 1 个：郑州市"
    yes = await ask(qbot, ADMIN, "郑州的调研报告交了没")
    assert yes == "郑州市《三季度调研报告》：已提交待审核"
    when = await ask(qbot, ZZ_LIAISON, "月报还剩几天")
    assert when == "《7月份工作月报》截止 7月31日 18:00（还有 23 天）"
    detail = await ask(qbot, ADMIN, "洛阳的情况怎么样")
    assert detail == ("洛阳市还有 2 项未提交：7月份工作月报（截止 7月31日 18:00）；"
                      "三季度调研报告（截止 9月30日 18:00）")


async def test_flags_as_a_question_about_units(qbot: Bot) -> None:
    now = qbot.services.env.clock.now()

    def incident(conn: Any) -> None:
        kf = people.by_identity(conn, f"qq:{KF_LIAISON}")
        assert kf is not None and kf.unit_id is not None
        records.record_incident(conn, qbot.services.env, unit_id=kf.unit_id, reason="野蛮执法",
                                points=None, admin_id=None, now=now)

    qbot.db.transaction(incident)
    assert await ask(qbot, ADMIN, "哪些单位是黄旗") == "2026年获得黄旗的单位（1 个）：开封市1 面"
    mine = await ask(qbot, KF_LIAISON, "咱们拿的啥旗")
    assert mine.splitlines()[0].startswith("开封市（2026年）：红旗 0、蓝旗 0、黄旗 1")
    assert "野蛮执法" in mine
    assert await ask(qbot, ZZ_LIAISON, "俺们有黄旗吗") == "郑州市2026年没有黄旗"


async def test_several_units_or_a_kind_in_one_question(qbot: Bot) -> None:
    t = seed_ids(qbot)
    submit(qbot, t["report"], "开封市")
    both = await ask(qbot, ADMIN, "郑州和开封的调研报告")
    assert both.splitlines() == ["郑州市《三季度调研报告》：未提交",
                                 "开封市《三季度调研报告》：已提交待审核"]
    cities = await ask(qbot, ADMIN, "各地市的月报")
    assert cities == ("《7月份工作月报》（截止 7月31日 18:00）共 3 个单位：已通过 0，待审核 0，"
                      "退回 0，未提交 3")


async def test_a_task_by_fragment_and_several_open_tasks_listed(qbot: Bot) -> None:
    fragment = await ask(qbot, ADMIN, "调研报告谁没交")
    assert fragment == ("《三季度调研报告》（截止 9月30日 18:00）3 个单位均未提交："
                        "郑州市、开封市、洛阳市")
    every = (await ask(qbot, ADMIN, "谁没交")).splitlines()
    # three open tasks, none named: each is listed, none silently chosen
    assert every[0] == "进行中的任务有 3 项（未提交），分别是："
    assert [line.split("》")[0] for line in every[1:4]] == [
        "· 《第二季度走访记录", "· 《7月份工作月报", "· 《三季度调研报告"]
    assert every[-1] == "发送“谁没交 任务名称”可查看某一项的完整名单"


# -- admin actions in free form --------------------------------------------------------------


async def test_publish_in_free_form_with_a_relative_deadline(qbot: Bot) -> None:
    done = await ask(qbot, ADMIN, "新建个任务：执法证件年审材料，月底前交，所有地市")
    assert done.startswith("已发布任务") and "《执法证件年审材料》，截止 7月31日 18:00" in done
    due, n = qbot.db.transaction(lambda c: (
        c.execute(select(Task.due).where(Task.title == "执法证件年审材料")).scalar_one(),
        len(next(tasks.get(c, tid) for tid, title, _ in tasks.open_titles(c)
                 if title == "执法证件年审材料").unit_ids)))
    assert due == datetime(2026, 7, 31, 18, tzinfo=SH) and n == 18  # the 18 cities
    nope = await ask(qbot, ZZ_LIAISON, "新建个任务：测试，下周五前交，各地市")
    assert nope == "只有管理员可以发布任务"
    scoped = await ask(qbot, ADMIN, "发布任务 专项自查 截止 下周五 郑州和开封")
    assert "截止 7月17日 18:00，共 2 个单位" in scoped
    assert await ask(qbot, ADMIN, "发布任务 专项自查 截止 下周五 火星市") == (
        "找不到单位：火星市（可用 dudao unit list 查看全部单位）")


async def test_urge_units_that_owe_and_that_did_not_acknowledge(qbot: Bot) -> None:
    # several tasks owed: the bot asks which instead of choosing
    which = await ask(qbot, ADMIN, "麻烦催一下没交的")
    assert which.startswith("进行中的任务有 3 项还有单位未提交，请说明催办哪一项")
    reply, reminder = await say(qbot, message(ADMIN, "催催还没交月报的"), replies=2)
    assert reply.startswith("已提醒《7月份工作月报》中未提交的 3 个单位（1 个群各一条消息）")
    assert reminder.startswith("【催办】《7月份工作月报》将于 7月31日 18:00 截止，以下单位尚未提交：")
    assert "郑州市、开封市、洛阳市" in reminder
    # the reminder @-mentions the liaisons
    mentioned = [s["data"]["qq"] for s in qbot.impl.actions[-1]["params"]["message"]
                 if s["type"] == "at"]
    assert sorted(mentioned) == [str(ZZ_LIAISON), str(KF_LIAISON), str(LY_LIAISON)]
    now = qbot.services.env.clock.now()
    qbot.db.transaction(lambda c: notices.send(c, text="周五前报送统计表", targets="all",
                                               created_by=None, now=now))
    await asyncio.sleep(0.5)  # the notice itself goes out
    reply, reminder = await say(qbot, message(ADMIN, "通知下谁还没回复收到"), replies=2)
    assert reply.startswith("已提醒通知 1 中未确认的 3 个单位")
    assert reminder.startswith("【通知确认提醒】7月8日的通知（编号 1）：“周五前报送统计表”")
    assert await ask(qbot, KF_LIAISON, "麻烦催一下没交的") == "只有管理员可以催办"
    audited = qbot.db.transaction(lambda c: c.execute(
        select(AuditEntry.action).where(AuditEntry.action.like("%.urge"))).scalars().all())
    assert sorted(audited) == ["notice.urge", "task.urge"]


# -- names, help, tolerance ------------------------------------------------------------------


async def test_unknown_names_offer_the_closest(qbot: Bot) -> None:
    assert await ask(qbot, 99999, "绑定 火星市") == (
        "找不到单位：火星市（可用 dudao unit list 查看全部单位）")
    near = await ask(qbot, 99999, "绑定 郑州县")
    assert near.startswith("找不到单位：郑州县。您是不是要找：郑州市")
    asked = await ask(qbot, ADMIN, "火星市交了没")
    assert asked == "找不到单位：火星市（可用 dudao unit list 查看全部单位）"
    assert (await ask(qbot, ADMIN, "郑州县交了没")).startswith(
        "找不到单位：郑州县。您是不是要找：郑州市")


async def test_help_in_plain_words(qbot: Bot) -> None:
    for text in ("你能干嘛", "怎么用", "这玩意咋用啊"):
        answer = await ask(qbot, ZZ_LIAISON, text)
        assert answer.startswith("可用指令") and "直接提问" in answer, text


async def test_tolerance_traditional_fillers_emoji_and_a_pinyin_slip(qbot: Bot) -> None:
    t = seed_ids(qbot)
    submit(qbot, t["report"], "洛阳市")
    assert await ask(qbot, ADMIN, "洛杨的调研报告交了没") == "洛阳市《三季度调研报告》：已提交待审核"
    trad = await ask(qbot, ADMIN, "誰還沒交調研報告")
    assert trad.endswith("还有 2 个未提交：郑州市、开封市")
    voice = await ask(qbot, ADMIN, "那个 麻烦问下郑州那边调研报告交了没有啊🙏")
    assert voice == "郑州市《三季度调研报告》：未提交"


# -- conversations -------------------------------------------------------------------------


async def test_a_clarifying_question_answered_with_yes_or_a_correction(qbot: Bot) -> None:
    assert await ask(qbot, ADMIN, "郑州") == "您是想查询郑州市的进度吗？"
    yes = await ask(qbot, ADMIN, "是")
    assert yes.startswith("郑州市还有 3 项未提交：")
    assert await ask(qbot, ADMIN, "开封市") == "您是想查询开封市的进度吗？"
    corrected = await ask(qbot, ADMIN, "不是，是洛阳")
    assert corrected.startswith("洛阳市还有 2 项未提交：")
    # an answer without a question pending
    assert (await ask(qbot, ADMIN, "对")).startswith("没有需要确认的问题")
    # in the group, a plain 是 (no @) answers the question the bot just asked this person...
    assert await ask(qbot, ADMIN, "开封市") == "您是想查询开封市的进度吗？"
    [plain] = await say(qbot, message(ADMIN, "嗯", at_bot=False))
    assert plain.startswith("开封市还有 3 项未提交：")
    # ...and is only talk when nothing was asked
    assert await say(qbot, message(ADMIN, "是", at_bot=False), replies=0) == []
    assert await say(qbot, message(ZZ_LIAISON, "对", at_bot=False), replies=0) == []


async def test_follow_ups_inherit_the_last_question(qbot: Bot) -> None:
    t = seed_ids(qbot)
    assert await ask(qbot, ADMIN, "郑州有逾期的吗") == (
        "郑州市有逾期未交的任务 1 项：《第二季度走访记录》截止 7月6日 18:00")
    assert await ask(qbot, ADMIN, "那洛阳呢？") == "洛阳市没有逾期未交的任务"
    sid = submit(qbot, t["monthly"], "洛阳市")
    now = qbot.services.env.clock.now()
    qbot.db.transaction(lambda c: submissions.review(c, sid, accept=False, rating=None,
                                                     reason="缺盖章", reviewer_id=None, now=now))
    returned = await ask(qbot, ADMIN, "退回的呢？")
    assert returned == "洛阳市有被退回的任务 1 项：《7月份工作月报》截止 7月31日 18:00"
    # a follow-up with nothing to follow asks
    assert await ask(qbot, ZZ_LIAISON, "那开封呢？") == "您是想查询开封市的进度吗？"


async def test_the_conversation_is_in_the_database_and_expires(tmp_path: Path, db_url: str) -> None:
    bot = await start(tmp_path, db_url, conversation_ttl_s=600)
    try:
        seed(bot)
        await ready(bot)
        assert await ask(bot, ADMIN, "开封市") == "您是想查询开封市的进度吗？"
        rows = bot.db.transaction(lambda c: c.execute(
            select(Conversation.chat, Conversation.person)).all())
        assert [tuple(r) for r in rows] == [(GROUP, f"qq:{ADMIN}")]
    finally:
        await stop(bot)
    # a restart (or another process on the same database) continues the conversation
    again = await start(tmp_path, db_url, conversation_ttl_s=600)
    try:
        await ready(again)
        assert (await ask(again, ADMIN, "是")).startswith("开封市还有 3 项未提交：")
    finally:
        await stop(again)
    # after the time allowed, 是 answers nothing
    short = await start(tmp_path, db_url, conversation_ttl_s=0.5)
    try:
        await ready(short)
        assert await ask(short, ADMIN, "开封市") == "您是想查询开封市的进度吗？"
        await asyncio.sleep(0.6)
        short.services.env.clock = FixedClock(NOW.replace(second=1))  # type: ignore[misc]
        assert (await ask(short, ADMIN, "是")).startswith("没有需要确认的问题")
    finally:
        await stop(short)


async def test_a_question_at_start_is_understood(tmp_path: Path, db_url: str) -> None:
    """Messages that arrive while the language model loads wait for it: never "没太明白"."""
    first = await start(tmp_path, db_url, enabled=False)
    seed(first)
    await stop(first)
    bot = await start(tmp_path, db_url)
    try:
        answer = await ask(bot, ADMIN, "郑州还有哪些没交？")
        assert answer.startswith("郑州市还有 3 项未提交：")
        assert bot.services.handling.is_set()
    finally:
        await stop(bot)


def seed_ids(bot: Bot) -> dict[str, int]:
    rows = bot.db.transaction(lambda c: c.execute(select(Task.id, Task.title)).all())
    by_title = {title: tid for tid, title in rows}
    return {"report": by_title["三季度调研报告"], "monthly": by_title["7月份工作月报"],
            "visits": by_title["第二季度走访记录"]}
