"""The board's 公文 page: drafts and issued documents, download, and 签发 (admins)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import Connection

from bot.domain.errors import DomainError
from bot.services import audit
from bot.services import documents as register
from bot.services import drafting as docs
from bot.web.common import admin_only, board, error_page, form_with_csrf, page, run_action, who_of
from bot.web.ids import path_id

CHANNEL = "web"


def routes() -> list[web.RouteDef]:
    return [
        web.get("/documents", documents_page),
        web.get("/documents/{doc_id}/file", download),
        web.post("/documents/{doc_id}/issue", issue),
    ]


@admin_only
async def documents_page(request: web.Request) -> web.StreamResponse:
    status = request.query.get("status", "")
    status = status if status in register.STATUS_NAMES else ""
    rows = await board(request).db.run(
        lambda conn: register.list_documents(conn, status=status or None))
    return page(request, "documents.html", rows=rows, shown=status,
                statuses=register.STATUS_NAMES, unnumbered=register.UNNUMBERED)


@admin_only
async def download(request: web.Request) -> web.StreamResponse:
    doc_id = path_id(request, "doc_id")
    try:
        info = await board(request).db.run(lambda conn: register.get(conn, doc_id))
    except DomainError as exc:
        return error_page(request, 404, exc.message)
    path = Path(info.path) if info.path else None
    if path is None or not path.is_file():
        return error_page(request, 404, f"文件#{doc_id} 的 .docx 已不在服务器上"
                                        f"（{info.path or '未生成'}），请重新生成")
    return web.FileResponse(path, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(docs.download_name(info))}",
        "Content-Type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "X-Content-Type-Options": "nosniff",
    })


@admin_only
async def issue(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    doc_id = path_id(request, "doc_id")
    person_id, env, now = who_of(request).person_id, b.env, b.now()
    actor = register.Actor(f"person:{person_id}", person_id)

    def act(conn: Connection) -> str:
        made = docs.issue(conn, env, doc_id, actor=actor, now=now)
        info = made.info
        audit.record(conn, at=now, actor=actor.label, channel=CHANNEL, action="document.issue",
                     target=f"document:{doc_id}",
                     detail={"kind": info.kind, "number": info.number, "sha256": info.sha256})
        return f"已签发 文件#{doc_id}：{info.number}《{info.title}》"

    await run_action(request, form, act)  # redirects back with the result
