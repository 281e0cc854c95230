"""Login, logout and read-only links for officials."""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import Connection

from bot.domain.errors import DomainError
from bot.services import audit, board_actions, login_limits, web_sessions
from bot.web import links
from bot.web.common import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    admin_only,
    back,
    board,
    client_address,
    current,
    form_with_csrf,
    local_path,
    page,
    set_cookie,
    who_of,
)
from bot.web.ids import path_id
from bot.web.links import MAX_DAYS
from bot.web.passwords import hash_password, verify_password
from bot.web.security import Session

log = logging.getLogger("dudao.web")

SWEEP_EVERY_S = 600.0


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
        web.post("/units/{unit_id}/link", make_view_link),
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
    address = client_address(request)
    login_name = str(form.get("login", ""))[:128]
    nxt = _next(form.get("next"))
    keys = login_limits.keys_for(address, login_name)
    limit = b.settings.web.login_attempts_per_minute
    now = b.now()
    _sweep_now_and_then(request)
    try:
        # Reserved before the password is checked: N requests in parallel get at most `limit`
        # checks between them, whichever process serves them.
        await b.db.run(lambda conn: login_limits.reserve(conn, keys, limit=limit, now=now))
    except login_limits.TooManyAttempts as exc:
        log.warning("login refused for %s: too many attempts", address)
        resp = page(request, "login.html", status=429, next=nxt, login_name=login_name,
                    login_error=f"登录失败次数过多，请 {exc.retry_after} 秒后再试")
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    password = str(form.get("password", ""))
    creds = await b.db.run(lambda conn: board_actions.admin_credentials(conn, login_name))
    stored = creds[1] if creds else _dummy_hash()
    ok = await asyncio.to_thread(verify_password, password, stored) and creds is not None
    pid = creds[0] if creds and ok else None
    hours = b.settings.web.session_hours
    expires = int(now.timestamp()) + hours * 3600

    def finish_attempt(conn: Connection) -> str | None:
        board_actions.record_login(conn, person_id=pid, address=address, ok=ok,
                                   login=login_name, now=now)
        if pid is None:
            return None
        login_limits.give_back(conn, keys)  # only failed attempts count against the limit
        return web_sessions.open_admin(conn, person_id=pid, password_hash=stored, now=now,
                                       expires=datetime.fromtimestamp(expires, UTC))

    token = await b.db.run(finish_attempt)
    if token is None or pid is None:
        log.info("failed board login from %s", address)
        return page(request, "login.html", status=401, next=nxt, login_name=login_name,
                    login_error="账号或密码不对")
    resp = web.HTTPSeeOther(nxt)
    set_cookie(resp, request, SESSION_COOKIE,
               b.signer.session_cookie(Session("admin", pid, None, expires, token)), hours * 3600)
    # A new CSRF nonce with the new session: a token seen before login is worth nothing after.
    set_cookie(resp, request, CSRF_COOKIE, secrets.token_urlsafe(24), None)
    log.info("board login: person %s from %s", pid, address)
    raise resp


def _sweep_now_and_then(request: web.Request) -> None:
    """Delete idle login-limit rows at most every few minutes per process, in a transaction of
    its own (it skips rows other transactions hold, so it never waits on a login)."""
    b = board(request)
    mono = asyncio.get_running_loop().time()
    if mono - b.last_sweep < SWEEP_EVERY_S and b.last_sweep:
        return
    b.last_sweep = mono
    now, db = b.now(), b.db

    async def sweep() -> None:
        try:
            await db.run(lambda conn: login_limits.forget_stale(conn, now=now))
        except Exception as exc:  # housekeeping: the next sweep tries again
            log.warning("could not delete idle login-limit rows: %s", exc)

    b.spawn(sweep())


async def logout(request: web.Request) -> web.StreamResponse:
    await form_with_csrf(request)
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    resp.del_cookie(CSRF_COOKIE, path="/")
    who = await current(request)
    if who is None:
        raise resp
    b = board(request)
    now, token = b.now(), who.session.token
    actor = f"person:{who.person_id}" if who.is_admin else None

    def end(conn: Connection) -> None:
        web_sessions.close(conn, token)  # the cookie is worth nothing from now on
        if actor is not None:
            audit.record(conn, at=now, actor=actor, channel="web", action="web.logout",
                         target=actor)

    await b.db.run(end)
    raise resp


async def open_view_link(request: web.Request) -> web.StreamResponse:
    """A signed link turns into a read-only session scoped to the unit and the units below it."""
    b = board(request)
    now = b.now()
    found = b.signer.read_view_link(request.match_info["token"], now.timestamp())
    if found is None:
        return page(request, "error.html", status=403, message="链接无效或已过期，请向管理员索取新链接")
    unit_id, expires = found
    who = await current(request)
    if who is not None and who.is_admin:  # an admin opening a link keeps the admin session
        raise web.HTTPFound(f"/units/{unit_id}")
    until = min(expires, int(now.timestamp()) + b.settings.web.session_hours * 3600)
    token = await b.db.run(lambda conn: web_sessions.open_viewer(
        conn, unit_id=unit_id, now=now, expires=datetime.fromtimestamp(until, UTC)))
    if token is None:
        return page(request, "error.html", status=404,
                    message="链接对应的单位已不存在，请向管理员索取新链接")
    resp = web.HTTPFound(f"/units/{unit_id}")
    set_cookie(resp, request, SESSION_COOKIE,
               b.signer.session_cookie(Session("viewer", None, unit_id, until, token)),
               until - int(now.timestamp()))
    raise resp


@admin_only
async def make_view_link(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    unit_id = path_id(request, "unit_id")
    try:
        days = max(1, min(MAX_DAYS, int(str(form.get("days", "30")))))
    except ValueError:
        raise back(request, form, err="有效天数要写数字") from None
    now = b.now()
    admin_id = who_of(request).person_id
    base = b.env.board_url or f"{request.scheme}://{request.host}"

    def act(conn: Connection) -> links.ViewLink:
        board_actions.record_link(conn, admin_id=admin_id, unit_id=unit_id, days=days, now=now)
        return links.make_view_link(conn, signer=b.signer, base_url=base, unit_id=unit_id,
                                    days=days, now=now)

    try:
        link = await b.db.run(act)
    except DomainError as exc:
        raise back(request, form, err=exc.message) from None
    # Shown in this response, never put in a URL: a redirect to ``?msg=…/v/…`` left a link
    # valid for up to a year in the access log and in the browser's history.
    return page(request, "link.html", link=link, days=days,
                expires=b.fmt(link.expires_at), back_to=f"/units/{link.unit_id}")
