"""GET /healthz: database and adapter state, for monitors and people."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

Report = Callable[[], Awaitable[tuple[dict[str, Any], bool]]]
"""The service's state as JSON, and whether it is healthy (given by the composition root)."""


def routes(report: Report) -> list[web.RouteDef]:
    async def healthz(request: web.Request) -> web.Response:
        body, ok = await report()
        return web.json_response(body, status=200 if ok else 503)

    return [web.get("/healthz", healthz)]
