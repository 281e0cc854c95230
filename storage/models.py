"""The database schema: one typed model per record of DESIGN §3.

Repositories use these tables through SQLAlchemy Core statements on a Connection (see
``storage/db.py`` for why). Every time column is UTC (``UTCDateTime``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base

# ---------------------------------------------------------------- units, people, groups


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    short_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), index=True)  # city county department central office
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class UnitAlias(Base):
    __tablename__ = "unit_aliases"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(64), unique=True)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16))  # admin liaison official
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]  # hand-over: the person left the unit, history stays


class Identity(Base):
    """A person's identity on one platform, written ``platform:id`` (``qq:10001``)."""

    __tablename__ = "identities"
    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(128), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]


class Invite(Base):
    """A one-time binding code: for a unit's liaisons, or for one person (official account)."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # unit | person
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    role: Mapped[str] = mapped_column(String(16), default="liaison")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    uses_left: Mapped[int] = mapped_column(Integer, default=1)


class BindRequest(Base):
    """Someone asked to be bound to a unit without a code; an admin approves."""

    __tablename__ = "bind_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    chat: Mapped[str] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending approved rejected
    created_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    chat: Mapped[str] = mapped_column(String(160), unique=True)  # qq:group:40001
    name: Mapped[str] = mapped_column(String(128), default="")
    purpose: Mapped[str] = mapped_column(String(16), default="exchange")  # exchange | admin
    account: Mapped[str | None] = mapped_column(String(64))  # sending account (OneBot self id)
    webhook_key: Mapped[str | None] = mapped_column(String(128))  # WeCom group robot
    per_minute: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class GroupUnit(Base):
    __tablename__ = "group_units"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# ---------------------------------------------------------------- plans, tasks, submissions


class Plan(Base):
    """A yearly work plan: the tasks and series imported from one file, or a preset (四个一)."""

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(300), default="")  # the file name, or the preset
    preset: Mapped[str | None] = mapped_column(String(32))  # 四个一: one plan per preset and year
    created_actor: Mapped[str] = mapped_column(String(128), default="")  # cli:root, person:3
    created_at: Mapped[datetime]

    __table_args__ = (Index("uq_plans_year_preset", "year", "preset", unique=True),)


class Series(Base):
    """A recurring task (DESIGN §3 "Series"): its rule, and where its next instance stands.

    Instance ``k`` (0, 1, …) is due ``shift_months(first_due, k × months)``, or on the last day
    of its period when ``at_period_end``; it is created ``lead_days`` before its period begins
    (bot/domain/recurrence.py). ``next_index`` / ``next_at`` say which instance comes next and
    from when it may be created (None: the series is finished or cancelled), so the minute
    sweep reads only the series that have something to do.
    """

    __tablename__ = "series"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))  # without the period: 调研指导记录
    description: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[str] = mapped_column(Text, default="")  # the plan's 要求
    system: Mapped[str] = mapped_column(String(16), default="supervision")
    rule: Mapped[str] = mapped_column(String(16))  # monthly quarterly half-yearly yearly
    first_due: Mapped[datetime]
    at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    until: Mapped[datetime | None]  # no instance due after it; None: until cancelled
    lead_days: Mapped[int] = mapped_column(Integer)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # a record's required fields
    kind: Mapped[str] = mapped_column(String(16), default="")  # a preset's part: visit seminar…
    reminder_policy: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active cancelled
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(index=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_actor: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime]


class SeriesUnit(Base):
    __tablename__ = "series_units"
    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[str] = mapped_column(Text, default="")
    system: Mapped[str] = mapped_column(String(16), default="supervision")
    due: Mapped[datetime] = mapped_column(index=True)
    reminder_policy: Mapped[str] = mapped_column(String(64), default="")  # "" = configured default
    status: Mapped[str] = mapped_column(String(16), default="open")  # open closed cancelled
    # A series instance: its series and period (2027Q2). The unique key is the claim that makes
    # each instance exist once, however many processes sweep the same minute.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"))
    period: Mapped[str | None] = mapped_column(String(16))
    # Fields a submission must contain ("时间", "地点"…: bot/domain/record_fields.py).
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]
    # A cancelled task (status "cancelled", bot/services/corrections.py): why, and when.
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]

    # The minute sweep reads open tasks by deadline range: (status, due) makes that a range
    # read of what is near, not a walk over every open task (bench/bench_storage.py).
    __table_args__ = (
        Index("ix_tasks_status_due", "status", "due"),
        Index("uq_tasks_series_period", "series_id", "period", unique=True),
    )


class TaskUnit(Base):
    __tablename__ = "task_units"
    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Denormalised submission state of the unit for this task, kept in step by the submission
    # repository, so "who has not submitted" is an indexed lookup instead of an aggregate over
    # every submission.
    state: Mapped[str] = mapped_column(String(16), default="owed")  # owed received accepted returned
    last_submission_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_task_units_task_state", "task_id", "state"),)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="received")
    rating: Mapped[str | None] = mapped_column(String(8))
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reviewed_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    source_chat: Mapped[str | None] = mapped_column(String(160))
    source_message_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("task_id", "unit_id", "version"),)


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    dynamic_id: Mapped[int | None] = mapped_column(
        ForeignKey("dynamics.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime]


# ---------------------------------------------------------------- evaluation


class Flag(Base):
    """A flag on (task, unit) or (period, unit). Rows are never updated: history is kept."""

    __tablename__ = "flags"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    period: Mapped[str | None] = mapped_column(String(16))
    color: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))  # rule override innovation incident
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    set_at: Mapped[datetime]
    # Withdrawn with its task (the task was cancelled): no longer current, kept as history with
    # the reason.
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_flags_unit_task", "unit_id", "task_id"),
        Index("ix_flags_task_current", "task_id", "current"),
    )


class ScoreEntry(Base):
    __tablename__ = "score_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    points: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16))  # innovation incident other
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]


class SpotCheck(Base):
    """A recorded random draw (bot/domain/spot_checks.py): the pool as named and as resolved,
    the seed and the units drawn, so anyone can re-run it and get the same units."""

    __tablename__ = "spot_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    seed: Mapped[str] = mapped_column(String(64))  # recorded so the draw can be audited
    k: Mapped[int] = mapped_column(Integer)
    population: Mapped[list[int]] = mapped_column(JSON)
    drawn: Mapped[list[int]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]
    pool: Mapped[str] = mapped_column(String(300), default="")  # the scope as said: kind:city
    created_actor: Mapped[str] = mapped_column(String(128), default="")  # cli:root, person:3
    findings: Mapped[str] = mapped_column(Text, default="")


class DemoSite(Base):
    """A candidate demonstration site (bot/domain/demo_sites.py) and its year-end result."""

    __tablename__ = "demo_sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # the year-end acceptance's reason
    decided_actor: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None]
    created_actor: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime | None]
    source_chat: Mapped[str | None] = mapped_column(String(160))


# ---------------------------------------------------------------- exchange


class Dynamic(Base):
    __tablename__ = "dynamics"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending published featured
    source_chat: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(index=True)
    published_at: Mapped[datetime | None]


class Notice(Base):
    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    targets: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]
    # Reminder of units that have not acknowledged: "4x2", "none", "" = [schedule] default.
    remind: Mapped[str] = mapped_column(String(16), default="")


class NoticeDelivery(Base):
    __tablename__ = "notice_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    chat: Mapped[str] = mapped_column(String(160))
    outbox_id: Mapped[int | None] = mapped_column(Integer, index=True)


class NoticeAck(Base):
    __tablename__ = "notice_acks"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("notice_id", "person_id"),)


class NoticeReminder(Base):
    """One row per (notice, unit, round) reminded: the unique key makes each go out once."""

    __tablename__ = "notice_reminders"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    round: Mapped[int]
    sent_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("notice_id", "unit_id", "round"),)


class Bulletin(Base):
    __tablename__ = "bulletins"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # weekly halfyear letter
    period: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft published
    created_at: Mapped[datetime]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    published_at: Mapped[datetime | None]


# ---------------------------------------------------------------- messaging and bookkeeping


class InboundMessage(Base):
    """Our own store of messages received: platform ids are short-lived, this is not.

    The unique ``dedupe_key`` also makes a re-delivered event a no-op, even across restarts.
    """

    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    chat: Mapped[str] = mapped_column(String(160))
    sender: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


class OutboxMessage(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    chat: Mapped[str] = mapped_column(String(160))
    account: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply reminder notice alert bulletin
    cause: Mapped[str] = mapped_column(String(64), default="")  # e.g. submission:12, task:3
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending sent failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # How a message offering a file went out: "file" (posted as a file) or "link" (its
    # download link said instead); None for every other message.
    delivered_as: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (
        Index("ix_outbox_state_not_before", "state", "not_before"),
        Index("ix_outbox_chat_platform_message_id", "chat", "platform_message_id"),
    )


class ReminderLedger(Base):
    """One row per reminder sent: the unique key is what makes a reminder go out once."""

    __tablename__ = "reminder_ledger"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    stage: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("task_id", "unit_id", "stage"),)


class JobLedger(Base):
    """Scheduled work done once per period (the half-year report reminder for ``2026H1``)."""

    __tablename__ = "job_ledger"
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("job", "period"),)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))  # person:3, cli:root, system
    channel: Mapped[str] = mapped_column(String(16))  # cli chat web system
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AppToken(Base):
    """Access tokens shared by all processes (WeChat): one refresher at a time by lease."""

    __tablename__ = "app_tokens"
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(600), default="")
    expires_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class WeChatQuota(Base):
    """Calls of one WeChat API made in one period (a Beijing day or month), shared by every
    process so that a quota is never exceeded (``bot/services/api_quota.py``)."""

    __tablename__ = "wechat_quota"
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    api: Mapped[str] = mapped_column(String(16), primary_key=True)  # custom template mass
    period: Mapped[str] = mapped_column(String(16), primary_key=True)  # d20250611, m202506
    used: Mapped[int] = mapped_column(Integer, default=0)
    exhausted: Mapped[bool] = mapped_column(Boolean, default=False)  # WeChat answered 45009


# ---------------------------------------------------------------- web board security


class LoginAttempts(Base):
    """Board login attempts in the current one-minute window of an address or a login name,
    shared by every process. An attempt is reserved here *before* its password is checked, by one
    statement that counts it only while the count stays within the limit
    (``bot/services/login_limits.py``)."""

    __tablename__ = "login_attempts"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # addr:… or login:<sha256>
    window_start: Mapped[datetime] = mapped_column(index=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class WebSession(Base):
    """A signed-in board session (an admin's, or a read-only link viewer's). The browser's cookie
    carries a random token; only its SHA-256 is stored. Logging out deletes the row; a changed
    password no longer matches ``password_tag``; either way the cookie stops working at once."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(8))  # admin viewer
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    password_tag: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


