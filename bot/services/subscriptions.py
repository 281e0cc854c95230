"""Following and leaving an official account: the use cases behind subscription events.

WeChat asks developers to delete a user's data when they unsubscribe, and an openid WeChat no
longer lets us reach (40003, 43004) is a dead binding: both remove the ``mp:<openid>`` identity
(the person and their other identities stay), in one transaction with an audit entry. A QR code
whose scene is an invite code binds the openid like ``绑定 CODE``. These run in the dispatcher's
unit of work (``handlers/subscriptions.py``); the audit names the system as the actor, since
no person asked for it in chat.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bot.services import audit as audit_svc
from bot.services import outbox as outbox_svc
from bot.services import people as people_svc
from bot.services.people import PersonInfo
from storage.db import savepoint

ACTOR = "system"


def forget(conn: Connection, identity: str, chat: str, *, channel: str, now: datetime) -> bool:
    """Unsubscribe: the identity goes, messages still pending for ``chat`` are cancelled, an
    audit entry stays. Returns whether an identity was removed."""
    person = people_svc.by_identity(conn, identity)
    removed = people_svc.unlink_identity(conn, identity)
    cancelled = outbox_svc.cancel_pending(conn, chat, reason="unsubscribed")
    audit_svc.record(conn, at=now, actor=ACTOR, channel=channel, action="person.unsubscribe",
                     target=f"person:{person.id}" if person else identity,
                     detail={"identity": identity, "removed": removed, "cancelled": cancelled})
    return removed


def bind_by_code(conn: Connection, identity: str, code: str, *, channel: str,
                 now: datetime) -> PersonInfo:
    """Bind ``identity`` with a person or unit invite code read from a QR scene; a refusal
    (DomainError) leaves nothing behind."""
    with savepoint(conn, "dudao_bind"):
        person = people_svc.bind_with_code(conn, identity=identity, code=code, unit_text=None,
                                           name="", now=now)
        audit_svc.record(conn, at=now, actor=ACTOR, channel=channel, action="person.bind",
                         target=f"person:{person.id}",
                         detail={"identity": identity, "via": "qrcode"})
    return person


def unlink(conn: Connection, identity: str, *, reason: str, channel: str,
           now: datetime) -> bool:
    """The platform says ``identity`` cannot be reached any more: remove it (audited)."""
    person = people_svc.by_identity(conn, identity)
    if not people_svc.unlink_identity(conn, identity):
        return False
    audit_svc.record(conn, at=now, actor=ACTOR, channel=channel, action="person.unlink",
                     target=f"person:{person.id}" if person else identity,
                     detail={"identity": identity, "reason": reason})
    return True
