"""The half-year report reminder: first working day of July and January, once per half-year."""

from __future__ import annotations

from sqlalchemy import insert, select

from bot.scheduler import JOB_HALFYEAR, run_due_jobs
from bot.services import stats, submissions
from bot.services.reminders import sweep_reminders
from storage.models import JobLedger
from tests.schedule.conftest import ADMIN_GROUP, World, at, outbox


def _halfyear_messages(world: World) -> list[str]:
    return [m.text for m in outbox(world.db) if m.cause.startswith("halfyear:")]


async def test_sent_once_on_the_first_working_day_of_july_with_figures(world: World) -> None:
    created = at("2026-05-01 09:00")
    tid = world.add_task("一季度督导总结", at("2026-06-19 18:00"), created=created)
    tid2 = world.add_task("专项整改", at("2026-06-26 18:00"), scope="郑州市,开封市,洛阳市",
                          created=created)
    world.add_task("下半年任务", at("2026-07-20 18:00"), created=created)  # not in the half

    def submit(task: int, unit: str, when: str) -> int:
        info = world.tx(lambda c: submissions.submit(
            c, task_id=task, unit_id=world.unit[unit], person_id=None, text="材料",
            now=at(when)))
        return int(info.id)

    def send_back(sid: int, when: str) -> None:
        world.tx(lambda c: submissions.review(c, sid, accept=False, rating=None, reason="缺盖章",
                                              reviewer_id=None, now=at(when)))

    submit(tid, "郑州市", "2026-06-18 10:00")
    world.tx(lambda c: sweep_reminders(c, world.env, at("2026-06-19 18:30")))  # yellow flags
    submit(tid, "开封市", "2026-06-23 10:00")
    # 郑州 sent 专项整改 in time, had it returned and sent the new version after the deadline:
    # on time, as its first version was (the flag rules' test, and the export's). 洛阳's
    # returned version is still waiting for a new one.
    send_back(submit(tid2, "郑州市", "2026-06-24 10:00"), "2026-06-25 10:00")
    send_back(submit(tid2, "洛阳市", "2026-06-24 11:00"), "2026-06-25 10:00")
    world.tx(lambda c: sweep_reminders(c, world.env, at("2026-06-26 18:30")))
    submit(tid2, "郑州市", "2026-06-29 10:00")

    r = await run_due_jobs(world.db, world.env, at("2026-07-01 09:29"))  # Wednesday
    assert JOB_HALFYEAR not in r.ran and _halfyear_messages(world) == []
    r = await run_due_jobs(world.db, world.env, at("2026-07-01 09:30"))
    assert JOB_HALFYEAR in r.ran and r.halfyear == "2026H1"
    sent = [m for m in outbox(world.db) if m.cause == "halfyear:2026H1"]
    assert [m.chat for m in sent] == [ADMIN_GROUP]
    text = sent[0].text
    assert text.startswith("【半年工作报告提醒】2026年上半年")
    assert "1月1日—6月30日" in text
    assert "任务 2 项，涉及单位任务 7 项" in text
    assert "已报送 4 项（按时 3，逾期 1），未报送 3 项；已报送的有 1 项退回待修改" in text
    assert "红旗 0 面，蓝旗 2 面，黄旗 4 面" in text
    assert "多次记黄旗的单位（2 面及以上）：开封市（2）。" in text

    # The export's half-year sheet counts the same (its own pass over the whole year).
    export_h1 = world.tx(lambda c: stats.year_stats(c, world.env, 2026,
                                                    now=at("2026-07-01 09:30"))).halves[0]
    c, f = export_h1.completion, export_h1.flags
    assert (c.assigned, c.submitted, c.on_time, c.late, c.returned) == (7, 4, 3, 1, 1)
    assert (f.red, f.blue, f.yellow) == (0, 2, 4)

    # Again at the same moment, later that day, after a restart, the next day: nothing.
    for moment in ("2026-07-01 09:30", "2026-07-01 15:00"):
        r = await run_due_jobs(world.db, world.env, at(moment))
        assert JOB_HALFYEAR not in r.ran
    world.reopen()
    r = await run_due_jobs(world.db, world.env, at("2026-07-02 10:00"))
    assert JOB_HALFYEAR not in r.ran
    assert len(_halfyear_messages(world)) == 1
    assert world.tx(lambda c: c.execute(select(JobLedger.job, JobLedger.period)).all()) == [
        ("halfyear_reminder", "2026H1")]


async def test_january_reports_the_previous_year_and_catches_up_in_working_hours(
        world: World) -> None:
    # 1 January is a holiday, 2-3 January 2027 a weekend: Monday 4 January is the first
    # working day. Nothing before it, nor at night.
    for moment in ("2027-01-01 10:00", "2027-01-02 10:00", "2027-01-04 09:00",
                   "2027-01-04 18:30"):
        r = await run_due_jobs(world.db, world.env, at(moment))
        assert JOB_HALFYEAR not in r.ran, moment
    r = await run_due_jobs(world.db, world.env, at("2027-01-05 11:00"))  # down on the 4th
    assert r.halfyear == "2026H2"
    assert "2026年下半年" in _halfyear_messages(world)[0]
    assert "7月1日—12月31日" in _halfyear_messages(world)[0]


async def test_a_half_sent_under_the_old_spelling_is_not_sent_again(world: World) -> None:
    # Earlier versions claimed the half as "2026-H1"; an upgrade on the morning of the reminder
    # must not send it a second time under the canonical "2026H1".
    world.tx(lambda c: c.execute(insert(JobLedger), {
        "job": "halfyear_reminder", "period": "2026-H1", "at": at("2026-07-01 09:30")}))
    r = await run_due_jobs(world.db, world.env, at("2026-07-01 10:00"))
    assert r.halfyear is None
    assert _halfyear_messages(world) == []
    r = await run_due_jobs(world.db, world.env, at("2027-01-05 11:00"))
    assert r.halfyear == "2026H2"  # the next half goes out as usual


async def test_skipped_when_the_first_working_week_is_long_past(world: World) -> None:
    for moment in ("2026-07-09 10:00", "2026-07-20 10:00"):
        r = await run_due_jobs(world.db, world.env, at(moment))
        assert JOB_HALFYEAR not in r.ran
    assert _halfyear_messages(world) == []
