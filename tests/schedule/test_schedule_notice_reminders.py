"""Reminders of units that have not acknowledged a notice, with a controllable clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Connection, select

from bot.domain.errors import InvalidInput
from bot.domain.notice_reminders import NoticeReminderPolicy, due_round, working_time_between
from bot.scheduler import JOB_NOTICES, run_due_jobs
from bot.services import notices
from bot.services import outbox as outbox_svc
from bot.services.notice_reminders import sweep_notice_reminders
from storage.models import NoticeDelivery, NoticeReminder
from tests.schedule.conftest import ADMIN_GROUP, EXCHANGE, TZ, World, at, make_env, outbox


def _env(world: World, remind: str) -> None:
    world.env = make_env(world.clock, world.path, notice_remind=remind)


def _send(world: World, when: datetime, *, targets: str = "all", remind: str = "",
          delivered: datetime | None = None) -> int:
    """An admin's notice, and its delivery (as the outbox records it) ``delivered``."""
    def go(conn: Connection) -> int:
        res = notices.send(conn, text="请于7月15日前报送半年工作总结，并按模板填写统计表。",
                           targets=targets, created_by=world.person["qq:10001"], now=when,
                           remind=remind)
        if delivered is not None:
            ids = conn.execute(select(NoticeDelivery.outbox_id)
                               .where(NoticeDelivery.notice_id == res.id)).scalars().all()
            outbox_svc.mark_sent(conn, [(int(i), f"m{i}") for i in ids], now=delivered)
        return res.id

    return int(world.tx(go))


def _ack(world: World, nid: int, ident: str, when: datetime) -> None:
    pid = world.person[ident]
    unit = {"qq:30001": "郑州市", "qq:30002": "开封市", "qq:30003": "洛阳市"}[ident]
    world.tx(lambda c: notices.acknowledge(c, notice_id=nid, unit_id=world.unit[unit],
                                           person_id=pid, now=when))


def _sweep(world: World, moment: datetime) -> Any:
    world.clock.set(moment)
    return world.tx(lambda c: sweep_notice_reminders(c, world.env, moment))


def _rounds(world: World) -> set[tuple[int, int, int]]:
    return world.tx(lambda c: {(n, u, r) for n, u, r in c.execute(
        select(NoticeReminder.notice_id, NoticeReminder.unit_id, NoticeReminder.round))})


def _reminders(world: World, after: int = 0) -> list[Any]:
    return [m for m in outbox(world.db, after=after) if m.kind == "reminder"]


async def test_unacknowledged_units_are_reminded_once_per_round(world: World) -> None:
    _env(world, "2x2")
    kf, ly = world.unit["开封市"], world.unit["洛阳市"]
    nid = _send(world, at("2026-07-08 10:00"), delivered=at("2026-07-08 10:01"))  # Wednesday
    _ack(world, nid, "qq:30001", at("2026-07-08 10:30"))

    assert (await run_due_jobs(world.db, world.env, at("2026-07-08 12:00"))).notices.claimed == ()
    r = await run_due_jobs(world.db, world.env, at("2026-07-08 12:01"))
    assert JOB_NOTICES in r.ran
    assert set(r.notices.claimed) == {(nid, kf, 1), (nid, ly, 1)}
    sent = _reminders(world)
    # One message, in the exchange group only (the admin group serves no unit).
    assert [m.chat for m in sent] == [EXCHANGE]
    msg = sent[0]
    assert msg.cause == f"notice:{nid}"  # a 收到 in reply to it acknowledges the notice
    assert "开封市、洛阳市" in msg.text and "郑州市" not in msg.text  # 郑州 acknowledged
    assert "第 1 次" in msg.text and f"编号 {nid}" in msg.text and "回复本消息“收到”" in msg.text
    assert set(msg.mentions) == {"30002", "30003", "30004"}

    # The same moment again, a restart, later the same round: nothing.
    assert _sweep(world, at("2026-07-08 12:01")).claimed == ()
    world.reopen()
    assert (await run_due_jobs(world.db, world.env, at("2026-07-08 12:30"))).notices.claimed == ()
    assert len(_reminders(world)) == 1

    # 开封 acknowledges; round 2 (4 working hours) names only 洛阳.
    _ack(world, nid, "qq:30002", at("2026-07-08 13:00"))
    assert _sweep(world, at("2026-07-08 14:00")).claimed == ()
    r = _sweep(world, at("2026-07-08 14:01"))
    assert r.claimed == ((nid, ly, 2),)
    last = _reminders(world)[-1]
    assert "以下单位尚未确认：洛阳市" in last.text and "第 2 次" in last.text
    assert set(last.mentions) == {"30003", "30004"}

    # Two rounds only; then silence.
    for moment in ("2026-07-08 16:05", "2026-07-09 10:00", "2026-07-13 10:00"):
        assert _sweep(world, at(moment)).claimed == ()
    assert _rounds(world) == {(nid, kf, 1), (nid, ly, 1), (nid, ly, 2)}
    assert len(_reminders(world)) == 2


