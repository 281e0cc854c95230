"""The board's 公文 page: list, download, and 签发 with a CSRF-checked form, audited."""

from __future__ import annotations

import io
from urllib.parse import unquote

import docx
from sqlalchemy import Connection, select

from bot.services import drafting as docs
from bot.services.documents import Actor
from storage.models import AuditEntry, DocumentRecord
from tests.web.conftest import NOW, Web


async def _draft(webapp: Web, unit: str) -> int:
    env = webapp.services.env
    made = await webapp.services.db.run(lambda c: docs.draft_letter(
        c, env, unit, actor=Actor("cli:test"), now=NOW))
    return made.info.id


async def test_web_documents_list_download_and_issue(webapp: Web) -> None:
    await webapp.login()
    doc_id = await _draft(webapp, "省财政厅")
    page = await (await webapp.client.get("/documents")).text()
    assert f"文件#{doc_id}" in page and "督导建议书" in page and "草稿" in page
    assert f'action="/documents/{doc_id}/issue"' in page
    assert 'href="/documents"' in page  # the 公文 tab in the navigation

    got = await webapp.client.get(f"/documents/{doc_id}/file")
    assert got.status == 200
    assert got.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert unquote(got.headers["Content-Disposition"]).endswith(
        "''草稿 关于省财政厅推进服务型行政执法建设工作的督导建议书.docx")
    draft = docx.Document(io.BytesIO(await got.read()))
    assert "豫依法行政领办督〔2026〕　号" in [p.text for p in draft.paragraphs]

    bad = await webapp.client.post(f"/documents/{doc_id}/issue",
                                   data={"csrf": "forged", "next": "/documents"},
                                   allow_redirects=False)
    assert bad.status == 403
    token = await webapp.csrf("/documents")
    resp = await webapp.client.post(f"/documents/{doc_id}/issue",
                                    data={"csrf": token, "next": "/documents"},
                                    allow_redirects=False)
    assert resp.status == 303
    assert unquote(resp.headers["Location"]).startswith(
        f"/documents?msg=已签发 文件#{doc_id}：豫依法行政领办督〔2026〕1号")
    page = await (await webapp.client.get("/documents")).text()
    assert "豫依法行政领办督〔2026〕1号" in page and "王督导" in page  # who approved
    again = await webapp.client.post(f"/documents/{doc_id}/issue",
                                     data={"csrf": token, "next": "/documents"},
                                     allow_redirects=False)
    assert "已于" in unquote(again.headers["Location"])  # refused, nothing renumbered

    issued = docx.Document(io.BytesIO(await (await webapp.client.get(
        f"/documents/{doc_id}/file")).read()))
    assert "豫依法行政领办督〔2026〕1号" in [p.text for p in issued.paragraphs]

    def rows(conn: Connection) -> tuple[list[tuple[str, str, str]], tuple[str, int | None]]:
        audit = [tuple(r) for r in conn.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.channel)
            .where(AuditEntry.action == "document.issue"))]
        d = conn.execute(select(DocumentRecord.status, DocumentRecord.issued_by)
                         .where(DocumentRecord.id == doc_id)).one()
        return audit, (d[0], d[1])  # type: ignore[return-value]

    audit, (status, by) = await webapp.services.db.run(rows)
    admin = webapp.seed.admin_id
    assert audit == [("document.issue", f"person:{admin}", "web")]
    assert (status, by) == ("issued", admin)


