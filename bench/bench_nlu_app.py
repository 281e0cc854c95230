"""The language layer inside the running app: start-up, rebuild, parse and answer costs, memory.

Starts the real service in a fresh process (SQLite in a temporary directory, the bundled henan
roster, 30 open tasks), the way `dudao serve` does, and measures:
- the time from start-up until the parser is installed (database preparation excluded), and
  resident memory before and after;
- a rebuild after a new task (bot/pipeline/language.refresh_parser: read, build in a thread, swap);
- ``env.parser.parse`` per message over the labelled phrasings (tests/nlu/phrasings.toml);
- a whole natural-language question through the dispatcher (dedupe, identity, parse, handler,
  outbox row, commit), per message, sequentially.

    .venv/bin/python bench/bench_nlu_app.py [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return -1.0


async def run(tmp: Path) -> dict[str, Any]:
    from bot.app import build_services, lifecycle, prepare_database
    from bot.core.event import ChatRef, MessageEvent, Text, UserRef
    from bot.core.nlu.evaluate import load
    from bot.pipeline.language import refresh_parser
    from bot.services import tasks as tasks_svc
    from config.settings import load_settings

    settings = load_settings(None, {}, cwd=tmp, overrides={
        "service": {"data_dir": str(tmp / "data")}, "schedule": {"enabled": False},
        "admins": ["qq:10001"], "nlu": {"enabled": True, "refresh_s": 3600.0}})
    services = build_services(settings)
    prepare_database(services.db, settings, services.env)
    now = services.env.clock.now()

    def seed(conn: Any) -> None:
        for i in range(30):
            tasks_svc.add(conn, title=f"专项任务{i}号调研报告", due=now + timedelta(days=3 + i),
                          units_spec="kind:city", system="supervision", created_by=None, now=now)

    services.db.transaction(seed)
    rss_before = rss_mib()
    started = time.perf_counter()
    async with lifecycle(services):
        for _ in range(6000):  # the parser loads in the background, as in `dudao serve`
            if services.env.parser is not None:
                break
            await asyncio.sleep(0.005)
        assert services.env.parser is not None, "parser did not load within 30 s"
        init_s = time.perf_counter() - started
        rss_after = rss_mib()
        units = len(services.env.parser.vocabulary.units)

        services.db.transaction(lambda c: tasks_svc.add(
            c, title="安全生产执法检查", due=now + timedelta(days=9), units_spec="all",
            system="supervision", created_by=None, now=now))
        t = time.perf_counter()
        assert await refresh_parser(services.db, services.env)
        rebuild_s = time.perf_counter() - t
        rss_rebuilt = rss_mib()
        parser = services.env.parser
        assert parser is not None

        texts = [c.text for c in load(ROOT / "tests" / "nlu" / "phrasings.toml").cases]
        for text in texts:
            parser.parse(text, now=now)
        rounds = []
        for _ in range(5):
            t = time.perf_counter()
            for text in texts:
                parser.parse(text, now=now)
            rounds.append((time.perf_counter() - t) / len(texts))

        questions = ["郑州还有哪些没交？", "这周有什么要交的", "哪个单位红旗最多", "郑州几面红旗",
                     "最近有什么动态", "安全生产执法检查谁没交", "开封那边三季度的材料交了没"]
        per_event = []
        for i in range(140):
            ev = MessageEvent(platform="qq", self_id="1", chat=ChatRef.parse("qq:user:10001"),
                              sender=UserRef("qq", "10001"), message_id=f"b{i}",
                              segments=(Text(questions[i % len(questions)]),),
                              time=datetime.now(UTC), to_me=True)
            t = time.perf_counter()
            out = await services.dispatcher.feed(ev)
            per_event.append(time.perf_counter() - t)
            assert out, "no answer"
    return {
        "units": units, "open_tasks": 31, "labelled_messages": len(texts),
        "parser_ready_after_start_s": round(init_s, 3),
        "rebuild_after_new_task_s": round(rebuild_s, 3),
        "parse_median_us": round(statistics.median(rounds) * 1e6, 1),
        "question_through_dispatcher_median_ms": round(statistics.median(per_event) * 1e3, 2),
        "question_through_dispatcher_p99_ms": round(
            sorted(per_event)[int(len(per_event) * 0.99) - 1] * 1e3, 2),
        "rss_before_parser_mib": round(rss_before, 1),
        "rss_with_parser_mib": round(rss_after, 1),
        "rss_after_rebuild_mib": round(rss_rebuilt, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = asyncio.run(run(Path(tmp)))
    if args.json:
        print(json.dumps(r, indent=2, ensure_ascii=False))
    else:
        for k, v in r.items():
            print(f"{k:<40} {v}")
    return 0 if r["parse_median_us"] < 1000 and r["parser_ready_after_start_s"] < 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
