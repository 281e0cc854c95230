"""Scheduled jobs: the reminder sweep every minute, the weekly bulletin draft, the daily digest.

Due work is read from our own tables, never from an APScheduler job store: :func:`run_due_jobs`
is a pure function of the database and a moment, so ``dudao tick --at T`` runs exactly what the
scheduler would run at T, and running it twice (or in two processes) does nothing new:
- series instances whose time has come are created first (so a new instance is swept with the
  rest), each claimed by its task's unique (series, period) key (bot/services/series.py);
- the sweep claims each (task, unit, stage) in ``reminder_ledger`` (bot/services/reminders.py);
- the weekly draft runs at/after ``bulletin_time`` on ``bulletin_weekday`` (or later that ISO week,
  catching up after downtime) unless a weekly bulletin exists for the week (``2026-W27``);
- the digest runs once a day at/after ``digest_time``, recorded in the audit log
  (``schedule.digest`` / ``digest:2026-07-10``) whether or not it had anything to say;
- notice reminders claim each (notice, unit, round) in ``notice_reminders``
  (bot/services/notice_reminders.py);
- the half-year report reminder claims its period (``2026H1``) in ``job_ledger``
  (bot/services/halfyear.py) on the first working day of January and July;
- letter proposals run once a day at/after ``digest_time``: a unit meeting the rule for a
  督导建议书 gets a draft letter and the admin groups are told, once per unit and ISO week
  (``job_ledger`` ``letter_proposal`` / ``2026-W28:u3``; bot/services/letter_proposals.py);
  nothing is issued;
- the daily backup (``[backup] enabled``) claims its day (``2026-12-01``) in ``job_ledger`` at or
  after ``[backup] at`` (bot/services/backup_job.py) and runs last, off the event loop and
  outside any transaction; a failure is logged and told to the admin groups.
On PostgreSQL the two "once per period" jobs take a transaction-level advisory lock, so two
schedulers checking at the same moment cannot both draft; SQLite serialises writers anyway.

Each job runs in its own transaction; a failing job is logged with its name, reported in
``JobReport.errors`` and does not stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Connection

from bot.core.database import Database
from bot.core.env import ServiceEnv
from bot.domain.errors import DomainError
from bot.services import backup_job, letter_proposals, periodic
from bot.services import bulletins as bulletins_svc
from bot.services import halfyear as halfyear_svc
from bot.services import series as series_svc
from bot.services.notice_reminders import NoticeSweepResult, sweep_notice_reminders
from bot.services.rectify_reminders import RectSweepResult
from bot.services.rectify_reminders import sweep as sweep_rectifications
from bot.services.reminders import SweepResult, sweep_reminders

log = logging.getLogger("dudao.scheduler")

JOB_SERIES = "series_instances"
JOB_SWEEP = "reminder_sweep"
JOB_RECTIFY = "rectification_reminders"
JOB_WEEKLY = "weekly_bulletin"
JOB_DIGEST = "daily_digest"
JOB_NOTICES = "notice_reminders"
JOB_HALFYEAR = "halfyear_reminder"
JOB_BACKUP = backup_job.JOB
JOB_LETTERS = letter_proposals.JOB
FULL_FLAG_CHECK = timedelta(hours=1)
FLAG_MARGIN = timedelta(minutes=5)


@dataclass(slots=True)
class JobReport:
    at: datetime
    ran: list[str] = field(default_factory=list)  # jobs that ran and did their work this time
    errors: dict[str, str] = field(default_factory=dict)  # job name → error
    instances: list[series_svc.Created] | None = None  # series instances created this run
    sweep: SweepResult | None = None
    notices: NoticeSweepResult | None = None
    rectify: RectSweepResult | None = None
    halfyear: str | None = None  # the period whose report reminder this run sent
    bulletin_id: int | None = None
    digest_id: int | None = None
    letters: list[letter_proposals.Proposed] | None = None  # letter drafts proposed this run
    backup: str | None = None  # the archive the daily backup wrote this run

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        parts = [f"at {self.at.isoformat()}: ran {', '.join(self.ran) or 'nothing'}"]
        if self.instances:
            parts.append(f"{len(self.instances)} series instances created")
        if self.sweep is not None:
            parts.append(f"{len(self.sweep.claimed)} reminders in {self.sweep.messages} messages")
        if self.notices is not None and self.notices.claimed:
            parts.append(f"{len(self.notices.claimed)} notice reminders in "
                         f"{self.notices.messages} messages")
        if self.rectify is not None and self.rectify.claimed:
            parts.append(f"{len(self.rectify.claimed)} rectification reminders in "
                         f"{self.rectify.messages} messages")
        if self.halfyear is not None:
            parts.append(f"half-year reminder {self.halfyear}")
        if self.bulletin_id is not None:
            parts.append(f"bulletin draft {self.bulletin_id}")
        if self.digest_id is not None:
            parts.append(f"digest {self.digest_id}")
        if self.letters:
            parts.append("letters proposed: " + ", ".join(
                f"document {p.document_id} for unit {p.unit_id}" for p in self.letters))
        if self.backup is not None:
            parts.append(f"backup {self.backup}")
        if self.errors:
            parts.append("errors: " + "; ".join(f"{k}: {v}" for k, v in self.errors.items()))
        return ", ".join(parts)


# ---------------------------------------------------------------------------------- due checks


def weekly_due_from(env: ServiceEnv, at: datetime) -> datetime:
    """The moment this ISO week's bulletin draft becomes due."""
    sched = env.settings.schedule
    monday = bulletins_svc.week_start(env, at).date()
    day = monday + timedelta(days=sched.bulletin_weekday_index)
    return datetime.combine(day, sched.bulletin_time, tzinfo=env.tz)


