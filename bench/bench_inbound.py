#!/usr/bin/env python3
"""Inbound-message benchmark: dudao against the NoneBot2 peer and the bare floors, in one run.

Seeds a fresh SQLite database (200 liaisons of real units, 10 groups, one open task), starts
``dudao serve`` on it, then runs the shared harness (../shared/bench/run_peer.sh) with dudao
added as a target. Every event is a real submission: dedupe, identity lookup, task choice,
submission row (a new version each time), audit row, our own message store and the outbox row
of the acknowledgement, in one transaction; the acknowledgement quotes the event (reply segment),
which is how the load generator matches it.

    python bench/bench_inbound.py --quick      # ~2 minutes
    python bench/bench_inbound.py              # the full measurement (~15 minutes)

``--compare NAME=DIR`` runs another tree of dudao beside this one, as one more target of the
same harness run, so both are measured interleaved on the same machine at the same time (for a
change's before/after: ``git archive main | tar -x -C /tmp/main``, then ``--compare
main=/tmp/main``). Each tree gets its own database, seeded alike, and its own port.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_BENCH = Path(os.environ.get("DUDAO_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
TOKEN = "bench-token"


def seed(env: dict[str, str]) -> None:
    os.environ.update(env)
    from bot.app import make_env, prepare_database
    from bot.services import groups, people, tasks, units
    from config.settings import load_settings
    from storage.db import Database

    settings = load_settings()
    service_env = make_env(settings)
    db = Database(settings.database_url)
    prepare_database(db, settings, service_env)
    now = datetime.now(UTC)

    def go(conn: object) -> None:
        all_units = units.list_units(conn)  # type: ignore[arg-type]
        for i in range(200):
            unit = all_units[i % len(all_units)]
            people.add(conn, identity=f"qq:{20000000 + i}", unit=unit.name,  # type: ignore[arg-type]
                       role="liaison", name=f"联络员{i}", now=now)
        for g in range(10):
            groups.add(conn, chat=f"qq:group:{600000000 + g}", name=f"群{g}",  # type: ignore[arg-type]
                       units_spec="all", purpose="exchange", account=None, webhook_key=None,
                       now=now)
        tasks.add(conn, title="第三季度调研报告", due=now + timedelta(days=30),  # type: ignore[arg-type]
                  units_spec="all", system="supervision", created_by=None, now=now)

    db.transaction(go)  # type: ignore[arg-type]
    db.close()


def service_env(work: Path, port: int) -> dict[str, str]:
    return {
        "DUDAO_DATABASE_URL": f"sqlite:///{work}/dudao.db",
        "DUDAO_SERVICE_DATA_DIR": str(work / "data"),
        "DUDAO_ONEBOT_ACCESS_TOKEN": TOKEN,
        "DUDAO_HTTP_PORT": str(port),
        "DUDAO_SERVICE_LOG_LEVEL": "WARNING",
        # Replies are acknowledgements to the person who just asked; the spacing that protects
        # QQ accounts from risk control applies to broadcasts and is switched off here so the
        # benchmark measures the message path, not a deliberate delay.
        "DUDAO_OUTBOX_ACCOUNT_INTERVAL_MS": "0",
        "DUDAO_OUTBOX_GROUP_INTERVAL_MS": "0",
        "DUDAO_OUTBOX_JITTER_MS": "0",
        # The load generator matches each acknowledgement by its quote: one per event.
        "DUDAO_OUTBOX_COALESCE_ACKS": "false",
        "DUDAO_SCHEDULE_ENABLED": "false",
    }


def start(name: str, root: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """``dudao serve`` of the tree at ``root`` on a freshly seeded database; the harness target."""
    work = Path(tempfile.mkdtemp(prefix=f"dudao-bench-{name}-"))
    env = service_env(work, port)
    seed(env)
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"],
                            env={**os.environ, **env, "PYTHONPATH": path}, cwd=work)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return proc, f"{name}=ws://127.0.0.1:{port}/onebot/v11/ws,pid={proc.pid},token={TOKEN}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--port", type=int, default=18180)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--name", default="dudao", help="this tree's name in the tables")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=DIR",
                    help="also run the dudao tree at DIR, named NAME (repeatable)")
    ap.add_argument("extra", nargs="*", help="passed on to bench.py")
    args = ap.parse_args()
    trees = [(args.name, ROOT)] + [(spec.split("=", 1)[0], Path(spec.split("=", 1)[1]).resolve())
                                   for spec in args.compare]
    running: list[subprocess.Popen[bytes]] = []
    try:
        targets = []
        for i, (name, root) in enumerate(trees):
            proc, target = start(name, root, args.port + i)
            running.append(proc)
            targets += ["--target", target]
        # No fixed --self-id: the harness connects each run as a new account (20001, 20002…).
        # Its message ids restart at 1 every run, and dudao rightly drops a message it has
        # already stored (same account, chat and message id) as a re-delivery.
        cmd = [str(SHARED_BENCH / "run_peer.sh"), "--out", args.out, *targets]
        if args.quick:
            cmd.append("--quick")
        cmd += args.extra
        return subprocess.call(cmd)
    finally:
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        for proc in running:
            proc.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
