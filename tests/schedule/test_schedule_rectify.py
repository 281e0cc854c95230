"""Rectification reminders in the scheduled sweep, on SQLite and PostgreSQL: the task rules'
working-day stages, only while the unit owes the item, each (item, stage) sent once even when
several processes sweep the same moment (the claim in ``rectification_reminders``)."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from bot.services import rectifications
from bot.services.rectify_reminders import RectSweepResult, sweep
from storage.db import Database
from tests.schedule.conftest import EXCHANGE, World, at, outbox


def _add(w: World, unit: str, due: datetime) -> int:
    return int(w.tx(lambda c: rectifications.add(
        c, unit_id=w.unit[unit], text="执法案卷不规范", due=due, actor="cli:test",
        now=at("2026-07-01 08:00")).id))


def _race(w: World, moment: datetime, n: int) -> list[RectSweepResult]:
    dbs = [Database(w.db.url) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: list[RectSweepResult | BaseException] = [RuntimeError("not run")] * n

    def run(i: int) -> None:
        def fn(conn: object) -> RectSweepResult:
            barrier.wait(timeout=10)
            return sweep(conn, w.env, moment)  # type: ignore[arg-type]

        try:
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
    out = []
    for r in results:
        if isinstance(r, BaseException):
            raise r
        out.append(r)
    return out


def _check(w: World, n: int) -> None:
    rid = _add(w, "郑州市", at("2026-07-17 18:00"))  # a Friday
    # 2026-07-08 is 7 working days before; 07-11 is a Saturday; 07-20 the first overdue day
    for moment, stage in (("2026-07-08 09:00", "before-7"), ("2026-07-11 10:00", None),
                          ("2026-07-14 09:30", "before-3"), ("2026-07-20 09:00", "overdue-1")):
        before = len(outbox(w.db))
        results = _race(w, at(moment), n)
        claimed = [c for r in results for c in r.claimed]
        sent = outbox(w.db)[before:]
        if stage is None:
            assert claimed == [] and sent == []
            continue
        assert [(c.task_id, c.stage) for c in claimed] == [(rid, stage)]
        assert len(sent) == 1 and sent[0].chat == EXCHANGE and sent[0].kind == "reminder"
        assert sent[0].cause == f"rectification:{rid}"
        assert all(r.claimed == () for r in _race(w, at(moment), n))  # the same moment again
    w.tx(lambda c: rectifications.report(c, rid, unit_id=w.unit["郑州市"], person_id=None,
                                         text="已整改", now=at("2026-07-20 10:00")))
    assert all(r.claimed == () for r in _race(w, at("2026-07-22 09:00"), n))


def test_rectification_reminders_sqlite(world: World) -> None:
    _check(world, 1)


@pytest.mark.postgres
def test_rectification_reminders_postgres_two_processes(pg_world: World) -> None:
    _check(pg_world, 3)