def test_nothing_at_night_on_sundays_or_holidays_and_make_up_days_count(world: World) -> None:
    _env(world, "2x1")
    # Friday 17:00: one working hour on Friday, the second on Monday 09:00-10:00.
    nid = _send(world, at("2026-07-10 17:00"), delivered=at("2026-07-10 17:00"))
    for moment in ("2026-07-10 22:00", "2026-07-11 10:00", "2026-07-12 10:00",
                   "2026-07-12 22:00", "2026-07-13 08:00", "2026-07-13 09:59"):
        assert _sweep(world, at(moment)).claimed == (), moment
    assert len(_sweep(world, at("2026-07-13 10:00")).claimed) == 3
    assert {n for n, _, _ in _rounds(world)} == {nid}

    # Before the National Day holiday (1-7 Oct 2026): reminded on the first day back.
    holiday = _send(world, at("2026-09-30 17:00"), delivered=at("2026-09-30 17:00"))
    for day in range(1, 8):
        for hour in ("10:00", "15:00"):
            assert _sweep(world, at(f"2026-10-0{day} {hour}")).claimed == (), (day, hour)
    r = _sweep(world, at("2026-10-08 10:00"))
    assert {n for n, _, _ in r.claimed} == {holiday}

    # Saturday 10 October 2026 is a make-up workday (调休): its hours count and it sends.
    makeup = _send(world, at("2026-10-09 17:00"), delivered=at("2026-10-09 17:00"))
    assert _sweep(world, at("2026-10-10 09:59")).claimed == ()
    r = _sweep(world, at("2026-10-10 10:00"))
    assert {n for n, _, _ in r.claimed} == {makeup} and len(r.claimed) == 3


def test_no_reminder_once_everyone_acknowledged_or_before_delivery(world: World) -> None:
    _env(world, "1x3")
    nid = _send(world, at("2026-07-08 10:00"), delivered=at("2026-07-08 10:00"))
    for ident in ("qq:30001", "qq:30002", "qq:30003"):
        _ack(world, nid, ident, at("2026-07-08 10:20"))
    assert _sweep(world, at("2026-07-08 11:30")).claimed == ()
    # A notice whose delivery is still queued is not chased.
    _send(world, at("2026-07-08 10:00"))
    assert _sweep(world, at("2026-07-08 11:30")).claimed == ()
    assert _reminders(world) == []


def test_catch_up_sends_only_the_latest_round_and_old_notices_lapse(world: World) -> None:
    _env(world, "1x3")
    nid = _send(world, at("2026-07-08 09:00"), delivered=at("2026-07-08 09:00"))
    r = _sweep(world, at("2026-07-08 12:30"))  # down since 09:00: rounds 1-3 all passed
    assert {k for _, _, k in r.claimed} == {3} and len(r.claimed) == 3
    assert len(_reminders(world)) == 1
    # A notice whose last round passed while the service was down is not chased at all.
    _send(world, at("2026-07-09 09:00"), delivered=at("2026-07-09 09:00"))
    assert _sweep(world, at("2026-07-09 13:30")).claimed == ()
    assert {n for n, _, _ in _rounds(world)} == {nid}


def test_policy_per_notice_overrides_the_configured_default(world: World) -> None:
    _env(world, "none")
    quiet = _send(world, at("2026-07-08 09:00"), delivered=at("2026-07-08 09:00"))
    loud = _send(world, at("2026-07-08 09:00"), remind="1", targets="开封市",
                 delivered=at("2026-07-08 09:00"))
    r = _sweep(world, at("2026-07-08 10:00"))
    assert r.claimed == ((loud, world.unit["开封市"], 1),)  # scope narrowed to 开封
    _env(world, "1x1")
    off = _send(world, at("2026-07-08 09:00"), remind="none", delivered=at("2026-07-08 09:00"))
    r = _sweep(world, at("2026-07-08 10:30"))
    assert {n for n, _, _ in r.claimed} == {quiet}
    assert off not in {n for n, _, _ in _rounds(world)}
    with pytest.raises(InvalidInput):
        _send(world, at("2026-07-08 09:00"), remind="sometimes")
    assert ADMIN_GROUP not in {m.chat for m in _reminders(world)}


def test_working_time_and_rounds() -> None:
    from bot.domain.workdays import WorkCalendar

    cal = WorkCalendar(TZ)
    fri = at("2026-07-10 17:30")
    assert working_time_between(cal, fri, at("2026-07-13 09:30")).total_seconds() == 3600
    assert working_time_between(cal, at("2026-07-13 09:30"), fri).total_seconds() == 0
    policy = NoticeReminderPolicy.parse("2x2")
    assert policy == NoticeReminderPolicy(2, 2) and policy.format() == "2x2"
    assert NoticeReminderPolicy.parse("3").format() == "3x1"
    assert NoticeReminderPolicy.parse("0").off and NoticeReminderPolicy.parse("none").off
    assert due_round(fri, policy, cal, at("2026-07-13 10:29")) is None
    assert due_round(fri, policy, cal, at("2026-07-13 10:30")) == 1
    assert due_round(fri, policy, cal, at("2026-07-13 12:30")) == 2
    assert due_round(fri, policy, cal, at("2026-07-13 14:30")) is None  # lapsed
    assert due_round(fri, policy, cal, at("2026-07-13 12:30").replace(hour=20)) is None
