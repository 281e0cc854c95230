"""The access log of a real `dudao serve` holds no secret that travelled in a URL.

Tokens in ``?access_token=``, signed read-only links (``/v/<unit>.<expiry>.<signature>``) in
request paths and Referer headers, and WeChat's signed query are redacted; a link made on the
board is shown in the response page, never put in a redirect URL (which would log it, and keep
it in the browser's history). The server runs with a roster file path (``[service] roster``).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parents[2]
ACCESS_TOKEN = "onebot-secret-token-7f3a9c"
API_TOKEN = "board-api-token-5e1d22b0"
PASSWORD = "admin-password-9q8w"
ROSTER = """\
[[unit]]
code = "4101"
name = "郑州市"
short_name = "郑州"
kind = "city"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env.update(DUDAO_HTTP_PORT=str(port), DUDAO_NLU_ENABLED="false",
               DUDAO_SCHEDULE_ENABLED="false", DUDAO_SERVICE_DATA_DIR=str(tmp_path / "data"),
               DUDAO_DATABASE_URL=f"sqlite:///{tmp_path}/dudao.db",
               DUDAO_SERVICE_ROSTER="units.toml", DUDAO_ONEBOT_ACCESS_TOKEN=ACCESS_TOKEN,
               DUDAO_WEB_API_TOKEN=API_TOKEN, PYTHONPATH=str(ROOT))
    return env


def _wait_healthy(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dudao serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail("dudao serve did not answer /healthz")


async def _csrf(s: aiohttp.ClientSession, url: str) -> str:
    async with s.get(url) as r:
        m = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert m, url
    return m.group(1)


async def _exercise(base: str) -> str:
    """What an implementation, WeChat, an admin and an official do; returns the link made."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address host
    async with aiohttp.ClientSession(cookie_jar=jar) as s:
        for path in (f"/healthz?access_token={ACCESS_TOKEN}",
                     f"/onebot/v11/ws?access_token={ACCESS_TOKEN}",
                     f"/api/v1/units?access_token={API_TOKEN}&kind=city",
                     "/wechat/mp?signature=abcdef0123456789&timestamp=1&nonce=n0nce&"
                     "echostr=echo-secret"):
            async with s.get(base + path) as r:
                await r.read()
        async with s.post(f"{base}/onebot/v11/http?access_token={ACCESS_TOKEN}",
                          json={"post_type": "meta_event"}) as r:
            await r.read()
        token = await _csrf(s, f"{base}/login")
        async with s.post(f"{base}/login", allow_redirects=False, data={
                "csrf": token, "login": "qq:10001", "password": PASSWORD,
                "next": "/units/1"}) as r:
            assert r.status == 303
        token = await _csrf(s, f"{base}/units/1")
        async with s.post(f"{base}/units/1/link", allow_redirects=False,
                          data={"csrf": token, "days": "366", "next": "/units/1"}) as r:
            # The link is in this page, and in no URL: no redirect carrying it.
            assert r.status == 200 and "Location" not in r.headers
            page = await r.text()
        m = re.search(r'id="view-link" readonly value="([^"]+)"', page)
        assert m, page[:500]
        link = m.group(1)
    # The official's phone opens the link; its next page sends the link as Referer.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as phone:
        path = link[link.index("/v/"):]
        async with phone.get(base + path, allow_redirects=False) as r:
            assert r.status == 302
        async with phone.get(f"{base}/units/1?msg={path}",
                             headers={"Referer": base + path}) as r:
            assert r.status == 200
    return link


def test_cli_serve_access_log_has_no_tokens_or_links(tmp_path: Path) -> None:
    (tmp_path / "units.toml").write_text(ROSTER, encoding="utf-8")
    port = _free_port()
    env = _env(tmp_path, port)
    add = subprocess.run([sys.executable, "-m", "bot", "person", "add", "qq:10001", "--role",
                          "admin", "--name", "王督导", "--password", PASSWORD],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert add.returncode == 0, add.stderr
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env,
                                stdout=log_file, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        link = asyncio.run(_exercise(base))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    text = log_path.read_text()
    signature = link.rsplit(".", 1)[-1]
    for secret in (ACCESS_TOKEN, API_TOKEN, PASSWORD, signature, link.rsplit("/v/", 1)[-1],
                   "abcdef0123456789", "echo-secret"):
        assert secret not in text, secret
    # The access log itself was captured: the requests are there, redacted.
    assert re.search(r'"GET /v/\*\*\* HTTP/1\.1" 302', text), text[-3000:]
    assert "access_token=***" in text and "kind=city" in text
    assert '"POST /units/1/link HTTP/1.1" 200' in text
