"""`dudao notice send --remind` and `dudao tick --at T` as an operator runs them: real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Connection, select, update

from bot.services import outbox as outbox_svc
from storage.models import Notice, NoticeDelivery
from tests.schedule.conftest import EXCHANGE, World, at, outbox

ROOT = Path(__file__).resolve().parents[2]


def dudao(cwd: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env["DUDAO_DATABASE_URL"] = url
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_notice_reminder_through_the_cli(world: World) -> None:
    url = world.db.url
    r = dudao(world.path, url, "notice", "send", "--to", "郑州市,开封市", "--remind", "1x1",
              "--json", "周五前报送半年总结")
    assert r.returncode == 0, r.stderr
    nid = json.loads(r.stdout)["id"]
    assert world.tx(lambda c: c.execute(select(Notice.remind).where(Notice.id == nid))
                    .scalar_one()) == "1x1"

    # `dudao serve` delivered it on Wednesday 8 July at 10:00 (the notice is dated then too).
    def delivered(conn: Connection) -> None:
        conn.execute(update(Notice).where(Notice.id == nid)
                     .values(created_at=at("2026-07-08 10:00")))
        ids = conn.execute(select(NoticeDelivery.outbox_id)
                           .where(NoticeDelivery.notice_id == nid)).scalars().all()
        outbox_svc.mark_sent(conn, [(int(i), "") for i in ids], now=at("2026-07-08 10:00"))

    world.tx(delivered)
    before = len(outbox(world.db))
    r = dudao(world.path, url, "tick", "--at", "2026-07-08T11:00+08:00", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert "notice_reminders" in report["ran"]
    assert sorted(u for _, u, _ in report["notices"]["claimed"]) == sorted(
        [world.unit["郑州市"], world.unit["开封市"]])
    new = outbox(world.db, after=before)
    assert [(m.chat, m.cause) for m in new] == [(EXCHANGE, f"notice:{nid}")]
    # Ticking the same moment again sends nothing new.
    r = dudao(world.path, url, "tick", "--at", "2026-07-08T11:00+08:00", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["notices"]["claimed"] == []
    assert len(outbox(world.db)) == before + 1

    r = dudao(world.path, url, "notice", "send", "--remind", "often", "内容")
    assert r.returncode != 0 and "通知提醒规则" in r.stderr

