"""Our own store of received messages; its unique key makes a re-delivered event a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from storage.models import InboundMessage
from storage.upsert import insert_ignoring_conflicts

TEXT_KEPT = 4000  # characters of a message kept in the store; the rest lives in the submission


def store(conn: Connection, *, dedupe_key: str, chat: str, sender: str, message_id: str,
          text: str, now: datetime) -> bool:
    """Store a message. False if it was seen before (a re-delivery, possibly by another process).

    ON CONFLICT DO NOTHING instead of catching the unique violation: no savepoint is needed, and
    a savepoint costs about as much as the insert itself.
    """
    stmt = insert_ignoring_conflicts(conn, InboundMessage, ("dedupe_key",), ("id",))
    row = conn.execute(stmt, {"dedupe_key": dedupe_key, "chat": chat, "sender": sender,
                              "message_id": message_id, "text": text[:TEXT_KEPT],
                              "received_at": now}).first()
    return row is not None
