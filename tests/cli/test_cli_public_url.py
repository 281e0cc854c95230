"""Links name 127.0.0.1 when ``[http] public_url`` is unset (issue 14): `dudao serve` and
`dudao config check` warn when the service listens beyond loopback without it, and the messages
that give a link (`dudao unit link`) say the link only opens on this machine. Real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.serving import clean_env, free_port, serve_log, serving

WARNING = "但未配置 [http] public_url（环境变量 DUDAO_HTTP_PUBLIC_URL）"
NOTE = "链接指向本机 127.0.0.1，只能在运行 dudao 的电脑上打开"


def dudao(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(DUDAO_NLU_ENABLED="false", DUDAO_SERVICE_DATA_DIR=str(tmp_path / "data"),
                    DUDAO_DATABASE_URL=f"sqlite:///{tmp_path}/dudao.db", **extra)
    res = subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    return res


def test_config_check_warns_when_listening_beyond_loopback(tmp_path: Path) -> None:
    wide = dudao(tmp_path, "config", "check", DUDAO_HTTP_HOST="0.0.0.0")
    [line] = wide.stderr.splitlines()
    assert line.startswith("警告：服务在 0.0.0.0 上监听，" + WARNING)
    assert "http://127.0.0.1:8080" in line
    assert 'host = "0.0.0.0"' in wide.stdout  # stdout is still the configuration
    assert dudao(tmp_path, "config", "check").stderr == ""  # loopback: no one else can reach it
    assert dudao(tmp_path, "config", "check", DUDAO_HTTP_HOST="0.0.0.0",
                 DUDAO_HTTP_PUBLIC_URL="https://dudao.example.gov.cn").stderr == ""


def test_serve_warns_at_start(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(DUDAO_NLU_ENABLED="false", DUDAO_SCHEDULE_ENABLED="false",
                    DUDAO_SERVICE_DATA_DIR=str(tmp_path / "data"),
                    DUDAO_DATABASE_URL=f"sqlite:///{tmp_path}/dudao.db")
    with serving(tmp_path, env, port, "--host", "0.0.0.0"):
        pass
    log = serve_log(tmp_path, port)
    assert f"警告：服务在 0.0.0.0 上监听，{WARNING}" in log
    assert "public_url is not set while listening on 0.0.0.0" in log  # and in the log
    port = free_port()
    with serving(tmp_path, env, port):
        pass
    assert "public_url" not in serve_log(tmp_path, port)


def test_a_link_says_it_only_opens_here(tmp_path: Path) -> None:
    local = dudao(tmp_path, "unit", "link", "郑州市").stdout.splitlines()
    assert local[1].startswith("http://127.0.0.1:8080/v/")
    assert NOTE in local[2]
    public = dudao(tmp_path, "unit", "link", "郑州市",
                   DUDAO_HTTP_PUBLIC_URL="https://dudao.example.gov.cn").stdout.splitlines()
    assert public[1].startswith("https://dudao.example.gov.cn/v/") and len(public) == 2
