"""Benchmark of the language layer (bot/core/nlu).

Measures, in a fresh Python process: the import of jieba + the parser, Parser initialisation
(jieba dictionary load + user dictionary from the vocabulary), resident memory after init
(VmRSS from /proc/self/status), and the parse cost per message over the labelled set
(tests/nlu/phrasings.toml), the median of several repeats.

    .venv/bin/python bench/nlu_bench.py [--repeats 7] [--json]

Targets (issue 4): parse < 1 ms per message, init < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHRASINGS = ROOT / "tests" / "nlu" / "phrasings.toml"


def rss_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def child(repeats: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    rss_start = rss_kib()
    t0 = time.perf_counter()
    from bot.core.nlu import Parser
    from bot.core.nlu.evaluate import default_is_workday, load

    t1 = time.perf_counter()
    labelled = load(PHRASINGS)
    rss_before = rss_kib()
    t2 = time.perf_counter()
    parser = Parser(labelled.vocabulary, is_workday=default_is_workday, tz=labelled.tz)
    t3 = time.perf_counter()
    rss_after = rss_kib()
    texts = [(c.text, c.now) for c in labelled.cases]
    for text, now in texts:  # warm-up (regex caches, first calendar look-ups)
        parser.parse(text, now=now)
    per_message = []
    slowest = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        for text, now in texts:
            s = time.perf_counter()
            parser.parse(text, now=now)
            slowest = max(slowest, time.perf_counter() - s)
        per_message.append((time.perf_counter() - started) / len(texts))
    t4 = time.perf_counter()
    parser.refresh(labelled.vocabulary)
    t5 = time.perf_counter()
    return {
        "messages": len(texts),
        "repeats": repeats,
        "import_s": t1 - t0,
        "init_s": t3 - t2,
        "refresh_s": t5 - t4,
        "parse_median_us": statistics.median(per_message) * 1e6,
        "parse_best_us": min(per_message) * 1e6,
        "parse_slowest_message_us": slowest * 1e6,
        "rss_start_mib": rss_start / 1024,
        "rss_before_init_mib": rss_before / 1024,
        "rss_after_init_mib": rss_after / 1024,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.repeats)))
        return 0
    cmd = [sys.executable, __file__, "--child", "--repeats", str(args.repeats)]
    warm_up = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    del warm_up
    # cold: jieba's marshal cache (in the temp dir) absent, as on the first start of a container
    with tempfile.TemporaryDirectory() as empty:
        env = {**os.environ, "TMPDIR": empty}
        cold = subprocess.run([*cmd[:3], "--repeats", "1"], check=True, capture_output=True, text=True,
                              cwd=ROOT, env=env)
    r["init_cold_s"] = json.loads(cold.stdout.strip().splitlines()[-1])["init_s"]
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    rows = [
        ("labelled messages", f"{r['messages']} x {r['repeats']} repeats", ""),
        ("import jieba + nlu", f"{r['import_s'] * 1000:.0f} ms", ""),
        ("Parser init (fresh process)", f"{r['init_s'] * 1000:.0f} ms", "target < 2000 ms"),
        ("Parser init, no jieba cache yet", f"{r['init_cold_s'] * 1000:.0f} ms",
         "first start only (writes the cache)"),
        ("Parser.refresh (same vocabulary)", f"{r['refresh_s'] * 1000:.1f} ms", ""),
        ("parse, median per message", f"{r['parse_median_us']:.0f} µs", "target < 1000 µs"),
        ("parse, best repeat", f"{r['parse_best_us']:.0f} µs", ""),
        ("parse, slowest single message", f"{r['parse_slowest_message_us']:.0f} µs", ""),
        ("RSS at start", f"{r['rss_start_mib']:.1f} MiB", ""),
        ("RSS before init (after imports)", f"{r['rss_before_init_mib']:.1f} MiB", ""),
        ("RSS after init", f"{r['rss_after_init_mib']:.1f} MiB",
         f"+{r['rss_after_init_mib'] - r['rss_before_init_mib']:.1f} MiB for the dictionary"),
    ]
    width = max(len(a) for a, _, _ in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>22}  {note}")
    ok = r["parse_median_us"] < 1000 and r["init_s"] < 2.0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
