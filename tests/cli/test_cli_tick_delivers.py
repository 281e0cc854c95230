"""`dudao tick --at T` with a T still to come: a running `dudao serve` on the same database
delivers what is due at T within seconds (DESIGN §5), instead of holding it until T.

Real processes: `dudao serve`, a fake OneBot implementation connected to it over a socket, and
`dudao tick` from the command line, on one SQLite database.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, select

from storage.models import OutboxMessage
from tests.adapters.onebot.fake_impl import FakeImpl
from tests.cli.serving import clean_env, free_port, serving

TOKEN = "tick-test-token-31f9"


def test_a_future_tick_is_delivered_by_the_running_service(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(DUDAO_HTTP_PORT=str(port), DUDAO_NLU_ENABLED="false",
                    DUDAO_SCHEDULE_ENABLED="false", DUDAO_SERVICE_DATA_DIR=str(tmp_path / "data"),
                    DUDAO_DATABASE_URL=f"sqlite:///{tmp_path}/dudao.db",
                    DUDAO_ONEBOT_ACCESS_TOKEN=TOKEN, DUDAO_OUTBOX_POLL_INTERVAL_S="0.5")

    def dudao(*args: str) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
        assert res.returncode == 0, res.stderr
        return res

    dudao("person", "add", "qq:30001", "--unit", "郑州市", "--role", "liaison", "--name", "张三")
    dudao("group", "add", "qq:group:600000001", "--name", "郑州联络群", "--units", "郑州市")
    # Due on a Monday four years from now: the due-day reminder is due that morning.
    dudao("task", "add", "--title", "三季度调研报告", "--due", "2030-09-30T18:00+08:00",
          "--units", "郑州市")

    async def run() -> list[dict[str, object]]:
        async with aiohttp.ClientSession() as session:
            impl = await FakeImpl(session, f"ws://127.0.0.1:{port}/onebot/v11/ws",
                                  token=TOKEN).connect()
            try:
                await asyncio.sleep(1.0)  # the service registers the account
                assert not [a for a in impl.actions if a["action"] == "send_group_msg"]
                report = json.loads(await asyncio.to_thread(
                    lambda: dudao("tick", "--at", "2030-09-30T09:00+08:00", "--json").stdout))
                assert report["sweep"]["claimed"], report
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 10
                while loop.time() < deadline:
                    sent = [a for a in impl.actions if a["action"] == "send_group_msg"]
                    if sent:
                        return sent
                    await asyncio.sleep(0.1)
                return []
            finally:
                await impl.close()

    with serving(tmp_path, env, port):
        sent = asyncio.run(run())
    assert len(sent) == 1, "the reminder due at T was not delivered within 10 s"
    params = sent[0]["params"]
    assert isinstance(params, dict) and params["group_id"] == 600000001
    text = "".join(s["data"].get("text", "") for s in params["message"] if s["type"] == "text")
    assert "三季度调研报告" in text


def test_no_bulletin_draft_when_there_is_nothing_to_report(tmp_path: Path) -> None:
    env = clean_env(DUDAO_NLU_ENABLED="false", DUDAO_SERVICE_DATA_DIR=str(tmp_path / "data"),
                    DUDAO_DATABASE_URL=f"sqlite:///{tmp_path}/dudao.db")

    def dudao(*args: str) -> str:
        res = subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
        assert res.returncode == 0, res.stderr
        return res.stdout

    # A fresh database, Friday evening of a week (past the bulletin's time): nothing to say.
    empty = json.loads(dudao("tick", "--at", "2030-09-27T18:00+08:00", "--json"))
    assert empty["bulletin_id"] is None and "weekly_bulletin" not in " ".join(empty["ran"])
    dudao("task", "add", "--title", "三季度调研报告", "--due", "2030-10-31", "--units", "郑州市")
    dudao("group", "add", "qq:group:50001", "--name", "管理群", "--purpose", "admin")
    # With a task in progress, the same week's tick drafts it, and sends it to the admins...
    report = json.loads(dudao("tick", "--at", "2030-09-27T18:05+08:00", "--json"))
    assert report["bulletin_id"] == 1
    engine = create_engine(f"sqlite:///{tmp_path}/dudao.db")
    with engine.connect() as conn:
        [content] = conn.execute(select(OutboxMessage.content)
                                 .where(OutboxMessage.chat == "qq:group:50001")).scalars()
    engine.dispose()
    text = "".join(s.get("text", "") for s in content)
    assert text.startswith("【通报草稿 1】") and "详情见督导看板：http://127.0.0.1:8080" in text
    # ...saying that its link opens only here, as public_url is not set.
    assert text.endswith("链接指向本机 127.0.0.1，只能在运行 dudao 的电脑上打开")
