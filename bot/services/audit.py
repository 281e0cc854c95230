"""The audit log: who did what to which record, when, from which channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from storage.models import AuditEntry

# Built once: every handled message writes an audit row, and building a statement costs about
# ten times as much as executing a prebuilt one (bench/README.md, "statement construction").
_INSERT = insert(AuditEntry)


def record(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    channel: str,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(_INSERT, entry(at=at, actor=actor, channel=channel, action=action,
                                target=target, detail=detail))


def entry(*, at: datetime, actor: str, channel: str, action: str, target: str,
          detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """One audit row, to be written now (``record``) or with others (``record_many``)."""
    return {"at": at, "actor": actor, "channel": channel, "action": action, "target": target,
            "detail": detail or {}}


def record_many(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """Several rows in one statement (the dispatcher writes a batch's audit rows together)."""
    if entries:
        conn.execute(_INSERT, entries)
