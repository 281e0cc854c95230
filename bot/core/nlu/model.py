"""Public value types of the language layer: what the parser knows and what it answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from .frame import Query


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
    SUBMIT = "submit"
    QUERY = "query"  # any question: see Parse.query (进度, 谁没交, 我的任务, 红旗榜, 近期要交…)
    DYNAMIC = "dynamic"
    ACK = "ack"
    PUBLISH_TASK = "publish_task"
    ACCEPT = "accept"
    RETURN = "return"
    NOTICE = "notice"
    REMIND = "remind"  # 催一下没交的 / 提醒没确认的: urge units now
    INNOVATION = "innovation"
    INCIDENT = "incident"
    BULLETIN_DRAFT = "bulletin_draft"
    BULLETIN_PUBLISH = "bulletin_publish"
    EXTEND = "extend"  # 延期 任务 至 日期 / 截止时间改成…: task_ids, deadline
    CANCEL_TASK = "cancel_task"  # 撤销任务 编号 原因: task_ids, body (the reason)
    CONFIRM = "confirm"  # 是 / 对 / 嗯: the answer to a question the bot asked
    DENY = "deny"  # 不是 / 不是，是开封: a correction may follow
    CASES = "cases"  # 今年入选了几个案例 / 郑州报了哪些案例 / 有没有关于行政调解的案例: Parse.query
    SITES = "sites"  # 今年有几个示范点 / 郑州的示范点: the year's list, a unit's candidates
    RECTIFICATIONS = "rectifications"  # 郑州的整改完成了没 / 开封还有哪些整改没完成
    RECTIFY_ACTION = "rectify_action"  # 整改#R3 … / 确认整改#R3 / 退回整改#R3 …: the commands
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
    query: Query | None = None  # a question, read as filters over a subject
    follow_up: bool = False  # "那开封呢": completes the previous question
    # A name that matched nothing ("绑定 火星市"): what to offer the closest names for.
    unknown_name: str = ""
    # REMIND: what to urge about, "task" (units that owe) or "notice" (units that have not
    # acknowledged).
    ref: str = ""
    # A task named by a fragment that fits several ("总结": 年度培训总结, 半年工作总结): the
    # candidates, for the question back that asks which (task_ids stays empty).
    choices: tuple[int, ...] = ()
    # The question back (``clarify``) asks whether this very parse is meant ("您是想查询郑州市的
    # 进度吗？", "您是想催办…吗？"): 是 answers it as read, without the question.
    confirm: bool = False
