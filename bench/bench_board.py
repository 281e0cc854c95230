#!/usr/bin/env python3
"""Server time and page weight of the board (``GET /``, issue 7: < 300 ms) and of a unit's page
(``GET /units/1``, as an official opens it from a read-only link, issue 18: < 100 KB) with 300
units × 200 tasks.

Data on a SQLite file: 300 active units (18 cities, 10 counties under the first city, the rest
departments), 200 tasks each assigned to every unit (60,000 cells): 120 past their deadline (over
the year before the clock), 80 still open. Past tasks: per unit a submission accepted 优/良/一般
(red/blue flags), a late one, or none (yellow flag), plus a replaced earlier flag row on one cell
in ten (history). Open tasks: one unit in three has submitted and waits for review. Seeded with
bulk inserts (the services would take minutes for 60,000 reviews; the page reads the same tables
either way).

The real app (``create_app``) serves the pages on 127.0.0.1; the admin logs in through
``/login`` (the session lives in the database, so every request also reads its session row), the
official opens a read-only link for unit 1 in a browser of its own. Reported: p50/p95 of the whole
request as the client sees it (server time plus the localhost transfer of the ~1.4 MB board), the
server-side parts measured in process (the grid query, the grid HTML, the unit's view model) and
the bytes of each page: the board (with its phone form, the unit list), unit 1's page as the
official sees it (this year; and with ``?all=1``), as the admin sees it (a form per task), and
the official's board (unit 1 and the ten counties below it). The CPU time per request
(``process_time``, every thread of the process, the client's reading included) is reported too:
on a shared 2-core machine the wall time grows with whatever else runs, the CPU time much less.

    .venv/bin/python bench/bench_board.py [--repeats 30] [--json] [--save DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from sqlalchemy import Connection, insert  # noqa: E402

from bot.app import SERVICES, create_app  # noqa: E402
from bot.domain.clock import FixedClock  # noqa: E402
from bot.services import board as board_svc  # noqa: E402
from bot.web import links  # noqa: E402
from bot.web.common import BOARD  # noqa: E402
from bot.web.gridhtml import grid_html, unit_list_html  # noqa: E402
from bot.web.passwords import hash_password  # noqa: E402
from config.settings import load_settings  # noqa: E402
from storage.models import Flag, Person, Submission, Task, TaskUnit, Unit  # noqa: E402

UNITS, TASKS, PAST = 300, 200, 120
NOW = datetime(2026, 7, 8, 2, 0, tzinfo=UTC)
PASSWORD = "bench-admin-password"


def seed(conn: Connection) -> int:
    rng = random.Random(7)
    t0 = NOW - timedelta(days=400)
    kinds = ["city"] * 18 + ["county"] * 10 + ["department"] * (UNITS - 28)
    # The ten counties sit under the first city, whose page (and read-only link) lists them.
    conn.execute(insert(Unit), [
        {"id": i + 1, "code": f"U{i + 1:04d}", "name": f"单位{i + 1:03d}",
         "short_name": f"单位{i + 1:03d}", "kind": kinds[i],
         "parent_id": 1 if kinds[i] == "county" else None, "active": True,
         "created_at": t0} for i in range(UNITS)])
    admin = conn.execute(insert(Person).returning(Person.id), {
        "name": "管理员", "role": "admin", "unit_id": None, "active": True,
        "created_at": t0, "password_hash": hash_password(PASSWORD)}).scalar_one()
    tasks = []
    for t in range(TASKS):
        due = NOW - timedelta(days=3 * (PAST - t)) if t < PAST else NOW + timedelta(days=t - PAST + 1)
        tasks.append({"id": t + 1, "title": f"第{t + 1}项督导任务：材料报送", "system":
                      ("guidance", "exchange", "supervision", "evaluation")[t % 4], "due": due,
                      "status": "open", "created_at": t0, "description": "", "materials": "",
                      "reminder_policy": ""})
    conn.execute(insert(Task), tasks)
    task_units, subs, flags = [], [], []
    sid = 0
    for task in tasks:
        tid, due, past = task["id"], task["due"], task["id"] <= PAST
        for uid in range(1, UNITS + 1):
            roll = rng.random()
            state, last = "owed", None
            if past:
                if roll < 0.85:
                    sid += 1
                    late = roll > 0.75
                    rating = None if late and roll > 0.8 else ("优", "良", "一般")[int(roll * 30) % 3]
                    status = "accepted" if rating else "received"
                    subs.append({"id": sid, "task_id": tid, "unit_id": uid, "person_id": None,
                                 "version": 1, "text": "材料", "status": status, "rating": rating,
                                 "submitted_at": due + timedelta(days=2 if late else -1),
                                 "late": late, "channel": "chat"})
                    state, last = status, sid
                    color = ("yellow" if not rating else "blue" if late or rating != "优"
                             else "red")
                else:
                    color = "yellow"
                if roll < 0.1:  # history: an earlier flag on this cell, since replaced
                    flags.append({"unit_id": uid, "task_id": tid, "color": "yellow",
                                  "reason": "未按时完成", "source": "rule", "current": False,
                                  "set_at": due + timedelta(hours=1)})
                flags.append({"unit_id": uid, "task_id": tid, "color": color, "reason": "规则",
                              "source": "rule", "current": True,
                              "set_at": due + timedelta(days=3)})
            elif roll < 0.33:
                sid += 1
                subs.append({"id": sid, "task_id": tid, "unit_id": uid, "person_id": None,
                             "version": 1, "text": "材料", "status": "received", "rating": None,
                             "submitted_at": NOW - timedelta(hours=5), "late": False,
                             "channel": "chat"})
                state, last = "received", sid
            task_units.append({"task_id": tid, "unit_id": uid, "state": state,
                               "last_submission_id": last})
    conn.execute(insert(TaskUnit), task_units)
    conn.execute(insert(Submission), subs)
    conn.execute(insert(Flag), flags)
    return int(admin)


VIEW_UNIT = 1  # a city with ten counties below it


async def timed_gets(client: TestClient | aiohttp.ClientSession, url: str, repeats: int,
                     save: Path | None = None) -> tuple[int, list[float], list[float]]:
    """(bytes of the page, wall ms per request, CPU ms per request) after three warm-ups;
    the page is written to ``save`` if given."""
    size, body = 0, b""
    for _ in range(3):
        resp = await client.get(url)
        assert resp.status == 200, (url, resp.status)
        body = await resp.read()
        size = len(body)
    if save is not None:
        await asyncio.to_thread(save.write_bytes, body)
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        resp = await client.get(url)
        await resp.read()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return size, wall, cpu


async def official(app: Any, base: str) -> aiohttp.ClientSession:
    """A browser that opened unit 1's read-only link (its own cookies: no admin session)."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    url = await app[SERVICES].db.run(lambda conn: links.make_view_link(
        conn, signer=app[BOARD].signer, base_url=base, unit_id=VIEW_UNIT, days=30, now=NOW).url)
    resp = await session.get(url, allow_redirects=False)
    assert resp.status == 302, resp.status
    return session


