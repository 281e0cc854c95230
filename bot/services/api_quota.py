"""WeChat API quotas counted in the ``wechat_quota`` table, shared by every process.

:class:`DbQuotaCounter` implements :class:`bot.core.ports.QuotaCounter`. A call is
*reserved* before it is made: for each period that limits it (a Beijing day, a month) one atomic
statement adds ``n`` to the period's count only while the sum stays within the limit::

    INSERT INTO wechat_quota (app_id, api, period, used, exhausted) VALUES (:a, :api, :p, :n, 0)
    ON CONFLICT (app_id, api, period) DO UPDATE SET used = wechat_quota.used + excluded.used
    WHERE wechat_quota.used + excluded.used <= :limit AND NOT wechat_quota.exhausted
    RETURNING used

A row back means the calls are ours. Two processes reserving at once cannot both pass: on
PostgreSQL the second upsert waits for the first one's row lock and then evaluates its WHERE
against the committed count; SQLite takes the write lock at BEGIN (``storage/db.py``). When a
call is limited by two periods (mass send: per day and per month) both reservations are in one
transaction, and a refusal of the second rolls back the first.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from bot.core.database import Database
from storage.models import WeChatQuota
from storage.upsert import dialect_insert


class _Refused(Exception):
    """A period's limit would be exceeded: roll the transaction back."""


class DbQuotaCounter:
    """Per-period call counts for one app id in the database."""

    def __init__(self, db: Database, app_id: str) -> None:
        self._db = db
        self._app_id = app_id

    async def reserve(self, api: str, periods: Sequence[tuple[str, int]], n: int = 1) -> bool:
        """Count ``n`` calls of ``api`` in every ``(period, limit)``; False (and nothing
        counted) if any period would go over its limit or was marked exhausted."""
        if any(n > limit for _, limit in periods):
            return False
        if not periods:
            return True

        def reserve(conn: Connection) -> None:
            for period, limit in periods:
                if not self._reserve_one(conn, api, period, limit, n):
                    raise _Refused

        try:
            await self._db.run(reserve)
        except _Refused:
            return False
        return True

    def _reserve_one(self, conn: Connection, api: str, period: str, limit: int, n: int) -> bool:
        t = WeChatQuota.__table__
        ins = dialect_insert(conn, WeChatQuota).values(
            app_id=self._app_id, api=api, period=period, used=n, exhausted=False)
        stmt = ins.on_conflict_do_update(
            index_elements=[t.c.app_id, t.c.api, t.c.period],
            set_={"used": t.c.used + ins.excluded.used},
            where=(t.c.used + ins.excluded.used <= limit) & t.c.exhausted.is_(False),
        ).returning(t.c.used)
        return conn.execute(stmt).first() is not None

    async def mark_exhausted(self, api: str, period: str) -> None:
        """WeChat answered 45009: no more calls of ``api`` in ``period``, whatever the count."""

        def mark(conn: Connection) -> None:
            t = WeChatQuota.__table__
            ins = dialect_insert(conn, WeChatQuota).values(
                app_id=self._app_id, api=api, period=period, used=0, exhausted=True)
            conn.execute(ins.on_conflict_do_update(
                index_elements=[t.c.app_id, t.c.api, t.c.period], set_={"exhausted": True}))

        await self._db.run(mark)

    async def used(self, api: str, period: str) -> tuple[int, bool]:
        """(calls counted, exhausted) of ``api`` in ``period``."""

        def read(conn: Connection) -> tuple[int, bool]:
            row = conn.execute(
                select(WeChatQuota.used, WeChatQuota.exhausted)
                .where(WeChatQuota.app_id == self._app_id, WeChatQuota.api == api,
                       WeChatQuota.period == period)).first()
            return (0, False) if row is None else (int(row.used), bool(row.exhausted))

        return await self._db.run(read)

