#!/usr/bin/env python3
"""Memory of `dudao serve` while many messages carry large files (issue 12, item 8).

Seeds a SQLite database (a liaison, a group, an open task), starts `dudao serve`, serves
``--files`` distinct files of ``--mb`` MB from a local HTTP server (the implementation's own file
server: same host as the implementation), connects as a OneBot implementation and sends that many
group messages at once, each "提交 三季度调研报告" with one file. Waits for every acknowledgement,
then reports the server's resident memory before, its peak (VmHWM) and a few seconds after, the
most downloads the file server saw at once, the time until the last acknowledgement, and checks
that every stored file has the right sha256.

    .venv/bin/python bench/bench_downloads.py                     # 40 files x 48 MB
    .venv/bin/python bench/bench_downloads.py --root /tmp/main    # the same against another tree

``--root`` runs the server from another checkout with this virtualenv (before/after a change).
Needs about files x MB of free disk in the temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
SELF_ID, GROUP_ID, USER_ID = 3889000001, 600000001, 20000001

SEED = f"""
from datetime import UTC, datetime, timedelta
from bot.app import make_env, prepare_database
from bot.services import groups, people, tasks
from config.settings import load_settings
from storage.db import Database
s = load_settings(); env = make_env(s); db = Database(s.database_url)
prepare_database(db, s, env); now = datetime.now(UTC)
def go(c):
    people.add(c, identity="qq:{USER_ID}", unit="郑州市", role="liaison", name="张三", now=now)
    groups.add(c, chat="qq:group:{GROUP_ID}", name="群", units_spec="all", purpose="exchange",
               account=None, webhook_key=None, now=now)
    tasks.add(c, title="三季度调研报告", due=now + timedelta(days=30), units_spec="all",
              system="supervision", created_by=None, now=now)
db.transaction(go); db.close()
"""


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


def block(i: int) -> bytes:
    return hashlib.sha256(f"file {i}".encode()).digest() * 2048  # 64 KiB, distinct per file


def expected_sha(i: int, size: int) -> str:
    h = hashlib.sha256()
    b = block(i)
    left = size
    while left:
        n = min(left, len(b))
        h.update(b[:n])
        left -= n
    return h.hexdigest()


class FileServer:
    def __init__(self, size: int) -> None:
        self.size = size
        self.in_flight = 0
        self.peak = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        i = int(request.match_info["i"])
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            resp = web.StreamResponse()
            resp.content_length = self.size
            await resp.prepare(request)
            b, left = block(i), self.size
            while left:
                n = min(left, len(b))
                await resp.write(b[:n])
                left -= n
            return resp
        finally:
            self.in_flight -= 1


def start_server(root: Path, port: int, work: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(root),
           "DUDAO_DATABASE_URL": f"sqlite:///{work}/dudao.db",
           "DUDAO_SERVICE_DATA_DIR": str(work / "data"), "DUDAO_HTTP_PORT": str(port),
           "DUDAO_ONEBOT_ACCESS_TOKEN": TOKEN, "DUDAO_SERVICE_LOG_LEVEL": "ERROR",
           "DUDAO_NLU_ENABLED": "false", "DUDAO_SCHEDULE_ENABLED": "false",
           "DUDAO_OUTBOX_ACCOUNT_INTERVAL_MS": "0", "DUDAO_OUTBOX_GROUP_INTERVAL_MS": "0",
           "DUDAO_OUTBOX_JITTER_MS": "0", "DUDAO_ONEBOT_DOWNLOAD_MAX_MB": "64",
           # One acknowledgement a file is counted, one message each.
           "DUDAO_OUTBOX_COALESCE_ACKS": "false"}
    subprocess.run([sys.executable, "-c", SEED], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    until = time.monotonic() + 60
    while time.monotonic() < until:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("dudao serve did not start")


def group_message(i: int, url: str) -> dict[str, Any]:
    return {"time": int(time.time()), "self_id": SELF_ID, "post_type": "message",
            "message_type": "group", "sub_type": "normal", "message_id": 700000 + i,
            "group_id": GROUP_ID, "user_id": USER_ID, "anonymous": None,
            "message": [{"type": "text", "data": {"text": "提交 三季度调研报告"}},
                        {"type": "file", "data": {"file": f"f{i}.bin", "file_id": f"/f{i}",
                                                  "url": url}}],
            "raw_message": "提交 三季度调研报告", "font": 14,
            "sender": {"user_id": USER_ID, "nickname": "张三"}}


async def run(port: int, files: int, size: int, pid: int) -> dict[str, Any]:
    fs = FileServer(size)
    app = web.Application()
    app.router.add_get("/f/{i}", fs.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fport = runner.addresses[0][1]
    peak = [rss_kb(pid)]
    acks: list[str] = []
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"ws://127.0.0.1:{port}/onebot/v11/ws", headers={
            "Authorization": f"Bearer {TOKEN}", "X-Self-ID": str(SELF_ID)})

        async def answer() -> None:
            async for msg in ws:
                req = json.loads(msg.data)
                if req["action"].startswith("send_"):
                    texts = [s["data"].get("text", "") for s in req["params"]["message"]
                             if s["type"] == "text"]
                    acks.append("".join(texts))
                await ws.send_str(json.dumps({"status": "ok", "retcode": 0, "echo": req["echo"],
                                              "data": {"message_id": len(acks)}}))

        reader = asyncio.create_task(answer())
        started = time.monotonic()
        for i in range(files):
            await ws.send_str(json.dumps(group_message(i, f"http://127.0.0.1:{fport}/f/{i}"),
                                         ensure_ascii=False))
        while len(acks) < files and time.monotonic() - started < 600:
            peak[0] = max(peak[0], rss_kb(pid))
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        await ws.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    await runner.cleanup()
    return {"acks": acks, "elapsed": elapsed, "served_at_once": fs.peak}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--mb", type=int, default=48)
    ap.add_argument("--port", type=int, default=18191)
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--settle", type=float, default=5.0)
    args = ap.parse_args()
    size = args.mb * 1_000_000
    with tempfile.TemporaryDirectory(prefix="dudao-bench-dl-") as tmp:
        work = Path(tmp)
        proc = start_server(args.root.resolve(), args.port, work)
        try:
            time.sleep(1.0)
            before = rss_kb(proc.pid)
            result = asyncio.run(run(args.port, args.files, size, proc.pid))
            peak = rss_kb(proc.pid, "VmHWM")
            time.sleep(args.settle)
            after = rss_kb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        with sqlite3.connect(work / "dudao.db") as db:
            rows = db.execute("SELECT sha256 FROM attachments WHERE submission_id IS NOT NULL"
                              ).fetchall()
        stored = sorted(sha for (sha,) in rows)
        wanted = sorted(expected_sha(i, size) for i in range(args.files))
        temp_left = list((work / "data" / "files").glob(".incoming-*"))
    ok = stored == wanted and not temp_left
    acked = sum("附件1个" in a for a in result["acks"])
    print(f"tree: {args.root.resolve()}")
    print(f"{args.files} messages x {args.mb} MB file: {acked}/{args.files} acknowledged with the "
          f"file in {result['elapsed']:.1f} s; downloads at once (file server): "
          f"{result['served_at_once']}")
    print(f"server RSS before {before / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, "
          f"{args.settle:g} s after {after / 1024:.0f} MiB")
    print(f"stored files: {len(stored)}, sha256 {'all right' if stored == wanted else 'WRONG'}, "
          f"temporary files left: {len(temp_left)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
