"""Login, logout, CSRF, rate limiting, anonymous access and read-only links, over real HTTP."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.web.common import BOARD
from bot.web.security import KEY_FILE, Session, Signer, load_secret
from storage.models import AuditEntry
from tests.web.conftest import ADMIN_PASSWORD, CSRF_FIELD, Web

PAGES = ["/", "/units/1", "/tasks", "/tasks/1", "/charts", "/notices", "/dynamics", "/bulletins",
         "/audit", "/files/1"]
APIS = ["/api/v1/units", "/api/v1/tasks", "/api/v1/board", "/api/v1/units/1"]


def audit_actions(web: Web) -> list[tuple[str, str, dict]]:
    return web.services.db.transaction(lambda c: [
        (r.action, r.actor, r.detail) for r in c.execute(
            select(AuditEntry).where(AuditEntry.action.like("web.%")).order_by(AuditEntry.id))])


async def test_web_anonymous_pages_redirect_to_login_and_api_says_401(webapp: Web) -> None:
    for path in PAGES:
        resp = await webapp.client.get(path, allow_redirects=False)
        assert resp.status == 302, path
        assert resp.headers["Location"].startswith("/login?next="), path
    for path in APIS:
        resp = await webapp.client.get(path, allow_redirects=False)
        assert resp.status == 401, path
        assert resp.content_type == "application/json"
        assert (await resp.json())["error"]["code"] == "unauthorized"
    # Anonymous POSTs (with a valid CSRF token) are refused too.
    token = await webapp.csrf()
    resp = await webapp.client.post(f"/submissions/{webapp.seed.pending_submission}/review",
                                    data={"csrf": token, "action": "accept", "rating": "优"},
                                    allow_redirects=False)
    assert resp.status == 302


async def test_web_login_sets_a_signed_httponly_cookie_and_logout_ends_it(webapp: Web) -> None:
    resp = await webapp.login()
    assert resp.status == 303 and resp.headers["Location"] == "/"
    cookie = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith("dudao_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = await webapp.client.get("/")
    assert page.status == 200
    assert "王督导" in await page.text()
    token = await webapp.csrf("/")
    resp = await webapp.client.post("/logout", data={"csrf": token}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    assert (await webapp.client.get("/", allow_redirects=False)).status == 302
    actions = [a for a, _, _ in audit_actions(webapp)]
    assert actions == ["web.login", "web.logout"]


async def test_web_login_by_name_works_and_wrong_password_is_refused(webapp: Web) -> None:
    resp = await webapp.login(password="not the password")
    assert resp.status == 401
    assert "账号或密码不对" in await resp.text()
    assert (await webapp.client.get("/", allow_redirects=False)).status == 302
    resp = await webapp.login(login="nobody:1")
    assert resp.status == 401
    resp = await webapp.login(login="王督导")
    assert resp.status == 303
    log = audit_actions(webapp)
    assert [a for a, _, _ in log] == ["web.login_failed", "web.login_failed", "web.login"]
    assert log[0][1] == "anonymous" and log[0][2]["login"] == "qq:10001"
    assert ADMIN_PASSWORD not in str(log) and "not the password" not in str(log)


async def test_web_failed_logins_are_rate_limited_per_address(webapp: Web) -> None:
    for _ in range(3):  # login_attempts_per_minute = 3 in the test settings
        assert (await webapp.login(password="wrong")).status == 401
    resp = await webapp.login()  # even the right password waits now
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert "过多" in await resp.text()
    assert (await webapp.client.get("/", allow_redirects=False)).status == 302


async def test_web_post_without_or_with_a_wrong_csrf_token_is_403(webapp: Web) -> None:
    resp = await webapp.client.post("/login", data={"login": "qq:10001",
                                                    "password": ADMIN_PASSWORD})
    assert resp.status == 403
    await webapp.login()
    sid = webapp.seed.pending_submission
    for data in ({"action": "accept", "rating": "优"},
                 {"action": "accept", "rating": "优", "csrf": "forged"}):
        resp = await webapp.client.post(f"/submissions/{sid}/review", data=data,
                                        allow_redirects=False)
        assert resp.status == 403
    # A token from another browser (another nonce cookie) is worth nothing here either.
    other = Signer(b"another key").csrf_token("some-nonce-value-123456")
    resp = await webapp.client.post(f"/submissions/{sid}/review",
                                    data={"action": "accept", "csrf": other},
                                    allow_redirects=False)
    assert resp.status == 403
    detail = await webapp.client.get(f"/units/{webapp.seed.units['郑州市']}")
    assert "待审核" in await detail.text()  # nothing was reviewed


async def test_web_tampered_or_expired_session_is_anonymous(webapp: Web) -> None:
    signer = webapp.client.app[BOARD].signer
    now = int(webapp.clock.now().timestamp())
    forged = Signer(b"not the key").session_cookie(Session("admin", webapp.seed.admin_id, None,
                                                           now + 3600))
    expired = signer.session_cookie(Session("admin", webapp.seed.admin_id, None, now - 1))
    for value in (forged, expired, "garbage", signer.session_cookie(
            Session("admin", 999, None, now + 3600))):  # valid signature, not an admin
        webapp.client.session.cookie_jar.clear()
        webapp.client.session.cookie_jar.update_cookies({"dudao_session": value})
        assert (await webapp.client.get("/", allow_redirects=False)).status == 302


async def test_web_read_only_link_is_limited_to_the_unit_and_its_subtree(webapp: Web) -> None:
    await webapp.login()
    zz, zm, kf = (webapp.seed.units[n] for n in ("郑州市", "中牟县", "开封市"))
    token = await webapp.csrf(f"/units/{zz}")
    resp = await webapp.client.post(f"/units/{zz}/link", data={"csrf": token, "days": "7",
                                                               "next": f"/units/{zz}"})
    text = await resp.text()
    link = re.search(r"/v/([0-9]+\.[0-9]+\.[A-Za-z0-9_-]+)", text)
    assert link, text[:500]
    # A fresh browser (the official's) opens the link.
    webapp.client.session.cookie_jar.clear()
    resp = await webapp.client.get(f"/v/{link.group(1)}", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == f"/units/{zz}"
    assert (await webapp.client.get(f"/units/{zz}")).status == 200
    page = await webapp.client.get(f"/units/{zm}")  # a county under 郑州市
    assert page.status == 200
    body = await page.text()
    assert "中牟县" in body and "/review" not in body and "改旗" not in body
    assert (await webapp.client.get(f"/units/{kf}")).status == 403
    assert (await webapp.client.get("/tasks/1")).status == 403
    assert (await webapp.client.get("/audit")).status == 403
    assert (await webapp.client.get("/api/v1/units", allow_redirects=False)).status == 401
    board = await (await webapp.client.get("/")).text()
    assert "郑州市" in board and "中牟县" in board and "开封市" not in board
    # The attachment of 郑州市's submission can be downloaded, nothing is reviewable.
    csrf = CSRF_FIELD.search(board)
    assert csrf
    resp = await webapp.client.post(f"/submissions/{webapp.seed.pending_submission}/review",
                                    data={"csrf": csrf.group(1), "action": "accept"},
                                    allow_redirects=False)
    assert resp.status == 403


async def test_web_forged_or_expired_links_are_refused(webapp: Web) -> None:
    signer = webapp.client.app[BOARD].signer
    now = int(webapp.clock.now().timestamp())
    zz, kf = webapp.seed.units["郑州市"], webapp.seed.units["开封市"]
    good = signer.view_link(zz, now + 60)
    unit, exp, mac = good.split(".")
    for bad in (f"{kf}.{exp}.{mac}", f"{unit}.{int(exp) + 999}.{mac}",
                signer.view_link(zz, now - 1), "1.2", "x.y.z"):
        resp = await webapp.client.get(f"/v/{bad}", allow_redirects=False)
        assert resp.status == 403, bad
    assert (await webapp.client.get(f"/v/{good}", allow_redirects=False)).status == 302


def test_web_secret_key_is_generated_once_and_kept(tmp_path) -> None:
    first = load_secret("", tmp_path)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0
    assert load_secret("", tmp_path) == first
    assert load_secret("configured", tmp_path) == b"configured"


async def test_web_login_never_redirects_to_another_site(webapp: Web) -> None:
    for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/", "/ok\r\nX: y"):
        token = await webapp.csrf("/login")
        resp = await webapp.client.post("/login", data={
            "csrf": token, "login": "qq:10001", "password": ADMIN_PASSWORD, "next": target},
            allow_redirects=False)
        assert resp.status == 303
        assert resp.headers["Location"] == "/", target
    token = await webapp.csrf("/")
    resp = await webapp.client.post("/login", data={
        "csrf": token, "login": "qq:10001", "password": ADMIN_PASSWORD, "next": "/tasks/1"},
        allow_redirects=False)
    assert resp.headers["Location"] == "/tasks/1"
