"""Drafting and issuing official documents (公文): the use cases the CLI, chat and board share.

Each function runs inside the caller's transaction: it builds the content from the records
(``bot/services/doc_*.py``), records it in the register (``bot/services/documents.py``), has it
laid out by the renderer the composition root gave (``ServiceEnv.render_document``: the .docx
builder of ``bot/reports/render.py``), writes the .docx, and stores the file's path and sha256.
The file is written before the transaction commits; if the commit then fails, the file is left
without a record (a later draft or issue writes its own), never a record without its file.

Callers audit what they did (``document.draft`` / ``document.issue``), as for every admin action.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import Connection

from bot.core.env import ServiceEnv
from bot.domain.errors import InvalidInput
from bot.domain.gongwen import Document, doc_number
from bot.domain.periods import parse_half
from bot.services import doc_bulletin, doc_cases, doc_halfyear, doc_letter, programme_actions
from bot.services import documents as register
from bot.services import units as units_svc
from bot.services.documents import Actor, DocumentInfo

# A rectification item made from a letter's demand is due at the end of its reply day.
RECTIFY_DUE = time(18, 0)

log = logging.getLogger("dudao.documents")

_UNSAFE = re.compile(r"[^\w\u4e00-\u9fff〔〕（）()\- ]+")


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Made:
    """A document drafted or issued, with its file."""

    info: DocumentInfo
    document: Document
    path: Path
    # Issued: the recipients it was queued for (group and person names), see ``after_issue``.
    delivered_to: tuple[str, ...] = ()

    def record(self) -> dict[str, object]:
        """The ``--json`` record of the CLI."""
        out: dict[str, object] = {
            "id": self.info.id, "number": self.info.number, "path": str(self.path),
            "status": self.info.status, "kind": self.info.kind, "title": self.info.title}
        if self.info.status == "issued":  # who it was queued for (names of groups, people)
            out["delivered_to"] = list(self.delivered_to)
        return out


def documents_dir(env: ServiceEnv) -> Path:
    """``[documents] dir``, or ``<data_dir>/documents``; a relative dir is under data_dir."""
    data_dir = env.settings.service.data_dir
    configured = env.settings.documents.dir.strip()
    if not configured:
        return data_dir / "documents"
    path = Path(configured)
    return path if path.is_absolute() else data_dir / path


def default_path(env: ServiceEnv, info: DocumentInfo) -> Path:
    """<documents>/<year>/<id>-<kind>-draft.docx, or …-<year>-<sequence>.docx once issued."""
    year = info.year or env.local(info.created_at).year
    tail = "draft" if info.sequence is None else f"{info.year}-{info.sequence}"
    return documents_dir(env) / str(year) / f"{info.id:05d}-{info.kind}-{tail}.docx"


def download_name(info: DocumentInfo) -> str:
    """What a person saves it as: 豫依法行政领办督〔2027〕3号 关于….docx / 草稿 关于….docx."""
    head = info.number or "草稿"
    return _UNSAFE.sub("_", f"{head} {info.title}")[:150].strip("_ ") + ".docx"


def _check_out(out: Path | None) -> Path | None:
    if out is None:
        return None
    if out.suffix.lower() != ".docx":
        raise InvalidInput(f"输出文件应以 .docx 结尾：{out}", log=f"bad --out {out}")
    return out


def _shown(env: ServiceEnv, info: DocumentInfo, doc: Document, today: date) -> Document:
    """A draft shows its number's place left blank (豫依法行政领办督〔2027〕　号)."""
    if doc.number is not None or info.kind in register.UNNUMBERED:
        return doc
    prefix = env.settings.documents.prefix(info.kind)
    return replace(doc, number=doc_number(prefix, today.year, None))


