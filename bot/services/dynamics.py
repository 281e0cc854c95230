"""Work dynamics (工作动态): posted by a unit's liaison, published or featured by an admin.

A dynamic starts ``pending``; publishing shares it to the other exchange groups through the
outbox (cause ``dynamic:<id>``, which is also the record of where it was published), featuring
marks it as an example (精选) and shares it if that had not happened yet. Pictures are stored
with the dynamic (attachments) and forwarded with the shared text (up to ``MAX_SHARED_PICTURES``);
the count is announced in the text only for those that cannot be attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, func, insert, select, update

from bot.core.event import ChatRef, StoredFile, StoredImage, Text
from bot.core.message import OutgoingMessage
from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.services import groups as groups_svc
from bot.services import outbox as outbox_svc
from storage.models import Attachment, Dynamic, Person, Unit

MAX_TEXT = 2000
MAX_SHARED_PICTURES = 9  # a QQ/WeChat message shows at most 9 pictures as a grid
SHARED = ("published", "featured")
STATUS_NAMES = {"pending": "待发布", "published": "已发布", "featured": "精选"}


@dataclass(frozen=True, slots=True)
class DynamicInfo:
    id: int
    unit_id: int
    unit: str
    author: str
    text: str
    status: str  # pending | published | featured
    created_at: datetime
    published_at: datetime | None
    pictures: int
    source_chat: str | None


@dataclass(frozen=True, slots=True)
class ShareResult:
    dynamic: DynamicInfo
    groups: int  # groups it was sent to now (0 when it had been shared before)


def post(conn: Connection, *, unit_id: int, person_id: int | None, text: str,
         files: tuple[StoredFile, ...] = (), source_chat: str | None, now: datetime
         ) -> DynamicInfo:
    text = text.strip()
    if not text:
        raise InvalidInput("请在“动态”后写上动态内容（可附图片），例如：动态 今天我市召开执法工作推进会",
                           log="empty dynamic")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"动态太长（最多 {MAX_TEXT} 字）", log="dynamic too long")
    did = conn.execute(insert(Dynamic).returning(Dynamic.id), {
        "unit_id": unit_id, "person_id": person_id, "text": text, "status": "pending",
        "source_chat": source_chat, "created_at": now, "published_at": None,
    }).scalar_one()
    if files:
        conn.execute(insert(Attachment), [
            {"dynamic_id": did, "name": f.name, "sha256": f.sha256, "size": f.size,
             "path": f.path, "created_at": now} for f in files
        ])
    return get(conn, int(did))


def _query() -> Select[Any]:
    pictures = (select(func.count(Attachment.id)).where(Attachment.dynamic_id == Dynamic.id)
                .correlate(Dynamic).scalar_subquery())
    return (select(Dynamic.id, Dynamic.unit_id, Unit.name.label("unit"),
                   Person.name.label("author"), Dynamic.text, Dynamic.status,
                   Dynamic.created_at, Dynamic.published_at, pictures.label("pictures"),
                   Dynamic.source_chat)
            .join(Unit, Unit.id == Dynamic.unit_id)
            .outerjoin(Person, Person.id == Dynamic.person_id))


def _info(r: Row[Any]) -> DynamicInfo:
    return DynamicInfo(r.id, r.unit_id, r.unit, r.author or "", r.text, r.status, r.created_at,
                       r.published_at, int(r.pictures or 0), r.source_chat)


def get(conn: Connection, dynamic_id: int) -> DynamicInfo:
    q = _query().where(Dynamic.id == dynamic_id)
    r = conn.execute(q).first()
    if r is None:
        raise NotFound(f"没有编号为 {dynamic_id} 的工作动态", log=f"unknown dynamic {dynamic_id}")
    return _info(r)


def latest(conn: Connection, *, limit: int = 5, unit_ids: set[int] | None = None,
           visible_pending: set[int] | None = None, all_statuses: bool = False,
           since: datetime | None = None, until: datetime | None = None
           ) -> tuple[list[DynamicInfo], int]:
    """Newest first, and how many match in all. Shared dynamics, plus pending ones of the units
    in ``visible_pending`` (a liaison sees their own unit's), or every status for admins."""
    q = _query()
    where: list[ColumnElement[bool]] = []
    if unit_ids is not None:
        where.append(Dynamic.unit_id.in_(sorted(unit_ids)))
    if not all_statuses:
        cond: ColumnElement[bool] = Dynamic.status.in_(SHARED)
        if visible_pending:
            cond = cond | Dynamic.unit_id.in_(sorted(visible_pending))
        where.append(cond)
    if since is not None:
        where.append(Dynamic.created_at >= since)
    if until is not None:
        where.append(Dynamic.created_at < until)
    total = conn.execute(select(func.count(Dynamic.id)).where(*where)).scalar_one()
    rows = conn.execute(q.where(*where)
                        .order_by(Dynamic.created_at.desc(), Dynamic.id.desc()).limit(limit))
    return [_info(r) for r in rows], int(total)


def _pictures(conn: Connection, dynamic_id: int) -> list[StoredImage]:
    """The first pictures as stored-file references; each one that cannot be attached at send
    time is replaced by the note (bot/core/media.py), so the count is said only then."""
    rows = conn.execute(select(Attachment.sha256, Attachment.name, Attachment.size)
                        .where(Attachment.dynamic_id == dynamic_id)
                        .order_by(Attachment.id).limit(MAX_SHARED_PICTURES))
    return [StoredImage(sha256=r.sha256, name=r.name, size=int(r.size or 0),
                        fallback="（附图 {n} 张，见督导看板）") for r in rows]


def _share_message(chat: ChatRef, info: DynamicInfo, pictures: list[StoredImage],
                   featured: bool) -> OutgoingMessage:
    head = "【精选动态】" if featured else "【工作动态】"
    more = info.pictures - len(pictures)
    extra = f"（另有 {more} 张图片见督导看板）" if more > 0 else ""
    return OutgoingMessage(chat, (Text(f"{head}{info.unit}：{info.text}{extra}"), *pictures))


def share(conn: Connection, dynamic_id: int, *, featured: bool, now: datetime) -> ShareResult:
    """Publish (or feature) a dynamic; sends it to every exchange group but the one it came from."""
    info = get(conn, dynamic_id)
    if not featured and info.status in SHARED:
        raise Conflict(f"工作动态 {dynamic_id} 已经发布过了", log="dynamic published twice")
    if featured and info.status == "featured":
        raise Conflict(f"工作动态 {dynamic_id} 已经是精选了", log="dynamic featured twice")
    was_shared = info.status in SHARED
    conn.execute(update(Dynamic).where(Dynamic.id == dynamic_id).values(
        status="featured" if featured else "published",
        published_at=info.published_at or now))
    sent = 0
    if not was_shared:
        info = get(conn, dynamic_id)
        targets = [g for g in groups_svc.list_groups(conn, purpose="exchange")
                   if g.chat != info.source_chat]
        pictures = _pictures(conn, dynamic_id)
        rows = [(_share_message(ChatRef.parse(g.chat), info, pictures, featured), "dynamic",
                 f"dynamic:{dynamic_id}", g.account) for g in targets]
        if rows:
            outbox_svc.enqueue_many(conn, rows, now=now)
        sent = len(rows)
    return ShareResult(get(conn, dynamic_id), sent)
