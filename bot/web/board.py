"""The supervision board: pages at ``/``, JSON at ``/api/v1/`` (wired by bot/app.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.web import actions, api, auth, documents, links, pages
from bot.web.common import BOARD, Board, make_jinja
from bot.web.ratelimit import LoginLimiter

if TYPE_CHECKING:
    from bot.app import Services


def setup_board(app: web.Application, services: Services) -> Board:
    web_settings = services.settings.web
    state = Board(services, links.signer_for(services.settings),
                  LoginLimiter(web_settings.login_attempts_per_minute), make_jinja())
    app[BOARD] = state
    app.add_routes(auth.routes())
    app.add_routes(pages.routes())
    app.add_routes(actions.routes())
    app.add_routes(documents.routes())
    app.add_routes(api.routes())
    return state
