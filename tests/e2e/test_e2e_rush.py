"""Deadline-day rush: a burst of submissions in one group, acknowledged through the real service.

With ``[outbox] coalesce_acks`` the acknowledgements that wait for their turn in one group go out
as one message, each with its number and an @ of its sender; every number is acknowledged in
exactly one message, groups are never mixed, and two service processes on one database never
send the same acknowledgement. With it off, one message per submission, quoting it, as before.
Every test runs on SQLite and on PostgreSQL (the ``db_url`` fixture).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import SERVICES, Services, create_app
from bot.core.event import ChatRef, Reply, Text
from bot.core.message import OutgoingMessage
from bot.services import groups, outbox, people, tasks, units
from tests.adapters.onebot.fake_impl import SELF_ID, FakeImpl, seg
from tests.e2e.conftest import TOKEN, make_settings

GROUP_A, GROUP_B = 600000001, 600000002
LIAISONS = list(range(31001, 31013))  # one liaison per city, twelve cities
_ids = iter(range(700000, 10**9))
NUMBER = re.compile(r"#(\d+)")


def message(group: int, user: int, text: str) -> dict[str, Any]:
    return {
        "time": 1_790_000_000, "self_id": SELF_ID, "post_type": "message",
        "message_type": "group", "sub_type": "normal", "message_id": next(_ids),
        "group_id": group, "user_id": user, "anonymous": None,
        "message": [seg("text", text=text)], "raw_message": text, "font": 14,
        "sender": {"user_id": user, "nickname": f"u{user}", "card": "", "role": "member"},
    }


class Service:
    def __init__(self, server: TestServer, session: aiohttp.ClientSession, impl: FakeImpl
                 ) -> None:
        self.server, self.session, self.impl = server, session, impl

    @property
    def services(self) -> Services:
        return self.server.app[SERVICES]

    def sends(self) -> list[dict[str, Any]]:
        return [a["params"] for a in self.impl.actions if a["action"] == "send_group_msg"]


@pytest.fixture
async def start(tmp_path: Path, db_url: str) -> AsyncIterator[Any]:
    """Starts services on the one database (spacing as in production, shortened)."""
    started: list[Service] = []

    async def go(*, coalesce: bool = True, name: str = "a") -> Service:
        settings = make_settings(tmp_path / name, db_url, outbox={
            "account_interval_ms": 150, "group_interval_ms": 300, "coalesce_acks": coalesce,
            "poll_interval_s": 0.05})
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        session = aiohttp.ClientSession()
        impl = await FakeImpl(session, str(server.make_url("/onebot/v11/ws")),
                              token=TOKEN).connect()
        started.append(Service(server, session, impl))
        return started[-1]

    yield go
    for s in started:
        await s.impl.close()
        await s.session.close()
        await s.server.close()


def seed(svc: Service) -> list[str]:
    """Twelve city liaisons; group A serves the first eight cities, group B the others."""
    now = svc.services.env.clock.now()

    def go(conn: Any) -> list[str]:
        cities = [u.name for u in units.list_units(conn, kind="city")][:len(LIAISONS)]
        for user, city in zip(LIAISONS, cities, strict=True):
            people.add(conn, identity=f"qq:{user}", unit=city, role="liaison", name=f"联络员{user}",
                       now=now)
        groups.add(conn, chat=f"qq:group:{GROUP_A}", name="甲群", units_spec=",".join(cities[:8]),
                   purpose="exchange", account=None, webhook_key=None, now=now)
        groups.add(conn, chat=f"qq:group:{GROUP_B}", name="乙群", units_spec=",".join(cities[8:]),
                   purpose="exchange", account=None, webhook_key=None, now=now)
        tasks.add(conn, title="年度总结", due=datetime.fromisoformat("2030-12-31T18:00+08:00"),
                  units_spec=",".join(cities), system="supervision", created_by=None, now=now)
        return cities

    return svc.services.db.transaction(go)


def numbers(params: dict[str, Any]) -> list[int]:
    text = "".join(s["data"].get("text", "") for s in params["message"] if s["type"] == "text")
    return [int(n) for n in NUMBER.findall(text)]


def mentioned(params: dict[str, Any]) -> list[int]:
    return [int(s["data"]["qq"]) for s in params["message"] if s["type"] == "at"]


async def until(cond: Any, within: float = 15.0) -> None:
    async with asyncio.timeout(within):
        while not cond():  # noqa: ASYNC110 - polls what the fake implementation received
            await asyncio.sleep(0.02)


async def burst(svc: Service, users: list[int], group: int = GROUP_A) -> None:
    for user in users:
        await svc.impl.send_event(message(group, user, "提交 年度总结 见正文"))
        await asyncio.sleep(0.03)


async def test_a_burst_in_one_group_is_acknowledged_in_fewer_messages(start: Any) -> None:
    svc = await start()
    seed(svc)
    users = LIAISONS[:8]
    await burst(svc, users)
    await until(lambda: sum(len(numbers(p)) for p in svc.sends()) >= len(users))
    await asyncio.sleep(0.5)  # nothing more may follow
    sends = svc.sends()
    assert len(sends) < len(users)
    counted = Counter(n for p in sends for n in numbers(p))
    assert len(counted) == len(users) and set(counted.values()) == {1}
    merged = [p for p in sends if len(numbers(p)) > 1]
    assert merged, "at least one message carries several acknowledgements"
    for p in merged:
        # One line per acknowledgement, each after an @ of its sender; no quote of one of them.
        assert len(mentioned(p)) == len(numbers(p))
        assert all(s["type"] != "reply" for s in p["message"])
    # Every sender is @-ed or quoted (a lone acknowledgement still quotes the message).
    by_at = {u for p in sends for u in mentioned(p)}
    alone = [p for p in sends if len(numbers(p)) == 1]
    assert len(by_at) + len(alone) == len(users)
    assert by_at <= set(users)
    # The rows all record the message they went out in.
    state = svc.services.db.transaction(lambda c: outbox.find_by_platform_id(
        c, f"qq:group:{GROUP_A}", "90001"))
    assert state is not None and state[1].startswith("submission:")


async def test_acknowledgements_for_different_groups_are_not_merged(start: Any) -> None:
    svc = await start()
    seed(svc)
    a_users, b_users = LIAISONS[:6], LIAISONS[8:12]
    await asyncio.gather(burst(svc, a_users, GROUP_A), burst(svc, b_users, GROUP_B))
    total = len(a_users) + len(b_users)
    await until(lambda: sum(len(numbers(p)) for p in svc.sends()) >= total)
    await asyncio.sleep(0.3)
    sends = svc.sends()
    for p in sends:
        members = set(a_users) if p["group_id"] == GROUP_A else set(b_users)
        assert set(mentioned(p)) <= members
    counted = Counter(n for p in sends for n in numbers(p))
    assert len(counted) == total and set(counted.values()) == {1}
    assert len(sends) < total


async def test_without_coalescing_each_submission_gets_its_own_quoting_message(
        start: Any) -> None:
    svc = await start(coalesce=False)
    seed(svc)
    users = LIAISONS[:6]
    await burst(svc, users)
    await until(lambda: len(svc.sends()) >= len(users))
    await asyncio.sleep(0.5)
    sends = svc.sends()
    assert len(sends) == len(users)
    for p in sends:
        assert len(numbers(p)) == 1
        assert p["message"][0]["type"] == "reply" and not mentioned(p)
        assert "".join(s["data"].get("text", "") for s in p["message"]).startswith("已收到 #")


async def test_two_processes_never_send_one_acknowledgement_twice(start: Any) -> None:
    """Acknowledgements left pending (their process died before sending) are claimed by two
    running processes at once: each goes out in exactly one message of one of them."""
    first = await start(name="a")
    second = await start(name="b")
    await asyncio.sleep(0.2)
    chat = ChatRef.parse(f"qq:group:{GROUP_A}")
    rows = [(OutgoingMessage(chat, (Reply(str(9000 + i), str(LIAISONS[i % 8])),
                                    Text(f"已收到 #{i}：单位{i}《年度总结》"))),
             "reply", f"submission:{i}", str(SELF_ID)) for i in range(1, 61)]
    for i in range(0, len(rows), 5):  # in small lots, while both pollers race for them
        now = first.services.env.clock.now()
        first.services.db.transaction(
            lambda c, lot=rows[i:i + 5], now=now: outbox.enqueue_many(c, lot, now=now))
        await asyncio.sleep(0.04)

    def sent() -> Counter[int]:
        return Counter(n for s in (first, second) for p in s.sends() for n in numbers(p))

    await until(lambda: sum(sent().values()) >= len(rows))
    await asyncio.sleep(0.5)
    counted = sent()
    assert sorted(counted) == list(range(1, 61)) and set(counted.values()) == {1}
    messages = len(first.sends()) + len(second.sends())
    assert messages < len(rows)
    assert first.sends() and second.sends(), "both processes took part"
    # At most 30 acknowledgements in one message.
    assert max(len(numbers(p)) for s in (first, second) for p in s.sends()) <= 30
