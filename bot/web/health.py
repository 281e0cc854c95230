"""GET /healthz: database and adapter state, for monitors and people."""

from __future__ import annotations

from typing import Any

from aiohttp import web


def routes() -> list[web.RouteDef]:
    return [web.get("/healthz", healthz)]


async def healthz(request: web.Request) -> web.Response:
    from bot.app import SERVICES

    services = request.app[SERVICES]
    db_ok = await services.db.ping()
    accounts: list[dict[str, Any]] = []
    for acc in services.onebot.accounts().values():
        accounts.append({
            "platform": acc.platform, "self_id": acc.self_id, "protocol": acc.protocol,
            "connected": acc.connected, "online": acc.online,
            "last_heartbeat": acc.last_heartbeat.isoformat() if acc.last_heartbeat else None,
            "frames_in": acc.frames_in, "bad_frames": acc.bad_frames,
        })
    body = {
        "status": "ok" if db_ok else "degraded",
        "database": {"ok": db_ok, "dialect": services.db.dialect},
        "adapters": {"onebot": accounts},
        "dispatcher": dict(services.dispatcher.stats),
        "outbox": {"sent": services.delivery.sent, "failed": services.delivery.failed},
        "nlu": services.env.parser is not None,
    }
    return web.json_response(body, status=200 if db_ok else 503)
