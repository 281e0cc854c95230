"""The minute sweep: deadline reminders, overdue urging and escalation (DESIGN §2, §4, §5).

One call of :func:`sweep_reminders` is one transaction that
1. reads only the open tasks whose deadline can have a stage due now (``deadline_window``), their
   assignments that still owe (``owed`` / ``returned``) and the ledger rows for those tasks;
2. asks the pure rules which (task, unit, stage) are due (``reminders_due``);
3. *claims* each one by inserting its ledger row with ``ON CONFLICT DO NOTHING … RETURNING`` and
   keeps only the rows this transaction inserted — a second process, a repeated tick or a restart
   finds the row and sends nothing (on PostgreSQL a concurrent insert of the same key waits for
   the first transaction and then does nothing; SQLite serialises writers with BEGIN IMMEDIATE);
4. writes the outbox rows in the same transaction: ONE message per exchange group listing the
   units due there, @-mentioning their liaisons; private messages to the liaisons of units that
   no group serves; escalation privately to the unit's officials and to the admin groups.

So a reminder is in the outbox exactly when its ledger row is committed, and never twice.

Choices the rules leave open:
- a unit served by several exchange groups is reminded in ONE of them (the group on a platform its
  liaisons use, then the one serving the fewest units, then the oldest), so people are not told
  the same thing in two groups;
- a person with identities on several platforms gets one private message (officials: the
  official account first; liaisons: QQ first);
- the escalation stage goes to the officials and the admins, not to the group again (the group
  has already been urged ``overdue_times`` times).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select

from bot.core.env import ServiceEnv
from bot.core.event import ChatKind, ChatRef
from bot.core.message import OutgoingMessage
from bot.core.serialize import dump
from bot.domain.errors import DomainError
from bot.domain.reminders import (
    DUE,
    ESCALATE,
    Assignment,
    DueReminder,
    ReminderPolicy,
    deadline_window,
    envelope,
    is_pre_deadline,
    reminders_due,
)
from bot.domain.workdays import WorkCalendar
from bot.services import flag_rules, ledger
from bot.services import groups as groups_svc
from bot.services import outbox as outbox_svc
from storage import locks
from storage.models import (
    Group,
    GroupUnit,
    Identity,
    OutboxMessage,
    Person,
    ReminderLedger,
    Task,
    TaskUnit,
    Unit,
)

log = logging.getLogger("dudao.reminders")
P = TypeVar("P")

OWING = ("owed", "returned")
KIND = "reminder"
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
# Which identity a person is messaged on privately, best first.
OFFICIAL_PLATFORMS = ("mp", "qq", "wx")
LIAISON_PLATFORMS = ("qq", "wx", "mp")


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep did. ``claimed`` are the reminders this call (and no other) sent."""

    at: datetime
    considered: int = 0  # (task, unit) assignments read from the deadline window
    claimed: tuple[DueReminder, ...] = ()
    outbox_ids: tuple[int, ...] = ()
    flags_marked: int = 0
    unreachable: tuple[int, ...] = ()  # units reminded with nobody to send to (no group, no people)

    @property
    def messages(self) -> int:
        return len(self.outbox_ids)


# ---------------------------------------------------------------------------------- policies


def policy_or_default(text: str, parse: Callable[[str], P], default: P, *, what: str,
                      logger: logging.Logger = log) -> P:
    """A stored policy (``parse`` reads it); "" is ``default``. A bad value falls back loudly:
    a typo in one task's policy must not stop the reminders of every task."""
    if not text.strip():
        return default
    try:
        return parse(text)
    except DomainError as exc:
        logger.warning("%s policy %r unreadable, using the default: %s", what, text, exc)
        return default


def parse_policy(text: str, default: ReminderPolicy) -> ReminderPolicy:
    """A task's stored policy; "" is the configured default."""
    return policy_or_default(text, ReminderPolicy.parse, default, what="task reminder")


