"""run_due_jobs (what `dudao tick --at T` runs) and the APScheduler wrapper."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest
from sqlalchemy import Connection, insert, select

from bot import scheduler as sched_mod
from bot.scheduler import JOB_DIGEST, JOB_SWEEP, JOB_WEEKLY, Scheduler, run_due_jobs
from bot.services import bulletins
from storage.models import Bulletin, Dynamic
from tests.schedule.conftest import World, at, outbox


def _weekly(world: World) -> list[str]:
    return world.tx(lambda c: list(c.execute(
        select(Bulletin.period).where(Bulletin.kind == "weekly").order_by(Bulletin.id)).scalars()))


def _dynamic(world: World, when: datetime) -> None:
    world.tx(lambda c: c.execute(insert(Dynamic), {
        "unit_id": world.unit["郑州市"], "text": "动态", "status": "pending", "created_at": when}))


async def test_weekly_draft_once_per_iso_week(world: World) -> None:
    world.add_task("年度总结", at("2026-12-30 18:00"))  # something to report on
    r = await run_due_jobs(world.db, world.env, at("2026-07-24 15:59"))  # Friday
    assert r.ran == [JOB_SWEEP] and r.ok
    r = await run_due_jobs(world.db, world.env, at("2026-07-24 16:00"))
    assert r.ran == [JOB_SWEEP, JOB_WEEKLY] and r.bulletin_id is not None
    n = len(outbox(world.db))
    for moment in ("2026-07-24 16:00", "2026-07-24 16:01", "2026-07-25 10:00"):
        r = await run_due_jobs(world.db, world.env, at(moment))
        assert JOB_WEEKLY not in r.ran and r.bulletin_id is None
    world.reopen()
    r = await run_due_jobs(world.db, world.env, at("2026-07-26 23:00"))  # Sunday, same week
    assert r.bulletin_id is None
    assert len(outbox(world.db)) == n
    assert _weekly(world) == ["2026-W30"]
    r = await run_due_jobs(world.db, world.env, at("2026-07-31 16:30"))
    assert r.bulletin_id is not None
    assert _weekly(world) == ["2026-W30", "2026-W31"]


async def test_weekly_draft_catches_up_after_downtime(world: World) -> None:
    world.add_task("年度总结", at("2026-12-30 18:00"))
    r = await run_due_jobs(world.db, world.env, at("2026-07-27 08:00"))  # Monday: new week
    assert r.bulletin_id is None
    r = await run_due_jobs(world.db, world.env, at("2026-08-01 11:00"))  # down all Friday
    assert r.bulletin_id is not None
    assert _weekly(world) == ["2026-W31"]


async def test_digest_once_a_day(world: World) -> None:
    _dynamic(world, at("2026-07-20 10:00"))
    r = await run_due_jobs(world.db, world.env, at("2026-07-20 17:29"))
    assert JOB_DIGEST not in r.ran
    r = await run_due_jobs(world.db, world.env, at("2026-07-20 17:30"))
    assert JOB_DIGEST in r.ran and r.digest_id is not None
    _dynamic(world, at("2026-07-20 17:40"))
    r = await run_due_jobs(world.db, world.env, at("2026-07-20 17:45"))
    assert JOB_DIGEST not in r.ran  # once per day, even with news
    r = await run_due_jobs(world.db, world.env, at("2026-07-21 17:30"))
    assert JOB_DIGEST in r.ran and r.digest_id is not None  # the 17:40 one
    r = await run_due_jobs(world.db, world.env, at("2026-07-22 17:30"))
    assert JOB_DIGEST in r.ran and r.digest_id is None  # ran, nothing new: nothing sent
    digests = [m for m in outbox(world.db) if m.kind == "bulletin"]
    assert len(digests) == 2


async def test_ticking_the_same_moment_twice_sends_nothing_new(world: World) -> None:
    world.add_task("三季度调研报告", at("2026-07-17 18:00"))
    _dynamic(world, at("2026-07-10 10:00"))
    moment = at("2026-07-10 17:30")  # Friday: reminders (before-5? no), bulletin, digest
    world.add_task("本周五截止", at("2026-07-13 18:00"), scope="郑州市")
    r1 = await run_due_jobs(world.db, world.env, moment)
    assert set(r1.ran) == {JOB_SWEEP, JOB_WEEKLY, JOB_DIGEST}
    assert r1.sweep is not None and r1.sweep.claimed
    n = len(outbox(world.db))
    world.reopen()
    r2 = await run_due_jobs(world.db, world.env, moment)
    assert r2.ran == [JOB_SWEEP] and r2.sweep is not None and r2.sweep.claimed == ()
    assert len(outbox(world.db)) == n


async def test_a_failing_job_does_not_stop_the_others(
        world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def boom(conn: Connection, *a: object, **k: object) -> int:
        raise RuntimeError("template broken")

    monkeypatch.setattr(bulletins, "draft_weekly", boom)
    _dynamic(world, at("2026-07-24 10:00"))
    world.add_task("本周任务", at("2026-07-27 18:00"), scope="郑州市")
    with caplog.at_level(logging.ERROR, logger="dudao.scheduler"):
        r = await run_due_jobs(world.db, world.env, at("2026-07-24 17:30"))
    assert r.errors == {JOB_WEEKLY: "RuntimeError: template broken"}
    assert JOB_SWEEP in r.ran and JOB_DIGEST in r.ran
    assert r.sweep is not None and r.sweep.claimed
    assert any("weekly_bulletin" in rec.getMessage() for rec in caplog.records)
    assert _weekly(world) == []  # rolled back; retried at the next tick
    monkeypatch.undo()
    r = await run_due_jobs(world.db, world.env, at("2026-07-24 17:31"))
    assert r.bulletin_id is not None


async def test_scheduler_ticks_and_stops(world: World) -> None:
    world.clock.set(at("2026-07-08 09:00"))
    world.add_task("三季度调研报告", at("2026-07-17 18:00"))
    reports = []
    s = Scheduler(world.db, world.env, interval_s=0.05, on_report=reports.append)
    s.start()
    job = s._scheduler.get_job(JOB_SWEEP)
    assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 30
    for _ in range(100):
        if len(reports) >= 2:
            break
        await asyncio.sleep(0.02)
    await s.stop()
    assert not s.running
    assert len(reports) >= 2
    assert len(reports[0].sweep.claimed) == 4  # the first tick sent the stage...
    assert all(r.sweep.claimed == () for r in reports[1:])  # ...and no later one did
    count = len(reports)
    await asyncio.sleep(0.15)
    assert len(reports) == count  # stopped means stopped


async def test_stop_waits_for_a_running_tick(world: World, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    started = asyncio.Event()
    finished = []
    real = sched_mod.run_due_jobs

    async def slow(db: object, env: object, at_: datetime, **kw: object) -> sched_mod.JobReport:
        started.set()
        await asyncio.sleep(0.2)
        report = await real(world.db, world.env, at_)
        finished.append(report)
        return report

    monkeypatch.setattr(sched_mod, "run_due_jobs", slow)
    s = Scheduler(world.db, world.env, interval_s=60)
    s.start()
    await asyncio.wait_for(started.wait(), 5)
    await s.stop()
    assert len(finished) == 1


async def test_scheduler_checks_all_deadlines_first_then_recent_ones(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[datetime | None] = []
    real = sched_mod.run_due_jobs

    async def spy(db: object, env: object, at_: datetime, *,
                  flags_since: datetime | None = None) -> sched_mod.JobReport:
        seen.append(flags_since)
        return await real(world.db, world.env, at_, flags_since=flags_since)

    monkeypatch.setattr(sched_mod, "run_due_jobs", spy)
    s = Scheduler(world.db, world.env)
    world.clock.set(at("2026-07-08 10:00"))
    await s.tick()
    world.clock.set(at("2026-07-08 10:01"))
    await s.tick()
    world.clock.set(at("2026-07-08 11:02"))
    await s.tick()
    assert seen == [None, at("2026-07-08 09:55"), None]
