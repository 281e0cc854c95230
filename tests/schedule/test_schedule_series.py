"""Series: instances created ahead of their period, exactly once (a repeated tick, a restart,
two processes at once, a stale view of the series), titled with their period, reminded like
any task; a cancelled series stops."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, update

from bot.domain.errors import Conflict
from bot.domain.periods import Period
from bot.domain.recurrence import Recurrence, SeriesRule
from bot.scheduler import JOB_SERIES, run_due_jobs
from bot.services import series as series_svc
from bot.services import submissions
from storage.db import Database
from storage.models import AuditEntry, Series, Task, TaskUnit
from tests.schedule.conftest import World, at, make_env

UNITS = ("郑州市", "开封市", "洛阳市")


def visits(w: World, now: datetime, *, year: int = 2027, lead_days: int = 30,
           rule: Recurrence = Recurrence.QUARTERLY) -> int:
    """A period-end series from ``year``'s first period, for three cities, recorded at ``now``."""
    first = Period.of_year(year) if rule is Recurrence.YEARLY else \
        Period(year, rule.period_kind, 1)
    schedule = SeriesRule.period_ends(rule, first, time(18), w.env.tz, lead_days=lead_days)

    def go(conn: Connection) -> int:
        info, _, _ = series_svc.create(
            conn, w.env, title="调研指导记录", schedule=schedule, until=None,
            unit_ids=[w.unit[u] for u in UNITS], system="guidance", now=now,
            actor="cli:test", channel="cli", fields=("时间", "地点"))
        return info.id

    return int(w.tx(go))


def instances(w: World, sid: int) -> list[tuple[str, str, datetime]]:
    return [(r.period, r.title, r.due) for r in w.tx(lambda c: series_svc.instances(c, sid))]


def tick(w: World, moment: datetime) -> list[series_svc.Created]:
    w.clock.set(moment)
    report = asyncio.run(run_due_jobs(w.db, w.env, moment))
    assert report.ok, report.errors
    return report.instances or []


def test_instances_appear_ahead_of_their_period_once(world: World) -> None:
    w = world
    sid = visits(w, at("2026-11-20 10:00"))
    assert instances(w, sid) == []  # the first quarter opens on 2 December (30 days ahead)
    assert tick(w, at("2026-12-01 23:59")) == []
    made = tick(w, at("2026-12-02 09:00"))
    assert [(c.period, c.title) for c in made] == [("2027Q1", "2027年第一季度调研指导记录")]
    assert tick(w, at("2026-12-02 09:00")) == []  # the same moment again: nothing new
    assert tick(w, at("2027-03-01 09:00")) == []
    w.reopen()  # a restart
    made = tick(w, at("2027-03-02 09:00"))
    assert [c.title for c in made] == ["2027年第二季度调研指导记录"]
    assert tick(w, at("2027-03-02 09:05")) == []
    # an instance is a task: its units owe it, its deadline is the period's last day
    got = instances(w, sid)
    assert got == [("2027Q1", "2027年第一季度调研指导记录", at("2027-03-31 18:00")),
                   ("2027Q2", "2027年第二季度调研指导记录", at("2027-06-30 18:00"))]
    states = w.tx(lambda c: c.execute(
        select(TaskUnit.state, func.count()).join(Task, Task.id == TaskUnit.task_id)
        .where(Task.series_id == sid).group_by(TaskUnit.state)).all())
    assert [tuple(s) for s in states] == [("owed", 6)]
    fields = w.tx(lambda c: c.execute(select(Task.fields).where(Task.series_id == sid)).scalars()
                  .all())
    assert fields == [["时间", "地点"], ["时间", "地点"]]
    audit = w.tx(lambda c: c.execute(
        select(AuditEntry.actor, AuditEntry.detail).where(AuditEntry.action == "task.create")
        .order_by(AuditEntry.id)).all())
    assert [(a, d["period"]) for a, d in audit] == [("system", "2027Q1"), ("system", "2027Q2")]


def test_lead_days_are_configurable(tmp_path: Path, world: World) -> None:
    w = world
    w.env = make_env(w.clock, tmp_path)  # defaults
    sid = visits(w, at("2026-11-20 10:00"), lead_days=0)
    assert tick(w, at("2026-12-31 23:00")) == []
    assert [c.period for c in tick(w, at("2027-01-01 00:01"))] == ["2027Q1"]
    assert len(instances(w, sid)) == 1


def test_a_stale_view_of_the_series_creates_nothing_twice(world: World) -> None:
    """The unique (series, period) key is the claim: a process that read the series before
    another created its instances (here: next_index put back) finds them and moves on."""
    w = world
    sid = visits(w, at("2026-11-20 10:00"), rule=Recurrence.MONTHLY)
    assert len(tick(w, at("2027-03-05 09:00"))) == 4  # Jan–Apr (April opens on 2 March)
    w.tx(lambda c: c.execute(update(Series).where(Series.id == sid)
                             .values(next_index=0, next_at=at("2026-12-02 00:00"))))
    assert tick(w, at("2027-03-05 09:00")) == []
    assert [p for p, _, _ in instances(w, sid)] == ["2027-01", "2027-02", "2027-03", "2027-04"]
    nxt = w.tx(lambda c: c.execute(select(Series.next_index, Series.next_at)
                                   .where(Series.id == sid)).one())
    assert tuple(nxt) == (4, at("2027-04-01 00:00"))  # May's opens 30 days before 1 May


