"""What every board handler shares: state, who is asking, templates, CSRF and guards."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy import Connection

from bot.core.blobs import BlobStore
from bot.core.database import Database
from bot.core.env import ServiceEnv
from bot.domain.errors import DomainError
from bot.domain.submissions import SubmissionStatus
from bot.services import web_sessions
from bot.web.security import Session, Signer

SESSION_COOKIE = "dudao_session"
CSRF_COOKIE = "dudao_csrf"
TEMPLATES = Path(__file__).parent / "templates"

COLOR_LABELS = {"red": "红旗", "blue": "蓝旗", "yellow": "黄旗"}
STATE_LABELS = {"owed": "未交", "received": "待审核", "returned": "已退回", "accepted": "已通过"}
STATUS_LABELS = {s.value: s.label for s in SubmissionStatus}
SOURCE_LABELS = {"rule": "规则", "override": "管理员改旗", "innovation": "创新举措",
                 "incident": "执法问题"}


@dataclass
class Board:
    """What the board's handlers are given (by the composition root, ``bot/app.py``)."""

    db: Database
    env: ServiceEnv
    files: BlobStore
    spawn: Callable[[Coroutine[Any, Any, Any]], None]  # background work, cancelled at shutdown
    signer: Signer
    jinja: jinja2.Environment
    # When the last sweep of idle login-limit rows ran (loop time); per app, not per module.
    last_sweep: float = 0.0

    @property
    def settings(self) -> Any:
        return self.env.settings

    def now(self) -> datetime:
        return self.env.clock.now()

    def fmt(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return f"{self.env.local(moment):%Y-%m-%d %H:%M}"


BOARD = web.AppKey("board", Board)

# Per-request storage: typed keys where aiohttp has them (3.13+ warns about plain strings).
_RequestKey: Any = getattr(web, "RequestKey", None)
WHO_KEY: Any = _RequestKey("dudao_who", object) if _RequestKey else "dudao_who"
NONCE_KEY: Any = _RequestKey("dudao_csrf_nonce", str) if _RequestKey else "dudao_csrf_nonce"


@dataclass(frozen=True, slots=True)
class Who:
    session: Session
    name: str
    scope: frozenset[int] | None  # unit ids a viewer may see; None: everything (admin)

    @property
    def is_admin(self) -> bool:
        return self.session.role == "admin"

    @property
    def person_id(self) -> int:
        assert self.session.person_id is not None
        return self.session.person_id

    def can_see(self, unit_id: int) -> bool:
        return self.scope is None or unit_id in self.scope


def board(request: web.Request) -> Board:
    return request.app[BOARD]


async def current(request: web.Request) -> Who | None:
    """The signed-in admin or link viewer, or None. Cached on the request.

    The cookie's signature is checked first (garbage costs no database read), then its session
    row: a logged-out session, one opened before a password change, an admin removed or demoted
    and a viewer whose unit is gone are all anonymous from the next request on.
    """
    if WHO_KEY in request:
        return request[WHO_KEY]  # type: ignore[no-any-return]
    b = board(request)
    now = b.now()
    s = b.signer.read_session(request.cookies.get(SESSION_COOKIE), now.timestamp())
    who: Who | None = None
    if s is not None and s.token:
        token = s.token
        view = await b.db.run(lambda conn: web_sessions.lookup(conn, token, now))
        if view is not None:
            session = Session(view.role, view.person_id, view.unit_id, s.expires, token)
            who = Who(session, view.name, view.scope)
    request[WHO_KEY] = who
    return who


def client_address(request: web.Request) -> str:
    """Who is asking, for the login limit and the audit log: the peer address, or, behind a
    reverse proxy that ``[web] trust_proxy`` says to trust, the address it appended last to
    ``X-Forwarded-For`` (earlier entries are whatever the client sent)."""
    if board(request).settings.web.trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return request.remote or "unknown"


def is_https(request: web.Request) -> bool:
    """Whether the browser reached us over TLS: directly, because ``[http] public_url`` is
    https (a TLS proxy in front), or because a trusted proxy says so (``X-Forwarded-Proto``)."""
    if request.secure:
        return True
    b = board(request)
    if b.settings.http.public_url.lower().startswith("https://"):
        return True
    if b.settings.web.trust_proxy:
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def login_redirect(request: web.Request) -> web.HTTPFound:
    return web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))


