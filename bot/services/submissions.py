"""Submissions: receive (a new version each time), review (accept with a rating, or return).

The rules are bot/domain/submissions.py's: a version sent while the latest is under review
replaces it (the replaced row is kept, superseded, with its attachments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from bot.core.event import StoredFile
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.record_fields import missing_fields, template
from bot.domain.submissions import (
    SubmissionStatus,
    Submitting,
    check_reviewable,
    is_late,
    submitting,
    verdict,
)
from bot.services.tasks import OwedTask
from storage.models import Attachment, Person, Submission, Task, TaskUnit, Unit

# The assignment's state (task_units.state) names its latest version's status; "owed": none yet.
_LATEST = {"owed": None, "received": SubmissionStatus.RECEIVED,
           "returned": SubmissionStatus.RETURNED, "accepted": SubmissionStatus.ACCEPTED}


@dataclass(frozen=True, slots=True)
class SubmissionInfo:
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
    submitted_at: datetime
    late: bool
    review_reason: str | None = None
    attachments: tuple[StoredFile, ...] = field(default=())
    source_chat: str | None = None  # where it was submitted: the unit is told there
    replaces: int | None = None  # the version under review this correction replaced


# Prebuilt statements of the submission path, which runs for every liaison message: building a
# statement costs about ten times as much as executing a prebuilt one (bench/README.md).
_TARGET = (
    select(Task.title, Task.due, Task.status, TaskUnit.state, Task.fields)
    .join(TaskUnit, (TaskUnit.task_id == Task.id) & (TaskUnit.unit_id == bindparam("unit_id")))
    .where(Task.id == bindparam("task_id"))
    .with_for_update(of=TaskUnit)  # as tasks.owed_by_unit(for_submission=True): take turns
)
# The next version number is computed inside the INSERT: one round trip, and the unique key
# (task, unit, version) still refuses a concurrent duplicate.
_NEXT_VERSION = (
    select(func.coalesce(func.max(Submission.version), 0) + 1)
    .where(Submission.task_id == bindparam("t"), Submission.unit_id == bindparam("u"))
    .scalar_subquery()
)
_INSERT = (
    insert(Submission).values(version=_NEXT_VERSION)
    .returning(Submission.id, Submission.version)
)
_SUPERSEDE = (
    update(Submission)
    .where(Submission.task_id == bindparam("t"), Submission.unit_id == bindparam("u"),
           Submission.status == SubmissionStatus.RECEIVED.value)
    .values(status=SubmissionStatus.SUPERSEDED.value)
    .returning(Submission.version)
)
_MARK_RECEIVED = (
    update(TaskUnit)
    .where(TaskUnit.task_id == bindparam("t"), TaskUnit.unit_id == bindparam("u"))
    .values(state="received", last_submission_id=bindparam("sid"))
)


def submit(conn: Connection, *, task_id: int, unit_id: int, person_id: int | None, text: str,
           files: tuple[StoredFile, ...] = (), now: datetime, channel: str = "chat",
           source_chat: str | None = None, source_message_id: str | None = None,
           owed: OwedTask | None = None) -> SubmissionInfo:
    """Receive a submission: a new version each time, until the unit's work is accepted.

    A version sent while the latest is still under review replaces it (``replaces`` says which).
    ``owed`` is the assignment as the caller read it in this same transaction with
    ``tasks.owed_by_unit`` (which lists only open, not yet accepted work); it spares reading the
    task again on the chat path, where every liaison message goes through here.
    """
    text = text.strip()
    if not text and not files:
        raise InvalidInput("提交内容为空：请在“提交”后写明材料内容，或附上文件",
                           log="empty submission")
    if len(text) > 20000:
        raise InvalidInput("提交的文字太长（最多 2 万字），请以附件形式提交", log="submission too long")
    if owed is not None and owed.task_id == task_id:
        title, due, state, fields = owed.title, owed.due, owed.state, owed.fields
    else:
        title, due, state, fields = _check_target(conn, task_id, unit_id)
    if fields:
        _check_record(title, text, fields)
    replaces = None
    if submitting(_LATEST[state], task=title) is Submitting.CORRECTION:
        replaces = conn.execute(_SUPERSEDE, {"t": task_id, "u": unit_id}).scalar()
    late = is_late(now, due)
    sid, version = conn.execute(
        _INSERT,
        {"t": task_id, "u": unit_id, "task_id": task_id, "unit_id": unit_id,
         "person_id": person_id, "text": text, "status": "received", "submitted_at": now,
         "late": late, "channel": channel, "source_chat": source_chat,
         "source_message_id": source_message_id},
    ).one()
    conn.execute(_MARK_RECEIVED, {"t": task_id, "u": unit_id, "sid": sid})
    if files:
        conn.execute(insert(Attachment), [
            {"submission_id": sid, "name": f.name, "sha256": f.sha256, "size": f.size,
             "path": f.path, "created_at": now} for f in files
        ])
    return SubmissionInfo(sid, task_id, title, unit_id, "", "", text, "received", None,
                          version, now, late, None, files, replaces=replaces)


def _check_record(title: str, text: str, fields: tuple[str, ...]) -> None:
    """A task whose submissions are records (the 四个一 field visit) takes only complete ones:
    the sender is told which fields are missing and given the form to fill in."""
    missing = missing_fields(text, fields)
    if missing:
        raise InvalidInput(
            f"《{title}》的记录需写明{'、'.join(fields)}，还缺：{'、'.join(missing)}。"
            f"请按以下格式补全后重新提交（可附文件）：\n提交 {title}\n{template(fields)}",
            log=f"record without {missing}")


def _check_target(conn: Connection, task_id: int, unit_id: int
                  ) -> tuple[str, datetime, str, tuple[str, ...]]:
    """The task's title, deadline and required fields and the assignment's state, if the task
    is open to it."""
    row = conn.execute(_TARGET, {"task_id": task_id, "unit_id": unit_id}).first()
    if row is None:
        if conn.execute(select(Task.id).where(Task.id == task_id)).first() is None:
            raise NotFound(f"没有编号为 {task_id} 的任务", log=f"submit to unknown task {task_id}")
        raise NotAllowed("本单位不在这项任务的范围内，无需提交", log="submit to a task not assigned")
    if row.status != "open":
        raise Conflict(f"任务“{row.title}”已关闭，不再接收材料", log="submit to closed task")
    return row.title, row.due, row.state, tuple(row.fields or ())


def get(conn: Connection, submission_id: int) -> SubmissionInfo:
    found = list_submissions(conn, submission_id=submission_id)
    if not found:
        raise NotFound(f"没有编号为 #{submission_id} 的提交", log=f"unknown submission {submission_id}")
    return found[0]


def list_submissions(conn: Connection, *, task_id: int | None = None, unit_id: int | None = None,
                     submission_id: int | None = None, limit: int | None = None
                     ) -> list[SubmissionInfo]:
    q = (
        select(Submission, Task.title, Unit.name.label("unit_name"), Person.name.label("pname"))
        .join(Task, Task.id == Submission.task_id)
        .join(Unit, Unit.id == Submission.unit_id)
        .outerjoin(Person, Person.id == Submission.person_id)
    )
    if task_id is not None:
        q = q.where(Submission.task_id == task_id)
    if unit_id is not None:
        q = q.where(Submission.unit_id == unit_id)
    if submission_id is not None:
        q = q.where(Submission.id == submission_id)
    q = q.order_by(Submission.id)
    if limit:
        q = q.limit(limit)
    rows = conn.execute(q).all()
    files: dict[int, list[StoredFile]] = {}
    ids = [r.id for r in rows]
    if ids:
        for a in conn.execute(select(Attachment).where(Attachment.submission_id.in_(ids))):
            files.setdefault(a.submission_id, []).append(
                StoredFile(a.name, a.sha256, a.size, a.path))
    out = []
    for s in rows:
        r = s
        out.append(SubmissionInfo(
            s.id, s.task_id, r.title, s.unit_id, r.unit_name, r.pname or "", s.text, s.status,
            s.rating, s.version, s.submitted_at, s.late, s.review_reason,
            tuple(files.get(s.id, ())), s.source_chat))
    return out


def review(conn: Connection, submission_id: int, *, accept: bool, rating: str | None,
           reason: str | None, reviewer_id: int | None, now: datetime) -> SubmissionInfo:
    """Accept with a rating (优/良/一般) or return with a reason. Only the latest version."""
    sub = get(conn, submission_id)
    grade, why = verdict(accept=accept, rating=rating, reason=reason)
    newest = conn.execute(
        select(func.max(Submission.version))
        .where(Submission.task_id == sub.task_id, Submission.unit_id == sub.unit_id)
    ).scalar_one()
    check_reviewable(SubmissionStatus(sub.status), sub.version, newest, ref=f"#{sub.id}")
    status = "accepted" if accept else "returned"
    conn.execute(
        update(Submission).where(Submission.id == submission_id).values(
            status=status, rating=grade.value if grade else None,
            review_reason=why or None, reviewed_by=reviewer_id, reviewed_at=now)
    )
    conn.execute(
        update(TaskUnit).where(TaskUnit.task_id == sub.task_id, TaskUnit.unit_id == sub.unit_id)
        .values(state=status)
    )
    return get(conn, submission_id)
