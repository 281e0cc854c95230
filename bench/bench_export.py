#!/usr/bin/env python3
"""Cost of ``dudao export`` for a large year: 300 units × 2,000 tasks (issue 7).

Data (seeded with bulk inserts, not through the services, to keep seeding minutes short):
300 units, 2,000 tasks due across 2026, each assigned to all 300 units (600,000 assignments);
about 90 % submitted (some late, some returned and resubmitted), a current flag on each
assignment whose deadline passed plus some flag history, 600 score entries and period flags.
The clock stands at 2026-11-28, so the tasks due in December are still running.

Reported (median of the repeats): reading the numbers (``read_year``: the GROUP BY queries),
building the workbook, saving it, and the whole ``export_year``. PostgreSQL too when
DUDAO_TEST_PG_URL is set (a database ``dudao_export_bench`` is created next to it and dropped
afterwards).

    .venv/bin/python bench/bench_export.py [--repeats 3] [--units 300] [--tasks 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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
from bot.reports import export  # noqa: E402
from bot.services import stats  # noqa: E402
from config.settings import load_settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Flag, ScoreEntry, Submission, Task, TaskUnit, Unit  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=TZ)
YEAR_START = datetime(2026, 1, 1, tzinfo=TZ)


def seed(db: Database, n_units: int, n_tasks: int) -> dict[str, int]:
    rng = random.Random(7)
    created = YEAR_START - timedelta(days=30)
    counts = {"assignments": 0, "submissions": 0, "flags": 0}

    def base(conn: Any) -> None:
        conn.execute(insert(Unit), [
            {"id": i, "code": f"U{i:04d}", "name": f"单位{i:03d}", "short_name": f"单位{i:03d}",
             "kind": ("city", "county", "department")[i % 3], "active": True,
             "created_at": created} for i in range(1, n_units + 1)])
        conn.execute(insert(Task), [
            {"id": t, "title": f"任务{t:04d}", "system": "supervision", "status": "open",
             "due": YEAR_START + timedelta(minutes=int(t * 525_000 / n_tasks)),
             "reminder_policy": "", "created_at": created}
            for t in range(1, n_tasks + 1)])
        entries, flags = [], []
        for k in range(2 * n_units):
            uid = rng.randint(1, n_units)
            at = YEAR_START + timedelta(days=rng.randint(0, 330))
            good = k % 3 != 0
            pts = rng.choice((0.5, 1.0, 2.0)) * (1 if good else -1)
            kind = "innovation" if good else "incident"
            entries.append({"unit_id": uid, "period": "2026", "points": pts, "kind": kind,
                            "reason": "创新举措" if good else "执法问题", "evidence": "",
                            "created_at": at})
            flags.append({"unit_id": uid, "task_id": None, "period": "2026",
                          "color": "red" if good else "yellow", "reason": kind,
                          "source": kind, "current": True, "set_at": at})
        conn.execute(insert(ScoreEntry), entries)
        conn.execute(insert(Flag), flags)

    db.transaction(base)
    sid = 0
    chunk = max(1, 20_000 // n_units)  # tasks per transaction
    for first in range(1, n_tasks + 1, chunk):
        tus: list[dict[str, Any]] = []
        subs: list[dict[str, Any]] = []
        flags: list[dict[str, Any]] = []
        for t in range(first, min(first + chunk, n_tasks + 1)):
            due = YEAR_START + timedelta(minutes=int(t * 525_000 / n_tasks))
            passed = due < NOW
            for u in range(1, n_units + 1):
                r = rng.random()
                state, last, color = "owed", None, "yellow" if passed else None
                if r >= 0.10:
                    late = r < 0.18
                    at = due + timedelta(days=2) if late else due - timedelta(days=3)
                    if at < NOW:
                        sid += 1
                        returned = 0.18 <= r < 0.26
                        if returned:  # returned on time, resubmitted, accepted
                            subs.append(_sub(sid, t, u, 1, at, "returned", None))
                            sid += 1
                            at = at + timedelta(days=1)
                        rating = "优" if r > 0.6 else ("良" if r > 0.4 else "一般")
                        accepted = r > 0.3 or returned
                        subs.append(_sub(sid, t, u, 2 if returned else 1, at,
                                         "accepted" if accepted else "received",
                                         rating if accepted else None, late=late))
                        state, last = ("accepted" if accepted else "received"), sid
                        if late:
                            color = "blue" if accepted else "yellow"
                        elif returned or rating != "优":
                            color = "blue" if accepted else None
                        else:
                            color = "red" if accepted else None
                tus.append({"task_id": t, "unit_id": u, "state": state,
                            "last_submission_id": last})
                if color is not None:
                    if color != "yellow" and late_flag(r):
                        # history: yellow first, corrected later
                        flags.append({"unit_id": u, "task_id": t, "color": "yellow",
                                      "reason": "未按时完成", "source": "rule", "current": False,
                                      "set_at": due + timedelta(minutes=1)})
                    flags.append({"unit_id": u, "task_id": t, "color": color, "reason": "rule",
                                  "source": "rule", "current": True,
                                  "set_at": min(NOW, due + timedelta(days=4))})

        def write(conn: Any, tus: list[dict[str, Any]] = tus, subs: list[dict[str, Any]] = subs,
                  flags: list[dict[str, Any]] = flags) -> None:
            conn.execute(insert(TaskUnit), tus)
            if subs:
                conn.execute(insert(Submission), subs)
            if flags:
                conn.execute(insert(Flag), flags)

        db.transaction(write)
        counts["assignments"] += len(tus)
        counts["submissions"] += len(subs)
        counts["flags"] += len(flags)
    return counts


def late_flag(r: float) -> bool:
    return 0.10 <= r < 0.18


def _sub(sid: int, t: int, u: int, version: int, at: datetime, status: str, rating: str | None,
         *, late: bool = False) -> dict[str, Any]:
    return {"id": sid, "task_id": t, "unit_id": u, "person_id": None, "version": version,
            "text": "材料", "status": status, "rating": rating, "submitted_at": at, "late": late,
            "channel": "chat", "reviewed_at": at + timedelta(hours=4) if rating else None}


def _median(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def run(url: str, label: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    db = Database(url)
    upgrade(db)
    t0 = time.perf_counter()
    counts = seed(db, args.units, args.tasks)
    seeded = time.perf_counter() - t0
    if db.dialect == "postgresql":
        db.transaction(lambda c: c.execute(text("ANALYZE")))
    settings = load_settings(None, {}, cwd=tmp)
    env = ServiceEnv(settings=settings, clock=FixedClock(NOW), calendar=WorkCalendar(TZ), tz=TZ)
    read_s, data = _median(lambda: db.transaction(
        lambda c: stats.read_year(c, env, 2026, NOW)), args.repeats)
    build_s, wb = _median(lambda: export.build_workbook(env, data), args.repeats)
    out = tmp / f"{label}.xlsx"
    save_s, _ = _median(lambda: export.save_atomic(wb, out), args.repeats)
    total_s, res = _median(lambda: export.export_year(db, env, 2026, out), args.repeats)
    db.close()
    return {"database": label, "units": len(data.units), "tasks": len(data.tasks), **counts,
            "seed_s": round(seeded, 1), "read_s": round(read_s, 3),
            "build_s": round(build_s, 3), "save_s": round(save_s, 3),
            "export_s": round(total_s, 3), "file_kb": out.stat().st_size // 1024,
            "assigned_total": res.totals["assigned"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--units", type=int, default=300)
    p.add_argument("--tasks", type=int, default=2000)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-pg", action="store_true")
    args = p.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        results.append(run(f"sqlite:///{tmp}/bench.db", "sqlite", args, tmp))
        pg = None if args.no_pg else pg_scratch.from_env("dudao_export_bench")
        if pg:
            try:
                results.append(run(pg, "postgresql", args, tmp))
            finally:
                pg_scratch.drop_from_env("dudao_export_bench")
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(f"{r['database']:>10}: {r['units']} units × {r['tasks']} tasks "
              f"({r['assignments']} assignments, {r['submissions']} submissions, "
              f"{r['flags']} flags; seeded in {r['seed_s']} s)")
        print(f"            read {r['read_s']:.3f} s · workbook {r['build_s']:.3f} s · "
              f"save {r['save_s']:.3f} s · export_year {r['export_s']:.3f} s "
              f"({r['file_kb']} KB)")


if __name__ == "__main__":
    main()
