"""The real app on a 127.0.0.1 test server, a seeded SQLite database and a fixed clock.

Seed (times in Asia/Shanghai, the clock stands at 2026-07-10 10:00):
- units 郑州市 (city), 开封市 (city), 中牟县 (county under 郑州市), 省财政厅 (department);
- task 1 "一季度工作报告", due 2026-03-31 18:00: 郑州市 on time, accepted 优 (red); 开封市 on time,
  accepted 一般 (blue); 中牟县 nothing (yellow); 省财政厅 late, not reviewed (yellow);
- task 2 "三季度调研报告", due 2026-09-30 18:00: 郑州市 submitted from the exchange group with an
  attachment, awaiting review; the others owe it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, select

from bot.app import SERVICES, Services, create_app
from bot.core.event import StoredFile, Text
from bot.core.serialize import load
from bot.domain.clock import FixedClock
from bot.services import flag_rules, groups, people, submissions, tasks, units
from bot.web import links
from bot.web.passwords import hash_password
from config.settings import load_settings
from storage.models import OutboxMessage
from tests.support.pg import pg_url

TZ = ZoneInfo("Asia/Shanghai")
ADMIN_LOGIN = "qq:10001"
ADMIN_PASSWORD = "correct horse battery"
API_TOKEN = "api-token-for-tests-0123456789"
EXCHANGE = "qq:group:40001"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


NOW = at("2026-07-10 10:00")


@dataclass
class Seed:
    units: dict[str, int]
    admin_id: int
    task1: int
    task2: int
    pending_submission: int  # 郑州市's submission to task 2, awaiting review
    attachment_sha: str


@dataclass
class Web:
    client: TestClient
    services: Services
    seed: Seed
    clock: FixedClock

    async def csrf(self, path: str = "/login") -> str:
        resp = await self.client.get(path)
        html = await resp.text()
        m = CSRF_FIELD.search(html)
        assert m, f"no CSRF field on {path}"
        return m.group(1)

    async def login(self, login: str = ADMIN_LOGIN, password: str = ADMIN_PASSWORD) -> Any:
        token = await self.csrf("/login")
        return await self.client.post("/login", data={"csrf": token, "login": login,
                                                      "password": password, "next": "/"},
                                      allow_redirects=False)

    def view_link(self, unit_id: int) -> str:
        """A signed read-only link to ``unit_id``, as ``dudao unit link`` makes one (absolute)."""
        base = str(self.client.make_url("")).rstrip("/")

        def make(conn: Connection) -> str:
            return links.make_view_link(conn, signer=links.signer_for(self.services.settings),
                                        base_url=base, unit_id=unit_id, days=30,
                                        now=self.clock.now()).url

        return self.services.db.transaction(make)

    def outbox_texts(self, chat: str) -> list[str]:
        def q(conn: Connection) -> list[str]:
            rows = conn.execute(select(OutboxMessage.content).where(OutboxMessage.chat == chat)
                                .order_by(OutboxMessage.id)).all()
            return ["".join(s.text for s in load(r.content) if isinstance(s, Text))
                    for r in rows]

        return self.services.db.transaction(q)


def web_settings(tmp_path: Path, **extra: Any) -> Any:
    overrides: dict[str, Any] = {
        "service": {"data_dir": str(tmp_path / "data"), "roster": ""},
        "database": {"url": f"sqlite:///{tmp_path}/dudao.db"},
        "outbox": {"poll_interval_s": 30},  # messages stay in the table for the tests to read
        "schedule": {"enabled": False},
        "nlu": {"enabled": False},
        "web": {"login_attempts_per_minute": 3, "api_token": API_TOKEN},
    }
    for k, v in extra.items():
        overrides.setdefault(k, {}).update(v)
    return load_settings(None, {}, cwd=tmp_path, overrides=overrides)


async def seed(services: Services) -> Seed:
    stored = await services.files.put("调研报告.docx", b"PK\x03\x04 fake docx bytes")

    def write(conn: Connection) -> Seed:
        rows = [units.RosterRow("4101", "郑州市", "郑州", "city"),
                units.RosterRow("4102", "开封市", "开封", "city"),
                units.RosterRow("410122", "中牟县", "中牟", "county", parent="4101"),
                units.RosterRow("D01", "省财政厅", "财政厅", "department")]
        units.import_rows(conn, rows, now=at("2026-01-01 09:00"))
        ids = {u.name: u.id for u in units.list_units(conn)}
        admin = people.add(conn, identity=ADMIN_LOGIN, unit=None, role="admin", name="王督导",
                           now=at("2026-01-01 09:00"), password_hash=hash_password(ADMIN_PASSWORD))
        liaison = people.add(conn, identity="qq:30001", unit="郑州市", role="liaison",
                             name="张联络", now=at("2026-01-01 09:00"))
        groups.add(conn, chat=EXCHANGE, name="地市联络群", units_spec="all", purpose="exchange",
                   account=None, webhook_key=None, now=at("2026-01-01 09:00"))
        t1, _ = tasks.add(conn, title="一季度工作报告", due=at("2026-03-31 18:00"),
                          units_spec="all", system="supervision", created_by=admin.id,
                          now=at("2026-03-01 09:00"))
        t2, _ = tasks.add(conn, title="三季度调研报告", due=at("2026-09-30 18:00"),
                          units_spec="all", system="guidance", created_by=admin.id,
                          now=at("2026-07-01 09:00"))
        env = services.env

        def sub(task: int, unit: str, when: str, files: tuple[StoredFile, ...] = ()) -> int:
            return submissions.submit(conn, task_id=task, unit_id=ids[unit],
                                      person_id=liaison.id, text=f"{unit}的材料",
                                      files=files, now=at(when), source_chat=EXCHANGE).id

        for unit, rating in (("郑州市", "优"), ("开封市", "一般")):
            sid = sub(t1.id, unit, "2026-03-30 10:00")
            submissions.review(conn, sid, accept=True, rating=rating, reason=None,
                               reviewer_id=admin.id, now=at("2026-04-01 10:00"))
            flag_rules.refresh_task_unit_flag(conn, env, t1.id, ids[unit], at("2026-04-01 10:00"))
        sub(t1.id, "省财政厅", "2026-04-05 10:00")
        flag_rules.mark_passed_deadlines(conn, env, at("2026-04-06 09:00"))
        pending = sub(t2.id, "郑州市", "2026-07-09 15:00", (stored,))
        return Seed(ids, admin.id, t1.id, t2.id, pending, stored.sha256)

    return await services.db.run(write)


@contextlib.asynccontextmanager
async def running(tmp_path: Path, url: str | None = None, **settings: Any) -> AsyncIterator[Web]:
    clock = FixedClock(NOW)
    extra = {"database": {"url": url}, **settings} if url else settings
    app = create_app(web_settings(tmp_path, **extra), clock=clock)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        services = app[SERVICES]
        yield Web(client, services, await seed(services), clock)
    finally:
        await client.close()


@pytest.fixture
async def webapp(tmp_path: Path) -> AsyncIterator[Web]:
    async with running(tmp_path) as web:
        yield web


@pytest.fixture
async def webapp_pg(tmp_path: Path) -> AsyncIterator[Web]:
    async with running(tmp_path, pg_url("dudao_test_web")) as web:
        yield web
