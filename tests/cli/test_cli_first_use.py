"""The command line as a new user meets it (issue 14): each trap answers in one clear line.

Run through the real command (``python -m bot`` in a subprocess, and the installed ``dudao``).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env.update({"DUDAO_NLU_ENABLED": "false", "DUDAO_SERVICE_DATA_DIR": str(tmp_path / "data"),
                "PYTHONPATH": str(ROOT), **extra})
    return env


def dudao(tmp_path: Path, *args: str, timeout: float = 60,
          **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path,
                          env=_env(tmp_path, **env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # `dudao unit list | head`: the reader is gone before the list is written.
    with subprocess.Popen([sys.executable, "-m", "bot", "unit", "list"], cwd=tmp_path,
                          env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 0
    assert err == ""


def test_a_busy_port_is_one_line_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = dudao(tmp_path, "serve", "--port", str(port))
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        f"错误：端口 {port} 已被占用，无法在 127.0.0.1:{port} 上监听：可能已有一个 dudao serve 在运行；"
        "请先停止它，或用 --port（配置 [http] port）换一个端口"]
    assert not (tmp_path / "data").exists()  # no database, no schema, no scheduler


def test_an_unknown_host_is_one_line(tmp_path: Path) -> None:
    res = dudao(tmp_path, "serve", "--host", "no-such-host.invalid")
    assert res.returncode == 1
    assert len(res.stderr.splitlines()) == 1
    assert res.stderr.startswith("错误：无法在 no-such-host.invalid:8080 上监听")


def test_help_shows_the_defaults(tmp_path: Path) -> None:
    serve = dudao(tmp_path, "serve", "--help").stdout
    assert "[http] host，未配置时为 127.0.0.1" in serve
    assert "[http] port，未配置时为 8080" in serve
    invite = dudao(tmp_path, "unit", "invite", "--help").stdout
    assert "有效天数（默认 30）" in invite and "可用次数（默认 3）" in invite
    console = dudao(tmp_path, "console", "--help").stdout
    assert "（默认 qq:10001）" in " ".join(console.split())


def test_config_check_shows_the_database_in_use(tmp_path: Path) -> None:
    res = dudao(tmp_path, "config", "check")
    assert res.returncode == 0, res.stderr
    db = f"sqlite:///{(tmp_path / 'data' / 'dudao.db').as_posix()}"
    assert f'url = "{db}"  # 未配置，使用默认值' in res.stdout.splitlines()
    assert f'directory = "{tmp_path / "data" / "backups"}"  # 未配置，使用默认值' in res.stdout
    described = json.loads(dudao(tmp_path, "config", "check", "--json").stdout)
    assert described["database"]["url"] == db

    given = "postgresql://dudao:s3cret-password@db.local:5432/dudao"
    res = dudao(tmp_path, "config", "check", DUDAO_DATABASE_URL=given)
    assert 'url = "postgresql://dudao:***@db.local:5432/dudao"' in res.stdout.splitlines()
    assert "s3cret" not in res.stdout
    # A SQLite URL given in full is shown as given (its four slashes kept).
    given = f"sqlite:///{(tmp_path / 'elsewhere.db').as_posix()}"
    res = dudao(tmp_path, "config", "check", DUDAO_DATABASE_URL=given)
    assert f'url = "{given}"' in res.stdout.splitlines()


@pytest.mark.parametrize(("zone", "offset"), [("Asia/Kolkata", "+05:30"), ("UTC", "+00:00")])
def test_log_timestamps_say_their_zone(tmp_path: Path, zone: str, offset: str) -> None:
    res = dudao(tmp_path, "-v", "unit", "list", DUDAO_SERVICE_TIMEZONE=zone)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    assert lines, "a verbose run logs"
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}" + re.escape(offset) + " ")
    assert all(stamp.match(line) for line in lines if not line.startswith(" ")), lines[:5]


def test_the_installed_command_and_python_m_bot_are_the_same(tmp_path: Path) -> None:
    installed = Path(sys.executable).with_name("dudao")
    if not installed.exists():
        pytest.skip("dudao is not installed next to this interpreter (pip install -e .)")
    via_script = subprocess.run([str(installed), "--help"], env=_env(tmp_path),
                                capture_output=True, text=True, check=False, timeout=60)
    via_module = dudao(tmp_path, "--help")
    assert via_script.returncode == via_module.returncode == 0
    assert via_script.stdout == via_module.stdout
    assert "backup" in via_script.stdout and "restore" in via_script.stdout
