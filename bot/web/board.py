"""The supervision board: pages at ``/``, JSON at ``/api/v1/`` (wired by bot/app.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.web import actions, api, auth, documents, links, pages, plan
from bot.web.common import BOARD, Board, Handler, error_page, make_jinja
from bot.web.ids import BadId

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger("dudao.web")


def setup_board(app: web.Application, services: Services) -> Board:
    state = Board(services, links.signer_for(services.settings), make_jinja())
    app[BOARD] = state
    app.middlewares.append(not_found)
    app.add_routes(auth.routes())
    app.add_routes(pages.routes())
    app.add_routes(actions.routes())
    app.add_routes(documents.routes())
    app.add_routes(plan.routes())
    app.add_routes(api.routes())
    return state


@web.middleware
async def not_found(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A bad id anywhere (``bot/web/ids.py``) is a 404: JSON under /api/, the error page
    elsewhere. Under /api/ an unknown path is a JSON 404 too."""
    is_api = request.path.startswith("/api/")
    try:
        return await handler(request)
    except BadId as exc:
        log.info("404 for %s %s: %s", request.method, request.path[:80], exc)
        if is_api:
            return api.error(404, "not_found", "没有这个编号的记录")
        return error_page(request, 404, "没有找到这条记录（编号不对）")
    except web.HTTPNotFound:
        if is_api:
            return api.error(404, "not_found", "没有这个接口")
        raise
