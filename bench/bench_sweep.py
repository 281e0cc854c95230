#!/usr/bin/env python3
"""Cost of one reminder sweep with 300 units × 1,000 open tasks (issue 5).

Data: 300 units in 18 exchange groups (+1 admin group), a liaison (QQ) and an official (official
account) per unit, 1,000 open tasks each assigned to all 300 units (300,000 assignments):
100 past their deadline (yellow flags already set) and 900 due 30–300 days ahead.

Scenarios, each swept at a working-hours moment (Wed 2026-07-08 10:00 Asia/Shanghai):
- ``nothing due``: no deadline in the window;
- ``300 due``: one more task due Fri 2026-07-17 18:00, so ``before-7`` is due for all 300 units
  (300 ledger claims, 18 group messages);
- ``night``: the same data at 22:00 (the sweep only checks for passed deadlines).

Each in two modes: ``full`` checks every open task for passed deadlines (``dudao tick``, the
scheduler's first tick and hourly), ``tick`` only deadlines passed since the previous tick (the
scheduler's other ticks).

Each sweep runs in a transaction that is rolled back, so every repeat sees the same state; the
median of the repeats is reported. PostgreSQL too when DUDAO_TEST_PG_URL is set (a database
``dudao_sched_bench`` is created next to it and dropped/recreated each run).

    .venv/bin/python bench/bench_sweep.py [--repeats 9] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pg_scratch  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bot.core.env import ServiceEnv  # noqa: E402
from bot.domain.clock import FixedClock  # noqa: E402
from bot.domain.workdays import WorkCalendar  # noqa: E402
from bot.services.reminders import SweepResult, sweep_reminders  # noqa: E402
from config.settings import load_settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Flag,
    Group,
    GroupUnit,
    Identity,
    Person,
    Task,
    TaskUnit,
    Unit,
)

TZ = ZoneInfo("Asia/Shanghai")
UNITS = 300
TASKS = 1000
PAST = 100
GROUPS = 18
MOMENT = datetime(2026, 7, 8, 10, 0, tzinfo=TZ)


def seed(db: Database) -> None:
    now = MOMENT - timedelta(days=120)

    def fn(conn: Any) -> None:
        conn.execute(insert(Unit), [
            {"id": i, "code": f"U{i:04d}", "name": f"单位{i:03d}", "short_name": f"单位{i:03d}",
             "kind": "county", "active": True, "created_at": now} for i in range(1, UNITS + 1)])
        conn.execute(insert(Group), [
            {"id": g, "chat": f"qq:group:{40000 + g}", "name": f"群{g}",
             "purpose": "exchange" if g <= GROUPS else "admin", "account": "999",
             "active": True, "created_at": now} for g in range(1, GROUPS + 2)])
        conn.execute(insert(GroupUnit), [
            {"group_id": 1 + (u - 1) % GROUPS, "unit_id": u} for u in range(1, UNITS + 1)])
        people = []
        idents = []
        for u in range(1, UNITS + 1):
            people.append({"id": 2 * u - 1, "name": "", "role": "liaison", "unit_id": u,
                           "active": True, "created_at": now})
            people.append({"id": 2 * u, "name": "", "role": "official", "unit_id": u,
                           "active": True, "created_at": now})
            idents.append({"identity": f"qq:{30000 + u}", "person_id": 2 * u - 1,
                           "created_at": now})
            idents.append({"identity": f"mp:o{u:05d}", "person_id": 2 * u, "created_at": now})
        conn.execute(insert(Person), people)
        conn.execute(insert(Identity), idents)
        tasks = []
        for t in range(1, TASKS + 1):
            if t <= PAST:
                due = MOMENT - timedelta(days=30 + (t % 30))
            else:
                due = MOMENT + timedelta(days=30 + (t * 270) // TASKS)
            tasks.append({"id": t, "title": f"任务{t}", "description": "", "materials": "",
                          "system": "supervision", "due": due.replace(hour=18),
                          "reminder_policy": "", "status": "open",
                          "created_at": now})
        conn.execute(insert(Task), tasks)
        batch = []
        for t in range(1, TASKS + 1):
            batch.extend({"task_id": t, "unit_id": u, "state": "owed"}
                         for u in range(1, UNITS + 1))
            if len(batch) >= 30000:
                conn.execute(insert(TaskUnit), batch)
                batch = []
        if batch:
            conn.execute(insert(TaskUnit), batch)
        conn.execute(insert(Flag), [
            {"unit_id": u, "task_id": t, "color": "yellow", "reason": "未按时完成，需要督促指导",
             "source": "rule", "current": True, "set_at": MOMENT - timedelta(days=20)}
            for t in range(1, PAST + 1) for u in range(1, UNITS + 1)])

    db.transaction(fn)
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("ANALYZE"))
        else:
            conn.exec_driver_sql("ANALYZE")


def add_due_task(db: Database) -> None:
    def fn(conn: Any) -> None:
        tid = TASKS + 1
        conn.execute(insert(Task), {
            "id": tid, "title": "三季度调研报告", "description": "", "materials": "",
            "system": "supervision", "due": datetime(2026, 7, 17, 18, 0, tzinfo=TZ),
            "reminder_policy": "", "status": "open",
            "created_at": MOMENT - timedelta(days=10)})
        conn.execute(insert(TaskUnit), [{"task_id": tid, "unit_id": u, "state": "owed"}
                                        for u in range(1, UNITS + 1)])

    db.transaction(fn)


def measure(db: Database, env: ServiceEnv, moment: datetime, repeats: int,
            flags_since: datetime | None) -> tuple[list[float], SweepResult]:
    times: list[float] = []
    result: SweepResult | None = None
    for _ in range(repeats):
        with db.engine.connect() as conn:
            trans = conn.begin()
            started = time.perf_counter()
            result = sweep_reminders(conn, env, moment, flags_since=flags_since)
            times.append((time.perf_counter() - started) * 1000)
            trans.rollback()
    assert result is not None
    return times, result


def run(url: str, backend: str, repeats: int, env: ServiceEnv) -> list[dict[str, Any]]:
    db = Database(url)
    try:
        upgrade(db)
        t0 = time.perf_counter()
        seed(db)
        print(f"[{backend}] seeded {UNITS} units × {TASKS} tasks in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
        rows = []
        night = MOMENT.replace(hour=22)
        for name, moment, prepare in (("nothing due", MOMENT, None),
                                      ("night (22:00)", night, None),
                                      ("300 due", MOMENT, add_due_task)):
            if prepare is not None:
                prepare(db)
            for mode, since in (("full", None), ("tick", moment - timedelta(minutes=6))):
                times, res = measure(db, env, moment, repeats, since)
                rows.append(_row(backend, f"{name} [{mode}]", times, res))
        return rows
    finally:
        db.close()


def _row(backend: str, name: str, times: list[float], res: SweepResult) -> dict[str, Any]:
    return {"backend": backend, "scenario": name,
            "median_ms": round(statistics.median(times), 2),
            "min_ms": round(min(times), 2), "max_ms": round(max(times), 2),
            "assignments_read": res.considered, "claimed": len(res.claimed),
            "messages": res.messages}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, {}, cwd=Path(tmp))
        env = ServiceEnv(settings=settings, clock=FixedClock(MOMENT), calendar=WorkCalendar(TZ),
                         tz=TZ, board_url="http://127.0.0.1:8080")
        rows = run(f"sqlite:///{tmp}/bench.db", "sqlite", args.repeats, env)
        pg = pg_scratch.from_env("dudao_sched_bench")
        if pg:
            rows += run(pg, "postgresql", args.repeats, env)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    head = f"{'backend':<11} {'scenario':<22} {'median ms':>9} {'min':>7} {'max':>7} " \
           f"{'read':>5} {'claimed':>7} {'msgs':>5}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['backend']:<11} {r['scenario']:<22} {r['median_ms']:>9.2f} {r['min_ms']:>7.2f} "
              f"{r['max_ms']:>7.2f} {r['assignments_read']:>5} {r['claimed']:>7} "
              f"{r['messages']:>5}")


if __name__ == "__main__":
    main()