def _race(w: World, moment: datetime, n: int) -> list[list[series_svc.Created]]:
    """``n`` processes (own Database objects) creating instances at the same moment."""
    dbs = [Database(w.db.url) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: list[Any] = [RuntimeError("not run")] * n

    def run(i: int) -> None:
        # On PostgreSQL the transactions overlap; SQLite's writers take turns (BEGIN IMMEDIATE),
        # so there they start together and the second waits for the first.
        def fn(conn: Connection) -> list[series_svc.Created]:
            if not dbs[i].is_sqlite:
                barrier.wait(timeout=10)
            return series_svc.materialise(conn, w.env, moment)

        try:
            if dbs[i].is_sqlite:
                barrier.wait(timeout=10)
            results[i] = dbs[i].transaction(fn)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for db in dbs:
        db.close()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def _each_instance_once(w: World) -> None:
    sids = [visits(w, at("2026-11-20 10:00"), rule=Recurrence.MONTHLY) for _ in range(3)]
    results = _race(w, at("2027-06-15 09:00"), n=3)
    created = [(c.series_id, c.period) for r in results for c in r]
    assert len(created) == len(set(created)) == 3 * 7  # Jan–Jul of three series, once each
    rows = w.tx(lambda c: c.execute(select(Task.series_id, Task.period)).all())
    assert sorted(tuple(r) for r in rows) == sorted(created)
    assert {s for s, _ in created} == set(sids)
    assert all(len(instances(w, s)) == 7 for s in sids)


def test_two_processes_create_each_instance_once_sqlite(world: World) -> None:
    _each_instance_once(world)


@pytest.mark.postgres
def test_two_processes_create_each_instance_once_postgres(pg_world: World) -> None:
    _each_instance_once(pg_world)


def test_instances_are_reminded_like_tasks(world: World) -> None:
    w = world
    sid = visits(w, at("2026-11-20 10:00"))
    [q1] = tick(w, at("2026-12-02 09:00"))
    # 郑州 sends its record early; the others are reminded 7 working days before 31 March
    w.tx(lambda c: submissions.submit(
        c, task_id=q1.task_id, unit_id=w.unit["郑州市"], person_id=w.person["qq:30001"],
        text="时间：3月3日 地点：中牟县", now=at("2027-03-05 10:00")))
    w.clock.set(at("2027-03-22 09:00"))
    report = asyncio.run(run_due_jobs(w.db, w.env, at("2027-03-22 09:00")))
    assert JOB_SERIES in report.ran and [c.period for c in report.instances or ()] == ["2027Q2"]
    assert report.sweep is not None
    assert sorted((c.task_id, c.unit_id, c.stage) for c in report.sweep.claimed) == sorted(
        (q1.task_id, w.unit[u], "before-7") for u in ("开封市", "洛阳市"))
    assert instances(w, sid)[0][1] == "2027年第一季度调研指导记录"


def test_cancelling_a_series_stops_new_instances(world: World) -> None:
    w = world
    sid = visits(w, at("2026-11-20 10:00"))
    [q1] = tick(w, at("2026-12-02 09:00"))
    info, still_open = w.tx(lambda c: series_svc.cancel(c, sid, reason="改为半年一次",
                                                        now=at("2027-01-05 10:00")))
    assert (info.status, info.cancel_reason, info.next_at) == ("cancelled", "改为半年一次", None)
    assert still_open == [q1.task_id]  # what was created stays: a task with its own history
    assert tick(w, at("2027-03-02 09:00")) == []
    assert [p for p, _, _ in instances(w, sid)] == ["2027Q1"]
    with pytest.raises(Conflict):
        w.tx(lambda c: series_svc.cancel(c, sid, reason="再停一次", now=at("2027-01-06 10:00")))


def test_a_series_created_late_skips_the_past_or_registers_it(world: World) -> None:
    w = world
    schedule = SeriesRule.period_ends(Recurrence.QUARTERLY, Period.of_quarter(2027, 1), time(18),
                                      w.env.tz)

    def make(skip: bool) -> tuple[list[str], list[str]]:
        def go(conn: Connection) -> tuple[list[str], list[str]]:
            _, made, warnings = series_svc.create(
                conn, w.env, title="调研指导记录", schedule=schedule, until=None,
                unit_ids=[w.unit["郑州市"]], system="guidance", now=at("2027-05-20 10:00"),
                actor="cli:test", channel="cli", skip_past=skip)
            return [c.period for c in made], warnings

        return w.tx(go)

    # 20 May: the second quarter is open, the third opens on 1 June
    assert make(True) == (["2027Q2"],
                          ["截止时间已过的 1 期（2027年第一季度）不再创建"])
    periods, warnings = make(False)
    assert periods == ["2027Q1", "2027Q2"]
    assert warnings == ["首期截止时间已过：按补登记录，未提交的单位将直接记为逾期"]
