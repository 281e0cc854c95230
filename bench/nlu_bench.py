"""Benchmark of the language layer (bot/core/nlu).

Measures, in a fresh Python process: the import of the parser, building a parser (the shared
dictionary read from jieba's dict.txt + the vocabulary's own words), resident memory before and
after (VmRSS from /proc/self/status), a rebuild with the same vocabulary, and the time of every
single parse over all evaluation sets (tests/nlu: the labelled phrasings, the natural messages,
the generated training and held-out sets) — median, p99 and maximum over several repeats, with
the garbage collector frozen after start-up as the service does (bot/pipeline/language.py).

    .venv/bin/python bench/nlu_bench.py [--repeats 7] [--json]

Targets (issue 15): parse < 1 ms median and < 5 ms p99; a ready parser < 2 s after start;
resident memory of the whole service with the parser < 150 MiB (bench/bench_nlu_app.py).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ("phrasings.toml", "natural.toml", "generated/train.toml", "generated/train_moved.toml",
        "generated/train_moved3.toml", "generated/heldout.toml", "generated/heldout2.toml",
        "generated/heldout3.toml", "round2.toml", "round2_heldout.toml", "blind.toml",
        "round3.toml", "round3_heldout.toml", "blind2.toml", "programme_heldout.toml")


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
    from bot.core.nlu import generate as gen
    from bot.core.nlu.evaluate import default_is_workday, load

    t1 = time.perf_counter()
    here = ROOT / "tests" / "nlu"
    sets = [gen.load(here / s) if s.startswith("generated") else load(here / s) for s in SETS
            if (here / s).exists()]
    labelled = sets[0]
    rss_before = rss_kib()
    t2 = time.perf_counter()
    parser = Parser(labelled.vocabulary, is_workday=default_is_workday, tz=labelled.tz)
    t3 = time.perf_counter()
    rss_after = rss_kib()
    gc.freeze()  # as the service does once its parser is installed
    work = []
    for s in sets:
        p = parser if s is labelled else Parser(s.vocabulary, is_workday=default_is_workday,
                                                tz=s.tz)
        work += [(p, c.text, c.now) for c in s.cases]
    for p, text, now in work:  # warm-up (regex caches, first calendar and pinyin look-ups)
        p.parse(text, now=now)
    times: list[float] = []
    for _ in range(repeats):
        for p, text, now in work:
            s = time.perf_counter()
            p.parse(text, now=now)
            times.append(time.perf_counter() - s)
    times.sort()
    t4 = time.perf_counter()
    parser.refresh(labelled.vocabulary)
    t5 = time.perf_counter()
    return {
        "messages": len(work),
        "repeats": repeats,
        "import_s": t1 - t0,
        "init_s": t3 - t2,
        "refresh_s": t5 - t4,
        "parse_median_us": statistics.median(times) * 1e6,
        "parse_p99_us": times[int(len(times) * 0.99) - 1] * 1e6,
        "parse_max_us": times[-1] * 1e6,
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
    subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)  # warm file cache
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    rows = [
        ("messages (all evaluation sets)", f"{r['messages']} x {r['repeats']} repeats", ""),
        ("import the parser", f"{r['import_s'] * 1000:.0f} ms", ""),
        ("Parser init (fresh process)", f"{r['init_s'] * 1000:.0f} ms", "target < 2000 ms"),
        ("Parser.refresh (same vocabulary)", f"{r['refresh_s'] * 1000:.1f} ms", ""),
        ("parse, median", f"{r['parse_median_us']:.0f} µs", "target < 1000 µs"),
        ("parse, p99", f"{r['parse_p99_us']:.0f} µs", "target < 5000 µs"),
        ("parse, slowest", f"{r['parse_max_us']:.0f} µs", ""),
        ("RSS at start", f"{r['rss_start_mib']:.1f} MiB", ""),
        ("RSS before init (after imports)", f"{r['rss_before_init_mib']:.1f} MiB", ""),
        ("RSS after init", f"{r['rss_after_init_mib']:.1f} MiB",
         f"+{r['rss_after_init_mib'] - r['rss_before_init_mib']:.1f} MiB for the dictionary"),
    ]
    width = max(len(a) for a, _, _ in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>22}  {note}")
    ok = r["parse_median_us"] < 1000 and r["parse_p99_us"] < 5000 and r["init_s"] < 2.0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
