"""Flags and scores of units over a period: the 红旗榜 and a unit's 旗帜 (DESIGN §4).

What a period counts (as the yearly statistics do, ``bot/services/stats.py``): the current flag
of every (task, unit) whose task is due in the period, the period flags (innovation, incident)
set in it, and the bonuses and deductions recorded in it. This module adds the ranking the chat
shows and the flags behind the numbers, with their reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, and_, or_, select

from bot.core.env import ServiceEnv
from bot.domain.scoring import ScoreBreakdown, unit_score
from bot.services import stats as stats_svc
from storage.models import Flag, Task, Unit


@dataclass(frozen=True, slots=True)
class FlagRecord:
    unit_id: int
    color: str  # red | blue | yellow
    reason: str
    source: str  # rule | override | innovation | incident
    task_id: int | None
    task_title: str | None
    set_at: datetime


@dataclass(frozen=True, slots=True)
class UnitStanding:
    unit_id: int
    unit_name: str
    score: ScoreBreakdown
    flags: tuple[FlagRecord, ...]


def bounds(env: ServiceEnv, start: date, end: date) -> tuple[datetime, datetime]:
    """Local days ``start``..``end`` (inclusive) as a half-open range of aware datetimes."""
    return (datetime.combine(start, time(0), tzinfo=env.tz),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=env.tz))


def flags_in_period(conn: Connection, start: datetime, end: datetime,
                    unit_ids: set[int] | None = None) -> list[FlagRecord]:
    q = (
        select(Flag.unit_id, Flag.color, Flag.reason, Flag.source, Flag.task_id, Flag.set_at,
               Task.title)
        .outerjoin(Task, Task.id == Flag.task_id)
        .where(Flag.current.is_(True),
               or_(and_(Flag.task_id.is_not(None), Task.due >= start, Task.due < end),
                   and_(Flag.task_id.is_(None), Flag.set_at >= start, Flag.set_at < end)))
        .order_by(Flag.set_at.desc(), Flag.id.desc())
    )
    if unit_ids is not None:
        q = q.where(Flag.unit_id.in_(sorted(unit_ids)))
    return [FlagRecord(r.unit_id, r.color, r.reason, r.source, r.task_id, r.title, r.set_at)
            for r in conn.execute(q)]


def standings(conn: Connection, env: ServiceEnv, start: date, end: date, *,
              unit_ids: set[int] | None = None, include_empty: bool = False
              ) -> list[UnitStanding]:
    """Units with flags or score entries in the period (all given units with ``include_empty``),
    best first: most red flags, then highest score, then fewest yellow flags.

    The numbers are those of the yearly statistics (``stats.unit_stats``) for the same window,
    so the chat, the board and the export never disagree.
    """
    s, e = bounds(env, start, end)
    rows = {u.unit_id: u for u in stats_svc.unit_stats(
        conn, env, stats_svc.Window(s, e, ""), unit_ids=unit_ids)}
    flags = flags_in_period(conn, s, e, unit_ids)
    by_unit: dict[int, list[FlagRecord]] = {}
    for f in flags:
        by_unit.setdefault(f.unit_id, []).append(f)
    ids = {uid for uid, u in rows.items()
           if u.score.red + u.score.blue + u.score.yellow or u.score.bonus or u.score.deduction}
    names = {uid: u.name for uid, u in rows.items()}
    if include_empty and unit_ids is not None:
        ids |= unit_ids
        # (units with nothing in the period are not in the statistics: their names are read)
        if ids - names.keys():
            names.update(conn.execute(select(Unit.id, Unit.name)
                                      .where(Unit.id.in_(sorted(ids - names.keys())))).all())
    empty = unit_score({}, (), stats_svc.weights_of(env))
    out = [UnitStanding(uid, str(names.get(uid, uid)),
                        rows[uid].score if uid in rows else empty, tuple(by_unit.get(uid, ())))
           for uid in ids]
    out.sort(key=lambda u: (-u.score.red, -u.score.total, u.score.yellow, u.unit_id))
    return out
