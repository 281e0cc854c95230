"""The half-year report reminder (半年工作报告; DESIGN §4 "Bulletins").

On the first working day of July (for January–June) and of January (for July–December of the
year before), at ``[schedule] halfyear_time``, the admin groups are told that the half-year
report is due, with the key figures of the half: the tasks whose deadline fell in it, how many
unit assignments were submitted on time, late or not at all, and the flags. It is sent once per
half-year: the ``job_ledger`` row (``halfyear_reminder`` / ``2026-H1``) is claimed in the same
transaction as the messages. A service that was down that morning catches up in working hours
during the month's first ``CATCH_UP_WORKDAYS`` working days; after that the reminder is stale
(the office has long started on the report) and is skipped.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from bot.core.env import ServiceEnv
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.services import ledger
from bot.services import outbox as outbox_svc
from storage.models import Flag, Group, JobLedger, Submission, Task, TaskUnit, Unit

log = logging.getLogger("dudao.halfyear")

JOB = "halfyear_reminder"
KIND = "bulletin"
TOP_UNITS = 10
CATCH_UP_WORKDAYS = 5


@dataclass(frozen=True, slots=True)
class HalfYear:
    year: int
    half: int  # 1: January–June, 2: July–December

    @property
    def period(self) -> str:
        return f"{self.year}-H{self.half}"

    @property
    def label(self) -> str:
        return f"{self.year}年{'上' if self.half == 1 else '下'}半年"

    @property
    def first_day(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end_day(self) -> date:
        """The first day after the half."""
        return date(self.year, 7, 1) if self.half == 1 else date(self.year + 1, 1, 1)


def due_period(env: ServiceEnv, at: datetime) -> HalfYear | None:
    """The half-year whose report reminder is due at ``at`` (not yet knowing if it was sent)."""
    cal = env.calendar
    local = env.local(at)
    if local.month not in (1, 7) or not cal.in_working_hours(at):
        return None
    first = cal.add_workdays(date(local.year, local.month, 1), 0)
    start = datetime.combine(first, env.settings.schedule.halfyear_time, tzinfo=env.tz)
    if at < start or local.date() > cal.add_workdays(first, CATCH_UP_WORKDAYS - 1):
        return None
    return HalfYear(local.year, 1) if local.month == 7 else HalfYear(local.year - 1, 2)


@dataclass(frozen=True, slots=True)
class Figures:
    tasks: int
    assignments: int
    on_time: int
    late: int
    owed: int
    returned: int
    flags: dict[str, int]
    yellow_units: list[tuple[str, int]]


def figures(conn: Connection, env: ServiceEnv, half: HalfYear) -> Figures:
    """Key figures of the tasks whose deadline fell in ``half``."""
    lo = env.calendar.midnight(half.first_day)
    hi = env.calendar.midnight(half.end_day)
    in_half = (Task.due >= lo) & (Task.due < hi)
    tasks = conn.execute(select(func.count()).select_from(Task).where(in_half)).scalar_one()
    counts: Counter[str] = Counter()
    for state, late, n in conn.execute(
        select(TaskUnit.state, Submission.late, func.count())
        .join(Task, Task.id == TaskUnit.task_id)
        .outerjoin(Submission, Submission.id == TaskUnit.last_submission_id)
        .where(in_half).group_by(TaskUnit.state, Submission.late)
    ):
        counts["total"] += n
        if state in ("received", "accepted"):
            counts["late" if late else "on_time"] += n
        else:
            counts[state] += n
    flags = dict(conn.execute(
        select(Flag.color, func.count()).join(Task, Task.id == Flag.task_id)
        .where(in_half, Flag.current.is_(True)).group_by(Flag.color)).all())
    yellow = conn.execute(
        select(Unit.name, func.count().label("n")).join(Flag, Flag.unit_id == Unit.id)
        .join(Task, Task.id == Flag.task_id)
        .where(in_half, Flag.current.is_(True), Flag.color == "yellow")
        .group_by(Unit.name).order_by(func.count().desc(), Unit.name).limit(TOP_UNITS)).all()
    return Figures(int(tasks), counts["total"], counts["on_time"], counts["late"],
                   counts["owed"], counts["returned"], {str(k): int(v) for k, v in flags.items()},
                   [(str(name), int(n)) for name, n in yellow])


def reminder_text(env: ServiceEnv, half: HalfYear, f: Figures) -> str:
    last = date.fromordinal(half.end_day.toordinal() - 1)
    lines = [f"【半年工作报告提醒】{half.label}督导工作报告应着手起草，请组织汇总。",
             f"{half.label}主要数据（{half.first_day.month}月1日—{last.month}月{last.day}日"
             "截止的任务）："]
    if not f.tasks:
        lines.append("· 本半年没有截止的任务。")
    else:
        lines.append(f"· 任务 {f.tasks} 项，涉及单位任务 {f.assignments} 项；")
        lines.append(f"· 已报送 {f.on_time + f.late} 项（按时 {f.on_time}，逾期 {f.late}），"
                     f"未报送 {f.owed} 项，退回待修改 {f.returned} 项；")
        lines.append(f"· 红旗 {f.flags.get('red', 0)} 面，蓝旗 {f.flags.get('blue', 0)} 面，"
                     f"黄旗 {f.flags.get('yellow', 0)} 面；")
        if f.yellow_units:
            names = "、".join(f"{name}（{n}）" for name, n in f.yellow_units)
            lines.append(f"· 黄旗较多的单位：{names}。")
    tail = f"详情见督导看板：{env.board_url}" if env.board_url else "详情见督导看板"
    lines.append(f"{tail}；全年统计可用 dudao export --year {half.year} 导出。")
    return "\n".join(lines)


def remind(conn: Connection, env: ServiceEnv, at: datetime) -> str | None:
    """Send the reminder due at ``at`` once. Returns the period it was sent for, else None."""
    half = due_period(env, at)
    if half is None:
        return None
    got = ledger.insert_new(conn, JobLedger, ("job", "period"),
                            [{"job": JOB, "period": half.period, "at": at}])
    if not got:
        return None  # sent already (this process, another one, or before a restart)
    text = reminder_text(env, half, figures(conn, env, half))
    chats = conn.execute(select(Group.chat, Group.account)
                         .where(Group.purpose == "admin", Group.active.is_(True))
                         .order_by(Group.id)).all()
    if not chats:
        log.warning("half-year report reminder %s: no admin group registered", half.period)
    outbox_svc.enqueue_many(
        conn, [(OutgoingMessage.text(ChatRef.parse(c), text), KIND, f"halfyear:{half.period}", a)
               for c, a in chats], now=at)
    return half.period