# ---------------------------------------------------------------- official documents


class DocumentRecord(Base):
    """A numbered official document (公文) generated from the records (DESIGN §3 "Document").

    ``content`` is the document itself (``bot.domain.gongwen.Document`` as JSON): issuing prints
    exactly what was drafted and approved, with the number and the date added. ``number`` is
    assigned when the document is issued: the next ``sequence`` of its ``prefix`` in ``year``
    (``document_counters``), never reused.
    """

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # bulletin letter halfyear cases yearly
    title: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)  # letters
    period: Mapped[str] = mapped_column(String(32), default="")  # 2027-W27, 2027H1, 2027
    source: Mapped[str] = mapped_column(String(64), default="")  # e.g. bulletin:12
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft issued
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    prefix: Mapped[str | None] = mapped_column(String(64))
    year: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str | None] = mapped_column(String(96), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_actor: Mapped[str] = mapped_column(String(128))  # person:3, cli:root
    created_at: Mapped[datetime]
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    issued_actor: Mapped[str | None] = mapped_column(String(128))
    issued_at: Mapped[datetime | None]
    path: Mapped[str | None] = mapped_column(String(1024))
    sha256: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("prefix", "year", "sequence"),)


class DocumentCounter(Base):
    """The last sequence issued per (agency code, year): the row an issuing transaction updates
    (and so locks until it commits) to take the next number."""

    __tablename__ = "document_counters"
    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


