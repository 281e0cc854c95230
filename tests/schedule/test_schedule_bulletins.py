"""Weekly bulletins, supervision letters and the daily digest, drafted from real data."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Connection, insert, select

from bot.core.context import Context
from bot.core.event import ChatRef, MessageEvent, Text, UserRef
from bot.core.router import RouteTable
from bot.domain.errors import Conflict, InvalidInput
from bot.services import bulletins, flag_rules, groups, people, submissions
from handlers import build_router
from handlers import bulletins as bulletin_handlers
from storage.models import Bulletin, Dynamic
from tests.schedule.conftest import ADMIN_GROUP, EXCHANGE, World, at, outbox

DUE = at("2026-07-17 18:00")


def _life(world: World) -> int:
    """郑州 on time, rated 优 (red); 开封 late; 洛阳 and 司法厅 nothing (yellow)."""
    tid = world.add_task("三季度调研报告", DUE)
    u = world.unit

    def work(conn: Connection) -> None:
        s = submissions.submit(conn, task_id=tid, unit_id=u["郑州市"], person_id=None,
                               text="报告", now=at("2026-07-15 10:00"))
        submissions.review(conn, s.id, accept=True, rating="优", reason=None,
                           reviewer_id=world.person["qq:10001"], now=at("2026-07-20 10:00"))
        flag_rules.refresh_task_unit_flag(conn, world.env, tid, u["郑州市"],
                                          at("2026-07-20 10:00"))
        submissions.submit(conn, task_id=tid, unit_id=u["开封市"], person_id=None, text="迟交",
                           now=at("2026-07-21 10:00"))

    world.tx(work)
    world.sweep(at("2026-07-20 09:00"))  # marks the passed deadline: yellow flags
    return tid


def test_weekly_draft_from_data_goes_to_admins(world: World) -> None:
    _life(world)
    before = len(outbox(world.db))
    now = at("2026-07-24 16:00")
    bid = world.tx(lambda c: bulletins.draft_weekly(c, world.env, now))
    info = world.tx(lambda c: bulletins.get(c, bid))
    assert info.kind == "weekly" and info.period == "2026-W30" and info.status == "draft"
    text = info.text
    assert "2026年第30周（7月20日—7月24日）" in text
    assert "《三季度调研报告》（7月17日 18:00 截止）：已报送 2/4（按时 1，逾期 1），已通过 1" in text
    assert "本周新增红旗 1 面：郑州市" in text
    assert "本周新增黄旗" in text and "洛阳市" in text and "省司法厅" in text
    assert "表扬：郑州市" in text
    assert "http://127.0.0.1:8080" in text
    assert len(text) <= 1500
    sent = outbox(world.db)[before:]
    assert [m.chat for m in sent] == [ADMIN_GROUP]
    assert sent[0].kind == "bulletin" and sent[0].cause == f"bulletin:{bid}"
    assert f"发布通报 {bid}" in sent[0].text


def test_weekly_draft_stays_short_with_many_tasks(world: World) -> None:
    for i in range(120):
        world.add_task(f"第{i}项专项工作材料报送", at("2026-08-28 18:00"))
    text = world.tx(lambda c: bulletins.weekly_text(c, world.env, at("2026-07-24 16:00")))
    assert len(text) <= 1500
    assert "另有" in text and "督导看板" in text


def test_publish_goes_to_every_exchange_group_once(world: World) -> None:
    _life(world)
    world.tx(lambda c: groups.add(c, chat="qq:group:40009", name="省直群", units_spec="省司法厅",
                                  purpose="exchange", account="999", webhook_key=None,
                                  now=at("2026-07-01 09:00")))
    bid = world.tx(lambda c: bulletins.draft_weekly(c, world.env, at("2026-07-24 16:00")))
    before = len(outbox(world.db))
    n = world.tx(lambda c: bulletins.publish(c, bid, world.person["qq:10001"],
                                             at("2026-07-24 17:00")))
    assert n == 2
    sent = outbox(world.db)[before:]
    assert sorted(m.chat for m in sent) == [EXCHANGE, "qq:group:40009"]
    assert all(m.kind == "bulletin" and "督导工作周通报" in m.text for m in sent)
    assert world.tx(lambda c: bulletins.get(c, bid)).status == "published"
    with pytest.raises(Conflict):
        world.tx(lambda c: bulletins.publish(c, bid, None, at("2026-07-24 17:05")))


def test_letters_for_units_with_repeated_yellow_flags(world: World) -> None:
    _life(world)
    world.add_task("二季度案例报送", at("2026-07-10 18:00"), scope="洛阳市",
                   created=at("2026-07-01 09:00"))
    world.sweep(at("2026-07-20 09:30"))
    needs = world.tx(bulletins.units_needing_letters)
    assert [(n.unit_name, n.yellow) for n in needs] == [("洛阳市", 2)]
    now = at("2026-07-24 16:00")
    lid = world.tx(lambda c: bulletins.draft_letter(c, world.env, world.unit["洛阳市"], now))
    letter = world.tx(lambda c: bulletins.get(c, lid))
    assert letter.kind == "letter" and letter.unit_id == world.unit["洛阳市"]
    for part in ("督导建议书", "洛阳市：", "已记黄旗 2 面", "《三季度调研报告》，截止时间 7月17日 18:00",
                 "《二季度案例报送》，截止时间 7月10日 18:00", "未报送", "7月31日前补报"):
        assert part in letter.text, part
    assert world.tx(bulletins.units_needing_letters) == []  # drafted since the latest flag
    with pytest.raises(InvalidInput):  # one yellow flag is not "repeated"
        world.tx(lambda c: bulletins.draft_letter(c, world.env, world.unit["省司法厅"], now))
    before = len(outbox(world.db))
    assert world.tx(lambda c: bulletins.publish(c, lid, None, now)) == 3
    chats = sorted(m.chat for m in outbox(world.db)[before:])
    assert chats == ["mp:user:oLUOYANG", "qq:user:30003", "qq:user:30004"]


def test_weekly_draft_also_drafts_due_letters(world: World) -> None:
    _life(world)
    world.add_task("二季度案例报送", at("2026-07-10 18:00"), scope="洛阳市")
    world.sweep(at("2026-07-20 09:30"))
    world.tx(lambda c: bulletins.draft_weekly(c, world.env, at("2026-07-24 16:00")))
    admin = [m for m in outbox(world.db) if m.chat == ADMIN_GROUP][-1]
    assert "已起草督导建议书" in admin.text and "洛阳市（" in admin.text
    kinds = world.tx(lambda c: sorted(c.execute(select(Bulletin.kind)).scalars()))
    assert kinds == ["letter", "weekly"]


def _dynamic(conn: Connection, unit_id: int, text: str, created: datetime) -> None:
    conn.execute(insert(Dynamic), {"unit_id": unit_id, "text": text, "status": "pending",
                                   "created_at": created})


def test_daily_digest_of_new_dynamics(world: World) -> None:
    assert world.tx(lambda c: bulletins.daily_digest(c, world.env, at("2026-07-20 17:30"))) is None
    world.tx(lambda c: _dynamic(c, world.unit["郑州市"], "郑州市开展行政执法培训 " * 10,
                                at("2026-07-20 11:00")))
    world.tx(lambda c: _dynamic(c, world.unit["开封市"], "开封市举办案例研讨", at("2026-07-20 15:00")))
    bid = world.tx(lambda c: bulletins.daily_digest(c, world.env, at("2026-07-20 17:30")))
    assert bid is not None
    sent = [m for m in outbox(world.db) if m.kind == "bulletin"]
    assert [m.chat for m in sent] == [ADMIN_GROUP]
    assert "新增 2 条（待审核 2 条）" in sent[0].text and "开封市：开封市举办案例研讨" in sent[0].text
    assert world.tx(lambda c: bulletins.daily_digest(c, world.env, at("2026-07-21 17:30"))) is None


def test_digest_at_night_waits_for_working_hours(world: World) -> None:
    from storage.models import OutboxMessage

    world.tx(lambda c: _dynamic(c, world.unit["郑州市"], "动态", at("2026-07-24 20:00")))
    world.tx(lambda c: bulletins.daily_digest(c, world.env, at("2026-07-24 21:00")))
    nb = world.tx(lambda c: c.execute(select(OutboxMessage.not_before)).scalar_one())
    assert nb == at("2026-07-27 09:00")  # Friday night → Monday morning


# ---------------------------------------------------------------------------------- handlers


def _ctx(world: World, conn: Connection, sender: str, text: str, now: datetime) -> Context:
    ev = MessageEvent(platform="qq", self_id="999", chat=ChatRef.parse(ADMIN_GROUP),
                      sender=UserRef.parse(sender), message_id="m1", segments=(Text(text),),
                      time=now, to_me=True)
    person = people.by_identity(conn, sender)
    command, _, args = text.partition(" ")
    return Context(event=ev, conn=conn, env=world.env, now=now, person=person,
                   command=command, args=args)


def test_chat_commands_draft_and_publish(world: World) -> None:
    _life(world)
    now = at("2026-07-24 10:00")

    def draft(conn: Connection) -> Context:
        ctx = _ctx(world, conn, "qq:10001", "通报", now)
        bulletin_handlers.draft(ctx)
        return ctx

    ctx = world.tx(draft)
    assert len(ctx.outgoing) == 1
    reply = ctx.outgoing[0].message.plain
    assert reply.startswith("【通报草稿 ") and "督导工作周通报" in reply
    before = len(outbox(world.db))

    def publish(conn: Connection) -> Context:
        ctx = _ctx(world, conn, "qq:10001", "发布通报", now)
        bulletin_handlers.publish(ctx)
        return ctx

    ctx = world.tx(publish)
    assert "已发布：1 条消息" in ctx.outgoing[0].message.plain
    assert [m.chat for m in outbox(world.db)[before:]] == [EXCHANGE]

    # Who may draft is decided by the router (the spec's roles), which refuses in one line.
    table = RouteTable(build_router())
    drafts = len(world.tx(lambda c: c.execute(select(Bulletin.id)).all()))

    def liaison(conn: Connection) -> Context:
        ctx = _ctx(world, conn, "qq:30001", "通报", now)
        table.route(ctx)
        return ctx

    refused = world.tx(liaison)
    assert [o.message.plain for o in refused.outgoing] == ["只有管理员可以起草通报"]
    assert len(world.tx(lambda c: c.execute(select(Bulletin.id)).all())) == drafts
