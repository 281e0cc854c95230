"""Sending issued documents to their recipients, and what became of each send.

An issued 督导建议书 goes to the unit's group (the one its reminders go to,
``reminders.choose_groups``) and privately to its officials who follow the official account
(their ``mp:`` identity exists only while they do); an issued 通报 to every exchange group.
Each recipient gets one outbox message holding a :class:`~bot.core.event.FileOffer`: the
outbox posts it as a file where the adapter can (``FileSender``: OneBot ``upload_group_file``
on NapCat or LLOneBot), and says its fallback text with a signed download link everywhere else.

A ``document_deliveries`` row per (document, recipient) points at the outbox message now
carrying it; its status is that message's: pending, sent as a file, sent as a link only, or
failed. A re-send (board) writes a new outbox message with a fresh link and points the row at
it. Every link is signed with the board's key (``ServiceEnv.link_signer``), names one document,
expires after ``LINK_DAYS`` and starts at ``[http] public_url`` when it is set, since the
implementation that fetches it (and the official reading it) is not on our host.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bot.core.env import ServiceEnv
from bot.core.event import ChatRef, FileOffer
from bot.core.message import OutgoingMessage
from bot.domain.errors import InvalidInput, NotFound
from bot.services import documents as register
from bot.services import outbox as outbox_svc
from bot.services.documents import DocumentInfo
from bot.services.reminders import choose_groups, load_people
from storage.models import DocumentDelivery, Group, Identity, OutboxMessage, Person

KIND = "document"  # the outbox kind of a delivery
LINK_DAYS = 30
DOWNLOAD_PREFIX = "/d/"
STATE_NAMES = {"pending": "待发送", "file": "已发送文件", "link": "仅发送下载链接",
               "failed": "发送失败", "unconfirmed": "已发出未确认（连接中断），请在群内核实"}


@dataclass(frozen=True, slots=True)
class Recipient:
    chat: str
    account: str | None
    label: str
    unit_id: int | None


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    id: int
    document_id: int
    chat: str
    label: str
    state: str  # pending file link failed unconfirmed
    error: str | None
    sends: int
    sent_at: datetime | None

    @property
    def state_name(self) -> str:
        return STATE_NAMES.get(self.state, self.state)


def download_link(env: ServiceEnv, doc_id: int, now: datetime) -> tuple[str, datetime]:
    """A signed link to download issued document ``doc_id``, and when it expires."""
    if env.link_signer is None:
        raise RuntimeError("no link signer: the composition root sets ServiceEnv.link_signer")
    expires = int((now + timedelta(days=LINK_DAYS)).timestamp())
    token = env.link_signer.document_link(doc_id, expires)
    return (f"{env.board_url.rstrip('/')}{DOWNLOAD_PREFIX}{token}",
            datetime.fromtimestamp(expires, now.tzinfo))


def recipients(conn: Connection, info: DocumentInfo) -> list[Recipient]:
    """Who an issued document goes to (see the module docstring); [] for the other kinds."""
    if info.kind == "letter" and info.unit_id is not None:
        return _unit_recipients(conn, info.unit_id)
    if info.kind == "bulletin":
        rows = conn.execute(select(Group.chat, Group.account, Group.name)
                            .where(Group.purpose == "exchange", Group.active.is_(True))
                            .order_by(Group.id)).all()
        return [Recipient(c, a, n or c, None) for c, a, n in rows]
    return []


def _unit_recipients(conn: Connection, unit_id: int) -> list[Recipient]:
    people = load_people(conn, [unit_id])
    out: list[Recipient] = []
    group = choose_groups(conn, [unit_id], people).get(unit_id)
    if group is not None:
        name = conn.execute(select(Group.name).where(Group.id == group.id)).scalar_one()
        out.append(Recipient(group.chat, group.account, name or group.chat, unit_id))
    officials = conn.execute(
        select(Person.name, Identity.identity)
        .join(Identity, Identity.person_id == Person.id)
        .where(Person.unit_id == unit_id, Person.role == "official", Person.active.is_(True),
               Person.ended_at.is_(None), Identity.identity.like("mp:%"))
        .order_by(Person.id, Identity.id)).all()
    for name, ident in officials:
        out.append(Recipient(f"mp:user:{ident.split(':', 1)[1]}", None, name or ident, unit_id))
    return out


def _message(env: ServiceEnv, info: DocumentInfo, chat: str, now: datetime) -> OutgoingMessage:
    from bot.services.drafting import download_name

    url, expires = download_link(env, info.id, now)
    until = env.local(expires)
    to = f"{info.unit}：" if info.unit else ""
    text = (f"{to}{info.number or ''}《{info.title}》已签发，请下载查收：{url}"
            f"（{until.month}月{until.day}日前有效）")
    return OutgoingMessage(ChatRef.parse(chat), (FileOffer(download_name(info), url, text),))


def deliver(conn: Connection, env: ServiceEnv, doc_id: int, *, actor: str,
            now: datetime) -> list[Recipient]:
    """Queue an issued document for its recipients, in the caller's transaction. Returns them
    (none: nobody to send to, e.g. a unit without a group or followers)."""
    info = register.get(conn, doc_id)
    if info.status != "issued":
        raise InvalidInput(f"文件#{doc_id} 尚未签发，不能送达", log=f"deliver draft {doc_id}")
    found = recipients(conn, info)
    done = {c for (c,) in conn.execute(select(DocumentDelivery.chat)
                                       .where(DocumentDelivery.document_id == doc_id))}
    for r in found:
        if r.chat in done:  # delivered before: a re-send is asked for explicitly
            continue
        oid = outbox_svc.enqueue(conn, _message(env, info, r.chat, now), now=now, kind=KIND,
                                 cause=f"document:{doc_id}", account=r.account)
        conn.execute(insert(DocumentDelivery), {
            "document_id": doc_id, "chat": r.chat, "label": r.label[:128], "unit_id": r.unit_id,
            "outbox_id": oid, "sends": 1, "created_at": now, "last_sent_by": actor})
    return found


def resend(conn: Connection, env: ServiceEnv, delivery_id: int, *, actor: str,
           now: datetime) -> DeliveryStatus:
    """Send one recipient the document again, with a fresh link."""
    row = conn.execute(select(DocumentDelivery.document_id, DocumentDelivery.chat)
                       .where(DocumentDelivery.id == delivery_id)).first()
    if row is None:
        raise NotFound(f"没有编号为 {delivery_id} 的送达记录", log=f"unknown delivery {delivery_id}")
    info = register.get(conn, row.document_id)
    account = conn.execute(select(Group.account).where(Group.chat == row.chat)).scalar()
    oid = outbox_svc.enqueue(conn, _message(env, info, row.chat, now), now=now, kind=KIND,
                             cause=f"document:{info.id}", account=account)
    conn.execute(update(DocumentDelivery).where(DocumentDelivery.id == delivery_id).values(
        outbox_id=oid, sends=DocumentDelivery.sends + 1, last_sent_by=actor))
    return _one(conn, delivery_id)


def _state(state: str | None, delivered_as: str | None) -> str:
    if state == "sent":
        # A sent row without ``delivered_as`` was handed over when the connection died
        # (``outbox.mark_unconfirmed``): it may or may not have arrived.
        return {"file": "file", "link": "link"}.get(delivered_as or "", "unconfirmed")
    if state == "failed":
        return "failed"
    return "pending"


def _query() -> Any:
    d, o = DocumentDelivery, OutboxMessage
    return (select(d.id, d.document_id, d.chat, d.label, d.sends, o.state, o.delivered_as,
                   o.last_error, o.sent_at)
            .outerjoin(o, o.id == d.outbox_id))


def _status(r: Any) -> DeliveryStatus:
    state = _state(r.state, r.delivered_as)
    return DeliveryStatus(id=r.id, document_id=r.document_id, chat=r.chat, label=r.label,
                          state=state, error=r.last_error if state == "failed" else None,
                          sends=r.sends, sent_at=r.sent_at)


def _one(conn: Connection, delivery_id: int) -> DeliveryStatus:
    q = _query().where(DocumentDelivery.id == delivery_id)
    return _status(conn.execute(q).one())


def statuses(conn: Connection, doc_ids: Sequence[int]) -> dict[int, list[DeliveryStatus]]:
    """document id → its recipients and how each send went, in the order they were added."""
    out: dict[int, list[DeliveryStatus]] = defaultdict(list)
    if not doc_ids:
        return out
    q = (_query().where(DocumentDelivery.document_id.in_(list(doc_ids)))
         .order_by(DocumentDelivery.id))
    for r in conn.execute(q):
        out[r.document_id].append(_status(r))
    return out