# ---------------------------------------------------------------- conversations


class Conversation(Base):
    """What the bot last discussed with a person in a chat (bot/services/conversations.py): the
    last question answered (a follow-up such as "那开封呢" completes it) and a clarifying question
    waiting for 是 / 不是 (with the question it would answer). Rows expire; they live in the
    database so that a conversation survives a restart and works across processes."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("chat", "person"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chat: Mapped[str] = mapped_column(String(160))
    person: Mapped[str] = mapped_column(String(128))  # the sender's identity (qq:30001)
    last_query: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_at: Mapped[datetime | None]
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pending_at: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)


# ---------------------------------------------------------------- API tokens


class ApiToken(Base):
    """A bearer token for ``/api/v1/`` (``dudao token add``). The token is shown once; only the
    SHA-256 of its secret part is stored, and the row id in the token finds the row, so checking
    a token is one primary-key read and a constant-time comparison (bot/services/api_tokens.py).
    Revoked rows are kept for the audit trail."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
# ---------------------------------------------------------------- typical cases


class Case(Base):
    """A unit's typical case (典型案例, DESIGN §3 "Case"): submitted by its liaison, selected
    (入选) or returned with a reason by an admin; searchable.

    ``search_title`` and ``search_body`` hold the jieba-segmented words (space separated) that the
    full-text index reads: an FTS5 table kept in sync by triggers on SQLite, a GIN index over
    their ``tsvector`` on PostgreSQL (both made by migration 0007; see
    ``bot/services/case_search.py``)."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))  # a case task replied to
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # 行政指导 行政调解 行政契约 其他
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="submitted")  # submitted selected returned
    reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reviewed_at: Mapped[datetime | None]
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    source_chat: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime]
    search_title: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")


class CaseFile(Base):
    """A file sent with a case: stored by content hash in the file store, as attachments are."""

    __tablename__ = "case_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime]
# ---------------------------------------------------------------- sites, spot checks, rectification


class SiteRecord(Base):
    """One step of a demonstration site's cultivation through the year (a visit, guidance,
    materials); rows are only added."""

    __tablename__ = "site_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("demo_sites.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(String(16))  # visit guidance material note
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]


class Rectification(Base):
    """A finding addressed to a unit (整改): reminded like a task while open or returned."""

    __tablename__ = "rectifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    check_id: Mapped[int | None] = mapped_column(ForeignKey("spot_checks.id"))
    document_id: Mapped[int | None] = mapped_column(Integer)  # a supervision letter's demand
    text: Mapped[str] = mapped_column(Text)
    due: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open reported closed returned
    report: Mapped[str] = mapped_column(Text, default="")
    # The report's files: name, sha256, size, path (stored in the file store, as attachments).
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reported_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was returned
    closed_actor: Mapped[str | None] = mapped_column(String(128))
    closed_at: Mapped[datetime | None]
    created_actor: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_rectifications_status_due", "status", "due"),)


class RectificationReminder(Base):
    """One row per rectification reminder sent: its unique key makes a stage go out once."""

    __tablename__ = "rectification_reminders"
    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(
        ForeignKey("rectifications.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("rectification_id", "stage"),)


# ---------------------------------------------------------------- document deliveries


class DocumentDelivery(Base):
    """An issued document sent to one recipient (a unit's group, an official through the
    official account): which outbox row carries it now. Its status is that row's (pending,
    sent as a file or as a link, failed); a re-send points the row at a new outbox message."""

    __tablename__ = "document_deliveries"
    __table_args__ = (UniqueConstraint("document_id", "chat"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"),
                                             index=True)
    chat: Mapped[str] = mapped_column(String(160))  # qq:group:40001, mp:user:oABC
    label: Mapped[str] = mapped_column(String(128), default="")  # the group's or person's name
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    sends: Mapped[int] = mapped_column(Integer, default=1)  # 1 + re-sends
    created_at: Mapped[datetime]
    last_sent_by: Mapped[str] = mapped_column(String(128), default="")
