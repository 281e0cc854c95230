"""The half-year report reminder: first working day of July and January, once per half-year."""

from __future__ import annotations

from sqlalchemy import select

from bot.scheduler import JOB_HALFYEAR, run_due_jobs
from bot.services import submissions
from bot.services.reminders import sweep_reminders
from storage.models import JobLedger
from tests.schedule.conftest import ADMIN_GROUP, World, at, outbox


def _halfyear_messages(world: World) -> list[str]:
    return [m.text for m in outbox(world.db) if m.cause.startswith("halfyear:")]


async def test_sent_once_on_the_first_working_day_of_july_with_figures(world: World) -> None:
    created = at("2026-05-01 09:00")
    tid = world.add_task("一季度督导总结", at("2026-06-19 18:00"), created=created)
    world.add_task("下半年任务", at("2026-07-20 18:00"), created=created)  # not in the half
    world.tx(lambda c: submissions.submit(c, task_id=tid, unit_id=world.unit["郑州市"],
                                          person_id=None, text="总结", now=at("2026-06-18 10:00")))
    world.tx(lambda c: sweep_reminders(c, world.env, at("2026-06-19 18:30")))  # yellow flags
    world.tx(lambda c: submissions.submit(c, task_id=tid, unit_id=world.unit["开封市"],
                                          person_id=None, text="补报", now=at("2026-06-23 10:00")))

    r = await run_due_jobs(world.db, world.env, at("2026-07-01 09:29"))  # Wednesday
    assert JOB_HALFYEAR not in r.ran and _halfyear_messages(world) == []
    r = await run_due_jobs(world.db, world.env, at("2026-07-01 09:30"))
    assert JOB_HALFYEAR in r.ran and r.halfyear == "2026-H1"
    sent = [m for m in outbox(world.db) if m.cause == "halfyear:2026-H1"]
    assert [m.chat for m in sent] == [ADMIN_GROUP]
    text = sent[0].text
    assert text.startswith("【半年工作报告提醒】2026年上半年")
    assert "1月1日—6月30日" in text
    assert "任务 1 项，涉及单位任务 4 项" in text
    assert "已报送 2 项（按时 1，逾期 1），未报送 2 项" in text
    assert "黄旗 3 面" in text and "开封市（1）" in text

    # Again at the same moment, later that day, after a restart, the next day: nothing.
    for moment in ("2026-07-01 09:30", "2026-07-01 15:00"):
        r = await run_due_jobs(world.db, world.env, at(moment))
        assert JOB_HALFYEAR not in r.ran
    world.reopen()
    r = await run_due_jobs(world.db, world.env, at("2026-07-02 10:00"))
    assert JOB_HALFYEAR not in r.ran
    assert len(_halfyear_messages(world)) == 1
    assert world.tx(lambda c: c.execute(select(JobLedger.job, JobLedger.period)).all()) == [
        ("halfyear_reminder", "2026-H1")]


async def test_january_reports_the_previous_year_and_catches_up_in_working_hours(
        world: World) -> None:
    # 1 January is a holiday, 2-3 January 2027 a weekend: Monday 4 January is the first
    # working day. Nothing before it, nor at night.
    for moment in ("2027-01-01 10:00", "2027-01-02 10:00", "2027-01-04 09:00",
                   "2027-01-04 18:30"):
        r = await run_due_jobs(world.db, world.env, at(moment))
        assert JOB_HALFYEAR not in r.ran, moment
    r = await run_due_jobs(world.db, world.env, at("2027-01-05 11:00"))  # down on the 4th
    assert r.halfyear == "2026-H2"
    assert "2026年下半年" in _halfyear_messages(world)[0]
    assert "7月1日—12月31日" in _halfyear_messages(world)[0]


async def test_skipped_when_the_first_working_week_is_long_past(world: World) -> None:
    for moment in ("2026-07-09 10:00", "2026-07-20 10:00"):
        r = await run_due_jobs(world.db, world.env, at(moment))
        assert JOB_HALFYEAR not in r.ran
    assert _halfyear_messages(world) == []
