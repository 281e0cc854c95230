#!/usr/bin/env python3
"""CPU per inbound message of two trees of dudao, driven alternately (a change's before/after).

Starts ``dudao serve`` of this tree and of ``--before DIR`` (each on its own database, seeded as
by ``bench_inbound.py``), then runs the shared load generator against one and the other in
turn (``--rounds`` rounds, the order swapped every round) and reads each service's CPU time
from ``/proc`` around every run. On a busy machine, wall-clock rates swing with the load of
other processes; CPU time per message, paired round by round, is steadier.

    git archive <before> | tar -x -C /tmp/dudao-before
    .venv/bin/python bench/bench_inbound_ab.py --before /tmp/dudao-before --rounds 10
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench_inbound

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="the other tree (a directory)")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--count", type=int, default=8000, help="messages per run")
    ap.add_argument("--port", type=int, default=18190)
    args = ap.parse_args()
    trees = [("after", bench_inbound.ROOT), ("before", Path(args.before).resolve())]
    procs: list[subprocess.Popen[bytes]] = []
    cpu: dict[str, list[float]] = {name: [] for name, _ in trees}
    try:
        ports = {}
        for i, (name, root) in enumerate(trees):
            proc, _ = bench_inbound.start(name, root, args.port + i)
            procs.append(proc)
            ports[name] = (proc, args.port + i)
        time.sleep(8)  # both language models loaded
        self_id = 40000
        for rnd in range(args.rounds):
            order = list(ports) if rnd % 2 == 0 else list(reversed(ports))
            for name in order:
                proc, port = ports[name]
                self_id += 1  # a new account each run: message ids restart at 1
                before = cpu_s(proc.pid)
                subprocess.run([sys.executable, str(bench_inbound.SHARED_BENCH / "onebot_load.py"),
                                "--url", f"ws://127.0.0.1:{port}/onebot/v11/ws",
                                "--token", bench_inbound.TOKEN, "--self-id", str(self_id),
                                "--count", str(args.count), "--concurrency", "50"],
                               check=True, capture_output=True)
                time.sleep(0.5)  # the last acknowledgements recorded
                cpu[name].append((cpu_s(proc.pid) - before) / args.count * 1000)
        for name, values in cpu.items():
            print(f"{name}: CPU ms/message median {statistics.median(values):.4f} "
                  f"{[round(v, 3) for v in values]}")
        paired = [a / b for a, b in zip(cpu["after"], cpu["before"], strict=True)]
        print(f"after/before: medians {statistics.median(cpu['after']) / statistics.median(cpu['before']):.4f}, "
              f"median of paired ratios {statistics.median(paired):.4f}")
        return 0
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
