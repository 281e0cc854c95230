"""`dudao serve` logs at [service] log_level, without the libraries' chatter."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_log(tmp_path: Path, level: str | None) -> str:
    port = _free_port()
    env = {**os.environ, "DUDAO_HTTP_PORT": str(port), "DUDAO_NLU_ENABLED": "false",
           "DUDAO_SERVICE_DATA_DIR": str(tmp_path / "data"),
           "DUDAO_DATABASE_URL": f"sqlite:///{tmp_path}/dudao.db", "PYTHONPATH": str(ROOT)}
    env.pop("DUDAO_SERVICE_LOG_LEVEL", None)
    if level:
        env["DUDAO_SERVICE_LOG_LEVEL"] = level
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("dudao serve did not answer /healthz")
        time.sleep(0.5)  # the first scheduler sweep runs right after start
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    return out


def test_default_level_shows_our_info_but_not_library_chatter(tmp_path: Path) -> None:
    out = _serve_log(tmp_path, None)
    assert "schema upgraded" in out and "listening on" in out
    assert "alembic" not in out and "apscheduler" not in out


def test_warning_level_is_quiet(tmp_path: Path) -> None:
    out = _serve_log(tmp_path, "WARNING")
    assert "listening on" in out  # the start-up banner is printed, not logged
    assert " INFO " not in out
