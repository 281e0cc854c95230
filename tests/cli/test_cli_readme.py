"""The README's first use, run as written (issue 14): the set-up's `dudao serve`, then every
line of "Try it without a QQ account" in order — the console lines with what their comments say
to type — and the board login the README then describes.

The commands are read from README.md itself, so a README that drifts from the command line fails
here. `.venv/bin/dudao` is this interpreter's `python -m bot`; the data directory is a temporary
one and the port a free one (both through the environment, as the README's configuration section
says), so the lines run unchanged.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from tests.cli.serving import ROOT, clean_env, free_port, serving

README = ROOT / "README.md"


def _section_blocks(title: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```sh\n(.*?)```", text[start:end], flags=re.S)


def _dudao_commands(block: str) -> list[tuple[list[str], str]]:
    """Each `.venv/bin/dudao …` of a block: (its arguments, the comment after it)."""
    found = []
    for line in block.splitlines():
        for part in line.split("&&"):
            command, _, comment = part.partition("#")
            words = shlex.split(command)
            if words and words[0] == ".venv/bin/dudao":
                found.append((words[1:], comment.strip()))
    return found


def test_the_readme_first_use_works_as_written(tmp_path: Path) -> None:
    [setup, _tests] = _section_blocks("Set-up: two commands")
    [[(serve_args, _)]] = [_dudao_commands(setup)]
    assert serve_args == ["serve"]
    [try_it] = _section_blocks("Try it without a QQ account")
    steps = _dudao_commands(try_it)
    assert len(steps) >= 6

    port = free_port()
    env = clean_env(DUDAO_HTTP_PORT=str(port), DUDAO_NLU_ENABLED="false",
                    DUDAO_SCHEDULE_ENABLED="false", DUDAO_SERVICE_DATA_DIR=str(tmp_path / "data"))
    outputs: list[str] = []
    with serving(tmp_path, env, port, *serve_args[1:]):
        for args, comment in steps:
            typed = "".join(f"{line.strip()}\n" for line in comment.split(" / ")) if (
                args[0] == "console") else None
            res = subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                                 input=typed, capture_output=True, text=True, timeout=120,
                                 check=False)
            assert res.returncode == 0, f"dudao {shlex.join(args)}:\n{res.stderr}"
            assert "Traceback" not in res.stderr
            outputs.append(res.stdout)
        # The board login the README describes, with the password a line of it set
        # (`person add IDENTITY … --password P`, or a later `person passwd IDENTITY --password P`).
        [(who, password)] = [(args[2], args[args.index("--password") + 1])
                             for args, _ in steps if "--password" in args][-1:]
        assert _login(port, who, password) == f"http://127.0.0.1:{port}/"

    liaison, admin = outputs[-2], outputs[-1]
    assert "已收到 #1：郑州市《三季度调研报告》" in liaison
    assert "三季度调研报告" in admin and "未提交" in admin      # 谁没交
    assert "已通过 #1" in admin                                 # 通过 #1 优
    assert "没太明白" not in liaison + admin and "只有" not in liaison + admin


def _login(port: int, login: str, password: str) -> str:
    """Log in at /login as a browser does; the URL the login lands on."""
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with opener.open(f"{base}/login", timeout=10) as r:
        m = re.search(r'name="csrf" value="([^"]+)"', r.read().decode())
    assert m
    form = urllib.parse.urlencode({"csrf": m.group(1), "login": login, "password": password,
                                   "next": "/"}).encode()
    with opener.open(f"{base}/login", data=form, timeout=10) as r:
        assert r.status == 200
        return str(r.url)
