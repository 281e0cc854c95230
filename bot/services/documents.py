"""The register of official documents (公文): drafts, issuing with the next number, the file.

A document is drafted from the records (``bot/services/doc_*.py`` build its content) and stored
with that content; issuing gives it the next number of its agency code (机关代字) and year and
the day it is signed, and nothing else changes: what an admin approved is what is printed.

Numbers have no gaps and no duplicates, also with several processes on one PostgreSQL database:
the issuing transaction takes the next value by updating the (code, year) row of
``document_counters`` (``UPDATE … SET last = last + 1 RETURNING last``), which locks that row
until the transaction ends, so a second issuer waits and then reads the first one's committed
value; if the issuing fails, the counter rolls back with it. On SQLite a transaction holds the
write lock from its start (BEGIN IMMEDIATE, storage/db.py), which serialises issuers the same way.
The unique (prefix, year, sequence) key is the last safety net.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import aliased

from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.gongwen import Document, check_prefix, doc_number
from storage.models import DocumentCounter, DocumentRecord, Person, Unit
from storage.upsert import insert_ignoring_conflicts

KINDS = ("bulletin", "letter", "halfyear", "cases", "yearly")
KIND_NAMES = {"bulletin": "通报", "letter": "督导建议书", "halfyear": "半年报告",
              "cases": "案例汇编", "yearly": "年度报告（推进情况部分）"}
# The yearly section goes into the office's own yearly report: it is a draft for that report,
# never issued as a document of its own.
UNNUMBERED = frozenset({"yearly"})
STATUS_NAMES = {"draft": "草稿", "issued": "已签发"}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something to a document: a person (chat, board) or an operator (CLI)."""

    label: str  # person:3, cli:root
    person_id: int | None = None


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: int
    kind: str
    title: str
    unit_id: int | None
    unit: str | None
    period: str
    source: str
    status: str
    number: str | None
    sequence: int | None
    year: int | None
    created_by: str  # a person's name, or the actor label
    created_at: datetime
    issued_by: str | None
    issued_at: datetime | None
    path: str | None
    sha256: str | None

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidInput(f"文件类别“{kind}”无效，可选：{'、'.join(KINDS)}",
                           log=f"bad document kind {kind!r}")


def create_draft(conn: Connection, *, content: Document, unit_id: int | None, period: str,
                 source: str, actor: Actor, now: datetime) -> int:
    """Store a drafted document; returns its id (the 文件#N of chat)."""
    _check_kind(content.kind)
    return int(conn.execute(
        insert(DocumentRecord).returning(DocumentRecord.id),
        {"kind": content.kind, "title": content.title.replace("\n", "")[:300],
         "unit_id": unit_id, "period": period, "source": source, "status": "draft",
         "content": content.to_json(), "created_by": actor.person_id,
         "created_actor": actor.label, "created_at": now},
    ).scalar_one())


def content(conn: Connection, doc_id: int) -> Document:
    raw = conn.execute(select(DocumentRecord.content).where(DocumentRecord.id == doc_id)
                       ).scalar_one_or_none()
    if raw is None:
        raise NotFound(f"没有编号为 {doc_id} 的文件", log=f"unknown document {doc_id}")
    return Document.from_json(raw)


def _query() -> Any:
    creator, issuer = aliased(Person), aliased(Person)
    d = DocumentRecord
    return (
        select(d.id, d.kind, d.title, d.unit_id, Unit.name.label("unit"), d.period, d.source,
               d.status, d.number, d.sequence, d.year, creator.name.label("creator"),
               d.created_actor, d.created_at, issuer.name.label("issuer"), d.issued_actor,
               d.issued_at, d.path, d.sha256)
        .outerjoin(Unit, Unit.id == d.unit_id)
        .outerjoin(creator, creator.id == d.created_by)
        .outerjoin(issuer, issuer.id == d.issued_by)
    )


