"""Board sessions kept in the database, so that they can be revoked.

A signed cookie alone (what the board had) stays valid until it expires, even after logout. Now
the cookie carries a random token and the ``web_sessions`` row for its SHA-256 must exist:

- logout deletes the row (that browser's session ends at once, in every process);
- an admin's row remembers a tag of the password hash it was opened under; a changed password
  (by whatever command or page) no longer matches, so every session opened before is refused;
- an admin who is removed, deactivated or demoted, and a viewer whose unit is gone, are refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from bot.services import units as units_svc
from storage.models import Person, Unit, WebSession


@dataclass(frozen=True, slots=True)
class SessionView:
    """Who a live session belongs to."""

    role: str  # admin viewer
    person_id: int | None
    unit_id: int | None
    name: str
    scope: frozenset[int] | None  # units a viewer may see; None for an admin


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_tag(password_hash: str) -> str:
    return hashlib.sha256(b"dudao-session|" + password_hash.encode()).hexdigest()


def open_admin(conn: Connection, *, person_id: int, password_hash: str, now: datetime,
               expires: datetime) -> str:
    """A new session for an admin who has just proved ``password_hash``'s password."""
    token = secrets.token_urlsafe(32)
    conn.execute(insert(WebSession).values(
        token_hash=_hash(token), role="admin", person_id=person_id, unit_id=None,
        password_tag=password_tag(password_hash), created_at=now, expires_at=expires))
    _forget_expired(conn, now)
    return token


def open_viewer(conn: Connection, *, unit_id: int, now: datetime, expires: datetime
                ) -> str | None:
    """A read-only session for a link's unit, or None if that unit no longer exists."""
    active = conn.execute(select(Unit.active).where(Unit.id == unit_id)).scalar_one_or_none()
    if not active:
        return None
    token = secrets.token_urlsafe(32)
    conn.execute(insert(WebSession).values(
        token_hash=_hash(token), role="viewer", person_id=None, unit_id=unit_id,
        password_tag=None, created_at=now, expires_at=expires))
    _forget_expired(conn, now)
    return token


def lookup(conn: Connection, token: str, now: datetime) -> SessionView | None:
    """The live session of ``token``, or None (unknown, logged out, expired, password changed,
    admin gone, unit gone). One statement: the board calls this on every request."""
    s = conn.execute(
        select(WebSession.role, WebSession.person_id, WebSession.unit_id,
               WebSession.password_tag, WebSession.expires_at, Person.name,
               Person.role.label("person_role"), Person.active.label("person_active"),
               Person.password_hash, Unit.active.label("unit_active"),
               Unit.name.label("unit_name"))
        .outerjoin(Person, Person.id == WebSession.person_id)
        .outerjoin(Unit, Unit.id == WebSession.unit_id)
        .where(WebSession.token_hash == _hash(token))).first()
    if s is None or s.expires_at <= now:
        return None
    if s.role == "admin" and s.person_id is not None:
        if not s.person_active or s.person_role != "admin" or s.password_hash is None:
            return None
        if not secrets.compare_digest(password_tag(s.password_hash), s.password_tag or ""):
            return None
        return SessionView("admin", s.person_id, None, str(s.name or f"管理员{s.person_id}"),
                           None)
    if s.role == "viewer" and s.unit_id is not None and s.unit_active:
        scope = frozenset(units_svc.subtree_ids(conn, s.unit_id))
        # Named by its unit: the board's header reads "郑州市 只读", not a generic role.
        return SessionView("viewer", None, s.unit_id, str(s.unit_name), scope)
    return None


def close(conn: Connection, token: str) -> None:
    """Logout: the session ends now, in every process."""
    conn.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


def _forget_expired(conn: Connection, now: datetime) -> None:
    # Rows a concurrent transaction holds are skipped, so this never waits on another login.
    expired = (select(WebSession.token_hash).where(WebSession.expires_at <= now).limit(1000)
               .with_for_update(skip_locked=True))
    conn.execute(delete(WebSession).where(WebSession.token_hash.in_(expired)))