def digest_due_from(env: ServiceEnv, at: datetime) -> datetime:
    return datetime.combine(env.local(at).date(), env.settings.schedule.digest_time, tzinfo=env.tz)


# ---------------------------------------------------------------------------------- running


async def run_due_jobs(db: Database, env: ServiceEnv, at: datetime, *,
                       flags_since: datetime | None = None) -> JobReport:
    """Run exactly the jobs due at ``at``, each in its own transaction.

    ``flags_since`` bounds the passed-deadline check of the sweep (see ``sweep_reminders``);
    None, the default (and what ``dudao tick`` uses), checks every open task.
    """
    report = JobReport(at)

    async def attempt(name: str, fn: Callable[[Connection], Any]) -> tuple[bool, Any]:
        try:
            return True, await db.run(fn)
        except Exception as exc:  # one job's failure must not stop the others
            log.exception("scheduled job %s failed at %s", name, at.isoformat())
            report.errors[name] = f"{type(exc).__name__}: {exc}"
            return False, None

    ok, report.instances = await attempt(
        JOB_SERIES, lambda conn: series_svc.materialise(conn, env, at))
    if ok and report.instances:
        report.ran.append(JOB_SERIES)
    ok, report.sweep = await attempt(
        JOB_SWEEP, lambda conn: sweep_reminders(conn, env, at, flags_since=flags_since))
    if ok:
        report.ran.append(JOB_SWEEP)
    ok, report.notices = await attempt(
        JOB_NOTICES, lambda conn: sweep_notice_reminders(conn, env, at))
    if ok and report.notices is not None and report.notices.claimed:
        report.ran.append(JOB_NOTICES)
    ok, report.rectify = await attempt(
        JOB_RECTIFY, lambda conn: sweep_rectifications(conn, env, at))
    if ok and report.rectify is not None and report.rectify.claimed:
        report.ran.append(JOB_RECTIFY)
    if halfyear_svc.due_period(env, at) is not None:
        ok, report.halfyear = await attempt(
            JOB_HALFYEAR, lambda conn: halfyear_svc.remind(conn, env, at))
        if ok and report.halfyear is not None:
            report.ran.append(JOB_HALFYEAR)
    if at >= weekly_due_from(env, at):
        ok, report.bulletin_id = await attempt(
            JOB_WEEKLY, lambda conn: periodic.weekly_draft(conn, env, at))
        if ok and report.bulletin_id is not None:
            report.ran.append(JOB_WEEKLY)
    if at >= digest_due_from(env, at):
        ok, outcome = await attempt(JOB_DIGEST, lambda conn: periodic.daily_digest(conn, env, at))
        if ok and outcome[0]:
            report.ran.append(JOB_DIGEST)
            report.digest_id = outcome[1]
        ok, report.letters = await attempt(
            JOB_LETTERS, lambda conn: letter_proposals.propose(conn, env, at))
        if ok and report.letters:
            report.ran.append(JOB_LETTERS)
    if backup_job.is_due(env, at):
        await _daily_backup(db, env, at, report)
    if report.ran != [JOB_SWEEP] or report.errors or (report.sweep and report.sweep.claimed):
        log.info("scheduled jobs %s", report.summary())
    return report


