"""Bearer tokens for the JSON API (``dudao token add | list | revoke``).

A token reads ``dudao_<id>_<secret>``: the id finds its row by primary key, and the SHA-256 of
the secret is compared with the stored one in constant time (``hmac.compare_digest``). The
secret itself is printed once, when the token is made, and stored nowhere. Revoking keeps the
row (who made it, when it was revoked) so the audit trail stays readable.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from bot.domain.errors import InvalidInput, NotFound
from storage.models import ApiToken

PREFIX = "dudao_"
_SHAPE = re.compile(r"dudao_([1-9][0-9]{0,18})_([A-Za-z0-9_-]{20,100})")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add(conn: Connection, *, name: str, created_by: str, now: datetime) -> tuple[TokenInfo, str]:
    """A new token: its record and the token text (shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("令牌名称不能为空，最多 100 个字", log="bad api token name")
    secret = secrets.token_urlsafe(32)
    tid = conn.execute(insert(ApiToken).values(
        name=name, secret_hash=_digest(secret), created_by=created_by[:64], created_at=now)
        .returning(ApiToken.id)).scalar_one()
    return TokenInfo(tid, name, created_by[:64], now, None), f"{PREFIX}{tid}_{secret}"


def list_tokens(conn: Connection) -> list[TokenInfo]:
    rows = conn.execute(select(ApiToken).order_by(ApiToken.id)).all()
    return [TokenInfo(r.id, r.name, r.created_by, r.created_at, r.revoked_at) for r in rows]


def revoke(conn: Connection, token_id: int, *, now: datetime) -> TokenInfo:
    row = conn.execute(select(ApiToken).where(ApiToken.id == token_id)).first()
    if row is None:
        raise NotFound(f"没有编号为 {token_id} 的令牌", log=f"unknown api token {token_id}")
    revoked = row.revoked_at or now
    if row.revoked_at is None:
        conn.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=now))
    return TokenInfo(row.id, row.name, row.created_by, row.created_at, revoked)


def check(conn: Connection, token: str) -> int | None:
    """The id of the live token ``token`` is, or None."""
    m = _SHAPE.fullmatch(token)
    if m is None:
        return None
    tid = int(m.group(1))
    if tid > 2**63 - 1:
        return None
    row = conn.execute(select(ApiToken.secret_hash, ApiToken.revoked_at)
                       .where(ApiToken.id == tid)).first()
    # Compared even when the row is missing or revoked, so the time taken tells nothing.
    stored = row.secret_hash if row is not None else "0" * 64
    same = hmac.compare_digest(_digest(m.group(2)).encode(), stored.encode())
    return tid if same and row is not None and row.revoked_at is None else None