def default_policy(env: ServiceEnv) -> ReminderPolicy:
    return parse_policy(env.settings.schedule.reminders, ReminderPolicy())


# ---------------------------------------------------------------------------------- the sweep


@dataclass(frozen=True, slots=True)
class _TaskRow:
    id: int
    title: str
    due: datetime


def sweep_reminders(conn: Connection, env: ServiceEnv, now: datetime, *,
                    flags_since: datetime | None = None) -> SweepResult:
    """Everything the minute sweep does at ``now``, in the caller's transaction.

    Passed deadlines get their yellow flags here too. ``flags_since=None`` checks every open
    task (``flag_rules.mark_passed_deadlines``: cost grows with all past-due open assignments);
    a running scheduler passes the time of its previous tick so that only deadlines passed (or
    tasks registered) since then are checked, keeping the minute's cost proportional to what
    changed.
    """
    flags = _mark_passed_deadlines(conn, env, now, flags_since)
    cal = env.calendar
    if not cal.in_working_hours(now):
        # Nothing can be due (reminders_due would say so too): skip every query.
        return SweepResult(now, flags_marked=flags)
    default = default_policy(env)
    custom = {
        text: parse_policy(text, default)
        for text in conn.execute(
            select(Task.reminder_policy)
            .where(Task.status == "open", Task.reminder_policy != "")
            .distinct()
        ).scalars()
    }
    lo, hi = deadline_window(now, envelope([default, *custom.values()]), cal)
    rows = conn.execute(
        select(Task.id, Task.title, Task.due, Task.reminder_policy, TaskUnit.unit_id,
               TaskUnit.state)
        .join(TaskUnit, TaskUnit.task_id == Task.id)
        .where(Task.status == "open", Task.due >= lo, Task.due < hi,
               TaskUnit.state.in_(OWING))
    ).all()
    if not rows:
        return SweepResult(now, flags_marked=flags)
    tasks: dict[int, _TaskRow] = {}
    assignments: list[Assignment] = []
    for r in rows:
        tasks.setdefault(r.id, _TaskRow(r.id, r.title, r.due))
        policy = custom.get(r.reminder_policy, default) if r.reminder_policy else default
        assignments.append(Assignment(r.id, r.unit_id, r.due, policy, owes=True,
                                      returned=r.state == "returned"))
    sent = {
        (t, u, s)
        for t, u, s in conn.execute(
            select(ReminderLedger.task_id, ReminderLedger.unit_id, ReminderLedger.stage)
            .where(ReminderLedger.task_id.in_(list(tasks)))
        )
    }
    due = reminders_due(assignments, sent, now, cal)
    claimed = claim(conn, due, now)
    if not claimed:
        return SweepResult(now, considered=len(assignments), flags_marked=flags)
    plan = _Plan.build(conn, env, now, claimed, tasks)
    ids = outbox_svc.enqueue_many(conn, plan.rows, now=now)
    log.info("reminder sweep at %s: %d reminders claimed, %d messages", now.isoformat(),
             len(claimed), len(ids))
    return SweepResult(now, considered=len(assignments), claimed=tuple(claimed),
                       outbox_ids=tuple(ids), flags_marked=flags,
                       unreachable=tuple(sorted(plan.unreachable)))


def _mark_passed_deadlines(conn: Connection, env: ServiceEnv, now: datetime,
                           since: datetime | None) -> int:
    """Yellow flags for deadlines that passed. The flags table has no unique key, so on
    PostgreSQL only the sweep holding the lock does it (another process's sweep of the same
    minute skips it; the next minute catches anything left)."""
    if not locks.try_hold(conn, locks.LockKey.PASSED_DEADLINES):
        return 0
    # since=None: every open task; otherwise only deadlines passed (or tasks registered) since.
    return flag_rules.mark_passed_deadlines(conn, env, now, since=since)


