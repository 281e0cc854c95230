"""Innovation (创新举措) and enforcement-incident (通报批评) records of DESIGN §4.

An innovation is a red period flag plus a bonus; an incident of rough, violent or profit-driven
enforcement is a yellow period flag plus a deduction. Both are written together — the flag and
the score entry — so the 红旗榜 and the yearly statistics never disagree. The domain
(``bot.domain.flags.innovation`` / ``incident``) validates and words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert

from bot.core.env import ServiceEnv
from bot.domain.flags import FlagEvent, IncidentKind, incident, innovation
from storage.models import Flag, ScoreEntry


@dataclass(frozen=True, slots=True)
class RecordResult:
    unit_id: int
    flag_id: int
    score_entry_id: int
    color: str
    points: float  # signed: positive bonus, negative deduction
    reason: str


def period_of(env: ServiceEnv, now: datetime) -> str:
    """The assessment year a record counts for, e.g. "2026" (local time)."""
    return str(env.local(now).year)


def incident_kind(text: str) -> IncidentKind | None:
    for kind in IncidentKind:
        if kind.value in text:
            return kind
    return None


def _write(conn: Connection, env: ServiceEnv, event: FlagEvent, *, admin_id: int | None,
           evidence: str, now: datetime) -> RecordResult:
    period = period_of(env, now)
    flag_id = conn.execute(insert(Flag).returning(Flag.id), {
        "unit_id": event.flag.unit_id, "task_id": None, "period": period,
        "color": event.flag.color.value, "reason": event.flag.reason,
        "source": event.flag.kind.value, "current": True, "set_by": admin_id, "set_at": now,
    }).scalar_one()
    entry_id = conn.execute(insert(ScoreEntry).returning(ScoreEntry.id), {
        "unit_id": event.score.unit_id, "period": period, "points": event.score.points,
        "kind": event.flag.kind.value, "reason": event.score.reason, "evidence": evidence,
        "created_by": admin_id, "created_at": now,
    }).scalar_one()
    return RecordResult(event.flag.unit_id, int(flag_id), int(entry_id), event.flag.color.value,
                        event.score.points, event.flag.reason)


def record_innovation(conn: Connection, env: ServiceEnv, *, unit_id: int, reason: str,
                      points: float | None, admin_id: int | None, now: datetime,
                      evidence: str = "") -> RecordResult:
    bonus = env.settings.scoring.innovation if points is None else points
    return _write(conn, env, innovation(unit_id, bonus, reason, evidence), admin_id=admin_id,
                  evidence=evidence, now=now)


def record_incident(conn: Connection, env: ServiceEnv, *, unit_id: int, reason: str,
                    points: float | None, admin_id: int | None, now: datetime,
                    evidence: str = "") -> RecordResult:
    deduction = env.settings.scoring.incident if points is None else points
    event = incident(unit_id, deduction, reason, evidence, kind=incident_kind(reason))
    return _write(conn, env, event, admin_id=admin_id, evidence=evidence, now=now)
