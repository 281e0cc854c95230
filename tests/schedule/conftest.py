"""A fresh SQLite file database per test, seeded through the services, and a controllable clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, select

from bot.core.env import ServiceEnv
from bot.core.event import Mention, Text
from bot.core.serialize import load
from bot.domain.clock import FixedClock
from bot.domain.workdays import WorkCalendar
from bot.services import groups, people, tasks, units
from bot.services.reminders import SweepResult, sweep_reminders
from config.settings import load_settings
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage, ReminderLedger

TZ = ZoneInfo("Asia/Shanghai")
EXCHANGE = "qq:group:40001"
ADMIN_GROUP = "qq:group:40002"
DEPT_GROUP = "qq:group:40003"


def at(text: str) -> datetime:
    """A local (Asia/Shanghai) moment: at("2026-07-08 09:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@dataclass(frozen=True)
class Sent:
    id: int
    chat: str
    kind: str
    cause: str
    text: str
    mentions: tuple[str, ...]


def outbox(db: Database, *, after: int = 0) -> list[Sent]:
    def q(conn: Connection) -> list[Sent]:
        rows = conn.execute(
            select(OutboxMessage.id, OutboxMessage.chat, OutboxMessage.kind, OutboxMessage.cause,
                   OutboxMessage.content)
            .where(OutboxMessage.id > after).order_by(OutboxMessage.id)).all()
        out = []
        for r in rows:
            segs = load(r.content)
            out.append(Sent(r.id, r.chat, r.kind, r.cause,
                            "".join(s.text for s in segs if isinstance(s, Text)),
                            tuple(s.user_id for s in segs if isinstance(s, Mention))))
        return out

    return db.transaction(q)


def ledger(db: Database) -> set[tuple[int, int, str]]:
    return db.transaction(lambda c: {
        (t, u, s) for t, u, s in c.execute(
            select(ReminderLedger.task_id, ReminderLedger.unit_id, ReminderLedger.stage))
    })


def make_env(clock: FixedClock, tmp_path: Path, **schedule: Any) -> ServiceEnv:
    overrides: dict[str, Any] = {"schedule": dict(schedule)} if schedule else {}
    settings = load_settings(None, {}, cwd=tmp_path, overrides=overrides)
    return ServiceEnv(settings=settings, clock=clock, calendar=WorkCalendar(TZ), tz=TZ,
                      board_url="http://127.0.0.1:8080")


@dataclass
class World:
    db: Database
    env: ServiceEnv
    clock: FixedClock
    path: Path
    unit: dict[str, int]
    person: dict[str, int]

    def tx(self, fn: Callable[[Connection], Any]) -> Any:
        return self.db.transaction(fn)

    def sweep(self, moment: datetime) -> SweepResult:
        self.clock.set(moment)
        return self.db.transaction(lambda c: sweep_reminders(c, self.env, moment))

    def add_task(self, title: str, due: datetime, scope: str = "郑州市,开封市,洛阳市,省司法厅",
                 policy: str = "", created: datetime | None = None) -> int:
        info, _ = self.db.transaction(lambda c: tasks.add(
            c, title=title, due=due, units_spec=scope, system="supervision", created_by=None,
            now=created or at("2026-07-01 09:00"), reminder_policy=policy))
        return int(info.id)

    def reopen(self) -> None:
        """A restart: a new Database object on the same database."""
        url = self.db.url
        self.db.close()
        self.db = Database(url)


def seed(conn: Connection, now: datetime) -> tuple[dict[str, int], dict[str, int]]:
    rows = [
        units.RosterRow("410100", "郑州市", "郑州", "city", ("郑州",)),
        units.RosterRow("410200", "开封市", "开封", "city", ("开封",)),
        units.RosterRow("410300", "洛阳市", "洛阳", "city", ("洛阳",)),
        units.RosterRow("SFT", "省司法厅", "司法厅", "department"),
        units.RosterRow("GAT", "省公安厅", "公安厅", "department"),
    ]
    units.import_rows(conn, rows, now=now)
    unit = {u.name: u.id for u in units.list_units(conn)}
    person: dict[str, int] = {}
    for ident, unit_name, role in [
        ("qq:30001", "郑州市", "liaison"), ("qq:30002", "开封市", "liaison"),
        ("qq:30003", "洛阳市", "liaison"), ("qq:30004", "洛阳市", "liaison"),
        ("qq:30005", "省司法厅", "liaison"), ("mp:oLUOYANG", "洛阳市", "official"),
        ("qq:30009", "郑州市", "official"),
    ]:
        person[ident] = people.add(conn, identity=ident, unit=unit_name, role=role, name="",
                                   now=now).id
    # The 洛阳 official also has QQ; the official account is preferred for private messages.
    people.link_identity(conn, person["mp:oLUOYANG"], "qq:30019", now=now)
    # A 洛阳 liaison on WeChat too: mentioned only in groups on the same platform.
    people.link_identity(conn, person["qq:30004"], "wx:wxid_ly", now=now)
    person["qq:10001"] = people.add(conn, identity="qq:10001", unit=None, role="admin",
                                    name="管理员", now=now).id
    groups.add(conn, chat=EXCHANGE, name="地市联络群", units_spec="郑州市,开封市,洛阳市",
               purpose="exchange", account="999", webhook_key=None, now=now)
    groups.add(conn, chat=ADMIN_GROUP, name="督导办", units_spec=None, purpose="admin",
               account="999", webhook_key=None, now=now)
    return unit, person


def make_world(url: str, tmp_path: Path) -> World:
    db = Database(url)
    upgrade(db)
    clock = FixedClock(at("2026-07-01 09:00"))
    env = make_env(clock, tmp_path)
    unit, person = db.transaction(lambda c: seed(c, at("2026-07-01 08:00")))
    return World(db, env, clock, tmp_path, unit, person)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(f"sqlite:///{tmp_path}/t.db", tmp_path)
    yield w
    w.db.close()


@pytest.fixture
def pg_world(tmp_path: Path) -> Iterator[World]:
    if not os.environ.get("DUDAO_TEST_PG_URL"):
        pytest.skip("DUDAO_TEST_PG_URL not set")
    from tests.support.pg import pg_url

    w = make_world(pg_url("dudao_sched_test"), tmp_path)
    yield w
    w.db.close()