def write_atomic(path: Path, data: bytes) -> Written:
    """Write ``data`` to ``path`` (its folder created), atomically: written next to it and
    renamed into place, so a reader never sees half a document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return Written(path, hashlib.sha256(data).hexdigest(), len(data))


def _write(conn: Connection, env: ServiceEnv, doc_id: int, doc: Document, now: datetime,
           out: Path | None) -> Made:
    if env.render_document is None:
        raise RuntimeError("no document renderer: the composition root sets "
                           "ServiceEnv.render_document")
    info = register.get(conn, doc_id)
    path = (out or default_path(env, info)).resolve()
    data = env.render_document(_shown(env, info, doc, env.local(now).date()),
                               created=env.local(now))
    written = write_atomic(path, data)
    register.set_file(conn, doc_id, path=str(written.path), sha256=written.sha256)
    log.info("document %s (%s) written to %s (%d bytes)", doc_id, info.kind, path, written.size)
    return Made(register.get(conn, doc_id), doc, written.path)


def _draft(conn: Connection, env: ServiceEnv, doc: Document, *, unit_id: int | None,
           period: str, source: str, actor: Actor, now: datetime, out: Path | None) -> Made:
    out = _check_out(out)
    doc_id = register.create_draft(conn, content=doc, unit_id=unit_id, period=period,
                                   source=source, actor=actor, now=now)
    return _write(conn, env, doc_id, doc, now, out)


# ---------------------------------------------------------------------------------- drafts


def draft_letter(conn: Connection, env: ServiceEnv, unit: str, *, actor: Actor, now: datetime,
                 out: Path | None = None, year: int | None = None) -> Made:
    """督导建议书 for a unit named as people name it (开封市, 开封, its code)."""
    u = units_svc.require(conn, unit)
    doc = doc_letter.build(conn, env, u.id, now, year=year)
    return _draft(conn, env, doc, unit_id=u.id, period=env.local(now).date().isoformat(),
                  source=f"unit:{u.id}", actor=actor, now=now, out=out)


def draft_bulletin(conn: Connection, env: ServiceEnv, bulletin_id: int, *, actor: Actor,
                   now: datetime, out: Path | None = None) -> Made:
    """通报 from a weekly bulletin draft (``bulletins``: the chat's 通报)."""
    from bot.services import bulletins

    period = bulletins.get(conn, bulletin_id).period
    doc = doc_bulletin.build(conn, env, bulletin_id, now)
    return _draft(conn, env, doc, unit_id=None, period=period, source=f"bulletin:{bulletin_id}",
                  actor=actor, now=now, out=out)


def draft_halfyear(conn: Connection, env: ServiceEnv, half: str, *, actor: Actor, now: datetime,
                   out: Path | None = None) -> Made:
    """半年报告 for ``2027H1`` / ``2027H2``."""
    period = parse_half(half)
    doc = doc_halfyear.build_halfyear(conn, env, period.year, period.index, now)
    return _draft(conn, env, doc, unit_id=None, period=str(period), source="",
                  actor=actor, now=now, out=out)


def draft_yearly(conn: Connection, env: ServiceEnv, year: int, *, actor: Actor, now: datetime,
                 out: Path | None = None) -> Made:
    """The yearly report section (a draft for the office's yearly report; never issued)."""
    doc = doc_halfyear.build_yearly(conn, env, year, now)
    return _draft(conn, env, doc, unit_id=None, period=str(year), source="", actor=actor,
                  now=now, out=out)


def draft_cases(conn: Connection, env: ServiceEnv, year: int,
                cases: list[doc_cases.CaseRecord], *, actor: Actor, now: datetime,
                out: Path | None = None) -> Made:
    """案例汇编 of the given cases (the cases feature passes the year's selected ones)."""
    doc = doc_cases.build(env, year, cases, now)
    return _draft(conn, env, doc, unit_id=None, period=str(year), source="", actor=actor,
                  now=now, out=out)


# ---------------------------------------------------------------------------------- issuing


def issue(conn: Connection, env: ServiceEnv, doc_id: int, *, actor: Actor, now: datetime,
          out: Path | None = None) -> Made:
    """签发: the next number of the year, signed and printed today, written as a new file."""
    out = _check_out(out)
    info = register.get(conn, doc_id)
    prefix = "" if info.kind in register.UNNUMBERED else env.settings.documents.prefix(info.kind)
    issued = register.issue(conn, doc_id, prefix=prefix, actor=actor, now=now,
                            today=env.local(now).date())
    made = _write(conn, env, doc_id, issued.document, now, out)
    return after_issue(conn, env, made, actor=actor, now=now)


def delivery_note(made: Made) -> str:
    """One line for the issuer: where the document is on its way to."""
    if made.delivered_to:
        return (f"正在送达：{'、'.join(made.delivered_to)}；"
                "送达情况见督导看板“公文”页，可在该页重新发送。")
    if made.info.kind in ("letter", "bulletin"):
        return "没有可送达的群或关注公众号的单位领导，请在督导看板“公文”页下载后送达。"
    return "文件可在督导看板“公文”页下载。"


def after_issue(conn: Connection, env: ServiceEnv, made: Made, *, actor: Actor,
                now: datetime) -> Made:
    """What follows an issued document, in the issuing transaction; ``made`` with the
    recipients it was queued for.

    - Delivery (``bot/services/document_delivery.py``): an issued 督导建议书 is queued for the
      unit's group (as a file where the implementation can take one, else a signed download
      link) and its officials on the official account (a link); a 通报 for every exchange group.
    - Rectification: a 督导建议书's demands (``made.document.meta["demands"]``, each with its
      text and due date) become rectification items (整改) of the unit, due at the end of the
      reply day, reminded like tasks; the unit is told of each in its group. Queued after the
      letter, so the group reads the letter before the items it asks for.
    """
    from bot.services import document_delivery

    sent = document_delivery.deliver(conn, env, made.info.id, actor=actor.label, now=now)
    _rectification_items(conn, env, made, now=now)
    return replace(made, delivered_to=tuple(r.label for r in sent))


def _rectification_items(conn: Connection, env: ServiceEnv, made: Made, *,
                         now: datetime) -> list[str]:
    """A 督导建议书's demands as the unit's rectification items; their numbers."""
    meta = made.document.meta or {}
    if made.info.kind != doc_letter.KIND or not meta.get("unit"):
        return []
    done = []
    for demand in meta.get("demands", []):
        day = date.fromisoformat(demand["due"])
        due = datetime.combine(day, RECTIFY_DUE, tzinfo=env.tz)
        item, _ = programme_actions.add_rect(
            conn, env, unit=str(meta["unit"]), text=str(demand["text"]), due=due, check_id=None,
            document_id=made.info.id, actor=f"document:{made.info.id}", channel="document",
            now=now)
        done.append(f"整改 {item.number}")
    return done
