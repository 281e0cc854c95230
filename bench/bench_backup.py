#!/usr/bin/env python3
"""Backup and restore of a 10,000-submission database (issue 12).

The world (built through the services, in one transaction): the bundled Henan roster (76 units),
200 liaisons (qq:20000000…, as bench_inbound.py and tests/fault), an admin (qq:10001), ten
exchange groups and an admin group, 50 tasks for every unit, 10,000 submissions spread over them
(every 25th with one or two of 300 distinct attachments of 1–64 KB), about a third of the
assignments reviewed (accepted with a rating, or returned).

Measured, each the median of ``--repeats`` runs:
- ``backup (quiet)``: ``bot.services.backup.create`` — copy, archive, verify — with nothing else
  running; the archive's size against the database file's and the attachments';
- ``backup (writes)``: the same while a writer thread commits a submission every 5 ms through the
  services (as ``dudao serve`` would): how long the backup takes then, how many submissions were
  committed during it, and the writer's slowest commit (the backup must not stall writers);
- ``verify``: reading an archive back (``backup_archive.verify``), the step both commands end or
  start with;
- ``restore``: ``bot.services.restore.restore`` into an empty data directory;
- ``dudao backup`` as a command (a new interpreter each time: start-up included).

    .venv/bin/python bench/bench_backup.py [--submissions 10000] [--repeats 3] [--json]
    .venv/bin/python bench/bench_backup.py --pg postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Connection  # noqa: E402

from bot.core.event import StoredFile  # noqa: E402
from storage.blobs import blob_path, files_root  # noqa: E402

ADMIN = "qq:10001"
ADMIN_GROUP = "qq:group:600000100"
STREAM_TASK = "第三季度调研报告"  # the task tests/fault/fault_proc.submission() submits to


def build_world(url: str, data_dir: Path, *, submissions: int = 10_000, tasks: int = 50,
                files: int = 300, seed: int = 12) -> dict[str, int]:
    """Create the world described in the module docstring at ``url`` / ``data_dir``."""
    from bot.app import make_env, prepare_database
    from bot.services import groups, people, units
    from bot.services import submissions as submissions_svc
    from bot.services import tasks as tasks_svc
    from config.settings import load_settings
    from storage.db import Database

    settings = load_settings(None, {}, cwd=data_dir, overrides={
        "service": {"data_dir": str(data_dir)}, "database": {"url": url}})
    env = make_env(settings)
    db = Database(url)
    prepare_database(db, settings, env)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    root = files_root(data_dir)

    stored: list[StoredFile] = []
    for k in range(files):
        data = rng.randbytes(rng.randint(1_000, 64_000))
        sha = hashlib.sha256(data).hexdigest()
        path = blob_path(root, sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        stored.append(StoredFile(f"材料{k}.pdf", sha, len(data), str(path)))

    def go(conn: Connection) -> dict[str, int]:
        all_units = units.list_units(conn)
        liaisons: dict[int, list[int]] = {}
        for i in range(200):
            unit = all_units[i % len(all_units)]
            p = people.add(conn, identity=f"qq:{20000000 + i}", unit=unit.name, role="liaison",
                           name=f"联络员{i}", now=now)
            liaisons.setdefault(unit.id, []).append(p.id)
        people.add(conn, identity=ADMIN, unit=None, role="admin", name="管理员", now=now)
        for g in range(10):
            groups.add(conn, chat=f"qq:group:{600000000 + g}", name=f"群{g}", units_spec="all",
                       purpose="exchange", account=None, webhook_key=None, now=now)
        groups.add(conn, chat=ADMIN_GROUP, name="督导办", units_spec=None, purpose="admin",
                   account=None, webhook_key=None, now=now)
        task_ids = []
        for t in range(tasks):
            title = STREAM_TASK if t == 0 else f"专项任务{t:02d}"
            info, _ = tasks_svc.add(conn, title=title, due=now + timedelta(days=10 + t),
                                    units_spec="all", system="supervision", created_by=None,
                                    now=now - timedelta(days=30))
            task_ids.append(info.id)
        latest: dict[tuple[int, int], int] = {}
        for n in range(submissions):
            task_id = rng.choice(task_ids)
            unit = rng.choice(all_units)
            attached = tuple(rng.sample(stored, rng.randint(1, 2))) if n % 25 == 0 else ()
            s = submissions_svc.submit(conn, task_id=task_id, unit_id=unit.id,
                                       person_id=rng.choice(liaisons[unit.id]),
                                       text=f"第{n}份材料：" + "报告正文" * rng.randint(5, 60),
                                       files=attached, now=now - timedelta(minutes=submissions - n),
                                       channel="chat", source_chat=f"qq:group:{600000000 + n % 10}",
                                       source_message_id=f"built-{n}")
            latest[task_id, unit.id] = s.id
        reviewed = 0
        for (task_id, _unit_id), sid in sorted(latest.items()):
            # The streaming task stays open to every unit: a submission after acceptance is
            # refused, and the live tests submit to it.
            if task_id == task_ids[0] or rng.random() > 0.35:
                continue
            accept = rng.random() < 0.8
            submissions_svc.review(conn, sid, accept=accept,
                                   rating=rng.choice(("优", "良", "一般")) if accept else None,
                                   reason=None if accept else "缺少盖章扫描件", reviewer_id=None,
                                   now=now)
            reviewed += 1
        return {"units": len(all_units), "tasks": len(task_ids), "submissions": submissions,
                "files": len(stored), "reviewed": reviewed}

    try:
        return db.transaction(go)
    finally:
        db.close()


# ---------------------------------------------------------------------------------- measuring


def _writer(url: str, stop: threading.Event, out: dict[str, Any]) -> None:
    """Commit a submission every 5 ms through the services, as a running service would."""
    from bot.services import submissions as submissions_svc
    from storage.db import Database

    db = Database(url)
    latencies: list[tuple[float, float]] = []  # (start, seconds)
    n = 0
    try:
        task_id, unit_ids = db.transaction(lambda c: (
            c.exec_driver_sql("SELECT id FROM tasks ORDER BY id LIMIT 1").scalar_one(),
            [r[0] for r in c.exec_driver_sql("SELECT id FROM units ORDER BY id")]))
        while not stop.is_set():
            n += 1
            unit_id = unit_ids[n % len(unit_ids)]
            t0 = time.monotonic()
            db.transaction(lambda c, u=unit_id, k=n: submissions_svc.submit(
                c, task_id=task_id, unit_id=u, person_id=None, text=f"并发写入 {k}",
                now=datetime.now(UTC)))
            latencies.append((t0, time.monotonic() - t0))
            time.sleep(0.005)
    finally:
        db.close()
    out["latencies"] = latencies


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def run(url: str, work: Path, *, repeats: int, submissions: int,
        restore_urls: list[str] | None = None) -> dict[str, Any]:
    """``restore_urls``: one empty database per repeat to restore into (default: SQLite files)."""
    from bot.services import backup as backup_svc
    from bot.services import backup_archive
    from bot.services import restore as restore_svc
    from storage import snapshot

    data_dir = work / "data"
    t0 = time.monotonic()
    world = build_world(url, data_dir, submissions=submissions)
    build_s = time.monotonic() - t0
    db_bytes = (data_dir / "dudao.db").stat().st_size if snapshot.dialect_of(url) == "sqlite" \
        else None
    file_bytes = sum(p.stat().st_size for p in files_root(data_dir).rglob("*") if p.is_file())
    out_dir = work / "out"
    out_dir.mkdir()
    quiet, loaded, verify_s, restore_s, cli_s = [], [], [], [], []
    during, worst, sizes = [], [], []
    for i in range(repeats):
        r = backup_svc.create(url, data_dir, out_dir / f"quiet{i}.tar", now=datetime.now(UTC))
        quiet.append(r.seconds)
        sizes.append(r.size)
        included = (r.files, r.file_bytes)

        stop, got = threading.Event(), {}
        writer = threading.Thread(target=_writer, args=(url, stop, got))
        writer.start()
        time.sleep(0.3)  # the writer is committing before the backup starts
        started = time.monotonic()
        r = backup_svc.create(url, data_dir, out_dir / f"loaded{i}.tar", now=datetime.now(UTC))
        ended = time.monotonic()
        time.sleep(0.1)
        stop.set()
        writer.join()
        loaded.append(r.seconds)
        inside = [s for t, s in got["latencies"] if started <= t <= ended]
        during.append(len(inside))
        worst.append(max(inside) if inside else float("nan"))

        scratch = work / f"verify{i}"
        scratch.mkdir()
        t0 = time.monotonic()
        backup_archive.verify(out_dir / f"quiet{i}.tar", scratch, extract_files=False)
        verify_s.append(time.monotonic() - t0)
        shutil.rmtree(scratch)

        target = work / f"restored{i}"
        into = restore_urls[i] if restore_urls else f"sqlite:///{target}/dudao.db"
        t0 = time.monotonic()
        restore_svc.restore(into, target, out_dir / f"quiet{i}.tar", force=False,
                            now=datetime.now(UTC))
        restore_s.append(time.monotonic() - t0)

        env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
        env.update({"DUDAO_DATABASE_URL": url, "DUDAO_SERVICE_DATA_DIR": str(data_dir)})
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "bot", "backup", "--out",
                        str(out_dir / f"cli{i}.tar"), "--json"], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        cli_s.append(time.monotonic() - t0)
    return {
        "url": snapshot.dialect_of(url), "world": world, "build_s": round(build_s, 2),
        "database_bytes": db_bytes, "attachment_bytes": file_bytes,
        "archive_bytes": int(_median([float(s) for s in sizes])),
        "archived_attachments": included[0], "archived_attachment_bytes": included[1],
        "backup_quiet_s": round(_median(quiet), 3),
        "backup_under_writes_s": round(_median(loaded), 3),
        "writes_committed_during_backup": int(_median([float(d) for d in during])),
        "slowest_write_during_backup_ms": round(1000 * _median(worst), 1),
        "verify_s": round(_median(verify_s), 3),
        "restore_s": round(_median(restore_s), 3),
        "cli_backup_wall_s": round(_median(cli_s), 3),
    }


def _report(r: dict[str, Any]) -> str:
    mib = 1024 * 1024
    lines = [f"{r['url']}: {r['world']['submissions']:,} submissions, {r['world']['files']} "
             f"attachments ({r['attachment_bytes'] / mib:.1f} MiB), built in {r['build_s']} s"]
    if r["database_bytes"] is not None:
        lines.append(f"  database file        {r['database_bytes'] / mib:8.1f} MiB")
    lines += [
        f"  archive              {r['archive_bytes'] / mib:8.1f} MiB  (the "
        f"{r['archived_attachments']} attachments referenced: "
        f"{r['archived_attachment_bytes'] / mib:.1f} MiB, stored as they are; the rest is the "
        "database copy and the manifest)",
        f"  backup (quiet)       {r['backup_quiet_s']:8.3f} s",
        f"  backup (writes)      {r['backup_under_writes_s']:8.3f} s  "
        f"({r['writes_committed_during_backup']} submissions committed during it, slowest "
        f"{r['slowest_write_during_backup_ms']} ms)",
        f"  verify               {r['verify_s']:8.3f} s",
    ]
    lines.append(f"  restore              {r['restore_s']:8.3f} s")
    lines.append(f"  `dudao backup` wall  {r['cli_backup_wall_s']:8.3f} s (interpreter start-up "
                 "included)")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--submissions", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pg", help="also measure PostgreSQL (a scratch database next to this URL)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="dudao-bench-backup-") as tmp:
        work = Path(tmp) / "sqlite"
        work.mkdir()
        results.append(run(f"sqlite:///{work}/data/dudao.db", work, repeats=args.repeats,
                           submissions=args.submissions))
        if args.pg:
            import pg_scratch

            names = ["dudao_backup_bench"] + [f"dudao_backup_bench_r{i}"
                                              for i in range(args.repeats)]
            urls = [pg_scratch.create(args.pg, n) for n in names]
            try:
                work = Path(tmp) / "pg"
                work.mkdir()
                results.append(run(urls[0], work, repeats=args.repeats,
                                   submissions=args.submissions, restore_urls=urls[1:]))
            finally:
                for n in names:
                    pg_scratch.drop(args.pg, n)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print("\n".join(_report(r) for r in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
