"""The scheduler's once-a-period jobs, each one unit of work: the weekly bulletin draft and the
daily digest (``bot/scheduler.py`` decides when they are due).

On PostgreSQL each takes a transaction-level advisory lock first, so two schedulers checking
at the same moment cannot both draft; SQLite serialises writers anyway. Whether a period was
done is read from our own tables (a weekly bulletin for the ISO week; the ``schedule.digest``
audit entry of the day), never from a job store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from bot.core.env import ServiceEnv
from bot.services import audit
from bot.services import bulletins as bulletins_svc
from storage import locks
from storage.models import AuditEntry


def weekly_draft(conn: Connection, env: ServiceEnv, at: datetime) -> int | None:
    """Draft this ISO week's bulletin unless it exists; its id, or None."""
    locks.hold(conn, locks.LockKey.WEEKLY_BULLETIN)
    if bulletins_svc.exists(conn, bulletins_svc.KIND_WEEKLY, bulletins_svc.iso_period(env, at)):
        return None
    if not bulletins_svc.weekly_has_news(conn, env, at):
        return None  # nothing to report: no draft (a later tick this week looks again)
    bid = bulletins_svc.draft_weekly(conn, env, at)
    audit.record(conn, at=at, actor="system", channel="system", action="bulletin.draft",
                 target=f"bulletin:{bid}", detail={"period": bulletins_svc.iso_period(env, at)})
    return bid


def daily_digest(conn: Connection, env: ServiceEnv, at: datetime) -> tuple[bool, int | None]:
    """Today's digest unless it ran: (whether it ran now, the bulletin it wrote if any)."""
    target = f"digest:{env.local(at).date().isoformat()}"
    locks.hold(conn, locks.LockKey.DAILY_DIGEST)
    since = env.calendar.midnight(env.local(at).date())
    done = conn.execute(
        select(AuditEntry.id)
        .where(AuditEntry.at >= since, AuditEntry.action == "schedule.digest",
               AuditEntry.target == target).limit(1)
    ).first()
    if done is not None:
        return False, None
    bid = bulletins_svc.daily_digest(conn, env, at)
    audit.record(conn, at=at, actor="system", channel="system", action="schedule.digest",
                 target=target, detail={"bulletin": bid})
    return True, bid
