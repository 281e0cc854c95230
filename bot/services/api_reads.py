"""Records as the JSON API lists them (``/api/v1/…``), one page at a time.

Every list is read in id order after a given id (keyset paging): a page never repeats or skips a
record because others were added meanwhile — new records have larger ids and appear on a later
page. Each ``list_*`` takes ``after`` (the last id the caller has, or None) and ``limit`` and
returns at most ``limit`` records; the web layer asks for one more to know whether a next page
exists. The record types are plain dataclasses: the API derives its OpenAPI schemas from their
fields (bot/web/apispec.py), so a field added here is documented at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Integer, Select, func, select

from bot.domain.errors import NotFound
from bot.services import cases, rectifications, sites
from bot.services.cases import CaseInfo
from bot.services.rectifications import RectInfo
from bot.services.sites import SiteInfo
from storage.models import (
    Attachment,
    Flag,
    Notice,
    NoticeAck,
    Person,
    Submission,
    Task,
    TaskUnit,
    Unit,
)

_SUBMITTED = ("received", "accepted")
T = TypeVar("T")
SelectT = TypeVar("SelectT", bound=Select)  # type: ignore[type-arg]


@dataclass(frozen=True, slots=True)
class UnitRecord:
    id: int
    code: str
    name: str
    short_name: str
    kind: str
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class TaskRecord:
    id: int
    title: str
    due: datetime
    system: str
    status: str
    period: str | None
    submitted: int  # units that have submitted (received or accepted)
    units: int  # units the task is assigned to


@dataclass(frozen=True, slots=True)
class AttachmentRecord:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class SubmissionRecord:
    id: int
    task_id: int
    task: str
    unit_id: int
    unit: str
    submitter: str
    text: str
    status: str
    rating: str | None
    version: int
    late: bool
    review_reason: str | None
    submitted_at: datetime
    attachments: list[AttachmentRecord]


@dataclass(frozen=True, slots=True)
class FlagRecord:
    id: int
    unit_id: int
    unit: str
    task_id: int | None
    period: str | None
    color: str
    reason: str
    source: str
    current: bool
    set_at: datetime


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    id: int
    text: str
    targets: str
    created_at: datetime
    acknowledged_units: int  # units one of whose people replied 收到


@dataclass(frozen=True, slots=True)
class AckRecord:
    id: int
    notice_id: int
    unit_id: int
    unit: str
    person: str
    at: datetime


def _page(q: SelectT, id_col: Any, after: int | None, limit: int) -> SelectT:
    if after is not None:
        q = q.where(id_col > after)
    return q.order_by(id_col).limit(limit)


def _one(items: list[T], what: str, record_id: int) -> T:
    if not items:
        raise NotFound(f"没有编号为 {record_id} 的{what}", log=f"api: no {what} {record_id}")
    return items[0]


# ---------------------------------------------------------------- units


def list_units(conn: Connection, *, after: int | None, limit: int,
               kind: str | None = None, unit_id: int | None = None) -> list[UnitRecord]:
    q = (select(Unit.id, Unit.code, Unit.name, Unit.short_name, Unit.kind, Unit.parent_id)
         .where(Unit.active.is_(True)))  # as the roster lists them (units.list_units)
    if kind:
        q = q.where(Unit.kind == kind)
    if unit_id is not None:
        q = q.where(Unit.id == unit_id)
    return [UnitRecord(r.id, r.code, r.name, r.short_name or "", r.kind, r.parent_id)
            for r in conn.execute(_page(q, Unit.id, after, limit))]


# ---------------------------------------------------------------- tasks


def list_tasks(conn: Connection, *, after: int | None, limit: int, status: str | None = None,
               task_id: int | None = None) -> list[TaskRecord]:
    submitted = func.sum(TaskUnit.state.in_(_SUBMITTED).cast(Integer))
    q = (select(Task.id, Task.title, Task.due, Task.system, Task.status, Task.period,
                submitted.label("done"), func.count(TaskUnit.unit_id).label("total"))
         .outerjoin(TaskUnit, TaskUnit.task_id == Task.id)
         .group_by(Task.id, Task.title, Task.due, Task.system, Task.status, Task.period))
    if status:
        q = q.where(Task.status == status)
    if task_id is not None:
        q = q.where(Task.id == task_id)
    return [TaskRecord(r.id, r.title, r.due, r.system, r.status, r.period, int(r.done or 0),
                       int(r.total)) for r in conn.execute(_page(q, Task.id, after, limit))]


def get_task(conn: Connection, task_id: int) -> TaskRecord:
    return _one(list_tasks(conn, after=None, limit=1, task_id=task_id), "任务", task_id)


# ---------------------------------------------------------------- submissions


def list_submissions(conn: Connection, *, after: int | None, limit: int,
                     task: int | None = None, unit: int | None = None,
                     since: datetime | None = None,
                     submission_id: int | None = None) -> list[SubmissionRecord]:
    q = (select(Submission, Task.title, Unit.name.label("unit_name"), Person.name.label("pname"))
         .join(Task, Task.id == Submission.task_id)
         .join(Unit, Unit.id == Submission.unit_id)
         .outerjoin(Person, Person.id == Submission.person_id))
    if task is not None:
        q = q.where(Submission.task_id == task)
    if unit is not None:
        q = q.where(Submission.unit_id == unit)
    if since is not None:
        q = q.where(Submission.submitted_at >= since)
    if submission_id is not None:
        q = q.where(Submission.id == submission_id)
    rows = conn.execute(_page(q, Submission.id, after, limit)).all()
    files: dict[int, list[AttachmentRecord]] = {}
    if rows:
        for a in conn.execute(select(Attachment.submission_id, Attachment.name, Attachment.sha256,
                                     Attachment.size)
                              .where(Attachment.submission_id.in_([r.id for r in rows]))
                              .order_by(Attachment.id)):
            files.setdefault(a.submission_id, []).append(
                AttachmentRecord(a.name, a.sha256, a.size))
    return [SubmissionRecord(r.id, r.task_id, r.title, r.unit_id, r.unit_name, r.pname or "",
                             r.text, r.status, r.rating, r.version, r.late, r.review_reason,
                             r.submitted_at, files.get(r.id, [])) for r in rows]


def get_submission(conn: Connection, submission_id: int) -> SubmissionRecord:
    return _one(list_submissions(conn, after=None, limit=1, submission_id=submission_id),
                "提交", submission_id)


# ---------------------------------------------------------------- flags


def list_flags(conn: Connection, *, after: int | None, limit: int, unit: int | None = None,
               task: int | None = None, current: bool | None = None) -> list[FlagRecord]:
    q = (select(Flag, Unit.name.label("unit_name")).join(Unit, Unit.id == Flag.unit_id))
    if unit is not None:
        q = q.where(Flag.unit_id == unit)
    if task is not None:
        q = q.where(Flag.task_id == task)
    if current is not None:
        q = q.where(Flag.current.is_(current))
    return [FlagRecord(r.id, r.unit_id, r.unit_name, r.task_id, r.period, r.color, r.reason,
                       r.source, bool(r.current), r.set_at)
            for r in conn.execute(_page(q, Flag.id, after, limit))]


# ---------------------------------------------------------------- notices


def list_notices(conn: Connection, *, after: int | None, limit: int,
                 notice_id: int | None = None) -> list[NoticeRecord]:
    acked = (select(func.count(func.distinct(NoticeAck.unit_id)))
             .where(NoticeAck.notice_id == Notice.id).scalar_subquery())
    q = select(Notice.id, Notice.text, Notice.targets, Notice.created_at, acked.label("acked"))
    if notice_id is not None:
        q = q.where(Notice.id == notice_id)
    return [NoticeRecord(r.id, r.text, r.targets, r.created_at, int(r.acked or 0))
            for r in conn.execute(_page(q, Notice.id, after, limit))]


def get_notice(conn: Connection, notice_id: int) -> NoticeRecord:
    return _one(list_notices(conn, after=None, limit=1, notice_id=notice_id), "通知", notice_id)


def list_acks(conn: Connection, *, after: int | None, limit: int,
              notice_id: int) -> list[AckRecord]:
    get_notice(conn, notice_id)  # an unknown notice is a 404, not an empty list
    q = (select(NoticeAck.id, NoticeAck.notice_id, NoticeAck.unit_id, NoticeAck.at,
                Unit.name.label("unit_name"), Person.name.label("pname"))
         .join(Unit, Unit.id == NoticeAck.unit_id)
         .join(Person, Person.id == NoticeAck.person_id)
         .where(NoticeAck.notice_id == notice_id))
    return [AckRecord(r.id, r.notice_id, r.unit_id, r.unit_name, r.pname or "", r.at)
            for r in conn.execute(_page(q, NoticeAck.id, after, limit))]


# ---------------------------------------------------------------- typical cases


def list_cases(conn: Connection, *, after: int | None, limit: int, year: int | None = None,
               status: str | None = None, unit: int | None = None,
               kind: str | None = None) -> list[CaseInfo]:
    """Every case (the API is an admin's view), in id order; the filters as on the board."""
    return cases.list_cases(conn, year=year, status=status, unit_id=unit, kind=kind,
                            after_id=after, limit=limit)


# ---------------------------------------------------------------- demonstration sites, rectification


def list_sites(conn: Connection, *, after: int | None, limit: int, year: int | None = None,
               status: str | None = None, unit: int | None = None) -> list[SiteInfo]:
    return sites.list_sites(conn, year=year, status=status,
                            unit_ids=None if unit is None else {unit}, after_id=after, limit=limit)


def list_rectifications(conn: Connection, *, after: int | None, limit: int,
                        status: str | None = None, unit: int | None = None,
                        check: int | None = None) -> list[RectInfo]:
    return rectifications.list_items(conn, status=status, check_id=check,
                                     unit_ids=None if unit is None else {unit},
                                     after_id=after, limit=limit)
