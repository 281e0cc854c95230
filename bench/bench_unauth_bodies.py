#!/usr/bin/env python3
"""Memory of `dudao serve` under concurrent unauthenticated HTTP push bodies (issue 12, item 2).

Starts `dudao serve` (SQLite in a temporary directory, an access token set, so pushes must be
signed) and sends ``--clients`` concurrent ``POST /onebot/v11/http`` requests, each declaring and
trying to send ``--mb`` MB with a well-formed but wrong ``X-Signature`` — the worst case: the
body has to be read before the signature can be found wrong. Each client keeps sending until the
server answers or closes. Reports the server's resident memory (VmRSS) before, its peak
(VmHWM) and its RSS a few seconds after, the answers' status codes, and checks that /healthz and
a correctly signed push still work afterwards.

    .venv/bin/python bench/bench_unauth_bodies.py                  # 80 clients x 15.5 MB
    .venv/bin/python bench/bench_unauth_bodies.py --chunked        # no Content-Length
    .venv/bin/python bench/bench_unauth_bodies.py --root /tmp/main # the same against another tree

``--root`` runs the server from another checkout (e.g. `git archive main | tar -x -C /tmp/main`)
with this virtualenv, to compare before and after a change.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
CHUNK = b"x" * 65536


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


def start_server(root: Path, port: int, work: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(root),
           "DUDAO_DATABASE_URL": f"sqlite:///{work}/dudao.db",
           "DUDAO_SERVICE_DATA_DIR": str(work / "data"), "DUDAO_HTTP_PORT": str(port),
           "DUDAO_ONEBOT_ACCESS_TOKEN": TOKEN, "DUDAO_SERVICE_LOG_LEVEL": "ERROR",
           "DUDAO_NLU_ENABLED": "false", "DUDAO_SCHEDULE_ENABLED": "false"}
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


async def attack(port: int, size: int, chunked: bool) -> tuple[int | str, int]:
    """One client: headers, then the body until done or refused. (status, bytes sent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = ("POST /onebot/v11/http HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nX-Self-ID: 10001\r\n"
            f"X-Signature: sha1={'0' * 40}\r\n{length}\r\n\r\n")
    writer.write(head.encode())
    sent = 0

    async def send() -> None:
        nonlocal sent
        try:
            while sent < size:
                n = min(len(CHUNK), size - sent)
                writer.write(b"%x\r\n%s\r\n" % (n, CHUNK[:n]) if chunked else CHUNK[:n])
                await writer.drain()
                sent += n
            if chunked:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except ConnectionError:
            pass

    sender = asyncio.create_task(send())
    try:
        async with asyncio.timeout(300):
            line = await reader.readuntil(b"\r\n")
        status: int | str = int(line.split(b" ", 2)[1])
    except (ConnectionError, asyncio.IncompleteReadError):
        status = "reset"
    except TimeoutError:
        status = "timeout"
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)
    writer.close()
    return status, sent


async def flood(port: int, clients: int, size: int, chunked: bool,
                pid: int) -> tuple[Counter[str], int, float]:
    peak = [rss_kb(pid)]
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    started = time.monotonic()
    results = await asyncio.gather(*(attack(port, size, chunked) for _ in range(clients)))
    elapsed = time.monotonic() - started
    done.set()
    await watcher
    statuses = Counter(str(s) for s, _ in results)
    sent = sum(n for _, n in results)
    return statuses, sent, elapsed


def signed_push_works(port: int) -> bool:
    body = json.dumps({"time": int(time.time()), "self_id": 10001, "post_type": "meta_event",
                       "meta_event_type": "heartbeat", "status": {"online": True},
                       "interval": 30000}).encode()
    sig = "sha1=" + hmac.new(TOKEN.encode(), body, hashlib.sha1).hexdigest()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/onebot/v11/http", data=body,
                                 headers={"X-Signature": sig, "X-Self-ID": "10001",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status == 204


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=80)
    ap.add_argument("--mb", type=float, default=15.5)
    ap.add_argument("--port", type=int, default=18190)
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--chunked", action="store_true",
                    help="no Content-Length: the size cap must hold while streaming")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds before the 'after' RSS")
    args = ap.parse_args()
    size = int(args.mb * 1_000_000)
    with tempfile.TemporaryDirectory(prefix="dudao-bench-unauth-") as tmp:
        proc = start_server(args.root.resolve(), args.port, Path(tmp))
        try:
            time.sleep(1.0)
            before = rss_kb(proc.pid)
            statuses, sent, elapsed = asyncio.run(flood(args.port, args.clients, size,
                                                         args.chunked, proc.pid))
            peak = rss_kb(proc.pid, "VmHWM")
            time.sleep(args.settle)
            after = rss_kb(proc.pid)
            health = urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz",
                                            timeout=5).status
            push_ok = signed_push_works(args.port)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(f"tree: {args.root.resolve()}")
    how = "chunked" if args.chunked else "Content-Length"
    print(f"{args.clients} clients x {size / 1e6:.1f} MB unsigned (forged X-Signature, {how}), "
          f"{elapsed:.1f} s; answers: {dict(statuses)}; bytes the clients got out: "
          f"{sent / 1e6:.1f} MB of {args.clients * size / 1e6:.0f} MB")
    print(f"server RSS before {before / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, "
          f"{args.settle:g} s after {after / 1024:.0f} MiB")
    print(f"afterwards: /healthz {health}, signed push {'204' if push_ok else 'FAILED'}")
    return 0 if health == 200 and push_ok else 1


if __name__ == "__main__":
    sys.exit(main())
