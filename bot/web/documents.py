"""The board's 公文 page: drafts and issued documents, download, 签发, and how each issued
document's sends went, with 重新发送 (admins); and ``/d/<token>``, the signed, expiring
download link sent to groups and officials (``bot/services/document_delivery.py``)."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import Connection

from bot.domain.errors import DomainError
from bot.services import audit
from bot.services import document_delivery as delivery
from bot.services import documents as register
from bot.services import drafting as docs
from bot.web.common import admin_only, board, error_page, form_with_csrf, page, run_action, who_of
from bot.web.ids import path_id

CHANNEL = "web"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
log = logging.getLogger("dudao.web")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/documents", documents_page),
        web.get("/documents/{doc_id}/file", download),
        web.post("/documents/{doc_id}/issue", issue),
        web.post("/documents/deliveries/{delivery_id}/resend", resend),
        web.get(delivery.DOWNLOAD_PREFIX + "{token}", signed_download),
    ]


@admin_only
async def documents_page(request: web.Request) -> web.StreamResponse:
    status = request.query.get("status", "")
    status = status if status in register.STATUS_NAMES else ""

    def load(conn: Connection) -> tuple[list[register.DocumentInfo],
                                        dict[int, list[delivery.DeliveryStatus]]]:
        rows = register.list_documents(conn, status=status or None)
        return rows, delivery.statuses(conn, [d.id for d in rows if d.status == "issued"])

    rows, sends = await board(request).db.run(load)
    return page(request, "documents.html", rows=rows, shown=status, sends=sends,
                statuses=register.STATUS_NAMES, unnumbered=register.UNNUMBERED)


@admin_only
async def download(request: web.Request) -> web.StreamResponse:
    doc_id = path_id(request, "doc_id")
    try:
        info = await board(request).db.run(lambda conn: register.get(conn, doc_id))
    except DomainError as exc:
        return error_page(request, 404, exc.message)
    return _file(request, info)


async def signed_download(request: web.Request) -> web.StreamResponse:
    """An issued document by its signed link: no login (the implementation fetching it for
    ``upload_group_file`` has none), the MAC compared in constant time, refused once expired."""
    b = board(request)
    doc_id = b.signer.read_document_link(request.match_info["token"], b.now().timestamp())
    if doc_id is None:
        log.info("refused a document link from %s: forged or expired", request.remote)
        return error_page(request, 403, "下载链接无效或已过期，请向管理员索取新链接")
    try:
        info = await b.db.run(lambda conn: register.get(conn, doc_id))
    except DomainError:
        return error_page(request, 404, "文件已不存在，请向管理员索取")
    if info.status != "issued":  # links are made for issued documents only
        return error_page(request, 404, "文件已不存在，请向管理员索取")
    return _file(request, info)


def _file(request: web.Request, info: register.DocumentInfo) -> web.StreamResponse:
    doc_id = info.id
    path = Path(info.path) if info.path else None
    if path is None or not path.is_file():
        return error_page(request, 404, f"文件#{doc_id} 的 .docx 已不在服务器上"
                                        f"（{info.path or '未生成'}），请重新生成")
    return web.FileResponse(path, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(docs.download_name(info))}",
        "Content-Type": DOCX,
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


@admin_only
async def resend(request: web.Request) -> web.StreamResponse:
    b = board(request)
    form = await form_with_csrf(request)
    delivery_id = path_id(request, "delivery_id")
    person_id, env, now = who_of(request).person_id, b.env, b.now()
    actor = f"person:{person_id}"

    def act(conn: Connection) -> str:
        got = delivery.resend(conn, env, delivery_id, actor=actor, now=now)
        audit.record(conn, at=now, actor=actor, channel=CHANNEL, action="document.resend",
                     target=f"document:{got.document_id}",
                     detail={"delivery": delivery_id, "chat": got.chat})
        return f"已重新发送 文件#{got.document_id} 给 {got.label}"

    await run_action(request, form, act)  # redirects back with the result
