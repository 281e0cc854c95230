"""Quotas counted in the database (``bot/services/api_quota.py``), on SQLite and PostgreSQL.

Two "processes" are two ``Database`` objects (two engines, two DB worker pools) on one database,
each with its own tracker and API client, sending to the fake WeChat API over real HTTP.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.adapters.wechat_mp.api import WeChatAPI
from bot.adapters.wechat_mp.errors import WeChatAPIError
from bot.adapters.wechat_mp.quota import QuotaLimits, QuotaTracker, day_period, month_period
from bot.adapters.wechat_mp.tokens import InMemoryTokenStore
from bot.services.api_quota import DbQuotaCounter
from storage.db import Database
from storage.migrate import upgrade
from storage.models import WeChatQuota
from tests.support.pg import pg_url

from .conftest import APP_ID, NOW, OPENID, FakeWeChat


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/quota.db"
    return pg_url("dudao_test_wechat_quota")


@pytest.fixture
def two_dbs(db_url: str) -> Any:
    a, b = Database(db_url), Database(db_url)
    upgrade(a)
    yield a, b
    a.close()
    b.close()


def tracker(db: Database, **limits: Any) -> QuotaTracker:
    return QuotaTracker(DbQuotaCounter(db, APP_ID),
                        QuotaLimits(per_day=limits.get("day", {}),
                                    per_month=limits.get("month", {})))


def api_for(session: aiohttp.ClientSession, base: str, quota: QuotaTracker,
            now: list[float]) -> WeChatAPI:
    return WeChatAPI(session, app_id=APP_ID, app_secret="s3cret", api_base=base,
                     token_store=InMemoryTokenStore(), quota=quota, now=lambda: now[0])


async def test_two_processes_sending_at_once_never_exceed_the_limit(
        two_dbs: tuple[Database, Database], fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    db_a, db_b = two_dbs
    now = [NOW]
    async with aiohttp.ClientSession() as session:
        apis = [api_for(session, base, tracker(db, day={"template": 25}), now)
                for db in (db_a, db_b)]

        async def send(api: WeChatAPI, i: int) -> str:
            try:
                await api.send_template(OPENID, "TPL", {"thing1": str(i)})
            except WeChatAPIError as exc:
                return f"refused {exc.errcode} local={exc.local} {exc.decision.value}"
            return "sent"

        results = await asyncio.gather(*(send(api, i) for i in range(20) for api in apis))
    templates = [r for r in fake.requests if r[0].endswith("/template/send")]
    assert len(templates) == 25
    assert results.count("sent") == 25
    assert results.count("refused 45009 local=True quota_exceeded") == 15
    used = await DbQuotaCounter(db_b, APP_ID).used("template", day_period(NOW))
    assert used == (25, False)


async def test_counts_survive_a_restart_and_roll_over_by_day(
        db_url: str, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    now = [NOW]
    db = Database(db_url)
    upgrade(db)
    try:
        async with aiohttp.ClientSession() as session:
            api = api_for(session, base, tracker(db, day={"custom": 3}), now)
            api.quota.record_user_message(OPENID, NOW)  # type: ignore[union-attr]
            for i in range(3):
                await api.send_text(OPENID, f"m{i}")
    finally:
        db.close()
    db = Database(db_url)  # the service restarted
    try:
        async with aiohttp.ClientSession() as session:
            quota = tracker(db, day={"custom": 3})
            api = api_for(session, base, quota, now)
            quota.record_user_message(OPENID, NOW)
            with pytest.raises(WeChatAPIError) as info:
                await api.send_text(OPENID, "fourth")
            assert (info.value.errcode, info.value.local) == (45009, True)
            now[0] = NOW + 86_400  # the next Beijing day
            quota.record_user_message(OPENID, now[0])
            await api.send_text(OPENID, "tomorrow")
        assert len(fake.requests) == 4
    finally:
        db.close()


async def test_a_refused_month_counts_nothing_for_the_day(
        two_dbs: tuple[Database, Database]) -> None:
    db_a, db_b = two_dbs
    limits = {"day": {"mass": 100}, "month": {"mass": 2}}
    a, b = tracker(db_a, **limits), tracker(db_b, **limits)
    assert await a.reserve("mass", NOW)
    assert await b.reserve("mass", NOW + 86_400)
    assert not await a.reserve("mass", NOW + 2 * 86_400)  # the month's two are used
    counter = DbQuotaCounter(db_a, APP_ID)
    assert await counter.used("mass", day_period(NOW + 2 * 86_400)) == (0, False)
    assert await counter.used("mass", month_period(NOW)) == (2, False)
    assert not await a.reserve("mass", NOW, n=101)  # more than a limit at once
    rows = db_a.transaction(lambda conn: conn.execute(select(WeChatQuota)).all())
    assert sorted((r.api, r.period, r.used) for r in rows) == sorted([
        ("mass", day_period(NOW), 1), ("mass", day_period(NOW + 86_400), 1),
        ("mass", month_period(NOW), 2)])


async def test_wechat_45009_stops_every_process_for_the_day(
        two_dbs: tuple[Database, Database], fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    db_a, db_b = two_dbs
    now = [NOW]
    async with aiohttp.ClientSession() as session:
        api_a = api_for(session, base, tracker(db_a, day={"template": 1000}), now)
        api_b = api_for(session, base, tracker(db_b, day={"template": 1000}), now)
        fake.script["/cgi-bin/message/template/send"] = [
            {"errcode": 45009, "errmsg": "reach max api daily quota limit"}]
        with pytest.raises(WeChatAPIError) as info:
            await api_a.send_template(OPENID, "TPL", {})
        assert not info.value.local
        with pytest.raises(WeChatAPIError) as info:
            await api_b.send_template(OPENID, "TPL", {})
        assert (info.value.errcode, info.value.local) == (45009, True)
        now[0] = NOW + 86_400
        await api_b.send_template(OPENID, "TPL", {})
    assert len([r for r in fake.requests if r[0].endswith("/template/send")]) == 2
