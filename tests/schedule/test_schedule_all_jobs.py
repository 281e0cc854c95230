"""Every scheduled job together (issue 5, "Done means"): a restart between ticks, two schedulers
on one PostgreSQL database, and quiet hours — for the reminder sweep, notice reminders, the
half-year reminder, the weekly draft and the digest at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import Connection, insert, select

from bot.scheduler import (
    JOB_DIGEST,
    JOB_HALFYEAR,
    JOB_NOTICES,
    JOB_SWEEP,
    JOB_WEEKLY,
    JobReport,
    Scheduler,
    run_due_jobs,
)
from bot.services import notices
from bot.services import outbox as outbox_svc
from storage.db import Database
from storage.models import Dynamic, NoticeDelivery, OutboxMessage
from tests.schedule.conftest import World, at, make_env, outbox

# Friday 3 July 2026, 17:30: a reminder stage, a notice round, the half-year reminder (third
# working day of July), the weekly draft (Friday 16:00) and the digest (17:30) are all due.
MOMENT = at("2026-07-03 17:30")
EVERY_JOB = {JOB_SWEEP, JOB_NOTICES, JOB_HALFYEAR, JOB_WEEKLY, JOB_DIGEST}


def _prepare(world: World) -> None:
    world.env = make_env(world.clock, world.path, notice_remind="1x1")
    world.add_task("三季度调研报告", at("2026-07-06 18:00"))  # before-1 is Friday 3 July

    def go(conn: Connection) -> None:
        n = notices.send(conn, text="请确认参会人员", targets="all", created_by=None,
                         now=at("2026-07-03 16:00"))
        ids = conn.execute(select(NoticeDelivery.outbox_id)
                           .where(NoticeDelivery.notice_id == n.id)).scalars().all()
        outbox_svc.mark_sent(conn, [(int(i), "") for i in ids], now=at("2026-07-03 16:00"))
        conn.execute(insert(Dynamic), {"unit_id": world.unit["郑州市"], "text": "动态",
                                       "status": "pending", "created_at": at("2026-07-03 10:00")})

    world.tx(go)


def _scheduled(world: World) -> list[tuple[str, str]]:
    """(chat, cause) of what the jobs wrote (not the notice itself)."""
    return [(m.chat, m.cause) for m in outbox(world.db) if m.kind != "notice"]


async def test_restarting_the_service_between_ticks_sends_nothing_twice(world: World) -> None:
    _prepare(world)
    world.clock.set(MOMENT)
    first = Scheduler(world.db, world.env)
    report = await first.tick()
    assert set(report.ran) == EVERY_JOB, report.summary()
    sent = _scheduled(world)
    assert len(sent) >= 5
    await first.stop()

    world.reopen()  # a new process: new database connections, a new scheduler, no memory
    second = Scheduler(world.db, world.env)
    for moment in (MOMENT, at("2026-07-03 17:31"), at("2026-07-03 17:59")):
        world.clock.set(moment)
        report = await second.tick()
        assert report.ran == [JOB_SWEEP] and report.ok, report.summary()
    await second.stop()
    assert _scheduled(world) == sent


@pytest.mark.postgres
async def test_two_schedulers_on_one_postgres_run_every_job_once(pg_world: World) -> None:
    _prepare(pg_world)
    pg_world.clock.set(MOMENT)
    dbs = [Database(pg_world.db.url) for _ in range(3)]
    try:
        reports: list[JobReport] = list(await asyncio.gather(
            *(run_due_jobs(db, pg_world.env, MOMENT) for db in dbs)))
        again = list(await asyncio.gather(
            *(run_due_jobs(db, pg_world.env, MOMENT) for db in dbs)))
    finally:
        for db in dbs:
            db.close()
    assert all(r.ok for r in reports + again), [r.summary() for r in reports + again]
    ran = Counter(job for r in reports for job in r.ran if job != JOB_SWEEP)
    assert ran == Counter({JOB_NOTICES: 1, JOB_HALFYEAR: 1, JOB_WEEKLY: 1, JOB_DIGEST: 1})
    assert all(r.ran == [JOB_SWEEP] for r in again)
    assert sum(len(r.sweep.claimed) for r in reports if r.sweep) == 4
    # Each chat got each kind of scheduled message once.
    sent = _scheduled(pg_world)
    assert len(sent) == len(set(sent)), Counter(sent).most_common(3)


def _working(world: World, moment: datetime) -> bool:
    return world.env.calendar.in_working_hours(moment)


async def test_nothing_goes_out_at_night_on_sundays_or_on_holidays(world: World) -> None:
    _prepare(world)
    world.add_task("国庆后报送", at("2026-10-09 18:00"), created=at("2026-09-20 09:00"))
    for moment in ("2026-07-03 22:00", "2026-07-05 10:00", "2026-10-02 10:00",
                   "2026-10-05 15:00"):
        report = await run_due_jobs(world.db, world.env, at(moment))
        assert report.sweep is not None and report.sweep.claimed == (), moment
        assert report.notices is not None and report.notices.claimed == (), moment
        assert JOB_HALFYEAR not in report.ran, moment
    # Drafts and digests may be prepared out of hours, but they wait for working hours.
    rows = world.tx(lambda c: c.execute(
        select(OutboxMessage.kind, OutboxMessage.not_before)
        .where(OutboxMessage.kind != "notice")).all())
    assert rows and all(_working(world, nb) for _, nb in rows), rows
    # The make-up workday (Saturday 10 October 2026) is a working day: the first working day
    # after the Friday deadline, so the first overdue urging goes out on it.
    report = await run_due_jobs(world.db, world.env, at("2026-10-10 09:00"))
    assert report.sweep is not None and {c.stage for c in report.sweep.claimed} == {"overdue-1"}
