"""A real `dudao serve` process for CLI tests: started on a free port, waited for, stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


@contextmanager
def serving(cwd: Path, env: dict[str, str], port: int,
            *args: str) -> Iterator[subprocess.Popen[str]]:
    """`dudao serve --port PORT` until /healthz answers; SIGINT and wait on leaving."""
    log = (cwd / f"serve-{port}.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port), *args],
                            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"dudao serve exited with {proc.returncode}: "
                                     + (cwd / f"serve-{port}.log").read_text())
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("dudao serve did not answer /healthz") from None
                time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def serve_log(cwd: Path, port: int) -> str:
    return (cwd / f"serve-{port}.log").read_text()
