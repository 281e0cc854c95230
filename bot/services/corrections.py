"""Correcting a task an admin published (DESIGN §5 "Every record an admin creates can be
corrected"): change its title, deadline or units, or cancel it — from the CLI, chat or board.

A changed deadline or a cancellation is told to the groups of the units concerned, one message
per group (the same group choice as reminders). A cancelled task sends no more reminders (the
sweeps read open tasks only; a reminder already queued is left alone, as it may name other
tasks too, and a running service sends it within seconds anyway); its
current flags stop being current and keep the reason, so the history stays. A series instance
is a task like any other here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from bot.core.env import ServiceEnv
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.domain.errors import Conflict, InvalidInput
from bot.services import flag_rules
from bot.services import outbox as outbox_svc
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc
from bot.services.reminders import choose_groups, load_people
from storage.models import Flag, ReminderLedger, Task, TaskUnit, Unit

CANCELLED = "cancelled"
MAX_NAMES = 30


@dataclass(frozen=True, slots=True)
class Correction:
    task: tasks_svc.TaskInfo  # as it is after the change
    changes: dict[str, Any] = field(default_factory=dict)  # field → [before, after] (audit)
    groups: int = 0  # messages queued to the units' groups
    flags: int = 0  # flags withdrawn


def _open_task(conn: Connection, task_id: int) -> tasks_svc.TaskInfo:
    task = tasks_svc.get(conn, task_id)
    if task.status == CANCELLED:
        raise Conflict(f"任务 {task_id}《{task.title}》已撤销，不能再修改",
                       log=f"task {task_id} is cancelled")
    if task.status != "open":
        raise Conflict(f"任务 {task_id}《{task.title}》已关闭，不能再修改",
                       log=f"task {task_id} is {task.status}")
    return task


def edit_task(conn: Connection, env: ServiceEnv, task_id: int, *, title: str | None = None,
              due: datetime | None = None, units_spec: str | None = None,
              now: datetime) -> Correction:
    """Change what was given; refuse when nothing would change."""
    if title is None and due is None and units_spec is None:
        raise InvalidInput("没有要修改的内容：请给出新的标题、截止时间或单位", log="edit without changes")
    task = _open_task(conn, task_id)
    changes: dict[str, Any] = {}
    values: dict[str, Any] = {}
    if title is not None and tasks_svc.check_title(title) != task.title:
        values["title"] = tasks_svc.check_title(title)
        changes["title"] = [task.title, values["title"]]
    if due is not None:
        if due.tzinfo is None:
            raise InvalidInput("截止时间需要带时区", log="naive due")
        if due != task.due:
            values["due"] = due
            changes["due"] = [task.due.isoformat(), due.isoformat()]
    added: list[int] = []
    removed: list[int] = []
    if units_spec is not None:
        new_ids = [u.id for u in units_svc.resolve_scope(conn, units_spec)]
        if not new_ids:
            raise InvalidInput("任务没有分配给任何单位", log="edit to no units")
        added = [u for u in new_ids if u not in task.unit_ids]
        removed = [u for u in task.unit_ids if u not in new_ids]
        if removed:
            _refuse_removing_submitted(conn, task_id, removed)
        if added or removed:
            changes["units"] = [len(task.unit_ids), len(new_ids)]
    if not changes:
        raise InvalidInput(f"任务 {task_id} 没有变化：给出的内容与现在相同", log="edit changes nothing")
    if values:
        conn.execute(update(Task).where(Task.id == task_id).values(**values))
    flags = 0
    if removed:
        flags += _withdraw(conn, task_id, "单位不再承担此任务", now, unit_ids=removed)
        conn.execute(delete(TaskUnit).where(TaskUnit.task_id == task_id,
                                            TaskUnit.unit_id.in_(removed)))
    if added:
        tasks_svc.assign(conn, task_id, tuple(added))
    if "due" in values:
        # The rule's flags were decided against the old deadline, and the reminders already
        # sent were stages of it: the new deadline has its own.
        new_due = env.fmt(values["due"])
        flags += _withdraw(conn, task_id, f"截止时间改为 {new_due}", now, rule_only=True)
        conn.execute(delete(ReminderLedger).where(ReminderLedger.task_id == task_id))
    after = tasks_svc.get(conn, task_id)
    if "due" in values or added:
        for uid in after.unit_ids:
            flag_rules.refresh_task_unit_flag(conn, env, task_id, uid, now)
    groups = 0
    if "due" in values:
        groups = tell_units(conn, after.unit_ids, now=now, cause=f"task:{task_id}", text=lambda names: (
            f"【任务变更】《{after.title}》（任务 {task_id}）截止时间由 {env.fmt(task.due)} "
            f"改为 {env.fmt(after.due)}。\n涉及单位：{names}"))
    elif added:
        groups = tell_units(conn, tuple(added), now=now, cause=f"task:{task_id}", text=lambda names: (
            f"【新增任务】《{after.title}》（任务 {task_id}）截止 {env.fmt(after.due)}，"
            f"现分配给：{names}"))
    return Correction(after, changes, groups, flags)


def cancel_task(conn: Connection, env: ServiceEnv, task_id: int, *, reason: str,
                now: datetime) -> Correction:
    """Cancel: status cancelled with the reason, flags withdrawn, waiting reminders dropped, the
    units' groups told."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("撤销任务需要写明原因", log="cancel without reason")
    if len(reason) > 500:
        raise InvalidInput("原因太长（最多 500 字）", log="cancel reason too long")
    task = tasks_svc.get(conn, task_id)
    if task.status == CANCELLED:
        raise Conflict(f"任务 {task_id}《{task.title}》已经撤销过了", log=f"task {task_id} cancelled twice")
    conn.execute(update(Task).where(Task.id == task_id).values(
        status=CANCELLED, cancel_reason=reason, cancelled_at=now))
    flags = _withdraw(conn, task_id, f"任务已撤销：{reason}", now)
    groups = tell_units(conn, task.unit_ids, now=now, cause=f"task:{task_id}", text=lambda names: (
        f"【任务撤销】《{task.title}》（任务 {task_id}）已撤销，原因：{reason}。无需再报送。\n"
        f"涉及单位：{names}"))
    return Correction(tasks_svc.get(conn, task_id), {"status": [task.status, CANCELLED],
                                                     "reason": reason}, groups, flags)


