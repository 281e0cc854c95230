#!/usr/bin/env python3
"""Scale-out benchmark: end-to-end submission throughput on PostgreSQL, one process vs two.

Seeds a fresh PostgreSQL database (bench_inbound's seed: 200 liaisons, 10 groups, one open
task), then for N = 1 and N = 2 starts N `dudao serve` processes on it and runs one shared load
generator (../shared/bench/onebot_load.py) per process, each as its own QQ account (X-Self-ID),
all at once. Every event is a real submission acknowledged after its commit. Prints events/s
(all replies ÷ the longest generator's duration) and each generator's p50/p99.

    python bench/bench_scaleout.py                 # 3 runs of 5,000 events per generator
    python bench/bench_scaleout.py --count 2000 --runs 1

On a 2-core machine two processes plus two generators share the same two cores, so the second
process shows how well the work spreads, not a doubling; on a bigger machine (or processes on
separate machines) the database is the shared limit.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED_BENCH = Path(os.environ.get("DUDAO_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
TOKEN = "bench-token"


def fresh_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, make_url, text

    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(env: dict[str, str], work: Path, i: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = (work / f"serve{i}.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=work,
                            env={**os.environ, **env, "DUDAO_HTTP_PORT": str(port)},
                            stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"dudao serve exited; see {work}/serve{i}.log") from None
            time.sleep(0.2)
    raise SystemExit("dudao serve did not become healthy")


def load(ports: list[int], count: int, concurrency: int, first_self_id: int
         ) -> list[dict[str, float]]:
    gens = [subprocess.Popen(
        [sys.executable, str(SHARED_BENCH / "onebot_load.py"),
         "--url", f"ws://127.0.0.1:{port}/onebot/v11/ws", "--token", TOKEN,
         "--self-id", str(first_self_id + i), "--count", str(count),
         "--concurrency", str(concurrency), "--max-seconds", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for i, port in enumerate(ports)]
    out = []
    for g in gens:
        stdout, _ = g.communicate(timeout=600)
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default=os.environ.get(
        "DUDAO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--count", type=int, default=5000, help="events per generator and run")
    ap.add_argument("--concurrency", type=int, default=50, help="in flight per generator")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--processes", default="1,2")
    args = ap.parse_args()

    from bench.bench_inbound import seed

    name = f"dudao_bench_scaleout_{os.getpid()}"
    url = fresh_database(args.pg, name)
    work = Path(tempfile.mkdtemp(prefix="dudao-scaleout-"))
    env = {
        "DUDAO_DATABASE_URL": url,
        "DUDAO_SERVICE_DATA_DIR": str(work / "data"),
        "DUDAO_ONEBOT_ACCESS_TOKEN": TOKEN,
        "DUDAO_SERVICE_LOG_LEVEL": "WARNING",
        "DUDAO_OUTBOX_ACCOUNT_INTERVAL_MS": "0",
        "DUDAO_OUTBOX_GROUP_INTERVAL_MS": "0",
        "DUDAO_OUTBOX_JITTER_MS": "0",
        # The load generator matches each acknowledgement by its quote: one per event.
        "DUDAO_OUTBOX_COALESCE_ACKS": "false",
        "DUDAO_SCHEDULE_ENABLED": "false",
    }
    seed(env)
    print(f"PostgreSQL {args.pg.rsplit('@', 1)[-1]}, {os.cpu_count()} cores, "
          f"{args.count} events × concurrency {args.concurrency} per generator, "
          f"{args.runs} runs")
    print("| processes | events/s (median) | runs | p50 ms (worst gen.) | p99 ms (worst gen.) "
          "| errors |")
    print("|---|---|---|---|---|---|")
    self_id = 10001
    try:
        for n in [int(x) for x in args.processes.split(",")]:
            procs = [start(env, work, i) for i in range(n)]
            ports = [p for _, p in procs]
            try:
                load(ports, min(500, args.count), args.concurrency, self_id)  # warm-up
                self_id += n
                rates, p50s, p99s, errors = [], [], [], 0
                for _ in range(args.runs):
                    res = load(ports, args.count, args.concurrency, self_id)
                    self_id += n
                    replies = sum(r["replied"] for r in res)
                    rates.append(replies / max(r["duration_s"] for r in res))
                    p50s.append(max(r["p50_ms"] for r in res))
                    p99s.append(max(r["p99_ms"] for r in res))
                    errors += sum(int(r["errors"]) for r in res)
                print(f"| {n} | {statistics.median(rates):,.0f} | "
                      f"{', '.join(f'{r:,.0f}' for r in rates)} | "
                      f"{statistics.median(p50s):.1f} | {statistics.median(p99s):.1f} | "
                      f"{errors} |", flush=True)
            finally:
                for proc, _ in procs:
                    proc.send_signal(signal.SIGTERM)
                for proc, _ in procs:
                    proc.wait(timeout=60)
    finally:
        drop_database(args.pg, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
