#!/usr/bin/env python3
"""Deadline-day rush: 30 submissions in one group within 10 s, acknowledged by a real service.

For each setting of ``[outbox] coalesce_acks`` (off, then on, in the same run) this seeds a
fresh SQLite database (30 liaisons of 30 units, one group serving all units, one open task),
starts ``dudao serve`` with the production spacing (account 1000 ms, group 1500 ms, jitter
500 ms: the defaults), connects the fake OneBot implementation of the tests over a reverse
WebSocket and sends the 30 submissions evenly over 10 s. It counts the messages the service sends
to the group and the time from the first submission until the last acknowledgement arrived (and
the longest any one liaison waited for theirs).

    python bench/bench_rush.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.adapters.onebot.fake_impl import GROUP_ID, SELF_ID, FakeImpl, seg  # noqa: E402

TOKEN = "bench-token"
SUBMISSIONS = 30
WITHIN_S = 10.0
LIAISON0 = 40000000
NUMBER = re.compile(r"#(\d+)")


def seed(env: dict[str, str]) -> None:
    os.environ.update(env)
    from bot.app import make_env, prepare_database
    from bot.services import groups, people, tasks, units
    from config.settings import load_settings
    from storage.db import Database

    settings = load_settings()
    db = Database(settings.database_url)
    prepare_database(db, settings, make_env(settings))
    now = datetime.now(UTC)

    def go(conn: Any) -> None:
        all_units = units.list_units(conn)[:SUBMISSIONS]
        for i, unit in enumerate(all_units):
            people.add(conn, identity=f"qq:{LIAISON0 + i}", unit=unit.name, role="liaison",
                       name=f"联络员{i}", now=now)
        groups.add(conn, chat=f"qq:group:{GROUP_ID}", name="联络群", units_spec="all",
                   purpose="exchange", account=None, webhook_key=None, now=now)
        tasks.add(conn, title="年度工作总结", due=now + timedelta(days=1), units_spec="all",
                  system="supervision", created_by=None, now=now)

    db.transaction(go)
    db.close()


class Timed(FakeImpl):
    """Records when each group message arrived."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.arrivals: list[tuple[float, dict[str, Any]]] = []

    async def _on_action(self, req: dict[str, Any]) -> None:
        if req.get("action") == "send_group_msg":
            self.arrivals.append((time.monotonic(), req["params"]))
        await super()._on_action(req)


def _numbers(params: dict[str, Any]) -> list[int]:
    text = "".join(s["data"].get("text", "") for s in params["message"] if s["type"] == "text")
    return [int(n) for n in NUMBER.findall(text)]


async def rush(port: int) -> dict[str, float]:
    async with aiohttp.ClientSession() as session:
        impl = await Timed(session, f"ws://127.0.0.1:{port}/onebot/v11/ws", token=TOKEN).connect()
        await asyncio.sleep(1.0)  # the service binds the account
        sent_at: list[float] = []
        start = time.monotonic()
        for i in range(SUBMISSIONS):
            await asyncio.sleep(max(0.0, start + i * WITHIN_S / (SUBMISSIONS - 1)
                                    - time.monotonic()))
            user = LIAISON0 + i
            text = "提交 年度工作总结 见正文"
            await impl.send_event({
                "time": int(time.time()), "self_id": SELF_ID, "post_type": "message",
                "message_type": "group", "sub_type": "normal", "message_id": 1000 + i,
                "group_id": GROUP_ID, "user_id": user, "anonymous": None,
                "message": [seg("text", text=text)], "raw_message": text, "font": 14,
                "sender": {"user_id": user, "nickname": f"u{user}", "card": "", "role": "member"},
            })
            sent_at.append(time.monotonic())
        deadline = time.monotonic() + 180
        while sum(len(_numbers(p)) for _, p in impl.arrivals) < SUBMISSIONS:
            if time.monotonic() > deadline:
                raise SystemExit("not every submission was acknowledged within 180 s")
            await asyncio.sleep(0.05)
        await asyncio.sleep(3.0)  # anything more (a duplicate) would be counted
        await impl.close()
    numbers = [n for _, p in impl.arrivals for n in _numbers(p)]
    # Acknowledgement numbers are submission ids 1..30 in arrival order on a fresh database.
    waits = [t - sent_at[n - 1] for t, p in impl.arrivals for n in _numbers(p)]
    return {"messages": len(impl.arrivals), "acks": len(numbers),
            "distinct": len(set(numbers)),
            "last_ack_s": max(t for t, _ in impl.arrivals) - start,
            "longest_wait_s": max(waits)}


def run(coalesce: bool, port: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="dudao-bench-rush-"))
    env = {
        "DUDAO_DATABASE_URL": f"sqlite:///{work}/dudao.db",
        "DUDAO_SERVICE_DATA_DIR": str(work / "data"),
        "DUDAO_ONEBOT_ACCESS_TOKEN": TOKEN,
        "DUDAO_HTTP_PORT": str(port),
        "DUDAO_SERVICE_LOG_LEVEL": "WARNING",
        "DUDAO_SCHEDULE_ENABLED": "false",
        "DUDAO_NLU_ENABLED": "false",
        "DUDAO_OUTBOX_COALESCE_ACKS": "true" if coalesce else "false",
    }
    seed(env)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"],
                            env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=work)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        return asyncio.run(rush(port))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=18190)
    args = ap.parse_args()
    results = {"off": run(False, args.port), "on": run(True, args.port + 1)}
    print(f"{SUBMISSIONS} submissions in one group within {WITHIN_S:.0f} s, production spacing")
    print(f"{'coalesce_acks':<14}{'messages':>9}{'acks':>6}{'distinct':>9}"
          f"{'last ack (s)':>14}{'longest wait (s)':>18}")
    for name, r in results.items():
        print(f"{name:<14}{r['messages']:>9.0f}{r['acks']:>6.0f}{r['distinct']:>9.0f}"
              f"{r['last_ack_s']:>14.1f}{r['longest_wait_s']:>18.1f}")
    off, on = results["off"], results["on"]
    print(f"messages {off['messages'] / on['messages']:.1f}x fewer; last acknowledgement "
          f"{off['last_ack_s'] - on['last_ack_s']:.1f} s earlier")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