def claim(conn: Connection, due: Sequence[DueReminder], now: datetime) -> list[DueReminder]:
    """Insert the ledger rows; return only the reminders whose row THIS transaction inserted."""
    values = [{"task_id": d.task_id, "unit_id": d.unit_id, "stage": d.stage, "sent_at": now}
              for d in due]
    got = ledger.insert_new(conn, ReminderLedger, ("task_id", "unit_id", "stage"), values)
    return [d for d in due if (d.task_id, d.unit_id, d.stage) in got]


# ---------------------------------------------------------------------------------- recipients


@dataclass(slots=True)
class GroupRow:
    id: int
    chat: str
    account: str | None
    size: int

    @property
    def platform(self) -> str:
        return self.chat.split(":", 1)[0]


@dataclass(slots=True)
class PersonRow:
    id: int
    unit_id: int
    role: str
    identities: list[str] = field(default_factory=list)


def identity_chat(identity: str) -> ChatRef:
    """``qq:10001`` → ``qq:user:10001``; ``mp:oABC`` → ``mp:user:oABC``."""
    platform, _, ident = identity.partition(":")
    return ChatRef(platform, ChatKind.PRIVATE, ident)


def pick_identity(identities: Iterable[str], preference: tuple[str, ...]) -> str | None:
    """The one identity a person is messaged on privately."""
    items = sorted(identities)
    if not items:
        return None

    def rank(ident: str) -> int:
        platform = ident.split(":", 1)[0]
        return preference.index(platform) if platform in preference else len(preference)

    return min(items, key=rank)


def load_people(conn: Connection, unit_ids: Sequence[int]) -> dict[int, list[PersonRow]]:
    """unit id → its active liaisons and officials with their identities."""
    people: dict[int, list[PersonRow]] = defaultdict(list)
    by_id: dict[int, PersonRow] = {}
    for pid, uid, role, ident in conn.execute(
        select(Person.id, Person.unit_id, Person.role, Identity.identity)
        .join(Identity, Identity.person_id == Person.id)
        .where(Person.unit_id.in_(list(unit_ids)), Person.role.in_(("liaison", "official")),
               Person.active.is_(True), Person.ended_at.is_(None))
        .order_by(Person.id, Identity.id)
    ):
        row = by_id.get(pid)
        if row is None:
            assert uid is not None  # filtered by unit above
            row = by_id[pid] = PersonRow(pid, uid, role)
            people[uid].append(row)
        row.identities.append(ident)
    return dict(people)


def liaison_mentions(people: dict[int, list[PersonRow]], unit_ids: Iterable[int],
                     platform: str) -> tuple[str, ...]:
    """The platform user ids to @-mention in a group on ``platform``: the units' liaisons."""
    mentions: list[str] = []
    for uid in dict.fromkeys(unit_ids):
        for p in people.get(uid, ()):
            if p.role != "liaison":
                continue
            for ident in p.identities:
                ip, _, pid = ident.partition(":")
                if ip == platform and pid not in mentions:
                    mentions.append(pid)
    return tuple(mentions)


def choose_groups(conn: Connection, unit_ids: Sequence[int], people: dict[int, list[PersonRow]],
                  *, chats: Sequence[str] | None = None) -> dict[int, GroupRow]:
    """unit id → the one group it is reminded in.

    Among the active exchange groups serving the unit (or, with ``chats``, among those chats
    whatever their purpose): the one on a platform its liaisons use, then the one serving the
    fewest units, then the oldest — so people are not told the same thing in two groups.
    """
    q = (select(GroupUnit.unit_id, Group.id, Group.chat, Group.account)
         .join(Group, Group.id == GroupUnit.group_id)
         .where(GroupUnit.unit_id.in_(list(unit_ids)), Group.active.is_(True)))
    q = q.where(Group.purpose == "exchange") if chats is None \
        else q.where(Group.chat.in_(list(chats)))
    member_rows = conn.execute(q).all()
    if not member_rows:
        return {}
    group_ids = sorted({gid for _, gid, _, _ in member_rows})
    sizes = dict(conn.execute(
        select(GroupUnit.group_id, func.count())
        .where(GroupUnit.group_id.in_(group_ids)).group_by(GroupUnit.group_id)
    ).all())
    candidates: dict[int, list[GroupRow]] = defaultdict(list)
    for uid, gid, chat, account in member_rows:
        candidates[int(uid)].append(GroupRow(gid, chat, account, int(sizes.get(gid, 0))))
    chosen: dict[int, GroupRow] = {}
    for uid, options in candidates.items():
        platforms = {i.split(":", 1)[0] for p in people.get(uid, ())
                     if p.role == "liaison" for i in p.identities}
        chosen[uid] = min(options, key=lambda g: (g.platform not in platforms, g.size, g.id))
    return chosen


