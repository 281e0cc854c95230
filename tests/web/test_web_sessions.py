"""Board sessions end when they should: logout and a password change revoke them; cookies are
Secure when the board is served over https (directly, by public_url, or by a trusted proxy)."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from bot.web.common import BOARD
from bot.web.passwords import hash_password
from storage.models import Person
from tests.web.conftest import CSRF_FIELD, Web, running


def session_cookie(client: TestClient) -> str:
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))["dudao_session"].value


def replay(client: TestClient, cookie: str) -> None:
    """A browser (or a thief) presenting an old cookie value."""
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"dudao_session": cookie})


async def logout(web: Web) -> None:
    m = CSRF_FIELD.search(await (await web.client.get("/")).text())
    assert m
    resp = await web.client.post("/logout", data={"csrf": m.group(1)}, allow_redirects=False)
    assert resp.status == 303


async def test_web_cookie_no_longer_works_after_logout(webapp: Web) -> None:
    assert (await webapp.login()).status == 303
    cookie = session_cookie(webapp.client)
    assert (await webapp.client.get("/", allow_redirects=False)).status == 200
    await logout(webapp)
    replay(webapp.client, cookie)
    assert (await webapp.client.get("/", allow_redirects=False)).status == 302
    assert (await webapp.client.get("/api/v1/units")).status == 401


async def test_web_logout_ends_only_that_browsers_session(webapp: Web) -> None:
    assert (await webapp.login()).status == 303
    phone = session_cookie(webapp.client)
    webapp.client.session.cookie_jar.clear()
    assert (await webapp.login()).status == 303
    await logout(webapp)  # on the desktop
    replay(webapp.client, phone)
    assert (await webapp.client.get("/", allow_redirects=False)).status == 200


async def test_web_password_change_revokes_every_session(webapp: Web) -> None:
    assert (await webapp.login()).status == 303
    first = session_cookie(webapp.client)
    webapp.client.session.cookie_jar.clear()
    assert (await webapp.login()).status == 303
    second = session_cookie(webapp.client)
    # What any password change does (the CLI, a page): a new hash in the person's row.
    new_hash = hash_password("a brand new password")
    webapp.services.db.transaction(lambda c: c.execute(
        update(Person).where(Person.id == webapp.seed.admin_id).values(password_hash=new_hash)))
    for cookie in (first, second):
        replay(webapp.client, cookie)
        assert (await webapp.client.get("/", allow_redirects=False)).status == 302
    webapp.client.session.cookie_jar.clear()
    assert (await webapp.login()).status == 401
    assert (await webapp.login(password="a brand new password")).status == 303
    assert (await webapp.client.get("/", allow_redirects=False)).status == 200


async def test_web_removed_admin_loses_the_session_at_once(webapp: Web) -> None:
    assert (await webapp.login()).status == 303
    webapp.services.db.transaction(lambda c: c.execute(
        update(Person).where(Person.id == webapp.seed.admin_id).values(active=False)))
    assert (await webapp.client.get("/", allow_redirects=False)).status == 302


async def test_web_viewer_cookie_no_longer_works_after_logout(webapp: Web) -> None:
    signer = webapp.client.app[BOARD].signer
    zz = webapp.seed.units["郑州市"]
    link = signer.view_link(zz, int(webapp.clock.now().timestamp()) + 3600)
    assert (await webapp.client.get(f"/v/{link}", allow_redirects=False)).status == 302
    cookie = session_cookie(webapp.client)
    assert (await webapp.client.get(f"/units/{zz}", allow_redirects=False)).status == 200
    await logout(webapp)
    replay(webapp.client, cookie)
    assert (await webapp.client.get(f"/units/{zz}", allow_redirects=False)).status == 302


def _set_cookies(resp) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {h.split("=", 1)[0]: h for h in resp.headers.getall("Set-Cookie", [])}


async def login_over(web: Web, headers: dict[str, str]) -> dict[str, str]:
    """Log in as a browser behind TLS would, returning the Set-Cookie headers by name. The
    test client speaks plain HTTP and would keep Secure cookies to itself, so the CSRF nonce
    cookie is sent by hand."""
    form = await web.client.get("/login", headers=headers)
    nonce = _set_cookies(form)["dudao_csrf"].split("=", 1)[1].split(";", 1)[0]
    m = CSRF_FIELD.search(await form.text())
    assert m
    web.client.session.cookie_jar.clear()
    resp = await web.client.post("/login", allow_redirects=False,
                                 headers={**headers, "Cookie": f"dudao_csrf={nonce}"},
                                 data={"csrf": m.group(1), "login": "qq:10001",
                                       "password": "correct horse battery"})
    assert resp.status == 303
    return _set_cookies(resp)


async def test_web_cookies_are_secure_when_public_url_is_https(tmp_path: Path) -> None:
    async with running(tmp_path, http={"public_url": "https://dudao.example.cn"}) as web:
        cookies = await login_over(web, {})
        assert "Secure" in cookies["dudao_session"] and "Secure" in cookies["dudao_csrf"]


async def test_web_cookies_are_not_secure_over_plain_http(webapp: Web) -> None:
    cookies = await login_over(webapp, {})
    assert "Secure" not in cookies["dudao_session"] and "HttpOnly" in cookies["dudao_session"]


async def test_web_forwarded_proto_counts_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    https = {"X-Forwarded-Proto": "https"}
    async with running(tmp_path / "a") as web:  # not configured to trust a proxy
        assert "Secure" not in (await login_over(web, https))["dudao_session"]
    async with running(tmp_path / "b", web={"trust_proxy": True}) as web:
        assert "Secure" in (await login_over(web, https))["dudao_session"]
        assert "Secure" not in (await login_over(web, {}))["dudao_session"]
