"""The login limit holds against parallel requests and across processes (real HTTP, real DB).

The limit is a reservation taken before the password is checked, per address and per login
name, in the database: however many requests arrive at once, and whichever process serves them,
at most ``login_attempts_per_minute`` (3 in the test settings) are checked. "Checked" is
counted from the outside (401 answers) and from the audit log (``web.login_failed``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import create_app
from storage.models import AuditEntry
from tests.support.pg import pg_url
from tests.web.conftest import ADMIN_LOGIN, ADMIN_PASSWORD, CSRF_FIELD, Web, running, web_settings

LIMIT = 3  # login_attempts_per_minute in tests/web/conftest.py


def checked(web: Web) -> int:
    """Password checks that happened: each one is audited, refused attempts are not."""
    return web.services.db.transaction(lambda c: c.execute(
        select(func.count()).select_from(AuditEntry)
        .where(AuditEntry.action.in_(("web.login", "web.login_failed")))).scalar_one())


async def csrf_of(client: TestClient) -> str:
    html = await (await client.get("/login")).text()
    m = CSRF_FIELD.search(html)
    assert m
    return m.group(1)


async def post_login(client: TestClient, token: str, password: str, login: str = ADMIN_LOGIN,
                     headers: dict[str, str] | None = None) -> Any:
    return await client.post("/login", data={"csrf": token, "login": login, "password": password,
                                             "next": "/"},
                             headers=headers or {}, allow_redirects=False)


async def test_web_parallel_wrong_passwords_get_at_most_the_limit_checked(webapp: Web) -> None:
    token = await csrf_of(webapp.client)
    answers = await asyncio.gather(*[post_login(webapp.client, token, f"guess {i}")
                                     for i in range(60)])
    statuses = Counter(r.status for r in answers)
    assert statuses[401] <= LIMIT and statuses[401] + statuses[429] == 60, statuses
    assert statuses[401] == LIMIT  # nothing else was going on: the whole limit was used
    assert checked(webapp) == LIMIT
    for r in answers:
        if r.status == 429:
            assert 1 <= int(r.headers["Retry-After"]) <= 60
    # The limit is used up: even the right password waits now.
    late = await post_login(webapp.client, token, ADMIN_PASSWORD)
    assert late.status == 429
    assert (await webapp.client.get("/", allow_redirects=False)).status == 302


async def test_web_right_password_among_parallel_wrong_ones_does_not_log_in(webapp: Web) -> None:
    """100 guesses in flight at once; the right password arrives while they are still being
    answered. The guesses used the limit the moment they arrived, so it is refused: before the
    limit was a reservation, it was checked (and logged in) with the guesses still unanswered."""
    token = await csrf_of(webapp.client)
    guesses = [asyncio.ensure_future(post_login(webapp.client, token, f"wrong {i}"))
               for i in range(100)]
    await asyncio.wait(guesses, return_when=asyncio.FIRST_COMPLETED)
    right = await post_login(webapp.client, token, ADMIN_PASSWORD)
    answers = await asyncio.gather(*guesses)
    assert right.status == 429
    assert not any("dudao_session=" in h for h in right.headers.getall("Set-Cookie", []))
    assert Counter(r.status for r in answers) == Counter({401: LIMIT, 429: 100 - LIMIT})
    assert checked(webapp) == LIMIT
    assert (await webapp.client.get("/", allow_redirects=False)).status == 302
    # Once the limit is used, the right password waits like any other attempt.
    assert (await post_login(webapp.client, token, ADMIN_PASSWORD)).status == 429


async def test_web_a_successful_login_does_not_count(webapp: Web) -> None:
    for _ in range(LIMIT + 2):
        assert (await webapp.login()).status == 303
    for _ in range(LIMIT - 1):
        assert (await webapp.login(password="wrong")).status == 401
    assert (await webapp.login()).status == 303
    assert (await webapp.login(password="wrong")).status == 401
    assert (await webapp.login(password="wrong")).status == 429


async def test_web_limit_is_per_login_name_across_addresses_and_per_address(tmp_path: Path
                                                                             ) -> None:
    # Behind a trusted proxy each request names its client in X-Forwarded-For.
    async with running(tmp_path, web={"trust_proxy": True}) as web:
        token = await csrf_of(web.client)

        def client(n: int) -> dict[str, str]:
            return {"X-Forwarded-For": f"198.51.100.7, 203.0.113.{n}"}

        # One account guessed from many addresses: the account's limit stops it.
        answers = await asyncio.gather(*[post_login(web.client, token, "wrong", headers=client(n))
                                         for n in range(1, 21)])
        assert Counter(r.status for r in answers) == Counter({401: LIMIT, 429: 20 - LIMIT})
        # Another address trying many names: the address's limit stops it.
        answers = await asyncio.gather(*[post_login(web.client, token, "wrong", login=f"qq:{n}",
                                                    headers=client(99)) for n in range(20)])
        assert Counter(r.status for r in answers) == Counter({401: LIMIT, 429: 20 - LIMIT})
        assert checked(web) == 2 * LIMIT
        # The audit log names the client, not the proxy.
        rows = web.services.db.transaction(lambda c: [r.detail["address"] for r in c.execute(
            select(AuditEntry).where(AuditEntry.action == "web.login_failed"))])
        assert set(rows) >= {"203.0.113.99"} and "127.0.0.1" not in rows


@contextlib.asynccontextmanager
async def second_instance(web: Web, tmp_path: Path, url: str) -> AsyncIterator[TestClient]:
    """Another app (another "process") on the same database and data directory."""
    app = create_app(web_settings(tmp_path, database={"url": url}), clock=web.clock)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def _two_instances_share_the_limit(tmp_path: Path, url: str | None) -> None:
    db_url = url or f"sqlite:///{tmp_path}/dudao.db"
    async with running(tmp_path, url) as web, second_instance(web, tmp_path, db_url) as other:
        clients = [web.client, other]
        tokens = [await csrf_of(c) for c in clients]
        answers = await asyncio.gather(*[post_login(clients[i % 2], tokens[i % 2], f"guess {i}")
                                         for i in range(40)])
        statuses = Counter(r.status for r in answers)
        assert statuses == Counter({401: LIMIT, 429: 40 - LIMIT}), statuses
        assert checked(web) == LIMIT
        # Sessions are shared too: logged in on one, logged out on the other, gone on both.
        for c in clients:
            c.session.cookie_jar.clear()
        fresh = await csrf_of(other)
        await web.services.db.run(lambda c: c.exec_driver_sql("DELETE FROM login_attempts"))
        assert (await post_login(other, fresh, ADMIN_PASSWORD)).status == 303
        cookie = other.session.cookie_jar.filter_cookies(other.make_url("/"))["dudao_session"]
        web.client.session.cookie_jar.update_cookies({"dudao_session": cookie.value})
        assert (await web.client.get("/", allow_redirects=False)).status == 200
        html = await (await web.client.get("/")).text()
        m = CSRF_FIELD.search(html)
        assert m
        out = await web.client.post("/logout", data={"csrf": m.group(1)}, allow_redirects=False)
        assert out.status == 303
        assert (await other.get("/", allow_redirects=False)).status == 302


async def test_web_two_instances_on_one_sqlite_file_share_the_limit(tmp_path: Path) -> None:
    await _two_instances_share_the_limit(tmp_path, None)


@pytest.mark.postgres
async def test_web_two_instances_on_one_postgres_share_the_limit(tmp_path: Path) -> None:
    await _two_instances_share_the_limit(tmp_path, pg_url("dudao_test_login_limit"))
