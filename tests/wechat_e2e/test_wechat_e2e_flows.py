"""Official account and WeCom end to end: callback → dispatcher → handlers → outbox → fake APIs."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.adapters.wechat_mp.api import WeChatAPI
from bot.adapters.wechat_mp.menu import DEFAULT_MENU, create_default_menu
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.services import groups, notices, people, tasks
from bot.services import outbox as outbox_svc
from bot.services.app_tokens import DbTokenStore
from storage.db import Database
from storage.migrate import upgrade
from storage.models import AppToken, AuditEntry, Identity, OutboxMessage
from tests.adapters.wechat.conftest import APP_ID, FakeWeChat
from tests.support.pg import pg_url
from tests.wechat_e2e.conftest import (
    SECRET,
    MakeBot,
    WeChatBot,
    event_xml,
    eventually,
    reply_content,
    text_xml,
)

OPENID = "oFFICIAL_zz_0001"
QQ = "qq:20001"


def seed_official(bot: WeChatBot) -> str:
    """An official of 郑州市 known by QQ, a task for the city, and a person invite for them."""
    now = bot.services.env.clock.now()

    def go(conn: Any) -> str:
        people.add(conn, identity=QQ, unit="郑州市", role="official", name="赵市长", now=now)
        tasks.add(conn, title="三季度调研报告", due=datetime.fromisoformat("2030-09-30T18:00:00+08:00"),
                  units_spec="郑州市", system="supervision", created_by=None, now=now)
        return people.create_person_invite(conn, QQ, now=now)

    return bot.db.transaction(go)


def outbox_rows(bot: WeChatBot, chat: str) -> list[Any]:
    return bot.db.transaction(lambda conn: conn.execute(
        select(OutboxMessage).where(OutboxMessage.chat == chat).order_by(OutboxMessage.id)).all())


def identity_of(bot: WeChatBot, identity: str) -> Any:
    return bot.db.transaction(lambda conn: conn.execute(
        select(Identity.person_id).where(Identity.identity == identity)).scalar())


async def test_help_from_unbound_openid_is_a_passive_reply(bot: WeChatBot) -> None:
    answer = await bot.say("帮助", "oSTRANGER_0001", "9000001")
    assert "可用指令" in answer
    chat = "mp:user:oSTRANGER_0001"
    # the outbox row of that reply is recorded as sent passively, and never sent again
    await eventually(lambda: [r for r in outbox_rows(bot, chat) if r.state == "sent"])
    await asyncio.sleep(0.3)
    rows = outbox_rows(bot, chat)
    assert [(r.state, r.platform_message_id) for r in rows] == [("sent", "passive")]
    assert bot.custom_sends() == []


async def test_bind_with_person_invite_then_my_tasks(bot: WeChatBot) -> None:
    code = seed_official(bot)
    answer = await bot.say(f"绑定 {code}", OPENID, "9000010")
    assert answer.startswith("绑定成功：赵市长（郑州市）")
    assert identity_of(bot, f"mp:{OPENID}") == identity_of(bot, QQ)

    answer = await bot.say("我的任务", OPENID, "9000011")
    assert "郑州市待提交 1 项" in answer
    assert "三季度调研报告" in answer

    # a menu click is the same command
    status, body = await bot.post(event_xml("CLICK", openid=OPENID, key="my_tasks"), OPENID)
    assert status == 200
    assert "三季度调研报告" in reply_content(body)
    await asyncio.sleep(0.3)
    assert bot.custom_sends() == []
    rows = outbox_rows(bot, f"mp:user:{OPENID}")
    assert len(rows) == 3
    assert {(r.state, r.platform_message_id) for r in rows} == {("sent", "passive")}


async def test_wechat_retry_of_a_message_is_answered_once(bot: WeChatBot) -> None:
    first = await bot.say("帮助", "oRETRY_0001", "9000020")
    again = await bot.say("帮助", "oRETRY_0001", "9000020")
    assert first == again
    assert len(outbox_rows(bot, "mp:user:oRETRY_0001")) == 1


async def test_slow_answer_is_success_then_one_customer_service_message(
        make_bot: MakeBot) -> None:
    bot = await make_bot(wechat_mp={"reply_deadline_s": 0.1})
    feed = bot.services.dispatcher.feed

    async def slow_feed(event: Any) -> Any:
        await asyncio.sleep(0.3)
        return await feed(event)

    bot.services.dispatcher.feed = slow_feed  # type: ignore[method-assign]
    status, body = await bot.post(text_xml("帮助", openid="oSLOW_0001", msg_id="9000030"),
                                  "oSLOW_0001")
    assert (status, body) == (200, "success")
    sends = await eventually(bot.custom_sends)
    await asyncio.sleep(0.5)
    sends = bot.custom_sends()
    assert len(sends) == 1
    assert sends[0]["touser"] == "oSLOW_0001"
    assert "可用指令" in sends[0]["text"]["content"]
    rows = await eventually(lambda: [r for r in outbox_rows(bot, "mp:user:oSLOW_0001")
                                     if r.state == "sent"])
    assert rows[0].platform_message_id is None
    assert len(bot.wechat.token_calls) == 1


async def test_unsubscribe_removes_the_identity_and_is_audited(bot: WeChatBot) -> None:
    code = seed_official(bot)
    await bot.say(f"绑定 {code}", OPENID, "9000040")
    assert identity_of(bot, f"mp:{OPENID}") is not None
    status, body = await bot.post(event_xml("unsubscribe", openid=OPENID), OPENID)
    assert (status, body) == (200, "success")
    assert identity_of(bot, f"mp:{OPENID}") is None
    assert identity_of(bot, QQ) is not None  # the person and their other identity stay
    entries = bot.db.transaction(lambda conn: conn.execute(
        select(AuditEntry).where(AuditEntry.action == "person.unsubscribe")).all())
    assert len(entries) == 1
    e = entries[0]
    assert (e.actor, e.channel, e.target.startswith("person:")) == ("system", "wechat", True)
    assert e.detail["identity"] == f"mp:{OPENID}"


async def test_subscribe_through_an_invite_qr_code_binds_and_welcomes(bot: WeChatBot) -> None:
    code = seed_official(bot)
    status, body = await bot.post(
        event_xml("subscribe", openid=OPENID, key=f"qrscene_{code}"), OPENID)
    assert status == 200
    answer = reply_content(body)
    assert "欢迎关注" in answer
    assert "绑定成功：赵市长（郑州市）" in answer
    assert identity_of(bot, f"mp:{OPENID}") == identity_of(bot, QQ)
    # a plain subscribe is welcomed too
    status, body = await bot.post(event_xml("subscribe", openid="oNEW_0001"), "oNEW_0001")
    assert "绑定 邀请码" in reply_content(body)


async def test_reminder_outside_the_window_goes_as_a_template(make_bot: MakeBot) -> None:
    bot = await make_bot(wechat_mp={"reminder_template_id": "TPL-REMIND"})
    now = bot.services.env.clock.now()
    chat = ChatRef.parse("mp:user:oQUIET_0001")
    bot.db.transaction(lambda conn: outbox_svc.enqueue(
        conn, OutgoingMessage.text(chat, "【提醒】三季度调研报告明天截止，请及时提交"), now=now,
        kind="reminder"))
    await eventually(lambda: [r for r in outbox_rows(bot, chat.key) if r.state == "sent"])
    templates = [b for p, _, b in bot.wechat.requests if p.endswith("/template/send")]
    assert len(templates) == 1
    assert templates[0]["template_id"] == "TPL-REMIND"
    assert templates[0]["touser"] == "oQUIET_0001"
    assert templates[0]["data"]["thing1"]["value"] == "督导提醒"
    assert bot.custom_sends() == []  # refused locally: no window was open


async def test_dead_binding_is_removed(bot: WeChatBot) -> None:
    seed_official(bot)
    now = bot.services.env.clock.now()
    bot.db.transaction(lambda conn: people.link_identity(
        conn, people.by_identity(conn, QQ).id, "mp:oGONE_0001", now=now))  # type: ignore[union-attr]
    bot.wiring.quota.record_user_message("oGONE_0001", time.time())
    bot.wechat.script["/cgi-bin/message/custom/send"] = [
        {"errcode": 43004, "errmsg": "require subscribe"}]
    chat = ChatRef.parse("mp:user:oGONE_0001")
    bot.db.transaction(lambda conn: outbox_svc.enqueue(
        conn, OutgoingMessage.text(chat, "您好"), now=now, kind="notify"))
    rows = await eventually(lambda: [r for r in outbox_rows(bot, chat.key) if r.state == "failed"])
    assert "43004" in rows[0].last_error
    assert identity_of(bot, "mp:oGONE_0001") is None


async def test_notice_reaches_a_wecom_group_through_its_robot(bot: WeChatBot) -> None:
    now = bot.services.env.clock.now()

    def go(conn: Any) -> int:
        groups.add(conn, chat="wecom:group:g1", name="企业微信联络群", units_spec="郑州市",
                   purpose="exchange", account=None, webhook_key="ROBOT-KEY-1", now=now)
        return notices.send(conn, text="周五前报送材料", targets="wecom:group:g1",
                            created_by=None, now=now).id

    nid = bot.db.transaction(go)
    await eventually(lambda: bot.wecom.received)
    key, payload, _ = bot.wecom.received[0]
    assert key == "ROBOT-KEY-1"
    assert payload["msgtype"] == "text"
    assert "【通知】周五前报送材料" in payload["text"]["content"]
    rows = await eventually(lambda: [r for r in outbox_rows(bot, "wecom:group:g1")
                                     if r.state == "sent"])
    assert rows[0].cause == f"notice:{nid}"
    assert len(bot.wecom.received) == 1


async def test_removed_wecom_robot_fails_for_good(bot: WeChatBot) -> None:
    now = bot.services.env.clock.now()
    bot.wecom.script.append({"errcode": 93000, "errmsg": "invalid webhook url"})

    def go(conn: Any) -> None:
        groups.add(conn, chat="wecom:group:g2", name="群2", units_spec="郑州市",
                   purpose="exchange", account=None, webhook_key="ROBOT-KEY-2", now=now)
        notices.send(conn, text="测试", targets="wecom:group:g2", created_by=None, now=now)

    bot.db.transaction(go)
    rows = await eventually(lambda: [r for r in outbox_rows(bot, "wecom:group:g2")
                                     if r.state == "failed"])
    assert "93000" in rows[0].last_error
    assert len(bot.wecom.received) == 1


async def test_default_menu(bot: WeChatBot) -> None:
    assert bot.wiring.api is not None
    await create_default_menu(bot.wiring.api)
    menus = [b for p, _, b in bot.wechat.requests if p.endswith("/menu/create")]
    assert menus == [DEFAULT_MENU]
    assert [b["name"] for b in DEFAULT_MENU["button"]] == ["我的任务", "进度", "红旗榜"]


# --- access tokens shared through the database ---------------------------------------------------


@pytest.fixture
async def fake_api(aiohttp_server: Any) -> tuple[FakeWeChat, str]:
    fake = FakeWeChat(secret=SECRET, token_delay=0.3)
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url("")).rstrip("/")


@pytest.fixture(params=["sqlite", "postgres"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/shared.db"
    return pg_url("dudao_test_wechat_tokens")


async def test_two_processes_share_one_token(shared_url: str,
                                             fake_api: tuple[FakeWeChat, str]) -> None:
    """Two "processes" (two engines, two stores) on one database: one stable_token call."""
    fake, base = fake_api
    url = shared_url
    db_a, db_b = Database(url), Database(url)
    upgrade(db_a)
    try:
        async with aiohttp.ClientSession() as session:
            apis = [WeChatAPI(session, app_id=APP_ID, app_secret=SECRET, api_base=base,
                              token_store=DbTokenStore(db, f"proc-{i}", poll_s=0.05))
                    for i, db in enumerate((db_a, db_b))]
            tokens = await asyncio.gather(*(api.access_token() for api in apis for _ in range(3)))
            assert len(fake.token_calls) == 1
            assert set(tokens) == {fake.current()}
            await apis[1].send_text("oX", "hi")  # no quota tracker: sent
            assert len(fake.token_calls) == 1
        row = db_a.transaction(lambda conn: conn.execute(select(AppToken)).one())
        assert (row.lease_owner, row.lease_until) == (None, None)
        assert row.token == fake.current()
    finally:
        db_a.close()
        db_b.close()


async def test_an_expired_lease_is_taken_over(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/lease.db")
    upgrade(db)
    try:
        dead = DbTokenStore(db, "dead-process", lease_s=0.2)
        live = DbTokenStore(db, "live-process", poll_s=0.05)
        cm = await dead.refresh_lock(APP_ID)
        await cm.__aenter__()  # the dead process never releases it
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        async with await live.refresh_lock(APP_ID):
            waited = loop.time() - t0
            owner = db.transaction(lambda conn: conn.execute(
                select(AppToken.lease_owner)).scalar())
        assert 0.1 < waited < 2.0
        assert owner == "live-process"
    finally:
        db.close()


async def test_answer_ready_at_the_deadline_is_sent_once_by_late_reply(
        make_bot: MakeBot) -> None:
    """The handler thinks it is in time, the callback has already answered ``success``: the text
    goes out once, by ``late_reply``, and the outbox row is not sent again."""
    bot = await make_bot(wechat_mp={"reply_deadline_s": 0.1})
    bot.wiring.passive_budget_s = 10.0
    feed = bot.services.dispatcher.feed

    async def slow_feed(event: Any) -> Any:
        await asyncio.sleep(0.3)
        return await feed(event)

    bot.services.dispatcher.feed = slow_feed  # type: ignore[method-assign]
    status, body = await bot.post(text_xml("帮助", openid="oEDGE_0001", msg_id="9000050"),
                                  "oEDGE_0001")
    assert (status, body) == (200, "success")
    await eventually(bot.custom_sends)
    await asyncio.sleep(0.5)
    sends = bot.custom_sends()
    assert len(sends) == 1
    assert "可用指令" in sends[0]["text"]["content"]
    rows = outbox_rows(bot, "mp:user:oEDGE_0001")
    assert [(r.state, r.platform_message_id) for r in rows] == [("sent", "passive")]