async def test_web_documents_need_an_admin(webapp: Web) -> None:
    doc_id = await _draft(webapp, "中牟县")
    for path in ("/documents", f"/documents/{doc_id}/file"):
        resp = await webapp.client.get(path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"].startswith("/login")
    token = await webapp.csrf("/login")
    resp = await webapp.client.post(f"/documents/{doc_id}/issue", data={"csrf": token},
                                    allow_redirects=False)
    assert resp.status == 302  # to the login page; nothing issued
    status = await webapp.services.db.run(lambda c: c.execute(
        select(DocumentRecord.status).where(DocumentRecord.id == doc_id)).scalar_one())
    assert status == "draft"
    resp = await webapp.client.post("/documents/deliveries/1/resend", data={"csrf": token},
                                    allow_redirects=False)
    assert resp.status == 302  # re-sending is for admins too
    await webapp.login()
    assert (await webapp.client.get("/documents/999/file")).status == 404


async def test_web_documents_show_delivery_per_recipient_and_resend(webapp: Web) -> None:
    """An issued letter's sends, one line per recipient with its status, each re-sendable."""
    from datetime import timedelta

    from bot.services import document_delivery, people
    from bot.services import outbox as outbox_svc
    from storage.models import DocumentDelivery

    await webapp.services.db.run(lambda c: people.add(
        c, identity="mp:oOfficial9", unit="省财政厅", role="official", name="钱厅长", now=NOW))
    await webapp.login()
    doc_id = await _draft(webapp, "省财政厅")
    token = await webapp.csrf("/documents")
    resp = await webapp.client.post(f"/documents/{doc_id}/issue",
                                    data={"csrf": token, "next": "/documents"},
                                    allow_redirects=False)
    assert resp.status == 303
    page = await (await webapp.client.get("/documents")).text()
    assert "地市联络群：待发送" in page and "钱厅长：待发送" in page

    def outcome(conn: Connection) -> dict[str, int]:
        rows = dict(conn.execute(select(DocumentDelivery.chat, DocumentDelivery.id)
                                 .where(DocumentDelivery.document_id == doc_id)).all())
        oids = dict(conn.execute(select(DocumentDelivery.chat, DocumentDelivery.outbox_id)
                                 .where(DocumentDelivery.document_id == doc_id)).all())
        # What the outbox records after the sends: the group got the link only, the official's
        # send failed for good.
        outbox_svc.mark_sent(conn, [(oids["qq:group:40001"], "", "link")], now=NOW)
        outbox_svc.mark_retry(conn, oids["mp:user:oOfficial9"], error="errcode 43004",
                              retry_at=NOW + timedelta(minutes=1), max_attempts=1)
        return rows

    ids = await webapp.services.db.run(outcome)
    page = await (await webapp.client.get("/documents")).text()
    assert "地市联络群：仅发送下载链接" in page
    assert "钱厅长：发送失败" in page and "errcode 43004" in page
    failed = ids["mp:user:oOfficial9"]
    assert f'action="/documents/deliveries/{failed}/resend"' in page

    bad = await webapp.client.post(f"/documents/deliveries/{failed}/resend",
                                   data={"csrf": "forged", "next": "/documents"},
                                   allow_redirects=False)
    assert bad.status == 403
    token = await webapp.csrf("/documents")
    resp = await webapp.client.post(f"/documents/deliveries/{failed}/resend",
                                    data={"csrf": token, "next": "/documents"},
                                    allow_redirects=False)
    assert resp.status == 303
    assert "已重新发送 文件#" in unquote(resp.headers["Location"])
    page = await (await webapp.client.get("/documents")).text()
    assert "钱厅长：待发送（第2次）" in page and "地市联络群：仅发送下载链接" in page

    got = await webapp.services.db.run(lambda c: document_delivery.statuses(c, [doc_id]))
    assert [(s.label, s.state, s.sends) for s in got[doc_id]] == [
        ("地市联络群", "link", 1), ("钱厅长", "pending", 2)]
    texts = webapp.outbox_texts("mp:user:oOfficial9")
    assert texts == ["", ""]  # the offers themselves (Text-less): one per send

    def audit_rows(conn: Connection) -> list[tuple[str, str]]:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            select(AuditEntry.action, AuditEntry.target)
            .where(AuditEntry.action == "document.resend"))]

    assert await webapp.services.db.run(audit_rows) == [("document.resend", f"document:{doc_id}")]
