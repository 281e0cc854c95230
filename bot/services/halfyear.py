"""The half-year report reminder (半年工作报告; DESIGN §4 "Bulletins").

On the first working day of July (for January–June) and of January (for July–December of the
year before), at ``[schedule] halfyear_time``, the admin groups are told that the half-year
report is due, with the key figures of the half: the tasks whose deadline fell in it, how many
unit assignments were submitted on time, late or not at all, and the flags — the figures of the
half-year report itself (``bot/services/stats.py``), so the reminder, the export and the board
agree. It is sent once per
half-year: the ``job_ledger`` row (``halfyear_reminder`` / ``2026H1``) is claimed in the same
transaction as the messages. A service that was down that morning catches up in working hours
during the month's first ``CATCH_UP_WORKDAYS`` working days; after that the reminder is stale
(the office has long started on the report) and is skipped.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, select

from bot.core.env import ServiceEnv
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.domain.periods import Period
from bot.services import groups as groups_svc
from bot.services import ledger
from bot.services import outbox as outbox_svc
from bot.services import stats as stats_svc
from storage.models import JobLedger

log = logging.getLogger("dudao.halfyear")

JOB = "halfyear_reminder"
KIND = "bulletin"
TOP_UNITS = 10
CATCH_UP_WORKDAYS = 5


def due_period(env: ServiceEnv, at: datetime) -> Period | None:
    """The half-year whose report reminder is due at ``at`` (not yet knowing if it was sent)."""
    cal = env.calendar
    local = env.local(at)
    if local.month not in (1, 7) or not cal.in_working_hours(at):
        return None
    first = cal.add_workdays(date(local.year, local.month, 1), 0)
    start = datetime.combine(first, env.settings.schedule.halfyear_time, tzinfo=env.tz)
    if at < start or local.date() > cal.add_workdays(first, CATCH_UP_WORKDAYS - 1):
        return None
    return Period.of_half(local.year, 1) if local.month == 7 else Period.of_half(local.year - 1, 2)


def figures(conn: Connection, env: ServiceEnv, half: Period, now: datetime
            ) -> stats_svc.HalfYearReport:
    """Key figures of the tasks whose deadline fell in ``half``, as of ``now``.

    They are the half-year report's own (``stats.half_year_report``), counted as the Excel
    export and the board count them: on time means the unit's first version arrived at or
    before the deadline, flags include the period flags (innovation, incident) set in the half.
    """
    return stats_svc.half_year_report(conn, env, half.year, half.index, now=now)


def reminder_text(env: ServiceEnv, r: stats_svc.HalfYearReport) -> str:
    first = r.window.start
    last = r.window.end - timedelta(days=1)
    lines = [f"【半年工作报告提醒】{r.label}督导工作报告应着手起草，请组织汇总。",
             f"{r.label}主要数据（{first.month}月{first.day}日—{last.month}月{last.day}日"
             "截止的任务）："]
    c, flags = r.completion, r.flags
    if not r.tasks:
        lines.append("· 本半年没有截止的任务。")
    else:
        # ``submitted`` counts every assignment with a version in, returned ones included (on
        # time or late by the first version); the returned ones still owe a new version.
        lines.append(f"· 任务 {r.tasks} 项，涉及单位任务 {c.assigned} 项；")
        lines.append(f"· 已报送 {c.submitted} 项（按时 {c.on_time}，逾期 {c.late}），"
                     f"未报送 {c.outstanding - c.returned} 项；已报送的有 {c.returned} 项退回待修改；")
        lines.append(f"· 红旗 {flags.red} 面，蓝旗 {flags.blue} 面，黄旗 {flags.yellow} 面；")
        if r.repeated_yellow:
            names = "、".join(f"{u.name}（{u.count}）" for u in r.repeated_yellow[:TOP_UNITS])
            lines.append(f"· 多次记黄旗的单位（{stats_svc.REPEATED_YELLOW} 面及以上）：{names}。")
    tail = f"详情见督导看板：{env.board_url}" if env.board_url else "详情见督导看板"
    lines.append(f"{tail}；全年统计可用 dudao export --year {r.year} 导出。")
    return "\n".join(lines)


def remind(conn: Connection, env: ServiceEnv, at: datetime) -> str | None:
    """Send the reminder due at ``at`` once. Returns the period it was sent for, else None."""
    half = due_period(env, at)
    if half is None:
        return None
    period = str(half)
    if _sent_before_periods_were_canonical(conn, half):
        return None
    got = ledger.insert_new(conn, JobLedger, ("job", "period"),
                            [{"job": JOB, "period": period, "at": at}])
    if not got:
        return None  # sent already (this process, another one, or before a restart)
    text = reminder_text(env, figures(conn, env, half, at))
    chats = groups_svc.chats(conn, "admin")
    if not chats:
        log.warning("half-year report reminder %s: no admin group registered", period)
    outbox_svc.enqueue_many(
        conn, [(OutgoingMessage.text(ChatRef.parse(c), text), KIND, f"halfyear:{period}", a)
               for c, a in chats], now=at)
    return period


def _sent_before_periods_were_canonical(conn: Connection, half: Period) -> bool:
    """Whether the ledger holds the half in the spelling of earlier versions (``2026-H1``)."""
    legacy = f"{half.year}-H{half.index}"
    return conn.execute(select(JobLedger.id).where(JobLedger.job == JOB,
                                                   JobLedger.period == legacy)).first() is not None
