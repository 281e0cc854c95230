"""Login, logout and read-only links for officials."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets

from aiohttp import web
from sqlalchemy import Connection

from bot.services import audit, board_actions
from bot.web import links
from bot.web.common import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    admin_only,
    back,
    board,
    current,
    form_with_csrf,
    local_path,
    page,
    run_action,
    set_cookie,
    who_of,
)
from bot.web.links import MAX_DAYS
from bot.web.passwords import hash_password, verify_password
from bot.web.security import Session

log = logging.getLogger("dudao.web")


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the login names nobody: a wrong name costs as long as a wrong
    password, so timing does not tell which admin names exist."""
    return hash_password(secrets.token_hex(8))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/login", login_form),
        web.post("/login", login),
        web.post("/logout", logout),
        web.get("/v/{token}", open_view_link),
        web.post("/units/{unit_id:\\d+}/link", make_view_link),
    ]


def _next(value: object) -> str:
    return local_path(value) or "/"


async def login_form(request: web.Request) -> web.StreamResponse:
    if (await current(request)) is not None:
        raise web.HTTPFound(_next(request.query.get("next")))
    return page(request, "login.html", next=_next(request.query.get("next")), login_name="")


async def login(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    address = request.remote or "unknown"
    mono = asyncio.get_running_loop().time()
    login_name = str(form.get("login", ""))[:128]
    nxt = _next(form.get("next"))
    if b.limiter.blocked(address, mono):
        wait = b.limiter.retry_after(address, mono)
        log.warning("login refused for %s: too many failures", address)
        resp = page(request, "login.html", status=429, next=nxt, login_name=login_name,
                    login_error=f"登录失败次数过多，请 {wait} 秒后再试")
        resp.headers["Retry-After"] = str(wait)
        return resp
    password = str(form.get("password", ""))
    creds = await b.services.db.run(lambda conn: board_actions.admin_credentials(conn, login_name))
    stored = creds[1] if creds else _dummy_hash()
    ok = await asyncio.to_thread(verify_password, password, stored) and creds is not None
    now = b.now()
    pid = creds[0] if creds and ok else None

    def audit_it(conn: Connection) -> None:
        board_actions.record_login(conn, person_id=pid, address=address, ok=ok,
                                   login=login_name, now=now)

    await b.services.db.run(audit_it)
    if not ok or pid is None:
        b.limiter.failed(address, mono)
        log.info("failed board login from %s", address)
        return page(request, "login.html", status=401, next=nxt, login_name=login_name,
                    login_error="账号或密码不对")
    hours = b.settings.web.session_hours
    session = Session("admin", pid, None, int(now.timestamp()) + hours * 3600)
    resp = web.HTTPSeeOther(nxt)
    set_cookie(resp, request, SESSION_COOKIE, b.signer.session_cookie(session), hours * 3600)
    # A new CSRF nonce with the new session: a token seen before login is worth nothing after.
    set_cookie(resp, request, CSRF_COOKIE, secrets.token_urlsafe(24), None)
    log.info("board login: person %s from %s", pid, address)
    raise resp


async def logout(request: web.Request) -> web.StreamResponse:
    await form_with_csrf(request)
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    resp.del_cookie(CSRF_COOKIE, path="/")
    who = await current(request)
    if who is not None and who.is_admin:
        b = board(request)
        now, pid = b.now(), who.person_id

        def audit_it(conn: Connection) -> None:
            audit.record(conn, at=now, actor=f"person:{pid}", channel="web", action="web.logout",
                         target=f"person:{pid}")

        await b.services.db.run(audit_it)
    raise resp


async def open_view_link(request: web.Request) -> web.StreamResponse:
    """A signed link turns into a read-only session scoped to the unit and the units below it."""
    b = board(request)
    now = int(b.now().timestamp())
    found = b.signer.read_view_link(request.match_info["token"], now)
    if found is None:
        return page(request, "error.html", status=403, message="链接无效或已过期，请向管理员索取新链接")
    unit_id, expires = found
    who = await current(request)
    if who is not None and who.is_admin:  # an admin opening a link keeps the admin session
        raise web.HTTPFound(f"/units/{unit_id}")
    until = min(expires, now + b.settings.web.session_hours * 3600)
    resp = web.HTTPFound(f"/units/{unit_id}")
    set_cookie(resp, request, SESSION_COOKIE,
               b.signer.session_cookie(Session("viewer", None, unit_id, until)), until - now)
    raise resp


@admin_only
async def make_view_link(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    unit_id = int(request.match_info["unit_id"])
    try:
        days = max(1, min(MAX_DAYS, int(str(form.get("days", "30")))))
    except ValueError:
        raise back(request, form, err="有效天数要写数字") from None
    now = b.now()
    admin_id = who_of(request).person_id
    base = b.services.env.board_url or f"{request.scheme}://{request.host}"

    def act(conn: Connection) -> str:
        board_actions.record_link(conn, admin_id=admin_id, unit_id=unit_id, days=days, now=now)
        link = links.make_view_link(conn, signer=b.signer, base_url=base, unit_id=unit_id,
                                    days=days, now=now)
        return f"只读链接（{days} 天内有效）：{link.url}"

    await run_action(request, form, act)  # redirects back with the link or the refusal