def summary(prefix: str, size: int, wall: list[float], cpu: list[float]) -> dict[str, Any]:
    return {f"{prefix}_bytes": size, f"{prefix}_p50_ms": round(pct(wall, 0.5), 1),
            f"{prefix}_p95_ms": round(pct(wall, 0.95), 1),
            f"{prefix}_cpu_p50_ms": round(pct(cpu, 0.5), 1)}


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


async def login(client: TestClient) -> None:
    form = await (await client.get("/login")).text()
    m = re.search(r'name="csrf" value="([^"]+)"', form)
    assert m, "no CSRF field on /login"
    resp = await client.post("/login", data={"csrf": m.group(1), "login": "管理员",
                                             "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 303, resp.status


async def run(repeats: int, save: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, {}, cwd=Path(tmp), overrides={
            "service": {"data_dir": f"{tmp}/data", "roster": ""},
            "database": {"url": f"sqlite:///{tmp}/board.db"},
            "schedule": {"enabled": False}, "nlu": {"enabled": False},
            "outbox": {"poll_interval_s": 60}})
        app = create_app(settings, clock=FixedClock(NOW))
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        try:
            services = app[SERVICES]
            started = time.perf_counter()
            await services.db.run(seed)
            seeded = time.perf_counter() - started
            await login(client)
            size = 0
            for _ in range(3):  # warm-up: templates compiled, pages cached
                resp = await client.get("/")
                assert resp.status == 200, resp.status
                size = len(await resp.read())
            request_ms, cpu_ms = [], []
            for _ in range(repeats):
                t, c = time.perf_counter(), time.process_time()
                resp = await client.get("/")
                await resp.read()
                request_ms.append((time.perf_counter() - t) * 1000)
                cpu_ms.append((time.process_time() - c) * 1000)
            tz = services.env.tz
            query_ms, html_ms = [], []
            grid = None
            for _ in range(repeats):
                t = time.perf_counter()
                grid = await services.db.run(lambda c: board_svc.grid(c, tz=tz))
                query_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                grid_html(grid, app[BOARD].fmt)
                html_ms.append((time.perf_counter() - t) * 1000)
            assert grid is not None
            assert len(grid.cells) == UNITS * TASKS
            unit_list_bytes = len(unit_list_html(grid).encode())
            # The unit page: the admin's, then an official's from the read-only link.
            def saved(name: str) -> Path | None:
                return save / f"{name}.html" if save else None

            pages = {"admin_unit": await timed_gets(client, f"/units/{VIEW_UNIT}", repeats,
                                                    saved("admin_unit"))}
            base = str(client.make_url("")).rstrip("/")
            viewer = await official(app, base)
            try:
                pages["viewer_unit"] = await timed_gets(viewer, f"{base}/units/{VIEW_UNIT}",
                                                        repeats, saved("viewer_unit"))
                pages["viewer_unit_all"] = await timed_gets(
                    viewer, f"{base}/units/{VIEW_UNIT}?all=1", repeats, saved("viewer_unit_all"))
                pages["viewer_board"] = await timed_gets(viewer, f"{base}/", repeats,
                                                         saved("viewer_board"))
            finally:
                await viewer.close()
            view_ms = []
            for _ in range(repeats):
                t = time.perf_counter()
                await services.db.run(lambda c: board_svc.unit_view(c, VIEW_UNIT, now=NOW, tz=tz))
                view_ms.append((time.perf_counter() - t) * 1000)
        finally:
            await client.close()
    return {
        "units": UNITS, "tasks": TASKS, "cells": UNITS * TASKS, "seed_s": round(seeded, 1),
        "page_bytes": size, "repeats": repeats,
        "request_p50_ms": round(pct(request_ms, 0.5), 1),
        "request_p95_ms": round(pct(request_ms, 0.95), 1),
        "request_cpu_p50_ms": round(pct(cpu_ms, 0.5), 1),
        "request_cpu_p95_ms": round(pct(cpu_ms, 0.95), 1),
        "load_average": os.getloadavg()[0],
        "grid_query_p50_ms": round(statistics.median(query_ms), 1),
        "grid_query_p95_ms": round(pct(query_ms, 0.95), 1),
        "grid_html_p50_ms": round(statistics.median(html_ms), 1),
        "grid_html_p95_ms": round(pct(html_ms, 0.95), 1),
        "unit_list_bytes": unit_list_bytes,
        **{k: v for name, got in pages.items() for k, v in summary(name, *got).items()},
        "unit_view_model_p50_ms": round(statistics.median(view_ms), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--save", type=Path, help="write the unit pages and the official's board "
                                              "to this folder, to look at them")
    args = ap.parse_args()
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args.repeats, args.save))
    if args.json:
        print(json.dumps(result))
        return
    print(f"board: {result['units']} units × {result['tasks']} tasks = {result['cells']} cells, "
          f"page {result['page_bytes'] / 1e6:.2f} MB (seeded in {result['seed_s']} s)")
    print(f"GET / (client-measured): p50 {result['request_p50_ms']} ms, "
          f"p95 {result['request_p95_ms']} ms over {result['repeats']} requests")
    print(f"  CPU per request (all threads of the process): p50 {result['request_cpu_p50_ms']} ms, "
          f"p95 {result['request_cpu_p95_ms']} ms (load average {result['load_average']:.1f})")
    print(f"  grid query:  p50 {result['grid_query_p50_ms']} ms, p95 {result['grid_query_p95_ms']} ms")
    print(f"  grid HTML:   p50 {result['grid_html_p50_ms']} ms, p95 {result['grid_html_p95_ms']} ms")
    wall = "met" if result["request_p95_ms"] < 300 else "missed"
    cpu = "met" if result["request_cpu_p95_ms"] < 300 else "missed"
    print(f"target < 300 ms: wall-clock p95 {wall}, CPU p95 {cpu}")
    print(f"  of the board, the phone's unit list: {result['unit_list_bytes'] / 1e3:.1f} kB")
    for name, label in (("viewer_unit", f"GET /units/{VIEW_UNIT} (read-only link)"),
                        ("viewer_unit_all", f"GET /units/{VIEW_UNIT}?all=1 (with earlier years)"),
                        ("admin_unit", f"GET /units/{VIEW_UNIT} (admin, with the forms)"),
                        ("viewer_board", "GET / (read-only link: 11 units)")):
        print(f"{label}: {result[name + '_bytes'] / 1e3:.1f} kB, p50 {result[name + '_p50_ms']} ms,"
              f" p95 {result[name + '_p95_ms']} ms, CPU p50 {result[name + '_cpu_p50_ms']} ms")
    print(f"  of which the unit's view model (queries): p50 {result['unit_view_model_p50_ms']} ms")
    weight = "met" if result["viewer_unit_bytes"] < 100_000 else "missed"
    print(f"target < 100 KB for an official's unit page: {weight}")


if __name__ == "__main__":
    main()
