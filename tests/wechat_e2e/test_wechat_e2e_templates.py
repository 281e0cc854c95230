"""Reminders and notices to officials on the official account: template messages, the
customer-service fallback, quotas, and admin alerts — the whole service against fake WeChat.

Reminder rows are written as the reminder sweep writes its escalations to officials (kind
``reminder`` to ``mp:user:<openid>``, see tests/schedule/test_schedule_reminders.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.services import groups, people
from bot.services import outbox as outbox_svc
from bot.services.reminders import KIND as REMINDER_KIND
from storage.models import OutboxMessage
from tests.wechat_e2e.conftest import MakeBot, WeChatBot, eventually

BEIJING = timezone(timedelta(hours=8))
OFFICIAL = "oOFFICIAL_lyz_0001"
ADMIN_GROUP = "qq:group:90001"
REMINDER = ("【督办提示】洛阳市以下工作经多次催办仍未完成，请督促落实：\n"
            "·《三季度调研报告》7月17日 18:00 截止，已逾期 7 个工作日，未报送")


def setup_people(bot: WeChatBot, *openids: str) -> None:
    """Officials of 洛阳市 bound on the official account, and an admin group for alerts."""
    now = bot.services.env.clock.now()

    def go(conn: Any) -> None:
        for i, openid in enumerate(openids):
            people.add(conn, identity=f"mp:{openid}", unit="洛阳市", role="official",
                       name=f"洛阳领导{i}", now=now)
        groups.add(conn, chat=ADMIN_GROUP, name="督导管理群", units_spec=None, purpose="admin",
                   account=None, webhook_key=None, now=now)

    bot.db.transaction(go)


def remind(bot: WeChatBot, openid: str, text: str = REMINDER, kind: str = REMINDER_KIND) -> int:
    now = bot.services.env.clock.now()
    chat = ChatRef.parse(f"mp:user:{openid}")
    return bot.db.transaction(lambda conn: outbox_svc.enqueue(
        conn, OutgoingMessage.text(chat, text), now=now, kind=kind, cause="task:1"))


def row(bot: WeChatBot, outbox_id: int) -> Any:
    return bot.db.transaction(lambda conn: conn.execute(
        select(OutboxMessage).where(OutboxMessage.id == outbox_id)).one())


async def settled(bot: WeChatBot, outbox_id: int) -> Any:
    return await eventually(lambda: (r := row(bot, outbox_id)).state != "pending" and r)


def alerts(bot: WeChatBot) -> list[str]:
    rows = bot.db.transaction(lambda conn: conn.execute(
        select(OutboxMessage.content).where(OutboxMessage.chat == ADMIN_GROUP,
                                            OutboxMessage.kind == "alert")).all())
    return ["".join(seg.get("text", "") for seg in r.content) for r in rows]


def templates(bot: WeChatBot) -> list[dict[str, Any]]:
    return [b for p, _, b in bot.wechat.requests if p.endswith("/template/send")]


async def test_reminder_to_a_bound_official_is_the_configured_template(
        make_bot: MakeBot) -> None:
    bot = await make_bot(
        http={"public_url": "https://dudao.example.cn"},
        wechat_mp={"reminder_template_id": "TPL-REMIND-01",
                   "reminder_template_fields": ["first=title", "keyword1=text",
                                                "keyword2=time", "thing4=text"],
                   "notice_template_id": "TPL-NOTICE-02"})
    setup_people(bot, OFFICIAL)
    before = datetime.now(BEIJING).replace(tzinfo=None)
    await bot.say("帮助", OFFICIAL, "7000001")  # an open window changes nothing for reminders
    oid = remind(bot, OFFICIAL)
    r = await settled(bot, oid)
    assert r.state == "sent"
    assert r.platform_message_id == "template:200228332"
    sent = templates(bot)
    assert len(sent) == 1
    t = sent[0]
    assert (t["touser"], t["template_id"]) == (OFFICIAL, "TPL-REMIND-01")
    assert t["url"] == "https://dudao.example.cn"
    data = {k: v["value"] for k, v in t["data"].items()}
    assert set(data) == {"first", "keyword1", "keyword2", "thing4"}
    assert data["first"] == "督导提醒"
    assert data["keyword1"] == " ".join(REMINDER.split())  # the whole text, on one line
    assert data["thing4"] == data["keyword1"][:19] + "…"  # thing: 20 characters at most
    sent_at = datetime.strptime(data["keyword2"], "%Y年%m月%d日 %H:%M")  # Beijing time
    assert -60 <= (sent_at - before).total_seconds() < 120
    assert bot.custom_sends() == []

    # a notice uses the notice template, with the default field mapping
    nid = remind(bot, OFFICIAL, "【通知】周五前报送三季度材料", kind="notice")
    assert (await settled(bot, nid)).state == "sent"
    n = templates(bot)[-1]
    assert n["template_id"] == "TPL-NOTICE-02"
    assert {k: v["value"] for k, v in n["data"].items() if k != "time3"} == {
        "thing1": "督导通知", "thing2": "【通知】周五前报送三季度材料"}


async def test_without_a_template_customer_service_within_the_window_else_skipped(
        make_bot: MakeBot, caplog: pytest.LogCaptureFixture) -> None:
    bot = await make_bot()  # no template configured
    quiet = "oQUIET_lyz_0002"
    setup_people(bot, OFFICIAL, quiet)
    await bot.say("帮助", OFFICIAL, "7000011")  # OFFICIAL wrote: the 48-hour window is open

    oid = remind(bot, OFFICIAL)
    r = await settled(bot, oid)
    assert (r.state, r.platform_message_id) == ("sent", None)
    sends = bot.custom_sends()
    assert [(s["touser"], s["text"]["content"]) for s in sends] == [(OFFICIAL, REMINDER)]

    caplog.set_level(logging.WARNING, logger="dudao.wechat_mp")
    qid = remind(bot, quiet)
    r = await settled(bot, qid)
    assert (r.state, r.platform_message_id) == ("sent", "skipped")
    assert len(bot.custom_sends()) == 1 and templates(bot) == []
    skipped = [rec.getMessage() for rec in caplog.records if "skipped" in rec.getMessage()]
    assert len(skipped) == 1
    assert f"outbox {qid}" in skipped[0] and "no reminder template" in skipped[0]
    assert quiet not in skipped[0]  # openids are masked in logs
    assert alerts(bot) == []  # a skip is not an error


async def test_used_up_template_quota_falls_back_or_fails_and_tells_the_admins(
        make_bot: MakeBot) -> None:
    bot = await make_bot(wechat_mp={"reminder_template_id": "TPL-REMIND-01",
                                    "quota_template_per_day": 1})
    chatty, quiet, first = "oCHATTY_0003", "oQUIET_0004", "oFIRST_0005"
    setup_people(bot, chatty, quiet, first)
    await bot.say("帮助", chatty, "7000021")

    a = remind(bot, first)
    assert (await settled(bot, a)).platform_message_id.startswith("template:")
    # the day's one template is used: an open window is the other channel...
    b = remind(bot, chatty)
    r = await settled(bot, b)
    assert (r.state, r.platform_message_id) == ("sent", None)
    assert [s["touser"] for s in bot.custom_sends()] == [chatty]
    # ...and with no channel left the message fails, and the admins are told
    c = remind(bot, quiet)
    r = await settled(bot, c)
    assert r.state == "failed"
    assert "45009" in r.last_error and "quota" in r.last_error
    assert len(templates(bot)) == 1  # never over the quota
    told = await eventually(lambda: alerts(bot))
    assert any(f"#{c}" in text for text in told)


async def test_removed_wecom_robot_is_disabled_and_the_admins_told(bot: WeChatBot) -> None:
    now = bot.services.env.clock.now()
    bot.wecom.script.append({"errcode": 93000, "errmsg": "invalid webhook url"})

    def go(conn: Any) -> None:
        groups.add(conn, chat=ADMIN_GROUP, name="督导管理群", units_spec=None, purpose="admin",
                   account=None, webhook_key=None, now=now)
        groups.add(conn, chat="wecom:group:g9", name="企业微信群", units_spec="郑州市",
                   purpose="exchange", account=None, webhook_key="ROBOT-KEY-9", now=now)

    bot.db.transaction(go)
    chat = ChatRef.parse("wecom:group:g9")
    wid = bot.db.transaction(lambda conn: outbox_svc.enqueue(
        conn, OutgoingMessage.text(chat, "周五前报送材料"), now=now, kind="notice"))
    r = await settled(bot, wid)
    assert r.state == "failed" and "93000" in r.last_error
    told = await eventually(lambda: alerts(bot))
    assert any(f"#{wid}" in text and "93000" in text for text in told)
    # the robot is disabled: a second message is not even tried
    again = bot.db.transaction(lambda conn: outbox_svc.enqueue(
        conn, OutgoingMessage.text(chat, "第二条"), now=now, kind="notice"))
    assert (await settled(bot, again)).state == "failed"
    assert len(bot.wecom.received) == 1