def _refuse_removing_submitted(conn: Connection, task_id: int, unit_ids: list[int]) -> None:
    """A unit that has submitted keeps the task: its submission belongs to it."""
    done = conn.execute(
        select(Unit.name).join(TaskUnit, TaskUnit.unit_id == Unit.id)
        .where(TaskUnit.task_id == task_id, TaskUnit.unit_id.in_(unit_ids),
               TaskUnit.last_submission_id.is_not(None))).scalars().all()
    if done:
        raise Conflict(f"{'、'.join(done)}已经提交过这项任务，不能移出",
                       log=f"task {task_id}: removing units that submitted")


def _withdraw(conn: Connection, task_id: int, reason: str, now: datetime, *,
              unit_ids: list[int] | None = None, rule_only: bool = False) -> int:
    """The task's current flags stop being current; the rows stay with why and when."""
    q = update(Flag).where(Flag.task_id == task_id, Flag.current.is_(True))
    if unit_ids is not None:
        q = q.where(Flag.unit_id.in_(unit_ids))
    if rule_only:  # an admin's override stands until another override
        q = q.where(Flag.source == "rule")
    res = conn.execute(q.values(current=False, withdrawn_reason=reason, withdrawn_at=now))
    return int(res.rowcount)


def tell_units(conn: Connection, unit_ids: tuple[int, ...], *, now: datetime, cause: str,
               text: Callable[[str], str]) -> int:
    """One message per group serving the units (``text(names)`` with the group's units named);
    returns the number of messages queued."""
    if not unit_ids:
        return 0
    group_of = choose_groups(conn, list(unit_ids), load_people(conn, list(unit_ids)))
    names = dict(conn.execute(select(Unit.id, Unit.name).where(Unit.id.in_(list(unit_ids)))).all())
    by_group: dict[int, list[int]] = defaultdict(list)
    chats = {}
    for uid in unit_ids:
        g = group_of.get(uid)
        if g is not None:
            by_group[g.id].append(uid)
            chats[g.id] = g
    rows = []
    for gid, uids in sorted(by_group.items()):
        shown = "、".join(names[u] for u in uids[:MAX_NAMES]) + (
            f"等 {len(uids)} 个单位" if len(uids) > MAX_NAMES else "")
        g = chats[gid]
        rows.append((OutgoingMessage.text(ChatRef.parse(g.chat), text(shown)), "notice", cause,
                     g.account))
    outbox_svc.enqueue_many(conn, rows, now=now)
    return len(rows)