def admin_only(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        who = await current(request)
        if who is None:
            raise login_redirect(request)
        if not who.is_admin:
            return error_page(request, 403, "只读链接只能查看本单位及下级单位的情况")
        return await handler(request)

    guarded.__name__ = handler.__name__
    return guarded


def signed_in(handler: Handler) -> Handler:
    """Admins and read-only link viewers; the handler checks the viewer's unit scope."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        if await current(request) is None:
            raise login_redirect(request)
        return await handler(request)

    guarded.__name__ = handler.__name__
    return guarded


def who_of(request: web.Request) -> Who:
    who = request.get(WHO_KEY)
    assert isinstance(who, Who)
    return who


# ------------------------------------------------------------------------------------ CSRF


def csrf_nonce(request: web.Request) -> tuple[str, bool]:
    """The browser's CSRF nonce, and whether it is new (then the response must set it)."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if nonce and 16 <= len(nonce) <= 64:
        return nonce, False
    if NONCE_KEY not in request:
        request[NONCE_KEY] = secrets.token_urlsafe(24)
    return request[NONCE_KEY], True


def form_text(form: object, key: str) -> str:
    """A form field as stripped text; "" when it is missing or not text (a file part)."""
    value = form.get(key) if hasattr(form, "get") else None
    return value.strip() if isinstance(value, str) else ""


async def form_with_csrf(request: web.Request) -> Any:
    """The POSTed form, after checking its CSRF token against the browser's nonce cookie."""
    form = await request.post()
    token = form.get("csrf")
    if not board(request).signer.check_csrf(request.cookies.get(CSRF_COOKIE),
                                            token if isinstance(token, str) else None):
        raise web.HTTPForbidden(text="表单已失效（CSRF 校验失败），请刷新页面后重试",
                                content_type="text/plain")
    return form


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str,
               max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Lax", path="/",
                        secure=is_https(request))


# ------------------------------------------------------------------------------------ pages


def make_jinja() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    style = minify_css((TEMPLATES / "board.css").read_text("utf-8"))
    env.globals.update(COLOR_LABELS=COLOR_LABELS, STATE_LABELS=STATE_LABELS,
                       STATUS_LABELS=STATUS_LABELS, SOURCE_LABELS=SOURCE_LABELS,
                       STYLE=Markup(style))  # noqa: S704 - our own stylesheet, no user input
    env.filters["filesize"] = filesize
    return env


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_SPACE = re.compile(r"\s*([{};:,>+~])\s*")


def minify_css(css: str) -> str:
    """The stylesheet without comments and the spaces around its punctuation: it travels inline
    with every page, to phones too. (No string in it holds those characters with spaces.)"""
    css = _CSS_COMMENT.sub("", css)
    css = " ".join(css.split())
    return _CSS_SPACE.sub(r"\1", css).replace(";}", "}")


def filesize(size: int) -> str:
    """``532 字节``, ``12.5 KB``, ``3.2 MB``: a size people read at a glance."""
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def in_wechat(request: web.Request) -> bool:
    """Opened in WeChat's own browser, which cannot save a downloaded file on every phone."""
    return "MicroMessenger" in request.headers.get("User-Agent", "")


def render_text(request: web.Request, template: str, **ctx: Any) -> str:
    b = board(request)
    nonce, _ = csrf_nonce(request)
    return b.jinja.get_template(template).render(
        who=request.get(WHO_KEY), csrf=b.signer.csrf_token(nonce), fmt=b.fmt, path=request.path,
        wechat=in_wechat(request),
        flash=request.query.get("msg", ""), error=request.query.get("err", ""), **ctx)


def finish(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    nonce, new = csrf_nonce(request)
    if new:
        set_cookie(response, request, CSRF_COOKIE, nonce, None)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def page(request: web.Request, template: str, status: int = 200, **ctx: Any) -> web.Response:
    resp = web.Response(text=render_text(request, template, **ctx), status=status,
                        content_type="text/html", charset="utf-8")
    finish(request, resp)
    return resp


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return page(request, "error.html", status=status, message=message)


def local_path(value: object) -> str | None:
    """``value`` if it is a path on this site: never ``//host``, a backslash or a control
    character, which browsers may read as another site."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2000:
        return None
    if value[1:2] in ("/", "\\") or any(c in value for c in "\\\r\n\t"):
        return None
    return value


def back(request: web.Request, form: Any, *, msg: str = "", err: str = "") -> web.HTTPSeeOther:
    """Back to the page the form was on (a local path only), with a message to show."""
    target = (local_path(form.get("next")) if form is not None else None) or "/"
    target = target.split("?")[0]
    q = f"?msg={quote(msg)}" if msg else (f"?err={quote(err)}" if err else "")
    return web.HTTPSeeOther(target + q)


async def run_action(request: web.Request, form: Any, fn: Callable[[Connection], str]
                     ) -> NoReturn:
    """Run an admin action as one unit of work and go back with its result or its refusal."""
    try:
        msg = await board(request).db.run(fn)
    except DomainError as exc:
        raise back(request, form, err=exc.message) from None
    # Chat messages the action queued are delivered by the outbox poller within seconds.
    raise back(request, form, msg=msg)
