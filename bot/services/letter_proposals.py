"""The scheduler proposes 督导建议书: drafts for slow units, for an admin to issue or drop.

The rule (DESIGN §4 "Supervision letters", ``bulletins.LETTER_THRESHOLD``): a unit with at
least that many current yellow flags (red/blue/yellow per task, ``bot/domain/flags.py``) whose
latest yellow flag is newer than its last letter document — so a unit is not proposed again
until it collects a new yellow flag after a letter, and not while a draft letter of it is still
waiting for an admin. Overdue rectification items will join the rule once they exist.

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
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.domain.errors import DomainError
from bot.services import audit, drafting, ledger
from bot.services import bulletins as bulletins_svc
from bot.services import groups as groups_svc
from bot.services import outbox as outbox_svc
from bot.services.documents import Actor
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


def due_units(conn: Connection) -> list[tuple[int, str, int]]:
    """(unit id, name, current yellow flags) of the units the rule names (module docstring)."""
    rows = conn.execute(
        select(Flag.unit_id, Unit.name, func.count(), func.max(Flag.set_at))
        .join(Unit, Unit.id == Flag.unit_id)
        .where(Flag.current.is_(True), Flag.color == "yellow")
        .group_by(Flag.unit_id, Unit.name)
        .having(func.count() >= bulletins_svc.LETTER_THRESHOLD)
        .order_by(Flag.unit_id)).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    last_letter = dict(conn.execute(
        select(DocumentRecord.unit_id, func.max(DocumentRecord.created_at))
        .where(DocumentRecord.kind == "letter", DocumentRecord.unit_id.in_(ids))
        .group_by(DocumentRecord.unit_id)).all())
    waiting = set(conn.execute(
        select(DocumentRecord.unit_id)
        .where(DocumentRecord.kind == "letter", DocumentRecord.status == "draft",
               DocumentRecord.unit_id.in_(ids))).scalars())
    out = []
    for uid, name, n, latest in rows:
        letter_at = last_letter.get(uid)
        if uid in waiting or (letter_at is not None and latest is not None
                              and letter_at >= latest):
            continue
        out.append((int(uid), str(name), int(n)))
    return out


def propose(conn: Connection, env: ServiceEnv, at: datetime) -> list[Proposed]:
    """Draft the letters due at ``at`` (once per unit and week) and tell the admin groups."""
    if env.render_document is None:  # the composition root always gives one; a bare env not
        log.warning("letter proposals skipped: no document renderer")
        return []
    units = due_units(conn)
    if not units:
        return []
    week = bulletins_svc.iso_period(env, at)
    claimed = ledger.insert_new(conn, JobLedger, ("job", "period"),
                                [{"job": JOB, "period": f"{week}:u{uid}", "at": at}
                                 for uid, _, _ in units])
    done: list[Proposed] = []
    for uid, name, yellow in units:
        if (JOB, f"{week}:u{uid}") not in claimed:
            continue  # proposed already this week (this process, another one, a repeated tick)
        try:
            with savepoint(conn):
                made = drafting.draft_letter(conn, env, name, actor=ACTOR, now=at)
        except DomainError as exc:  # e.g. the flags are from an earlier year: nothing to say
            log.info("no letter proposed for unit %s: %s", uid, exc.log or exc.message)
            continue
        audit.record(conn, at=at, actor=ACTOR.label, channel="schedule", action="document.draft",
                     target=f"document:{made.info.id}",
                     detail={"kind": "letter", "unit": name, "yellow": yellow,
                             "sha256": made.info.sha256, "proposed": True})
        done.append(Proposed(uid, name, yellow, made.info.id))
    if done:
        _tell_admins(conn, done, at)
    return done


def _tell_admins(conn: Connection, done: list[Proposed], at: datetime) -> None:
    lines = [f"【督导建议书待签发】以下单位当前黄旗达到 {bulletins_svc.LETTER_THRESHOLD} 面，"
             "已起草督导建议书草稿（未签发、未送达）："]
    lines += [f"· {p.unit}（黄旗 {p.yellow} 面）：文件#{p.document_id}" for p in done]
    lines.append("请在督导看板“公文”页审核下载；确认后发送“签发 文件#编号”签发并送达单位。")
    text = "\n".join(lines)
    chats = groups_svc.chats(conn, "admin")
    if not chats:
        log.warning("letter proposals %s: no admin group registered",
                    [p.document_id for p in done])
    cause = "documents:" + ",".join(str(p.document_id) for p in done)
    outbox_svc.enqueue_many(
        conn, [(OutgoingMessage.text(ChatRef.parse(c), text), KIND, cause[:64], a)
               for c, a in chats], now=at)