def _info(r: Any) -> DocumentInfo:
    return DocumentInfo(
        id=r.id, kind=r.kind, title=r.title, unit_id=r.unit_id, unit=r.unit, period=r.period,
        source=r.source, status=r.status, number=r.number, sequence=r.sequence, year=r.year,
        created_by=r.creator or r.created_actor, created_at=r.created_at,
        issued_by=(r.issuer or r.issued_actor) if r.status == "issued" else None,
        issued_at=r.issued_at, path=r.path, sha256=r.sha256)


def get(conn: Connection, doc_id: int) -> DocumentInfo:
    r = conn.execute(_query().where(DocumentRecord.id == doc_id)).first()
    if r is None:
        raise NotFound(f"没有编号为 {doc_id} 的文件（文件#{doc_id}）",
                       log=f"unknown document {doc_id}")
    return _info(r)


def list_documents(conn: Connection, *, status: str | None = None, kind: str | None = None,
                   limit: int = 200) -> list[DocumentInfo]:
    """Newest first."""
    q = _query().order_by(DocumentRecord.id.desc()).limit(limit)
    if status:
        if status not in STATUS_NAMES:
            raise InvalidInput(f"状态“{status}”无效，可选：draft（草稿）、issued（已签发）",
                               log=f"bad document status {status!r}")
        q = q.where(DocumentRecord.status == status)
    if kind:
        _check_kind(kind)
        q = q.where(DocumentRecord.kind == kind)
    return [_info(r) for r in conn.execute(q)]


def set_file(conn: Connection, doc_id: int, *, path: str, sha256: str) -> None:
    conn.execute(update(DocumentRecord).where(DocumentRecord.id == doc_id)
                 .values(path=path, sha256=sha256))


# ---------------------------------------------------------------------------------- numbers


def next_sequence(conn: Connection, prefix: str, year: int) -> int:
    """The next number of ``prefix`` in ``year``, taken in this transaction (see the module
    docstring): the counter row stays locked until the transaction ends."""
    conn.execute(insert_ignoring_conflicts(conn, DocumentCounter, ("prefix", "year")),
                 {"prefix": prefix, "year": year, "last": 0})
    return int(conn.execute(
        update(DocumentCounter)
        .where(DocumentCounter.prefix == prefix, DocumentCounter.year == year)
        .values(last=DocumentCounter.last + 1)
        .returning(DocumentCounter.last)
    ).scalar_one())


@dataclass(frozen=True, slots=True)
class Issued:
    info: DocumentInfo
    document: Document  # with its number and dates


def issue(conn: Connection, doc_id: int, *, prefix: str, actor: Actor, now: datetime,
          today: date) -> Issued:
    """Give a draft the next number of ``prefix`` in ``today``'s year and sign it ``today``.

    ``today`` is the local date (成文日期 and 印发日期). Refused for an issued document and for
    kinds that are never numbered (the yearly report section).
    """
    q = select(DocumentRecord.kind, DocumentRecord.status).where(DocumentRecord.id == doc_id)
    if conn.dialect.name == "postgresql":
        # Two admins pressing 签发 at once: the second waits here and then sees "issued".
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"没有编号为 {doc_id} 的文件（文件#{doc_id}）",
                       log=f"issue unknown document {doc_id}")
    if row.status != "draft":
        info = get(conn, doc_id)
        raise Conflict(f"文件#{doc_id} 已于 {info.issued_at:%Y-%m-%d} 签发，文号 {info.number}",
                       log=f"document {doc_id} already issued")
    if row.kind in UNNUMBERED:
        raise InvalidInput(f"文件#{doc_id} 是{KIND_NAMES[row.kind]}草稿，供编入年度依法行政工作报告，"
                           "不单独编号签发", log=f"document {doc_id} of kind {row.kind} is not issued")
    prefix = check_prefix(prefix)
    year = today.year
    seq = next_sequence(conn, prefix, year)
    number = doc_number(prefix, year, seq)
    doc = content(conn, doc_id).numbered(number, today)
    conn.execute(update(DocumentRecord).where(DocumentRecord.id == doc_id).values(
        status="issued", prefix=prefix, year=year, sequence=seq, number=number,
        content=doc.to_json(), issued_by=actor.person_id, issued_actor=actor.label,
        issued_at=now))
    return Issued(get(conn, doc_id), doc)

