"""Typical cases (典型案例): submitted by a unit's liaison with files, selected (入选) or returned
with a reason by an admin, listed, searched and compiled (DESIGN §3 "Case").

Records come back as plain dataclasses (:class:`CaseInfo`), and lists are paged by id
(``after_id``, ``limit``), so the board, the CLI, chat and a later ``/api/v1/cases`` share them.

A selected case counts as its unit's case collection of the year: when the 四个一 preset made a
yearly "典型案例收集" instance for that unit and year (a series of kind ``cases``) and the unit
still owes it (or its collection waits for review), selecting the case submits and accepts the
instance for the unit (:func:`_count_collection`), so statistics, flags and the plan view see it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, func, insert, select, update

from bot.core.env import ServiceEnv
from bot.core.event import ChatRef, StoredFile
from bot.core.message import OutgoingMessage
from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.services import case_search
from bot.services import outbox as outbox_svc
from bot.services import submissions as subs_svc
from bot.services.doc_cases import CASE_KINDS, CaseRecord
from bot.services.flag_rules import refresh_task_unit_flag
from storage.models import Case, CaseFile, Person, Series, Task, TaskUnit, Unit

STATUSES = ("submitted", "selected", "returned")
STATUS_NAMES = {"submitted": "待审核", "selected": "入选", "returned": "退回"}
MAX_TITLE = 200
MAX_TEXT = 20000
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# "行政调解类", "行政调解案例" name the kind as well as "行政调解".
_KIND_WORD = re.compile(r"(行政指导|行政调解|行政契约|其他)(类|案例|类案例)?")
_TITLE_MARKS = re.compile(r"^[《「“\"](.+?)[》」”\"]\s*")


@dataclass(frozen=True, slots=True)
class CaseInfo:
    id: int
    unit_id: int
    unit: str
    author: str
    year: int
    title: str
    kind: str
    text: str
    status: str  # submitted | selected | returned
    reason: str | None
    created_at: datetime
    reviewed_at: datetime | None
    source_chat: str | None
    task_id: int | None
    files: tuple[StoredFile, ...] = ()

    def record(self) -> dict[str, Any]:
        """The case as JSON values (the CLI's ``--json``, a later API)."""
        return {"id": self.id, "unit_id": self.unit_id, "unit": self.unit, "author": self.author,
                "year": self.year, "title": self.title, "kind": self.kind, "text": self.text,
                "status": self.status, "reason": self.reason,
                "created_at": self.created_at.isoformat(),
                "reviewed_at": self.reviewed_at.isoformat() if self.reviewed_at else None,
                "files": [{"name": f.name, "sha256": f.sha256, "size": f.size}
                          for f in self.files]}


@dataclass(frozen=True, slots=True)
class Draft:
    """What a liaison wrote after 案例: title, kind, text."""

    title: str
    kind: str
    text: str


def read_case(args: str) -> Draft:
    """``标题 [行政指导|行政调解|行政契约] 内容``; the title may be in 《》. Without a kind word
    before the text, the kind is the one the title or text names (if exactly one), else 其他."""
    args = args.strip()
    if not args:
        raise InvalidInput("请写明案例标题和内容，例如：案例 调解物业纠纷 行政调解 某街道……（可附文件）",
                           log="empty case")
    m = _TITLE_MARKS.match(args)
    if m:
        title, rest = m.group(1).strip(), args[m.end():]
    else:
        parts = args.split(maxsplit=1)
        title, rest = parts[0], parts[1] if len(parts) > 1 else ""
    rest = rest.strip()
    kind = ""
    k = _KIND_WORD.match(rest)
    if k and (k.end() == len(rest) or rest[k.end()] in " \t\n:：,，"):
        kind, rest = k.group(1), rest[k.end():].strip(" \t\n:：,，")
    if not kind:
        named = {w for w in CASE_KINDS[:3] if w in title or w in rest}
        kind = named.pop() if len(named) == 1 else "其他"
    return Draft(title, kind, rest)


def _check(d: Draft, files: tuple[StoredFile, ...]) -> None:
    if not d.title:
        raise InvalidInput("请写明案例标题", log="case without title")
    if len(d.title) > MAX_TITLE:
        raise InvalidInput(f"案例标题太长（最多 {MAX_TITLE} 字）", log="case title too long")
    if len(d.text) > MAX_TEXT:
        raise InvalidInput("案例内容太长（最多 2 万字），请以附件形式报送", log="case text too long")
    if not d.text and not files:
        raise InvalidInput("请写明案例内容，或附上案例材料文件", log="case without text or files")
    if d.kind not in CASE_KINDS:
        raise InvalidInput(f"案例类型应为{'、'.join(CASE_KINDS)}之一", log=f"bad case kind {d.kind!r}")


def submit(conn: Connection, env: ServiceEnv, draft: Draft, *, unit_id: int,
           person_id: int | None, files: tuple[StoredFile, ...] = (), now: datetime,
           source_chat: str | None = None, channel: str = "chat", task_id: int | None = None
           ) -> CaseInfo:
    """Store a case and its files (the year is the local year it arrived)."""
    _check(draft, files)
    unit = conn.execute(select(Unit.name).where(Unit.id == unit_id)).scalar_one()
    cid = conn.execute(insert(Case).returning(Case.id), {
        "unit_id": unit_id, "person_id": person_id, "task_id": task_id,
        "year": env.local(now).year, "title": draft.title, "kind": draft.kind,
        "text": draft.text, "status": "submitted", "channel": channel,
        "source_chat": source_chat, "created_at": now,
        "search_title": case_search.index_words(draft.title),
        "search_body": case_search.index_words(f"{unit} {draft.kind} {draft.text}"),
    }).scalar_one()
    if files:
        conn.execute(insert(CaseFile), [
            {"case_id": cid, "name": f.name, "sha256": f.sha256, "size": f.size, "path": f.path,
             "created_at": now} for f in files])
    return get(conn, int(cid))


# ------------------------------------------------------------------------------- reading


def _query() -> Select[Any]:
    q = (select(Case.id, Case.unit_id, Unit.name.label("unit"), Person.name.label("author"),
                   Case.year, Case.title, Case.kind, Case.text, Case.status, Case.reason,
                   Case.created_at, Case.reviewed_at, Case.source_chat, Case.task_id)
            .join(Unit, Unit.id == Case.unit_id).outerjoin(Person, Person.id == Case.person_id))
    return cast("Select[Any]", q)  # 14 columns: beyond the typed overloads


def _files(conn: Connection, ids: list[int]) -> dict[int, tuple[StoredFile, ...]]:
    out: dict[int, list[StoredFile]] = {}
    if ids:
        for r in conn.execute(select(CaseFile).where(CaseFile.case_id.in_(ids))
                              .order_by(CaseFile.id)):
            out.setdefault(r.case_id, []).append(StoredFile(r.name, r.sha256, r.size, r.path))
    return {k: tuple(v) for k, v in out.items()}


def _infos(conn: Connection, rows: list[Row[Any]]) -> list[CaseInfo]:
    files = _files(conn, [r.id for r in rows])
    return [CaseInfo(r.id, r.unit_id, r.unit, r.author or "", r.year, r.title, r.kind, r.text,
                     r.status, r.reason, r.created_at, r.reviewed_at, r.source_chat, r.task_id,
                     files.get(r.id, ())) for r in rows]


def get(conn: Connection, case_id: int) -> CaseInfo:
    rows = list(conn.execute(_query().where(Case.id == case_id)))
    if not rows:
        raise NotFound(f"没有编号为 {case_id} 的案例", log=f"unknown case {case_id}")
    return _infos(conn, rows)[0]


def file_of(conn: Connection, case_id: int, file_id: int) -> StoredFile:
    r = conn.execute(select(CaseFile).where(CaseFile.id == file_id,
                                            CaseFile.case_id == case_id)).first()
    if r is None:
        raise NotFound("没有这个案例文件", log=f"unknown case file {case_id}/{file_id}")
    return StoredFile(r.name, r.sha256, r.size, r.path)


def file_ids(conn: Connection, case_id: int) -> list[int]:
    return list(conn.execute(select(CaseFile.id).where(CaseFile.case_id == case_id)
                             .order_by(CaseFile.id)).scalars())


def _filters(*, year: int | None, status: str | None, unit_id: int | None,
             kind: str | None, visible_units: set[int] | None = None
             ) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if year is not None:
        where.append(Case.year == year)
    if status:
        if status not in STATUSES:
            raise InvalidInput(f"案例状态应为{'、'.join(STATUSES)}之一", log=f"bad status {status!r}")
        where.append(Case.status == status)
    if unit_id is not None:
        where.append(Case.unit_id == unit_id)
    if kind:
        if kind not in CASE_KINDS:
            raise InvalidInput(f"案例类型应为{'、'.join(CASE_KINDS)}之一", log=f"bad kind {kind!r}")
        where.append(Case.kind == kind)
    if visible_units is not None:
        # Anyone sees the selected cases; a unit's other cases only its own people (and admins).
        where.append((Case.status == "selected") | Case.unit_id.in_(sorted(visible_units)))
    return where


def list_cases(conn: Connection, *, year: int | None = None, status: str | None = None,
               unit_id: int | None = None, kind: str | None = None,
               visible_units: set[int] | None = None, after_id: int | None = None,
               limit: int = DEFAULT_LIMIT) -> list[CaseInfo]:
    """Cases in id order, from after ``after_id`` (the page cursor), at most ``limit``."""
    where = _filters(year=year, status=status, unit_id=unit_id, kind=kind,
                     visible_units=visible_units)
    if after_id is not None:
        where.append(Case.id > after_id)
    limit = max(1, min(limit, MAX_LIMIT))
    return _infos(conn, list(conn.execute(_query().where(*where).order_by(Case.id).limit(limit))))


def count(conn: Connection, *, year: int | None = None, status: str | None = None,
          unit_ids: set[int] | None = None, kind: str | None = None) -> int:
    where = _filters(year=year, status=status, unit_id=None, kind=kind)
    if unit_ids is not None:
        where.append(Case.unit_id.in_(sorted(unit_ids)))
    return int(conn.execute(select(func.count(Case.id)).where(*where)).scalar_one())


@dataclass(frozen=True, slots=True)
class Found:
    total: int  # every case that fits
    shown: tuple[CaseInfo, ...]  # the newest first, at most ``limit``


def find(conn: Connection, *, year: int | None = None, status: str | None = None,
         unit_ids: set[int] | None = None, kind: str | None = None,
         visible_units: set[int] | None = None, limit: int = 10) -> Found:
    """Cases by filters, as a question in chat asks for them ("今年入选了几个案例", "郑州报了哪些
    案例"): how many fit and the newest of them. ``visible_units``: as in :func:`list_cases`."""
    where = _filters(year=year, status=status, unit_id=None, kind=kind,
                     visible_units=visible_units)
    if unit_ids is not None:
        where.append(Case.unit_id.in_(sorted(unit_ids)))
    total = int(conn.execute(select(func.count(Case.id)).where(*where)).scalar_one())
    rows = list(conn.execute(_query().where(*where).order_by(Case.id.desc())
                             .limit(max(1, min(limit, MAX_LIMIT)))))
    return Found(total, tuple(_infos(conn, rows)))


@dataclass(frozen=True, slots=True)
class SearchResult:
    words: tuple[str, ...]
    hits: tuple[CaseInfo, ...]  # best first
    total: int


def search(conn: Connection, query: str, *, year: int | None = None, status: str | None = None,
           unit_id: int | None = None, kind: str | None = None,
           visible_units: set[int] | None = None, limit: int = 10) -> SearchResult:
    """Cases holding every word of ``query``, best first (bot/services/case_search.py)."""
    words = case_search.query_words(query)
    where = _filters(year=year, status=status, unit_id=unit_id, kind=kind,
                     visible_units=visible_units)
    hits, total = case_search.matches(conn, words, where=where, limit=max(1, min(limit, 100)))
    if not hits:
        return SearchResult(tuple(words), (), total)
    by_id = {c.id: c for c in _infos(conn, list(conn.execute(
        _query().where(Case.id.in_([h.case_id for h in hits])))))}
    return SearchResult(tuple(words), tuple(by_id[h.case_id] for h in hits), total)


def selected_records(conn: Connection, year: int) -> list[CaseRecord]:
    """The year's selected cases for the compilation (案例汇编), in the order they came in."""
    rows = conn.execute(_query().where(Case.year == year, Case.status == "selected")
                        .order_by(Case.id))
    return [CaseRecord(r.title, r.unit, r.kind, r.text or r.title) for r in rows]


# ------------------------------------------------------------------------------- reviewing


@dataclass(frozen=True, slots=True)
class Reviewed:
    case: CaseInfo
    collection_task: int | None  # the 典型案例收集 instance this selection satisfied, if any


def select_case(conn: Connection, env: ServiceEnv, case_id: int, *, reviewer_id: int | None,
                now: datetime) -> Reviewed:
    """入选: a submitted (or returned) case is selected; it counts as the unit's collection."""
    info = get(conn, case_id)
    if info.status == "selected":
        raise Conflict(f"案例#{case_id} 已经入选", log=f"case {case_id} selected twice")
    conn.execute(update(Case).where(Case.id == case_id).values(
        status="selected", reason=None, reviewed_by=reviewer_id, reviewed_at=now))
    task_id = _count_collection(conn, env, get(conn, case_id), reviewer_id, now)
    return Reviewed(get(conn, case_id), task_id)


def return_case(conn: Connection, case_id: int, *, reason: str, reviewer_id: int | None,
                now: datetime) -> Reviewed:
    """退回 with a reason: a submitted case, or a selected one taken back out."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("请写明退回原因，例如：退回 案例#3 事实部分不够完整",
                           log="case return without reason")
    info = get(conn, case_id)
    if info.status == "returned":
        raise Conflict(f"案例#{case_id} 已经退回", log=f"case {case_id} returned twice")
    conn.execute(update(Case).where(Case.id == case_id).values(
        status="returned", reason=reason, reviewed_by=reviewer_id, reviewed_at=now))
    return Reviewed(get(conn, case_id), None)


def _count_collection(conn: Connection, env: ServiceEnv, case: CaseInfo,
                      reviewer_id: int | None, now: datetime) -> int | None:
    """Satisfy the unit's yearly case-collection instance with this selected case, if there is
    one it still owes (or one waiting for review). Returns the task's id when it did."""
    row = conn.execute(
        select(Task.id, TaskUnit.state)
        .join(Series, Series.id == Task.series_id)
        .join(TaskUnit, and_(TaskUnit.task_id == Task.id, TaskUnit.unit_id == case.unit_id))
        .where(Series.kind == "cases", Task.period == str(case.year), Task.status == "open")
        .order_by(Task.id).limit(1)).first()
    if row is None or row.state == "accepted":
        return None
    sid: int | None
    if row.state == "received":
        sid = conn.execute(select(TaskUnit.last_submission_id).where(
            TaskUnit.task_id == row.id, TaskUnit.unit_id == case.unit_id)).scalar_one()
    else:
        sid = subs_svc.submit(conn, task_id=row.id, unit_id=case.unit_id, person_id=None,
                              text=f"典型案例《{case.title}》（案例#{case.id}）入选",
                              files=case.files, now=now, channel="case").id
    if sid is None:
        return None
    subs_svc.review(conn, sid, accept=True, rating="良", reason=None, reviewer_id=reviewer_id,
                    now=now)
    refresh_task_unit_flag(conn, env, row.id, case.unit_id, now)
    return int(row.id)


def unit_notice(c: CaseInfo) -> str:
    """What the unit is told in its group when its case is selected or returned."""
    if c.status == "selected":
        return f"{c.unit}报送的典型案例《{c.title}》（案例#{c.id}）已入选{c.year}年度典型案例"
    return (f"{c.unit}报送的典型案例《{c.title}》（案例#{c.id}）已退回：{c.reason}。"
            "请修改完善后重新报送")


def tell_unit(conn: Connection, c: CaseInfo, now: datetime) -> bool:
    """Queue :func:`unit_notice` to the chat the case came from (the board's and the CLI's way;
    chat handlers answer through their context). False when it came from no chat."""
    if not c.source_chat:
        return False
    outbox_svc.enqueue_many(conn, [(OutgoingMessage.text(ChatRef.parse(c.source_chat),
                                                          unit_notice(c)),
                                    "notify", f"case:{c.id}", None)], now=now)
    return True
