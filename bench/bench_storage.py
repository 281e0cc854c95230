#!/usr/bin/env python3
"""Storage at full size (issue 2): "who has not submitted" and the reminder sweep, SQLite and PG.

Database (default size; ``--quick`` is 100 units × 400 tasks with the same proportions):
- 300 units in 18 exchange groups (+1 admin group), a liaison (QQ) and an official (official
  account) per unit;
- 2,000 tasks, each assigned to every unit (the programme's tasks go to all units), so
  ``task_units`` is the full cross product: 600,000 rows. 1,000 tasks are last year's, closed;
  1,000 are open (the "300 units × 1,000 open tasks" of the issue): 100 past their deadline
  (30–59 days, yellow flags set for the units that owe) and 900 due 30–300 days ahead;
- 200,000 submissions: 190,000 (task, unit) pairs submitted (160,000 of the closed tasks'
  300,000, 24,000 of the past-due open tasks' 30,000, 6,000 early ones of the future tasks'
  270,000), 10,000 of them with a second version after the first was returned.
  ``task_units.state`` follows the latest version: ``accepted`` or ``received`` (review pending),
  ``returned`` for a returned version not yet resubmitted; ``owed`` where nothing was submitted.

Measured, each on SQLite (a file, WAL, as ``dudao serve`` opens it, no ANALYZE: the service never
runs it) and PostgreSQL (after ANALYZE, which autovacuum does shortly after a bulk load):
1. ``tasks.missing(conn, task)`` ("who has not submitted", the query of ``/status <task>``) for
   sampled tasks, and ``tasks.owed_by_unit(conn, unit)`` (what a unit still owes, the query of
   ``/status <unit>`` and of every submission) for every unit: p50/p95/max per call, inside an
   open transaction as a handler runs them. The SQL they emit is captured from the cursor and
   its plan printed (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE); a full scan of a large table fails
   the check.
2. ``reminders.sweep_reminders`` at a working-hours moment (Wed 2026-07-08 10:00 Asia/Shanghai)
   with 0, 30, 300 and 3,000 reminders due (tasks due Fri 2026-07-17, ``before-7`` due today;
   the 30 case is one task where 270 of 300 units have already submitted), in the scheduler's
   ``tick`` mode (only deadlines passed since the previous tick are checked for flags) and in
   ``full`` mode (``dudao tick``: every open task's passed deadline); and ``300 passed``: a
   deadline passed 3 minutes ago with 300 units owing, so the sweep sets 300 yellow flags. The
   timing loop is ``bench_sweep.measure`` (each sweep rolled back, median of the repeats).
   Exit status: 1 if a plan scans a large table in full, 2 if a backend could not be measured.

    .venv/bin/python bench/bench_storage.py [--pg URL] [--quick] [--no-pg | --no-sqlite] [--keep] [--repeats N]

The PostgreSQL database ``dudao_bench_storage`` is created next to ``--pg`` and dropped at the end.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_sweep import MOMENT, TZ, measure  # noqa: E402
from pg_scratch import create as pg_create  # noqa: E402
from pg_scratch import drop as pg_drop  # noqa: E402
from sqlalchemy import (  # noqa: E402
    Connection,
    delete,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError  # noqa: E402

from bot.core.env import ServiceEnv  # noqa: E402
from bot.domain.clock import FixedClock  # noqa: E402
from bot.domain.workdays import WorkCalendar  # noqa: E402
from bot.services import tasks as tasks_svc  # noqa: E402
from bot.services.reminders import sweep_reminders  # noqa: E402
from config.settings import load_settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Flag,
    Group,
    GroupUnit,
    Identity,
    Person,
    Submission,
    Task,
    TaskUnit,
    Unit,
)

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DBNAME = "dudao_bench_storage"
GROUPS = 18
BATCH = 20_000
# Tables too large to be scanned by a per-request query.
LARGE_TABLES = ("task_units", "submissions", "flags")
DUE_AT = datetime(2026, 7, 17, 9, 0, tzinfo=TZ)  # before-7 is due on MOMENT's day
PASSED_AT = MOMENT - timedelta(minutes=3)  # a deadline that passed since the previous tick
# (label, assignments owing, deadline of the added tasks)
SCENARIOS = (("0 due", 0, DUE_AT), ("30 due", 30, DUE_AT), ("300 due", 300, DUE_AT),
             ("3000 due", 3000, DUE_AT), ("300 passed", 300, PASSED_AT))


@dataclass(frozen=True)
class Size:
    units: int
    closed: int  # last year's tasks, closed
    past: int  # open, deadline passed
    future: int  # open, deadline ahead
    # (task, unit) pairs submitted, as a fraction of each class's assignments
    closed_rate: float = 160_000 / 300_000
    past_rate: float = 24_000 / 30_000
    future_rate: float = 6_000 / 270_000
    second_versions: float = 10_000 / 190_000

    @property
    def tasks(self) -> int:
        return self.closed + self.past + self.future


FULL = Size(units=300, closed=1000, past=100, future=900)
QUICK = Size(units=100, closed=200, past=20, future=180)


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ seeding


def _chunks(rows: Iterator[dict[str, Any]], n: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def _bulk(conn: Connection, table: Any, rows: Iterator[dict[str, Any]], label: str,
          total: int) -> None:
    done = 0
    t0 = time.perf_counter()
    for batch in _chunks(rows):
        conn.execute(insert(table), batch)
        done += len(batch)
        if done % 100_000 < BATCH or done == total:
            progress(f"    {label}: {done:,}/{total:,} ({time.perf_counter() - t0:.1f} s)")


def seed(db: Database, size: Size) -> dict[str, int]:
    """Fill the database; returns the row counts."""
    rnd = random.Random(20260708)
    created = MOMENT - timedelta(days=400)
    n_units = size.units
    unit_ids = range(1, n_units + 1)

    # Task classes: ids 1..closed (last year, closed), then past-due open, then future open.
    def task_row(t: int) -> dict[str, Any]:
        if t <= size.closed:
            due = MOMENT - timedelta(days=370 - (t * 330) // size.closed)
            status = "closed"
        elif t <= size.closed + size.past:
            due = MOMENT - timedelta(days=30 + t % 30)
            status = "open"
        else:
            k = t - size.closed - size.past
            due = MOMENT + timedelta(days=30 + (k * 270) // size.future)
            status = "open"
        return {"id": t, "title": f"任务{t}", "description": "", "materials": "",
                "system": "supervision", "due": due.replace(hour=18, minute=0),
                "reminder_policy": "", "status": status, "created_by": None,
                "created_at": due - timedelta(days=45)}

    tasks = [task_row(t) for t in range(1, size.tasks + 1)]
    due_of = {t["id"]: t["due"] for t in tasks}

    # Which pairs were submitted: an exact sample per class, so the totals are the stated ones.
    classes = (("closed", 1, size.closed, size.closed_rate),
               ("past", size.closed + 1, size.past, size.past_rate),
               ("future", size.closed + size.past + 1, size.future, size.future_rate))
    submitted: dict[tuple[int, int], str] = {}
    for name, first, count, rate in classes:
        population = count * n_units
        for i in rnd.sample(range(population), round(population * rate)):
            submitted[(first + i // n_units, 1 + i % n_units)] = name
    pairs = sorted(submitted)
    twice = set(rnd.sample(pairs, round(len(pairs) * size.second_versions)))

    subs: list[dict[str, Any]] = []
    state_of: dict[tuple[int, int], tuple[str, int]] = {}
    ratings = ("优", "良", "一般")

    def sub(t: int, u: int, version: int, status: str, at: datetime) -> int:
        sid = len(subs) + 1
        reviewed = status in ("accepted", "returned")
        subs.append({
            "id": sid, "task_id": t, "unit_id": u, "person_id": 2 * u - 1, "version": version,
            "text": f"{u}号单位关于任务{t}的材料", "status": status,
            "rating": rnd.choice(ratings) if status == "accepted" else None,
            "review_reason": "请补充具体数据" if status == "returned" else None,
            "reviewed_by": None, "reviewed_at": at + timedelta(days=1) if reviewed else None,
            "submitted_at": at, "late": at > due_of[t], "channel": "chat",
            "source_chat": f"qq:group:{40001 + (u - 1) % GROUPS}",
            "source_message_id": f"m{t}-{u}-{version}"})
        return sid

    for t, u in pairs:
        cls = submitted[(t, u)]
        due = due_of[t]
        first_at = due - timedelta(days=rnd.randint(0, 10), hours=rnd.randint(0, 8)) \
            if cls != "future" else MOMENT - timedelta(days=rnd.randint(1, 10))
        roll = rnd.random()
        if (t, u) in twice:
            sub(t, u, 1, "returned", first_at)
            final = "received" if cls == "future" or roll < 0.2 else "accepted"
            sid = sub(t, u, 2, final, first_at + timedelta(days=3))
        elif cls == "closed":
            final = "returned" if roll < 0.03 else "accepted"
            sid = sub(t, u, 1, final, first_at)
        elif cls == "past":
            final = "returned" if roll < 0.05 else "received" if roll < 0.3 else "accepted"
            sid = sub(t, u, 1, final, first_at)
        else:
            final = "received"
            sid = sub(t, u, 1, final, first_at)
        state_of[(t, u)] = (final, sid)

    def task_units() -> Iterator[dict[str, Any]]:
        for t in range(1, size.tasks + 1):
            for u in unit_ids:
                state, sid = state_of.get((t, u), ("owed", 0))
                yield {"task_id": t, "unit_id": u, "state": state,
                       "last_submission_id": sid or None}

    # Flags as the rules would have left them on every assignment whose deadline passed
    # (DESIGN §4): yellow while owing (or late and not accepted), red for on time with 优, blue
    # otherwise once accepted; a resubmitted pair also keeps its earlier flag as history. So a
    # ``full`` sweep finds nothing left to mark, as in a running service, and the flags table
    # has its real size.
    def flag_rows() -> Iterator[dict[str, Any]]:
        for t in range(1, size.closed + size.past + 1):
            at = due_of[t] + timedelta(hours=1)
            for u in unit_ids:
                state, sid = state_of.get((t, u), ("owed", 0))
                last = subs[sid - 1] if sid else None
                if state in ("owed", "returned") or (last and last["late"]
                                                     and state != "accepted"):
                    color = "yellow"
                elif state == "accepted" and last is not None:
                    color = "red" if last["rating"] == "优" and not last["late"] else "blue"
                else:
                    continue  # on time, review pending: no flag yet
                if last is not None and last["version"] > 1:
                    yield {"unit_id": u, "task_id": t, "period": None, "color": "yellow",
                           "reason": "材料退回", "source": "rule", "current": False,
                           "set_by": None, "set_at": at}
                yield {"unit_id": u, "task_id": t, "period": None, "color": color,
                       "reason": "", "source": "rule", "current": True, "set_by": None,
                       "set_at": at}

    n_flags = sum(1 for _ in flag_rows())

    def fn(conn: Connection) -> None:
        conn.execute(insert(Unit), [
            {"id": i, "code": f"U{i:04d}", "name": f"单位{i:03d}", "short_name": f"单位{i:03d}",
             "kind": "county", "parent_id": None, "active": True, "created_at": created}
            for i in unit_ids])
        conn.execute(insert(Group), [
            {"id": g, "chat": f"qq:group:{40000 + g}", "name": f"群{g}",
             "purpose": "exchange" if g <= GROUPS else "admin", "account": "999",
             "active": True, "created_at": created} for g in range(1, GROUPS + 2)])
        conn.execute(insert(GroupUnit), [
            {"group_id": 1 + (u - 1) % GROUPS, "unit_id": u} for u in unit_ids])
        conn.execute(insert(Person), [
            {"id": 2 * u - 1 + k, "name": "", "role": ("liaison", "official")[k], "unit_id": u,
             "active": True, "created_at": created} for u in unit_ids for k in (0, 1)])
        conn.execute(insert(Identity), [
            {"identity": f"qq:{30000 + u}" if k == 0 else f"mp:o{u:05d}",
             "person_id": 2 * u - 1 + k, "created_at": created} for u in unit_ids for k in (0, 1)])
        conn.execute(insert(Task), tasks)
        progress(f"    units: {n_units}, tasks: {len(tasks):,}")
        _bulk(conn, Submission, iter(subs), "submissions", len(subs))
        _bulk(conn, TaskUnit, task_units(), "task_units", size.tasks * n_units)
        _bulk(conn, Flag, flag_rows(), "flags", n_flags)

    db.transaction(fn)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return {"units": n_units, "tasks": len(tasks), "task_units": size.tasks * n_units,
            "submissions": len(subs), "submitted_pairs": len(pairs), "flags": n_flags,
            "open_tasks": size.past + size.future,
            "owing_open": sum(1 for t in range(size.closed + 1, size.tasks + 1) for u in unit_ids
                              if state_of.get((t, u), ("owed", 0))[0] in ("owed", "returned"))}


# ------------------------------------------------------------------------------ SQL and plans


@contextmanager
def captured_sql(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with parameters) sent to the driver inside the block."""
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any,
             _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)


