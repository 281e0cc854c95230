"""The scheduler proposes 督导建议书: drafts for slow units, for an admin to issue or drop.

The rule (DESIGN §4 "Supervision letters": repeated yellow flags or overdue rectification), for a
unit with no draft letter still waiting for an admin, either of:

- at least ``bulletins.LETTER_THRESHOLD`` current yellow flags (red/blue/yellow per task,
  ``bot/domain/flags.py``), the latest newer than its last letter document;
- a rectification item overdue at the tick (``stats.overdue_rectifications`` of the items due in
  the tick's year: the count the export and the letter itself use) whose deadline passed after
  its last letter document.

So a unit is not proposed again for what its last letter already named: only for a new yellow
flag, or an item (e.g. one of that letter's own demands) that has since run out of time.

Once a day, at or after ``[schedule] digest_time``, the job claims (``job_ledger``,
``letter_proposal`` / ``2026-W28:u3``: once per unit per ISO week) each unit that meets the rule,
drafts its letter through ``drafting.draft_letter`` and tells the admin groups which drafts wait
(``签发 文件#N``). Nothing is issued: issuing numbers and sends a document, which an admin does.
A repeated ``dudao tick --at`` finds the claims and drafts nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from bot.core.env import ServiceEnv
from bot.domain.errors import DomainError
from bot.services import alerts, audit, drafting, ledger, stats
from bot.services import bulletins as bulletins_svc
from bot.services.documents import Actor
from bot.services.rectifications import RectInfo
from storage.db import savepoint
from storage.models import DocumentRecord, Flag, JobLedger, Unit

log = logging.getLogger("dudao.documents")

JOB = "letter_proposal"
KIND = "letter_proposal"  # the outbox kind of the message to the admins
ACTOR = Actor("system:scheduler")


@dataclass(frozen=True, slots=True)
class Proposed:
    unit_id: int
    unit: str
    yellow: int
    document_id: int
    overdue: int = 0  # rectification items past their deadline


@dataclass(frozen=True, slots=True)
class _Due:
    unit_id: int
    unit: str
    yellow: int
    overdue: int


def due_units(conn: Connection, env: ServiceEnv, at: datetime) -> list[_Due]:
    """The units the rule names at ``at`` (module docstring), by id."""
    yellow: dict[int, tuple[str, int, datetime | None]] = {
        int(uid): (str(name), int(n), latest) for uid, name, n, latest in conn.execute(
            select(Flag.unit_id, Unit.name, func.count(), func.max(Flag.set_at))
            .join(Unit, Unit.id == Flag.unit_id)
            .where(Flag.current.is_(True), Flag.color == "yellow")
            .group_by(Flag.unit_id, Unit.name))}
    window = stats.year_window(env, env.local(at).year)
    overdue: dict[int, list[RectInfo]] = {}
    for i in stats.overdue_rectifications(stats.rectifications(conn, window), at):
        overdue.setdefault(i.unit_id, []).append(i)
    ids = sorted({u for u, (_, n, _) in yellow.items() if n >= bulletins_svc.LETTER_THRESHOLD}
                 | set(overdue))
    if not ids:
        return []
    last_letter = dict(conn.execute(
        select(DocumentRecord.unit_id, func.max(DocumentRecord.created_at))
        .where(DocumentRecord.kind == "letter", DocumentRecord.unit_id.in_(ids))
        .group_by(DocumentRecord.unit_id)).all())
    waiting = set(conn.execute(
        select(DocumentRecord.unit_id)
        .where(DocumentRecord.kind == "letter", DocumentRecord.status == "draft",
               DocumentRecord.unit_id.in_(ids))).scalars())

    def newer(moment: datetime | None, letter_at: datetime | None) -> bool:
        return moment is not None and (letter_at is None or moment > letter_at)

    out = []
    for uid in ids:
        if uid in waiting:
            continue
        letter_at = last_letter.get(uid)
        name, n, latest = yellow.get(uid, ("", 0, None))
        items = overdue.get(uid, [])
        flags_due = n >= bulletins_svc.LETTER_THRESHOLD and newer(latest, letter_at)
        items_due = newer(max((i.due for i in items), default=None), letter_at)
        if flags_due or items_due:
            out.append(_Due(uid, name or items[0].unit, n, len(items)))
    return out


def propose(conn: Connection, env: ServiceEnv, at: datetime) -> list[Proposed]:
    """Draft the letters due at ``at`` (once per unit and week) and tell the admin groups."""
    if env.render_document is None:  # the composition root always gives one; a bare env not
        log.warning("letter proposals skipped: no document renderer")
        return []
    units = due_units(conn, env, at)
    if not units:
        return []
    week = bulletins_svc.iso_period(env, at)
    claimed = ledger.insert_new(conn, JobLedger, ("job", "period"),
                                [{"job": JOB, "period": f"{week}:u{u.unit_id}", "at": at}
                                 for u in units])
    done: list[Proposed] = []
    for u in units:
        if (JOB, f"{week}:u{u.unit_id}") not in claimed:
            continue  # proposed already this week (this process, another one, a repeated tick)
        try:
            with savepoint(conn):
                made = drafting.draft_letter(conn, env, u.unit, actor=ACTOR, now=at)
        except DomainError as exc:  # e.g. the flags are from an earlier year: nothing to say
            log.info("no letter proposed for unit %s: %s", u.unit_id, exc.log or exc.message)
            continue
        audit.record(conn, at=at, actor=ACTOR.label, channel="schedule", action="document.draft",
                     target=f"document:{made.info.id}",
                     detail={"kind": "letter", "unit": u.unit, "yellow": u.yellow,
                             "overdue_rectifications": u.overdue,
                             "sha256": made.info.sha256, "proposed": True})
        done.append(Proposed(u.unit_id, u.unit, u.yellow, made.info.id, u.overdue))
    if done:
        _tell_admins(conn, done, at)
    return done


def _tell_admins(conn: Connection, done: list[Proposed], at: datetime) -> None:
    lines = [f"【督导建议书待签发】以下单位当前黄旗达到 {bulletins_svc.LETTER_THRESHOLD} 面"
             "或有逾期未完成的整改事项，已起草督导建议书草稿（未签发、未送达）："]
    lines += [f"· {p.unit}（{_why(p)}）：文件#{p.document_id}" for p in done]
    lines.append("请在督导看板“公文”页审核下载；确认后发送“签发 文件#编号”签发并送达单位。")
    cause = "documents:" + ",".join(str(p.document_id) for p in done)
    if not alerts.tell_admins(conn, "\n".join(lines), now=at, cause=cause[:64], kind=KIND):
        log.warning("letter proposals %s: no admin group registered",
                    [p.document_id for p in done])


def _why(p: Proposed) -> str:
    """黄旗 2 面，整改逾期 1 项."""
    parts = [f"黄旗 {p.yellow} 面"] if p.yellow else []
    parts += [f"整改逾期 {p.overdue} 项"] if p.overdue else []
    return "，".join(parts)
