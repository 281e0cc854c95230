"""Public value types of the language layer: what the parser knows and what it answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


@dataclass(frozen=True)
class UnitName:
    """A unit as the parser needs it: how people may call it."""

    id: int
    name: str
    short_name: str
    aliases: tuple[str, ...]
    kind: str  # city | county | department | central | office


@dataclass(frozen=True)
class TaskName:
    id: int
    title: str
    due: date | None = None


@dataclass(frozen=True)
class Vocabulary:
    units: tuple[UnitName, ...]
    tasks: tuple[TaskName, ...]


class Intent(StrEnum):
    HELP = "help"
    BIND = "bind"
    MY_TASKS = "my_tasks"
    SUBMIT = "submit"
    STATUS = "status"
    MISSING = "missing"
    FLAGS = "flags"
    FLAG_BOARD = "flag_board"
    DYNAMIC = "dynamic"
    ACK = "ack"
    WHO_NOT_ACKED = "who_not_acked"
    PUBLISH_TASK = "publish_task"
    ACCEPT = "accept"
    RETURN = "return"
    NOTICE = "notice"
    INNOVATION = "innovation"
    INCIDENT = "incident"
    BULLETIN_DRAFT = "bulletin_draft"
    BULLETIN_PUBLISH = "bulletin_publish"
    DUE_SOON = "due_soon"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Parse:
    """What a message asks. The parser never answers: the database does."""

    intent: Intent
    confidence: float
    canonical: bool
    unit_ids: tuple[int, ...] = ()
    task_ids: tuple[int, ...] = ()
    submission_id: int | None = None
    rating: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    deadline: datetime | None = None
    scope: str | None = None
    body: str = ""
    my_unit: bool = False
    clarify: str | None = None