_SQLITE_FULL = re.compile(r"^SCAN (\w+)(?! USING (?:COVERING )?INDEX| USING INTEGER PRIMARY KEY)")
_PG_FULL = re.compile(r"Seq Scan on (\w+)")


def explain(db: Database, statement: str, params: Any) -> tuple[list[str], list[str]]:
    """The plan's lines, and the large tables it scans in full."""
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            lines = [str(r[3]) for r in rows]
            full = [m.group(1) for line in lines if (m := _SQLITE_FULL.match(line))]
        else:
            rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params).all()
            lines = [str(r[0]) for r in rows]
            full = [m.group(1) for line in lines for m in _PG_FULL.finditer(line)]
        conn.rollback()
    return lines, [t for t in full if t in LARGE_TABLES]


def show_plans(db: Database, label: str, call: Callable[[Connection], object],
               only: tuple[str, ...] = ("task_units",)) -> list[str]:
    """Run ``call`` once, print the plan of each distinct SELECT it sent that reads one of the
    ``only`` tables; return the large tables scanned in full."""
    with captured_sql(db) as seen, db.engine.connect() as conn:
        call(conn)
        conn.rollback()
    scans: list[str] = []
    shown: set[str] = set()
    for statement, params in seen:
        if statement in shown or not any(f" {t} " in f"{statement} " for t in only):
            continue
        shown.add(statement)
        lines, full = explain(db, statement, params)
        scans += full
        flat = " ".join(statement.split())
        print(f"\n-- [{db.dialect}] {label}\n   {flat[:400]}{' …' if len(flat) > 400 else ''}")
        for line in lines:
            print(f"   | {line}")
        print(f"   => {'FULL SCAN of ' + ', '.join(full) if full else 'indexed'}")
    return scans