def fmt_day(cal: WorkCalendar, moment: datetime) -> str:
    d = cal.local(moment).date()
    return f"{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"


def _names(names: Iterable[str]) -> str:
    return "、".join(names)


@dataclass(slots=True)
class _Plan:
    """The messages of one sweep, built from the claimed reminders."""

    env: ServiceEnv
    now: datetime
    tasks: dict[int, _TaskRow]
    unit_names: dict[int, str]
    people: dict[int, list[PersonRow]]  # unit id → liaisons and officials
    rows: list[tuple[OutgoingMessage, str, str, str | None]] = field(default_factory=list)
    unreachable: set[int] = field(default_factory=set)
    last_content: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def build(cls, conn: Connection, env: ServiceEnv, now: datetime,
              claimed: list[DueReminder], tasks: dict[int, _TaskRow]) -> _Plan:
        unit_ids = sorted({c.unit_id for c in claimed})
        unit_names = dict(
            conn.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all())
        people = load_people(conn, unit_ids)
        plan = cls(env, now, tasks, unit_names, people)
        group_of = choose_groups(conn, unit_ids, people)
        regular = [c for c in claimed if not c.escalate]
        escalated = [c for c in claimed if c.escalate]
        in_group: dict[int, list[DueReminder]] = defaultdict(list)
        private: dict[int, list[DueReminder]] = defaultdict(list)
        for c in regular:
            g = group_of.get(c.unit_id)
            if g is not None:
                in_group[g.id].append(c)
            else:
                private[c.unit_id].append(c)
        groups = {g.id: g for g in group_of.values()}
        chats = [groups[gid].chat for gid in in_group]
        admin_groups: list[tuple[str, str | None]] = []
        if escalated:
            admin_groups = groups_svc.chats(conn, "admin")
            chats += [chat for chat, _ in admin_groups]
        plan._load_last(conn, chats)
        for gid in sorted(in_group):
            plan._group_message(groups[gid], in_group[gid])
        for uid in sorted(private):
            plan._private_reminders(uid, private[uid], group_of.get(uid))
        if escalated:
            plan._escalations(escalated, admin_groups, group_of)
        return plan

    # -- lookups

    def _load_last(self, conn: Connection, chats: list[str]) -> None:
        for chat in dict.fromkeys(chats):
            content = conn.execute(
                select(OutboxMessage.content).where(OutboxMessage.chat == chat)
                .order_by(OutboxMessage.id.desc()).limit(1)
            ).scalar_one_or_none()
            if content is not None:
                self.last_content[chat] = content

    # -- writing

    def _add(self, chat: ChatRef, text: str, *, cause: str, account: str | None,
             mentions: tuple[str, ...] = ()) -> None:
        msg = OutgoingMessage.text(chat, text, mentions=mentions)
        # Never the same text twice in a row to a chat (DESIGN §2).
        if self.last_content.get(chat.key) == dump(msg.segments):
            stamp = self.env.local(self.now).strftime("%H:%M")
            msg = OutgoingMessage.text(chat, f"{text}\n（{stamp} 再次提醒）", mentions=mentions)
        self.last_content[chat.key] = dump(msg.segments)
        self.rows.append((msg, KIND, cause, account))

    def _group_message(self, group: GroupRow, items: list[DueReminder]) -> None:
        mentions = liaison_mentions(self.people, [c.unit_id for c in items], group.platform)
        text = self._reminder_text(items)
        self._add(ChatRef.parse(group.chat), text, cause=f"task:{items[0].task_id}",
                  account=group.account, mentions=mentions)

    def _send_privately(self, people: list[Any], platforms: Any, text: str, *, cause: str,
                        group: GroupRow | None) -> bool:
        """One private message per person (their preferred identity). True if any went out.

        The unit's group account is used when it is on the same platform: that account is a
        member of the unit's group and so can reach its people.
        """
        sent = False
        for p in people:
            ident = pick_identity(p.identities, platforms)
            if ident is None:
                continue
            chat = identity_chat(ident)
            account = group.account if group is not None and group.platform == chat.platform \
                else None
            self._add(chat, text, cause=cause, account=account)
            sent = True
        return sent

    def _private_reminders(self, unit_id: int, items: list[DueReminder],
                           group: GroupRow | None) -> None:
        liaisons = [p for p in self.people.get(unit_id, ()) if p.role == "liaison"]
        sent = self._send_privately(liaisons, LIAISON_PLATFORMS, self._reminder_text(items),
                                    cause=f"task:{items[0].task_id}", group=group)
        if not sent:
            self.unreachable.add(unit_id)
            log.warning("unit %d is due a reminder but has no group and no liaison", unit_id)

    def _reminder_text(self, items: list[DueReminder]) -> str:
        cal = self.env.calendar
        by_task: dict[int, list[DueReminder]] = defaultdict(list)
        for c in items:
            by_task[c.task_id].append(c)
        overdue = any(not is_pre_deadline(c.stage) for c in items)
        pre = any(is_pre_deadline(c.stage) for c in items)
        titles = {(False, True): "【报送提醒】", (True, False): "【逾期催办】",
                  (True, True): "【报送提醒与催办】"}
        title = titles[(overdue, pre)]
        lines = [f"{title}{fmt_day(cal, self.now)}"]
        for index, tid in enumerate(sorted(by_task, key=lambda t: (self.tasks[t].due, t)), 1):
            task = self.tasks[tid]
            lines.append(f"{index}. {self._task_line(task)}")
            lines.extend(f"   {line}" for line in self._unit_lines(by_task[tid]))
        if len(by_task) == 1:
            lines.append("直接回复本消息即可提交材料（可附文件）。")
        else:
            lines.append("提交时请写明任务，例如：提交 "
                         f"{self.tasks[min(by_task)].title} 材料内容（可附文件）。")
        return "\n".join(lines)

    def _task_line(self, task: _TaskRow) -> str:
        cal = self.env.calendar
        today = cal.local(self.now).date()
        due_day: date = cal.local(task.due).date()
        when = self.env.fmt(task.due)
        if self.now >= task.due:
            late = max(cal.workdays_between(due_day, today), 1)
            return f"《{task.title}》已于 {when} 截止，已逾期 {late} 个工作日："
        if due_day == today:
            return f"《{task.title}》今天 {cal.local(task.due):%H:%M} 截止："
        left = cal.workdays_between(today, due_day)
        if not cal.is_workday(due_day):
            left = cal.workdays_between(today, cal.previous_workday(due_day))
        if left <= 0:
            return f"《{task.title}》将于 {when}（{WEEKDAYS[due_day.weekday()]}）截止，" \
                   "今天是截止前最后一个工作日："
        return f"《{task.title}》将于 {when} 截止，还有 {left} 个工作日："

    def _unit_lines(self, items: list[DueReminder]) -> list[str]:
        owed_pre: list[str] = []
        returned: list[str] = []
        owed_over: dict[str, list[str]] = defaultdict(list)
        for c in sorted(items, key=lambda c: c.unit_id):
            name = self.unit_names.get(c.unit_id, f"单位{c.unit_id}")
            if c.returned:
                returned.append(name)
            elif is_pre_deadline(c.stage):
                owed_pre.append(name)
            else:
                owed_over[c.stage].append(name)
        out: list[str] = []
        if owed_pre:
            urgent = any(c.stage == DUE for c in items)
            out.append(f"请 {_names(owed_pre)} {'今天内' if urgent else '按时'}报送。")
        for stage in sorted(owed_over):
            k = stage.rsplit("-", 1)[-1]
            out.append(f"请 {_names(owed_over[stage])} 尽快报送（第 {k} 次催办）。")
        if returned:
            out.append(f"{_names(returned)}：材料已退回，请按意见修改后重新提交。")
        return out

    def _escalations(self, items: list[DueReminder], admin_groups: list[tuple[str, str | None]],
                     group_of: dict[int, GroupRow]) -> None:
        cal = self.env.calendar
        today = cal.local(self.now).date()
        by_unit: dict[int, list[DueReminder]] = defaultdict(list)
        for c in items:
            by_unit[c.unit_id].append(c)
        without_officials: set[int] = set()
        for uid in sorted(by_unit):
            name = self.unit_names.get(uid, f"单位{uid}")
            lines = [f"【督办提示】{name}以下工作经多次催办仍未完成，请督促落实："]
            for c in sorted(by_unit[uid], key=lambda c: (self.tasks[c.task_id].due, c.task_id)):
                task = self.tasks[c.task_id]
                late = max(cal.workdays_between(cal.local(task.due).date(), today), 1)
                state = "退回后未按意见修改" if c.returned else "未报送"
                lines.append(f"·《{task.title}》{self.env.fmt(task.due)} 截止，"
                             f"已逾期 {late} 个工作日，{state}")
            text = "\n".join(lines)
            officials = [p for p in self.people.get(uid, ()) if p.role == "official"]
            reached = self._send_privately(officials, OFFICIAL_PLATFORMS, text,
                                           cause=f"task:{by_unit[uid][0].task_id}",
                                           group=group_of.get(uid))
            if not reached:
                without_officials.add(uid)
        if not admin_groups:
            if items:
                log.warning("escalation of %d reminders: no admin group registered", len(items))
            return
        by_task: dict[int, list[DueReminder]] = defaultdict(list)
        for c in items:
            by_task[c.task_id].append(c)
        lines = [f"【逾期督办】{fmt_day(cal, self.now)} 以下单位经多次催办仍未完成："]
        for tid in sorted(by_task, key=lambda t: (self.tasks[t].due, t)):
            task = self.tasks[tid]
            names = []
            for c in sorted(by_task[tid], key=lambda c: c.unit_id):
                name = self.unit_names.get(c.unit_id, f"单位{c.unit_id}")
                notes = []
                if c.returned:
                    notes.append("退回未改")
                if c.unit_id in without_officials:
                    notes.append("未登记单位领导")
                names.append(f"{name}（{'，'.join(notes)}）" if notes else name)
            lines.append(f"·《{task.title}》（{self.env.fmt(task.due)} 截止）：{_names(names)}")
        told = sorted(set(by_unit) - without_officials)
        if told:
            lines.append("已分别告知相关单位领导。")
        if without_officials:
            lines.append("标注“未登记单位领导”的单位无法私信告知，请用 dudao person add 登记领导。")
        text = "\n".join(lines)
        for admin_chat, account in admin_groups:
            self._add(ChatRef.parse(admin_chat), text, cause=f"task:{min(by_task)}",
                      account=account)


__all__ = [
    "ESCALATE",
    "SweepResult",
    "claim",
    "default_policy",
    "identity_chat",
    "parse_policy",
    "pick_identity",
    "sweep_reminders",
]