async def _daily_backup(db: Database, env: ServiceEnv, at: datetime, report: JobReport) -> None:
    """Claim today's backup, make it in a worker thread, record it; alert the admins on failure.

    Not through ``db.run``: on SQLite that is the single database thread, which the service needs
    for every message while the backup runs.
    """
    try:
        if not await db.run(lambda conn: backup_job.claim(conn, env, at)):
            return
        done = await asyncio.to_thread(backup_job.run, env, db.url, at)
    except Exception as exc:
        detail = exc.log if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, DomainError):
            log.error("daily backup for %s failed: %s", backup_job.period(env, at), detail)
        else:
            log.exception("daily backup for %s failed", backup_job.period(env, at))
        report.errors[JOB_BACKUP] = detail
        text = backup_job.failure_text(env, at, exc)
        try:
            await db.run(lambda conn: backup_job.alert_failure(conn, at, text))
        except Exception as alert_exc:
            log.error("could not tell the admins that the daily backup failed: %s", alert_exc)
        return
    report.ran.append(JOB_BACKUP)
    report.backup = str(done.result.path)
    try:
        await db.run(lambda conn: backup_job.record(conn, env, at, done))
    except Exception:  # the backup itself is written and verified
        log.exception("daily backup %s: could not record it in the audit log", done.result.path)


class Scheduler:
    """APScheduler 3 driving :func:`run_due_jobs` once a minute (no persistent job store)."""

    def __init__(self, db: Database, env: ServiceEnv, *, interval_s: float = 60.0,
                 on_report: Callable[[JobReport], None] | None = None) -> None:
        self.db = db
        self.env = env
        self.interval_s = interval_s
        self.on_report = on_report
        self.last_report: JobReport | None = None
        self._scheduler: Any = None
        self._running: asyncio.Task[Any] | None = None
        self._last_tick: datetime | None = None
        self._last_full: datetime | None = None

    def start(self) -> None:
        """Start ticking; the first tick is immediate (catch-up after a restart). Needs a loop."""
        if self._scheduler is not None:
            return
        sched = AsyncIOScheduler(timezone=self.env.tz)
        sched.add_job(self._fire, "interval", seconds=self.interval_s, id=JOB_SWEEP,
                      name=JOB_SWEEP, coalesce=True, max_instances=1, misfire_grace_time=30,
                      next_run_time=datetime.now(self.env.tz))
        sched.start()
        self._scheduler = sched

    async def stop(self) -> None:
        """Stop scheduling and wait for a tick that is running."""
        sched, self._scheduler = self._scheduler, None
        if sched is not None:
            sched.shutdown(wait=False)
        running = self._running
        if running is not None and not running.done():
            with contextlib.suppress(Exception):
                await running

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    async def tick(self) -> JobReport:
        """One tick at the clock's current moment (what the interval job calls)."""
        return await self._tick()

    async def _fire(self) -> None:
        # The tick runs as our own task, shielded: APScheduler cancels its pending coroutines on
        # shutdown, and stop() must let a running sweep finish (and commit) instead.
        task = asyncio.create_task(self._tick(), name="dudao-scheduler-tick")
        self._running = task
        try:
            await asyncio.shield(task)
        finally:
            if task.done():
                self._running = None

    async def _tick(self) -> JobReport:
        now = self.env.clock.now()
        # Every passed deadline is checked on the first tick and hourly; in between only those
        # passed since the previous tick (with a margin), so a minute costs what changed.
        full = self._last_full is None or self._last_tick is None \
            or now - self._last_full >= FULL_FLAG_CHECK
        since = None if full or self._last_tick is None else self._last_tick - FLAG_MARGIN
        try:
            report = await run_due_jobs(self.db, self.env, now, flags_since=since)
        except Exception:
            log.exception("scheduler tick failed")
            raise
        if JOB_SWEEP in report.ran:
            self._last_tick = now
            if full:
                self._last_full = now
        self.last_report = report
        if self.on_report is not None:
            try:
                self.on_report(report)
            except Exception:  # a hook must not break the schedule
                log.exception("scheduler report hook failed")
        return report