# ------------------------------------------------------------------------------ measurements


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def time_calls(db: Database, items: list[int], call: Callable[[Connection, int], list[Any]],
               passes: int) -> tuple[list[float], float]:
    """Per-call milliseconds (best of ``passes`` per item) and the mean rows returned."""
    best: dict[int, float] = {}
    rows = 0
    with db.engine.connect() as conn:
        trans = conn.begin()  # as a handler: inside the dispatcher's transaction
        for item in items[:5]:  # warm the caches and the statement cache
            call(conn, item)
        for _ in range(passes):
            rows = 0
            for item in items:
                t0 = time.perf_counter()
                got = call(conn, item)
                ms = (time.perf_counter() - t0) * 1000
                rows += len(got)
                best[item] = min(ms, best.get(item, ms))
        trans.rollback()
    return list(best.values()), rows / len(items)


def query_rows(db: Database, size: Size, backend: str, passes: int) -> list[dict[str, Any]]:
    rnd = random.Random(7)
    open_first = size.closed + 1
    # Tasks people ask about: mostly open ones, some of last year's.
    sample = sorted(set(rnd.sample(range(open_first, size.tasks + 1), min(150, size.tasks // 2))
                        + rnd.sample(range(1, size.closed + 1), min(50, size.closed))))
    units = list(range(1, size.units + 1))
    cases: list[tuple[str, list[int], Callable[[Connection, int], list[Any]]]] = [
        ("missing(task)", sample, lambda c, t: tasks_svc.missing(c, t)),
        ("owed_by_unit(unit)", units, lambda c, u: tasks_svc.owed_by_unit(c, u)),
        ("owed_by_unit(pending)", units,
         lambda c, u: tasks_svc.owed_by_unit(c, u, include_pending=True)),
    ]
    out = []
    for name, items, call in cases:
        times, mean_rows = time_calls(db, items, call, passes)
        out.append({"backend": backend, "what": name, "calls": len(items),
                    "p50": statistics.median(times), "p95": pct(times, 95), "max": max(times),
                    "rows": mean_rows})
        progress(f"  [{backend}] {name}: p50 {out[-1]['p50']:.2f} ms over {len(items)} calls")
    return out


def add_due(db: Database, size: Size, n_due: int, due_at: datetime) -> list[int]:
    """Open tasks due at ``due_at`` with ``n_due`` (task, unit) assignments owing in all; the
    other units of those tasks have submitted. Returns the task ids (for ``remove_tasks``)."""
    if n_due == 0:
        return []
    n_tasks = max(1, math.ceil(n_due / size.units))
    owing = n_due // n_tasks
    first = size.tasks + 1
    ids = list(range(first, first + n_tasks))

    def fn(conn: Connection) -> None:
        next_sid = (conn.execute(select(Submission.id).order_by(Submission.id.desc()).limit(1))
                    .scalar_one_or_none() or 0) + 1
        conn.execute(insert(Task), [
            {"id": t, "title": f"到期任务{t}", "description": "", "materials": "",
             "system": "supervision", "due": due_at + timedelta(minutes=i),
             "reminder_policy": "", "status": "open", "created_by": None,
             "created_at": MOMENT - timedelta(days=20)} for i, t in enumerate(ids)])
        subs, tus = [], []
        for t in ids:
            for u in range(1, size.units + 1):
                if u <= owing:
                    tus.append({"task_id": t, "unit_id": u, "state": "owed",
                                "last_submission_id": None})
                    continue
                subs.append({"id": next_sid, "task_id": t, "unit_id": u, "person_id": 2 * u - 1,
                             "version": 1, "text": "材料", "status": "received",
                             "submitted_at": MOMENT - timedelta(days=1), "late": False,
                             "channel": "chat"})
                tus.append({"task_id": t, "unit_id": u, "state": "received",
                            "last_submission_id": next_sid})
                next_sid += 1
        if subs:
            conn.execute(insert(Submission), subs)
        conn.execute(insert(TaskUnit), tus)

    db.transaction(fn)
    return ids


def remove_tasks(db: Database, ids: list[int]) -> None:
    if not ids:
        return

    def fn(conn: Connection) -> None:
        conn.execute(delete(TaskUnit).where(TaskUnit.task_id.in_(ids)))
        conn.execute(delete(Submission).where(Submission.task_id.in_(ids)))
        conn.execute(delete(Task).where(Task.id.in_(ids)))

    db.transaction(fn)


def sweep_rows(db: Database, size: Size, backend: str, env: ServiceEnv,
               repeats: int) -> tuple[list[dict[str, Any]], list[str]]:
    out = []
    scans: list[str] = []
    for label, n_due, due_at in SCENARIOS:
        ids = add_due(db, size, n_due, due_at)
        try:
            for mode, since in (("tick", MOMENT - timedelta(minutes=6)), ("full", None)):
                times, res = measure(db, env, MOMENT, repeats, since)
                out.append({"backend": backend, "due": label, "mode": mode,
                            "median": statistics.median(times), "min": min(times),
                            "max": max(times), "read": res.considered,
                            "claimed": len(res.claimed), "messages": res.messages,
                            "flags": res.flags_marked})
                progress(f"  [{backend}] sweep {label} [{mode}]: "
                         f"{out[-1]['median']:.1f} ms, {len(res.claimed)} claimed")
            if label == "300 passed":
                scans += show_plans(db, "sweep_reminders (tick), a deadline just passed",
                                    lambda c: measure_once(c, env, MOMENT - timedelta(minutes=6)),
                                    only=LARGE_TABLES)
            if label == "300 due":
                scans += show_plans(db, "sweep_reminders (tick), 300 due", lambda c: measure_once(
                    c, env, MOMENT - timedelta(minutes=6)))
                scans += show_plans(db, "sweep_reminders (full), 300 due",
                                    lambda c: measure_once(c, env, None))
        finally:
            remove_tasks(db, ids)
    return out, scans


def measure_once(conn: Connection, env: ServiceEnv, since: datetime | None) -> object:
    return sweep_reminders(conn, env, MOMENT, flags_since=since)


# ------------------------------------------------------------------------------ databases


def run_backend(url: str, backend: str, size: Size, env: ServiceEnv, repeats: int,
                passes: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str],
                                      dict[str, Any]]:
    db = Database(url)
    try:
        upgrade(db)
        progress(f"[{backend}] seeding …")
        t0 = time.perf_counter()
        counts = seed(db, size)
        counts["seed_s"] = time.perf_counter() - t0
        progress(f"[{backend}] seeded in {counts['seed_s']:.1f} s")
        scans: list[str] = []
        open_task = size.closed + size.past + 1  # a future task: most units still owe
        past_task = size.closed + 1
        scans += show_plans(db, f"missing(task {open_task})",
                            lambda c: tasks_svc.missing(c, open_task))
        scans += show_plans(db, f"missing(task {past_task}, past due)",
                            lambda c: tasks_svc.missing(c, past_task))
        scans += show_plans(db, "owed_by_unit(unit 17)", lambda c: tasks_svc.owed_by_unit(c, 17))
        scans += show_plans(db, "owed_by_unit(unit 17, include_pending)",
                            lambda c: tasks_svc.owed_by_unit(c, 17, include_pending=True))
        queries = query_rows(db, size, backend, passes)
        sweeps, sweep_scans = sweep_rows(db, size, backend, env, repeats)
        return queries, sweeps, scans + sweep_scans, counts
    finally:
        db.close()


# ------------------------------------------------------------------------------ report


def report(queries: list[dict[str, Any]], sweeps: list[dict[str, Any]],
           counts: dict[str, dict[str, Any]], scans: dict[str, list[str]]) -> None:
    print("\n== data")
    for backend, c in counts.items():
        print(f"   {backend}: {c['units']} units, {c['tasks']:,} tasks, "
              f"{c['task_units']:,} task_units, {c['submissions']:,} submissions "
              f"({c['submitted_pairs']:,} pairs), {c['flags']:,} flags, "
              f"{c['owing_open']:,} open assignments owing; seeded in {c['seed_s']:.0f} s")
    print("\n== who has not submitted (ms per call, inside a transaction)")
    head = f"{'backend':<11} {'query':<23} {'calls':>5} {'p50':>7} {'p95':>7} {'max':>7} {'rows':>7}"
    print(head)
    print("-" * len(head))
    for r in queries:
        print(f"{r['backend']:<11} {r['what']:<23} {r['calls']:>5} {r['p50']:>7.2f} "
              f"{r['p95']:>7.2f} {r['max']:>7.2f} {r['rows']:>7.1f}")
    first = next(iter(counts.values()))
    print(f"\n== reminder sweep, {first['units']} units × {first['open_tasks']:,} open tasks "
          "(ms per sweep, median of repeats)")
    head = (f"{'backend':<11} {'scenario':<10} {'mode':<5} {'median':>8} {'min':>8} {'max':>8} "
            f"{'read':>6} {'claimed':>7} {'msgs':>5} {'flags':>5}")
    print(head)
    print("-" * len(head))
    for r in sweeps:
        print(f"{r['backend']:<11} {r['due']:<10} {r['mode']:<5} {r['median']:>8.1f} "
              f"{r['min']:>8.1f} {r['max']:>8.1f} {r['read']:>6} {r['claimed']:>7} "
              f"{r['messages']:>5} {r['flags']:>5}")
    print("\n== plans")
    for backend, found in scans.items():
        print(f"   {backend}: " + ("FULL SCANS of " + ", ".join(sorted(set(found))) if found
                                   else "every query above uses indexes on the large tables"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n(load average at the end: {load} on {os.cpu_count()} CPUs; figures from a shared "
          "machine are inflated by whatever else runs)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL server URL (admin database)")
    ap.add_argument("--no-pg", action="store_true", help="SQLite only")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    ap.add_argument("--quick", action="store_true", help="100 units × 400 tasks")
    ap.add_argument("--keep", action="store_true",
                    help=f"leave the PostgreSQL database {PG_DBNAME} in place to inspect it")
    ap.add_argument("--repeats", type=int, default=None, help="sweeps per scenario")
    args = ap.parse_args()
    size = QUICK if args.quick else FULL
    repeats = args.repeats or (3 if args.quick else 5)
    passes = 2 if args.quick else 3
    started = time.perf_counter()
    queries: list[dict[str, Any]] = []
    sweeps: list[dict[str, Any]] = []
    counts: dict[str, dict[str, Any]] = {}
    scans: dict[str, list[str]] = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, {}, cwd=Path(tmp))
        env = ServiceEnv(settings=settings, clock=FixedClock(MOMENT), calendar=WorkCalendar(TZ),
                         tz=TZ, board_url="http://127.0.0.1:8080")
        # (backend, make the database and return its URL, clean up afterwards)
        targets: list[tuple[str, Callable[[], str], Callable[[], None] | None]] = []
        if not args.no_sqlite:
            targets.append(("sqlite", lambda: f"sqlite:///{tmp}/bench_storage.db", None))
        if not args.no_pg:
            targets.append(("postgresql", lambda: pg_create(args.pg, PG_DBNAME),
                            None if args.keep else lambda: pg_drop(args.pg, PG_DBNAME)))
        for backend, make, cleanup in targets:
            try:
                q, s, sc, c = run_backend(make(), backend, size, env, repeats, passes)
            except DBAPIError as exc:
                # The server may be down or restarting (it is shared): report what did run.
                failed.append(f"{backend}: {str(exc.orig or exc).strip().splitlines()[0]}")
                progress(f"[{backend}] FAILED: {failed[-1]}")
                continue
            finally:
                if cleanup is not None:
                    with suppress(DBAPIError):
                        cleanup()
            queries += q
            sweeps += s
            scans[backend] = sc
            counts[backend] = c
    if counts:
        report(queries, sweeps, counts, scans)
    for line in failed:
        print(f"NOT MEASURED {line}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 1 if any(scans.values()) else 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
