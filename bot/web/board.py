"""The supervision board: pages at ``/``, JSON at ``/api/v1/`` (wired by bot/app.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from bot.core.blobs import BlobStore
from bot.core.database import Database
from bot.core.env import ServiceEnv
from bot.web import actions, api, auth, cases, corrections, documents, links, pages, plan, programme
from bot.web.common import BOARD, Board, Handler, error_page, make_jinja
from bot.web.ids import BadId

log = logging.getLogger("dudao.web")


def setup_board(app: web.Application, *, db: Database, env: ServiceEnv, files: BlobStore,
                spawn: Callable[[Coroutine[Any, Any, Any]], None]) -> Board:
    state = Board(db, env, files, spawn, links.signer_for(env.settings), make_jinja())
    app[BOARD] = state
    app.middlewares.append(not_found)
    app.add_routes(auth.routes())
    app.add_routes(pages.routes())
    app.add_routes(actions.routes())
    app.add_routes(corrections.routes())
    app.add_routes(documents.routes())
    app.add_routes(plan.routes())
    app.add_routes(cases.routes())
    app.add_routes(programme.routes())
    app.add_routes(api.routes())
    return state


@web.middleware
async def not_found(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A bad id anywhere (``bot/web/ids.py``) is a 404: JSON under /api/, the error page
    elsewhere. Under /api/ an unknown path, a wrong method and a failure are JSON too."""
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
    except web.HTTPMethodNotAllowed as exc:
        if is_api:
            resp = api.error(405, "method_not_allowed", "接口不支持这种请求方法（只读接口只接受 GET）")
            resp.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
            return resp
        raise
    except web.HTTPException:
        raise
    except Exception:
        if not is_api:
            raise
        # Under /api/ even a bug answers in JSON (the traceback goes to the log, not the client).
        log.exception("API request failed: %s %s", request.method, request.path[:80])
        return api.error(500, "internal", "服务器内部错误，已记录日志")
