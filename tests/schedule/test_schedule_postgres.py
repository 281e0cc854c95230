"""Two schedulers on one PostgreSQL database: every reminder is still sent once."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.domain.reminders import DueReminder
from bot.services.reminders import SweepResult, claim, sweep_reminders
from storage.db import Database
from storage.models import Flag
from tests.schedule.conftest import World, at, ledger, outbox

pytestmark = pytest.mark.postgres


def _race(world: World, moment: datetime, n: int = 2) -> list[SweepResult]:
    """``n`` processes (own Database objects) sweeping the same moment at the same time."""
    dbs = [Database(world.db.url) for _ in range(n)]
    barrier = threading.Barrier(n)
    results: list[SweepResult | BaseException] = [RuntimeError("not run")] * n

    def run(i: int) -> None:
        def fn(conn: object) -> SweepResult:
            barrier.wait(timeout=10)
            return sweep_reminders(conn, world.env, moment)  # type: ignore[arg-type]

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
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return [r for r in results if isinstance(r, SweepResult)]


def test_two_schedulers_send_each_reminder_once(pg_world: World) -> None:
    w = pg_world
    tid = w.add_task("三季度调研报告", at("2026-07-17 18:00"))
    w.add_task("半年工作总结", at("2026-07-17 18:00"), scope="郑州市,洛阳市")
    expected_units = {"before-7": 6, "overdue-1": 6}
    for moment, stage in (("2026-07-08 09:00", "before-7"), ("2026-07-20 09:00", "overdue-1")):
        before = len(outbox(w.db))
        results = _race(w, at(moment), n=3)
        claimed = [c for r in results for c in r.claimed]
        assert len(claimed) == expected_units[stage]
        assert len({(c.task_id, c.unit_id, c.stage) for c in claimed}) == len(claimed)
        # Exactly one process wrote the messages: one per group/private chat, never twice.
        sent = outbox(w.db)[before:]
        assert sum(r.messages for r in results) == len(sent)
        assert len({m.chat for m in sent}) == len(sent)
    assert len(ledger(w.db)) == 12
    # The passed deadline was flagged once per unit, not once per process.
    rows = w.tx(lambda c: c.execute(
        select(Flag.task_id, Flag.unit_id, func.count()).where(Flag.current.is_(True))
        .group_by(Flag.task_id, Flag.unit_id)).all())
    assert rows and all(n == 1 for _, _, n in rows)
    assert {t for t, _, _ in rows} >= {tid}
    # And a repeat of the same moment, racing again, sends nothing.
    assert all(r.claimed == () for r in _race(w, at("2026-07-20 09:00")))


def test_claim_returns_only_inserted_rows_on_postgres(pg_world: World) -> None:
    w = pg_world
    tid = w.add_task("半年总结", at("2026-07-17 18:00"))
    u = sorted(w.unit.values())
    moment = at("2026-07-08 09:00")
    first = [DueReminder(tid, uid, "before-7", False, False) for uid in u[:2]]
    mixed = [DueReminder(tid, uid, "before-7", False, False) for uid in u[:4]]
    assert w.tx(lambda c: claim(c, first, moment)) == first
    assert w.tx(lambda c: claim(c, mixed, moment)) == mixed[2:]
    assert w.tx(lambda c: claim(c, mixed, moment)) == []
