"""``dudao tick --at T``: the scheduled jobs due at one moment, run once."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli.common import Subcommands, leaf, load, parse_time
from bot.cli.session import admin_session


def cmd_tick(args: argparse.Namespace) -> int:
    from bot.domain.clock import FixedClock
    from bot.scheduler import run_due_jobs
    from bot.services import outbox

    settings = load(args)
    at = parse_time(args.at, settings)
    with admin_session(args, settings) as admin:
        wall = admin.env.clock
        before = admin.db.transaction(outbox.last_id)
        admin.env.clock = FixedClock(at)
        report = asyncio.run(run_due_jobs(admin.db, admin.env, at))
        # Contract (DESIGN §5): what is due at T goes out from a running service within seconds,
        # also when T is still to come; the jobs wrote it as of T.
        admin.db.transaction(lambda conn: outbox.release_simulated(
            conn, after_id=before, due_by=at, now=wall.now()))
        admin.emit(report, str(report))
    return 1 if getattr(report, "errors", None) else 0


def register(sub: Subcommands) -> None:
    tk = leaf(sub, "tick", cmd_tick, "执行某一时刻到期的定时任务一次（提醒、通报）")
    tk.add_argument("--at", required=True, help="如 2026-07-01T09:00+08:00")
