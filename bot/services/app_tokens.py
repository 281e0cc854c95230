"""Access tokens in the ``app_tokens`` table: one refresher at a time across processes.

:class:`DbTokenStore` implements :class:`bot.core.ports.TokenStore`. The refresh lock
is a *lease*, not a row lock: a unit of work is one transaction on a DB thread
(``storage/db.py``), and the HTTP call that fetches the token happens between two of them, so
``SELECT … FOR UPDATE`` cannot span it. Taking the lease is one atomic statement::

    UPDATE app_tokens SET lease_owner = :me, lease_until = :now + 30 s
    WHERE app_id = :a AND (lease_until IS NULL OR lease_until < :now OR lease_owner = :me)

(the row is inserted first if missing, ``ON CONFLICT DO NOTHING``); one row updated means the
lease is ours. Otherwise another process is refreshing: poll every ``poll_s`` until the lease is
free (or expired: a refresher that died holds it for ``lease_s`` at most) or a different token
has been stored (then the caller re-reads it and normally does not fetch at all). Releasing
clears the lease if it is still ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, or_, select, update

from bot.core.database import Database
from bot.core.ports import CachedToken
from storage.models import AppToken
from storage.upsert import dialect_insert, insert_ignoring_conflicts

log = logging.getLogger("dudao.tokens")


def default_owner_id() -> str:
    """``host:pid:random``: unique per process, readable in the table."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DbTokenStore:
    """A :class:`~bot.core.ports.TokenStore` shared through the database."""

    def __init__(self, db: Database, owner_id: str | None = None, *, lease_s: float = 30.0,
                 poll_s: float = 0.2, now: Callable[[], datetime] = _utcnow) -> None:
        self._db = db
        self.owner_id = (owner_id or default_owner_id())[:64]
        self._lease = timedelta(seconds=lease_s)
        self._poll_s = poll_s
        self._now = now
        # tasks of this process refresh one at a time without polling the database
        self._local: dict[str, asyncio.Lock] = {}

    async def load(self, app_id: str) -> CachedToken | None:
        def read(conn: Connection) -> CachedToken | None:
            row = conn.execute(select(AppToken.token, AppToken.expires_at)
                               .where(AppToken.app_id == app_id)).first()
            if row is None or not row.token or row.expires_at is None:
                return None
            return CachedToken(row.token, row.expires_at.timestamp())

        return await self._db.run(read)

    async def save(self, app_id: str, token: CachedToken) -> None:
        expires = datetime.fromtimestamp(token.expires_at, UTC)

        def write(conn: Connection) -> None:
            values = {"app_id": app_id, "token": token.token, "expires_at": expires}
            stmt = dialect_insert(conn, AppToken).values(**values).on_conflict_do_update(
                index_elements=[AppToken.app_id],
                set_={"token": token.token, "expires_at": expires})
            conn.execute(stmt)

        await self._db.run(write)

    async def refresh_lock(self, app_id: str) -> AbstractAsyncContextManager[None]:
        return self._locked(app_id)

    @contextlib.asynccontextmanager
    async def _locked(self, app_id: str) -> AsyncIterator[None]:
        local = self._local.get(app_id)
        if local is None:
            local = self._local[app_id] = asyncio.Lock()
        async with local:
            held = await self._acquire(app_id)
            try:
                yield
            finally:
                if held:
                    await self._release(app_id)

    async def _acquire(self, app_id: str) -> bool:
        """True once the lease is ours; False if another process stored a new token meanwhile
        (the caller re-reads it without holding the lease)."""
        seen: str | None = None
        first = True
        while True:
            got, token = await self._db.run(lambda conn: self._try_lease(conn, app_id))
            if got:
                return True
            if first:
                seen, first = token, False
                log.info("access token for %s is being refreshed by another process; waiting",
                         app_id)
            elif token != seen and token:
                return False
            await asyncio.sleep(self._poll_s)

    def _try_lease(self, conn: Connection, app_id: str) -> tuple[bool, str]:
        now = self._now()
        conn.execute(insert_ignoring_conflicts(conn, AppToken, ("app_id",)),
                     {"app_id": app_id, "token": ""})
        res = conn.execute(
            update(AppToken)
            .where(AppToken.app_id == app_id,
                   or_(AppToken.lease_until.is_(None), AppToken.lease_until < now,
                       AppToken.lease_owner == self.owner_id))
            .values(lease_owner=self.owner_id, lease_until=now + self._lease))
        if res.rowcount == 1:
            return True, ""
        token = conn.execute(select(AppToken.token).where(AppToken.app_id == app_id)).scalar()
        return False, token or ""

    async def _release(self, app_id: str) -> None:
        def clear(conn: Connection) -> None:
            conn.execute(update(AppToken)
                         .where(AppToken.app_id == app_id, AppToken.lease_owner == self.owner_id)
                         .values(lease_owner=None, lease_until=None))

        try:
            await self._db.run(clear)
        except Exception as exc:  # the lease expires by itself
            log.warning("could not release the token lease for %s: %s", app_id, exc)

