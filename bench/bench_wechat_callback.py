"""Load on the official-account callback: signed plain-mode text messages, open loop.

The whole service (``bot.app.create_app``, SQLite in a temporary directory, a fake WeChat API for
any customer-service message) runs in a child process; this process sends ``--rate`` requests a
second for ``--seconds`` seconds from ``--users`` openids, each request started on schedule
whatever the earlier ones are doing (open loop), and reports the latency of the callback's
responses. Target: p99 < 50 ms at 200 requests/s.

    .venv/bin/python bench/bench_wechat_callback.py [--rate 200] [--seconds 10] [--users 50]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import multiprocessing
import multiprocessing.synchronize
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

TOKEN = "benchToken"
APP_ID = "wxbench0000000001"
SECRET = "bench-secret"
COMMANDS = ("帮助", "我的任务", "进度", "谁没交")


# --- the service, in a child process --------------------------------------------------------------


def _fake_wechat() -> web.Application:
    sent = {"custom": 0}

    async def token(_request: web.Request) -> web.Response:
        return web.json_response({"access_token": "BENCH-TOKEN", "expires_in": 7200})

    async def api(request: web.Request) -> web.Response:
        await request.read()
        if request.path.endswith("/custom/send"):
            sent["custom"] += 1
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(sent)

    app = web.Application()
    app.router.add_post("/cgi-bin/stable_token", token)
    app.router.add_post("/cgi-bin/{tail:.*}", api)
    app.router.add_get("/stats", stats)
    return app


async def _serve(workdir: str, port: int, fake_port: int,
                 ready: multiprocessing.synchronize.Event,
                 stop: multiprocessing.synchronize.Event) -> None:
    import logging

    from bot.app import create_app
    from config.settings import load_settings

    logging.basicConfig(level=logging.WARNING)
    fake = web.AppRunner(_fake_wechat())
    await fake.setup()
    await web.TCPSite(fake, "127.0.0.1", fake_port).start()
    settings = load_settings(None, {}, cwd=Path(workdir), overrides={
        "service": {"data_dir": f"{workdir}/data"},
        "database": {"url": f"sqlite:///{workdir}/dudao.db"},
        "schedule": {"enabled": False},
        "nlu": {"enabled": False},
        "outbox": {"account_interval_ms": 0, "group_interval_ms": 0, "jitter_ms": 0},
        "wechat_mp": {"app_id": APP_ID, "app_secret": SECRET, "token": TOKEN, "mode": "plain",
                      "api_base": f"http://127.0.0.1:{fake_port}"},
    })
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    ready.set()
    await asyncio.to_thread(stop.wait)
    await runner.cleanup()
    await fake.cleanup()


def _child(workdir: str, port: int, fake_port: int, ready: multiprocessing.synchronize.Event,
           stop: multiprocessing.synchronize.Event) -> None:
    asyncio.run(_serve(workdir, port, fake_port, ready, stop))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the load ---------------------------------------------------------------------------------------


def _signed(openid: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), str(time.perf_counter_ns() % 10**9)
    sig = hashlib.sha1("".join(sorted((TOKEN, ts, nonce))).encode()).hexdigest()
    return {"signature": sig, "timestamp": ts, "nonce": nonce, "openid": openid}


def _body(openid: str, text: str, msg_id: int) -> bytes:
    return (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>").encode()


async def _load(url: str, rate: float, seconds: float, users: int) -> dict[str, Any]:
    openids = [f"oBENCH_{i:04d}_user" for i in range(users)]
    results: list[tuple[float, str]] = []  # (latency s, outcome)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=10)
    ids = itertools.count(7_000_000_000)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(i: int) -> None:
            openid = openids[i % users]
            body = _body(openid, COMMANDS[(i // users) % len(COMMANDS)], next(ids))
            t0 = time.perf_counter()
            try:
                async with session.post(url, params=_signed(openid), data=body) as resp:
                    text = await resp.text()
                    status = resp.status
            except Exception as exc:
                results.append((time.perf_counter() - t0, f"error:{type(exc).__name__}"))
                return
            dt = time.perf_counter() - t0
            if status != 200:
                outcome = f"http:{status}"
            elif text == "success":
                outcome = "success"
            elif "<Content>" in text:
                outcome = "passive"
            else:
                outcome = "other"
            results.append((dt, outcome))

        # warm-up: a few requests before measuring (connections, first DB pages)
        await asyncio.gather(*(one(i) for i in range(users)))
        results.clear()

        loop = asyncio.get_running_loop()
        total = int(rate * seconds)
        start = loop.time()
        tasks = []
        lag = 0.0
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                lag = max(lag, -delay)
            tasks.append(asyncio.create_task(one(users + i)))
        await asyncio.gather(*tasks)
        elapsed = loop.time() - start
    return {"results": results, "elapsed": elapsed, "sent": total, "max_send_lag": lag}


def _pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--users", type=int, default=50)
    args = ap.parse_args(argv)

    ctx = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="dudao-bench-") as workdir:
        port, fake_port = _free_port(), _free_port()
        ready, stop = ctx.Event(), ctx.Event()
        proc = ctx.Process(target=_child, args=(workdir, port, fake_port, ready, stop),
                           daemon=True)
        proc.start()
        if not ready.wait(60):
            proc.kill()
            print("service did not start", file=sys.stderr)
            return 2
        try:
            out = asyncio.run(_load(f"http://127.0.0.1:{port}/wechat/mp", args.rate,
                                    args.seconds, args.users))

            async def custom_sent() -> int:
                async with aiohttp.ClientSession() as s, s.get(
                        f"http://127.0.0.1:{fake_port}/stats") as r:
                    return int((await r.json())["custom"])

            time.sleep(1.0)  # let late answers go out
            late = asyncio.run(custom_sent())
        finally:
            stop.set()
            proc.join(15)
            if proc.is_alive():
                proc.kill()

    results: list[tuple[float, str]] = out["results"]
    lat = sorted(dt * 1000 for dt, _ in results)
    outcomes: dict[str, int] = {}
    for _, o in results:
        outcomes[o] = outcomes.get(o, 0) + 1
    errors = sum(n for o, n in outcomes.items() if o not in ("passive", "success"))
    rows = [
        ("requests sent", f"{out['sent']}"),
        ("offered rate", f"{args.rate:.0f}/s for {args.seconds:.0f} s, {args.users} openids"),
        ("achieved rate", f"{len(results) / out['elapsed']:.1f}/s"),
        ("passive replies", f"{outcomes.get('passive', 0)}"),
        ("'success' (late)", f"{outcomes.get('success', 0)}"),
        ("customer-service msgs", f"{late}"),
        ("errors", f"{errors} {({o: n for o, n in outcomes.items() if o not in ('passive', 'success')} or '')}"),
        ("latency p50", f"{_pct(lat, 50):.1f} ms"),
        ("latency p90", f"{_pct(lat, 90):.1f} ms"),
        ("latency p99", f"{_pct(lat, 99):.1f} ms"),
        ("latency max", f"{lat[-1] if lat else float('nan'):.1f} ms"),
        ("latency mean", f"{statistics.fmean(lat) if lat else float('nan'):.1f} ms"),
        ("client send lag max", f"{out['max_send_lag'] * 1000:.1f} ms"),
        ("cpus", f"{os.cpu_count()}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 30}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    p99 = _pct(lat, 99)
    verdict = "PASS" if p99 < 50 and errors == 0 else "FAIL"
    print(f"\ntarget p99 < 50 ms, no errors: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
