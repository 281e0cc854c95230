"""Progress bulletins (通报), supervision letters (督导建议书) and the daily digest (DESIGN §3, §4).

A bulletin is drafted from the data and stored (table ``bulletins``, status ``draft``); an admin
approves it (``发布通报``) and only then is it posted. The weekly draft goes to the admin groups for
review; a letter is drafted for a unit with repeated yellow flags for an admin to edit and send.
Messages the office did not ask for right now (drafts, digests) wait for working hours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from bot.core.env import ServiceEnv
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.periods import Period
from bot.domain.workdays import WorkCalendar
from bot.services import groups as groups_svc
from bot.services import outbox as outbox_svc
from bot.services.reminders import (
    LIAISON_PLATFORMS,
    OFFICIAL_PLATFORMS,
    identity_chat,
    load_people,
    pick_identity,
)
from storage.models import (
    Bulletin,
    Dynamic,
    Flag,
    Submission,
    Task,
    TaskUnit,
    Unit,
)

KIND_WEEKLY = "weekly"
KIND_LETTER = "letter"
KIND_DIGEST = "digest"
OUTBOX_KIND = "bulletin"
MAX_CHARS = 1500
LETTER_THRESHOLD = 2  # current yellow flags that call for a letter
LETTER_REPLY_WORKDAYS = 5
MAX_NAMES = 30
DIGEST_ITEMS = 20
SUBMITTED = ("received", "accepted")
STATUS_NAMES = {"owed": "未报送", "returned": "已退回，尚未按意见修改",
                "received": "逾期报送，待审核", "accepted": "已补报并通过审核"}


@dataclass(frozen=True, slots=True)
class BulletinInfo:
    id: int
    kind: str
    period: str
    unit_id: int | None
    text: str
    status: str
    created_at: datetime
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class LetterNeed:
    unit_id: int
    unit_name: str
    yellow: int


# ---------------------------------------------------------------------------------- helpers


def iso_period(env: ServiceEnv, moment: datetime) -> str:
    """The ISO week of ``moment`` in the service zone: ``2026-W27``."""
    return str(Period.week_of(env.local(moment).date()))


def week_start(env: ServiceEnv, moment: datetime) -> datetime:
    """Monday 00:00 local of ``moment``'s week."""
    d = env.local(moment).date()
    return env.calendar.midnight(d - timedelta(days=d.weekday()))


def next_working_moment(cal: WorkCalendar, moment: datetime) -> datetime:
    """``moment`` if it is in working hours, else the start of the next working hours."""
    if cal.in_working_hours(moment):
        return moment
    d = cal.local(moment).date()
    if cal.is_workday(d) and cal.local(moment).time() < cal.work_start:
        return cal.day_start(d)
    return cal.day_start(cal.next_workday(d))


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _names(names: list[str]) -> str:
    shown = "、".join(names[:MAX_NAMES])
    return shown + (f"等 {len(names)} 个单位" if len(names) > MAX_NAMES else "")


def _to_chats(conn: Connection, chats: list[tuple[str, str | None]], text: str, *, cause: str,
              now: datetime, not_before: datetime | None = None) -> list[int]:
    rows = [(OutgoingMessage.text(ChatRef.parse(c), text), OUTBOX_KIND, cause, a)
            for c, a in chats]
    return outbox_svc.enqueue_many(conn, rows, now=now, not_before=not_before)


def _insert(conn: Connection, *, kind: str, period: str, unit_id: int | None, text: str,
            status: str, now: datetime) -> int:
    return int(conn.execute(
        insert(Bulletin).returning(Bulletin.id),
        {"kind": kind, "period": period, "unit_id": unit_id, "text": text, "status": status,
         "created_at": now, "published_at": now if status == "published" else None},
    ).scalar_one())


def get(conn: Connection, bulletin_id: int) -> BulletinInfo:
    r = conn.execute(
        select(Bulletin.id, Bulletin.kind, Bulletin.period, Bulletin.unit_id, Bulletin.text,
               Bulletin.status, Bulletin.created_at, Bulletin.published_at)
        .where(Bulletin.id == bulletin_id)
    ).first()
    if r is None:
        raise NotFound(f"没有编号为 {bulletin_id} 的通报", log=f"unknown bulletin {bulletin_id}")
    return BulletinInfo(r.id, r.kind, r.period, r.unit_id, r.text, r.status, r.created_at,
                        r.published_at)


def latest_draft(conn: Connection, kind: str | None = KIND_WEEKLY) -> int | None:
    q = select(func.max(Bulletin.id)).where(Bulletin.status == "draft")
    if kind is not None:
        q = q.where(Bulletin.kind == kind)
    return conn.execute(q).scalar_one_or_none()


def exists(conn: Connection, kind: str, period: str) -> bool:
    return conn.execute(select(Bulletin.id).where(Bulletin.kind == kind,
                                                  Bulletin.period == period).limit(1)
                        ).first() is not None


# ---------------------------------------------------------------------------------- weekly


def _task_lines(conn: Connection, env: ServiceEnv) -> list[str]:
    tasks = conn.execute(
        select(Task.id, Task.title, Task.due).where(Task.status == "open")
        .order_by(Task.due, Task.id)
    ).all()
    if not tasks:
        return []
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for tid, state, late, n in conn.execute(
        select(TaskUnit.task_id, TaskUnit.state, Submission.late, func.count())
        .join(Task, Task.id == TaskUnit.task_id)
        .outerjoin(Submission, Submission.id == TaskUnit.last_submission_id)
        .where(Task.status == "open")
        .group_by(TaskUnit.task_id, TaskUnit.state, Submission.late)
    ):
        c = counts[tid]
        c["total"] += n
        c[state] += n
        if state in SUBMITTED:
            c["late" if late else "on_time"] += n
    lines = []
    for t in tasks:
        c = counts[t.id]
        done = c["received"] + c["accepted"]
        parts = [f"已报送 {done}/{c['total']}"]
        if done:
            parts[0] += f"（按时 {c['on_time']}，逾期 {c['late']}）"
        if c["accepted"]:
            parts.append(f"已通过 {c['accepted']}")
        if c["returned"]:
            parts.append(f"退回待修改 {c['returned']}")
        lines.append(f"《{t.title}》（{env.fmt(t.due)} 截止）：{'，'.join(parts)}")
    return lines


@dataclass(frozen=True, slots=True)
class _NewFlags:
    red: int
    yellow: int
    red_units: list[str]
    yellow_units: list[str]


def _new_flags(conn: Connection, since: datetime, until: datetime) -> _NewFlags:
    """Current red and yellow flags set in [since, until), with their units (distinct, in order)."""
    units: dict[str, list[str]] = {"red": [], "yellow": []}
    counts: dict[str, int] = {"red": 0, "yellow": 0}
    for color, name in conn.execute(
        select(Flag.color, Unit.name).join(Unit, Unit.id == Flag.unit_id)
        .where(Flag.current.is_(True), Flag.color.in_(("red", "yellow")),
               Flag.set_at >= since, Flag.set_at < until)
        .order_by(Flag.unit_id, Flag.id)
    ):
        counts[color] += 1
        if name not in units[color]:
            units[color].append(name)
    return _NewFlags(counts["red"], counts["yellow"], units["red"], units["yellow"])


def weekly_text(conn: Connection, env: ServiceEnv, now: datetime) -> str:
    """The weekly progress bulletin, drafted from the data; at most ~``MAX_CHARS`` characters."""
    start = week_start(env, now)
    first = env.local(start).date()
    last = env.local(now).date()
    year, week, _ = first.isocalendar()
    head = f"【督导工作周通报】{year}年第{week}周（{_md(first)}—{_md(last)}）"
    flags = _new_flags(conn, start, now + timedelta(microseconds=1))
    tail: list[str] = []
    if flags.red_units:
        tail.append(f"二、本周新增红旗 {flags.red} 面：{_names(flags.red_units)}。")
    else:
        tail.append("二、本周无新增红旗。")
    if flags.yellow_units:
        tail.append(f"三、本周新增黄旗 {flags.yellow} 面：{_names(flags.yellow_units)}，"
                    "请相关单位抓紧补报，按要求整改。")
    else:
        tail.append("三、本周无新增黄旗。")
    if flags.red_units:
        tail.append(f"四、表扬：{_names(flags.red_units)}按时完成任务、成效显著，予以通报表扬。")
    tail.append(f"详情见督导看板：{env.board_url}" if env.board_url else "详情见督导看板。")
    budget = MAX_CHARS - len(head) - sum(len(t) + 1 for t in tail) - 40
    body = ["一、任务完成情况"]
    lines = _task_lines(conn, env)
    if not lines:
        body.append("目前没有进行中的任务。")
    used = 0
    for index, line in enumerate(lines, 1):
        item = f"{index}. {line}"
        if used + len(item) + 1 > budget:
            body.append(f"……另有 {len(lines) - index + 1} 项任务，详见督导看板。")
            break
        body.append(item)
        used += len(item) + 1
    return "\n".join([head, *body, *tail])


def weekly_has_news(conn: Connection, env: ServiceEnv, now: datetime) -> bool:
    """Whether a weekly bulletin would say anything: a task in progress, a flag set this week,
    or a unit that needs a supervision letter. A fresh database has none of these, and a
    bulletin saying "目前没有进行中的任务" is not drafted for it."""
    if conn.execute(select(Task.id).where(Task.status == "open").limit(1)).first() is not None:
        return True
    flags = _new_flags(conn, week_start(env, now), now + timedelta(microseconds=1))
    return bool(flags.red or flags.yellow or units_needing_letters(conn))


def draft_weekly(conn: Connection, env: ServiceEnv, now: datetime, *,
                 notify_admins: bool = True) -> int:
    """Draft this week's bulletin; send it to the admin groups for approval. Returns its id.

    Units that now need a supervision letter get a letter draft too, named in the same message.
    ``notify_admins=False`` when the admin asked in chat and is shown the text in the reply.
    """
    text = weekly_text(conn, env, now)
    bid = _insert(conn, kind=KIND_WEEKLY, period=iso_period(env, now), unit_id=None, text=text,
                  status="draft", now=now)
    if notify_admins:
        letters = [(need, draft_letter(conn, env, need.unit_id, now))
                   for need in units_needing_letters(conn)]
        msg = f"【通报草稿 {bid}】请审阅，确认无误后回复“发布通报 {bid}”发布到各交流群。\n\n{text}"
        if note := env.local_links_note():
            msg += f"\n\n{note}"  # to the admins only: the bulletin itself stays as drafted
        if letters:
            names = "、".join(f"{need.unit_name}（{lid}）" for need, lid in letters)
            msg += (f"\n\n另：以下单位黄旗达到 {LETTER_THRESHOLD} 面，"
                    "已起草督导建议书（括号内为编号），"
                    f"请在看板修改后发送“发布通报 编号”：{names}")
        _to_chats(conn, groups_svc.chats(conn, "admin"), msg, cause=f"bulletin:{bid}", now=now,
                  not_before=next_working_moment(env.calendar, now))
    return bid


# ---------------------------------------------------------------------------------- publish


def publish(conn: Connection, bulletin_id: int, admin_id: int | None, now: datetime) -> int:
    """Post an approved draft; returns the number of messages queued.

    A weekly bulletin goes to every exchange group; a letter privately to the unit's officials
    and liaisons (a criticism is not posted in a shared group).
    """
    b = get(conn, bulletin_id)
    if b.status != "draft":
        raise Conflict(f"通报 {bulletin_id} 已经发布过了", log=f"bulletin {bulletin_id} {b.status}")
    cause = f"bulletin:{b.id}"
    if b.kind == KIND_LETTER:
        ids = _send_letter(conn, b, cause=cause, now=now)
    else:
        groups = groups_svc.chats(conn, "exchange")
        if not groups:
            raise InvalidInput("还没有登记交流群，通报无处发布：请先用 dudao group add 登记群",
                               log="publish without exchange groups")
        ids = _to_chats(conn, groups, b.text, cause=cause, now=now)
    conn.execute(update(Bulletin).where(Bulletin.id == b.id).values(
        status="published", approved_by=admin_id, published_at=now))
    return len(ids)


def _send_letter(conn: Connection, b: BulletinInfo, *, cause: str, now: datetime) -> list[int]:
    assert b.unit_id is not None
    rows: list[tuple[OutgoingMessage, str, str, str | None]] = []
    for p in load_people(conn, [b.unit_id]).get(b.unit_id, []):
        pref = OFFICIAL_PLATFORMS if p.role == "official" else LIAISON_PLATFORMS
        chosen = pick_identity(p.identities, pref)
        if chosen is not None:
            rows.append((OutgoingMessage.text(identity_chat(chosen), b.text), OUTBOX_KIND, cause,
                         None))
    if not rows:
        raise InvalidInput("该单位还没有登记领导或联络员，督导建议书无法发送",
                           log=f"letter {b.id}: unit {b.unit_id} has nobody to send to")
    return outbox_svc.enqueue_many(conn, rows, now=now)


# ---------------------------------------------------------------------------------- letters


def units_needing_letters(conn: Connection) -> list[LetterNeed]:
    """Units with at least ``LETTER_THRESHOLD`` current yellow flags and no letter drafted since
    their latest one."""
    rows = conn.execute(
        select(Flag.unit_id, Unit.name, func.count(), func.max(Flag.set_at))
        .join(Unit, Unit.id == Flag.unit_id)
        .where(Flag.current.is_(True), Flag.color == "yellow")
        .group_by(Flag.unit_id, Unit.name)
        .having(func.count() >= LETTER_THRESHOLD)
        .order_by(Flag.unit_id)
    ).all()
    if not rows:
        return []
    last_letter = dict(conn.execute(
        select(Bulletin.unit_id, func.max(Bulletin.created_at))
        .where(Bulletin.kind == KIND_LETTER, Bulletin.unit_id.in_([r[0] for r in rows]))
        .group_by(Bulletin.unit_id)
    ).all())
    out = []
    for uid, name, n, latest in rows:
        letter_at = last_letter.get(uid)
        # (max() keeps the column's type, so both come back as aware datetimes on SQLite too)
        if letter_at is not None and latest is not None and letter_at >= latest:
            continue
        out.append(LetterNeed(uid, name, int(n)))
    return out


def letter_text(conn: Connection, env: ServiceEnv, unit_id: int, now: datetime,
                letter_no: int | None = None) -> tuple[str, int]:
    """The 督导建议书 text for a unit and its number of current yellow flags."""
    unit = conn.execute(select(Unit.name).where(Unit.id == unit_id)).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"没有编号为 {unit_id} 的单位", log=f"letter for unknown unit {unit_id}")
    flags = conn.execute(
        select(Flag.task_id, Flag.reason, Task.title, Task.due, Task.materials, Task.description,
               TaskUnit.state)
        .outerjoin(Task, Task.id == Flag.task_id)
        .outerjoin(TaskUnit, (TaskUnit.task_id == Flag.task_id) & (TaskUnit.unit_id == unit_id))
        .where(Flag.unit_id == unit_id, Flag.current.is_(True), Flag.color == "yellow")
        .order_by(Task.due, Flag.id)
    ).all()
    local = env.local(now).date()
    reply_by = env.calendar.add_workdays(local, LETTER_REPLY_WORKDAYS)
    number = f"督建〔{local.year}〕{letter_no if letter_no is not None else ''}号"
    lines = ["督导建议书", number, "", f"{unit}：",
             "根据服务型行政执法“四项工作制度”督导工作安排，经督促检查，你单位以下工作未按要求完成，"
             f"已记黄旗 {len(flags)} 面："]
    for index, f in enumerate(flags, 1):
        if f.task_id is None or f.title is None:
            lines.append(f"{index}. {f.reason}。")
            continue
        need = (f.materials or f.description or "按任务通知要求报送相关材料").strip()
        state = STATUS_NAMES.get(f.state or "owed", "未报送")
        lines.append(f"{index}.《{f.title}》，截止时间 {env.fmt(f.due)}，目前{state}。"
                     f"报送要求：{need}")
    lines += [
        "为此，提出如下督导建议：",
        f"一、请你单位高度重视，于 {local.year}年{_md(reply_by)}前补报上述材料，"
        "并书面说明未按时完成的原因；",
        "二、明确责任领导和具体责任人，逐项制定整改措施，确保后续任务按时保质完成；",
        "三、整改落实情况请由单位联络员报送督导工作办公室。",
        "经督促指导后按要求纠正的，黄旗可改为蓝旗。",
        "",
        "督导工作办公室",
        f"{local.year}年{_md(local)}",
    ]
    return "\n".join(lines), len(flags)


def draft_letter(conn: Connection, env: ServiceEnv, unit_id: int, now: datetime, *,
                 force: bool = False) -> int:
    """Draft a 督导建议书 for a unit with ≥ ``LETTER_THRESHOLD`` current yellow flags."""
    next_id = (conn.execute(select(func.count()).select_from(Bulletin)
                            .where(Bulletin.kind == KIND_LETTER)).scalar_one() or 0) + 1
    text, yellow = letter_text(conn, env, unit_id, now, letter_no=next_id)
    if yellow < (1 if force else LETTER_THRESHOLD):
        raise InvalidInput(f"该单位目前黄旗 {yellow} 面，未达到起草督导建议书的条件"
                           f"（{LETTER_THRESHOLD} 面）", log=f"letter for unit {unit_id}: {yellow}")
    return _insert(conn, kind=KIND_LETTER, period=env.local(now).date().isoformat(),
                   unit_id=unit_id, text=text, status="draft", now=now)


# ---------------------------------------------------------------------------------- digest


def daily_digest(conn: Connection, env: ServiceEnv, now: datetime) -> int | None:
    """New work dynamics since the last digest, to the admin groups. None when there are none."""
    since = conn.execute(select(func.max(Bulletin.created_at))
                         .where(Bulletin.kind == KIND_DIGEST)).scalar_one_or_none()
    since_dt = since if since is not None else now - timedelta(days=1)
    rows = conn.execute(
        select(Dynamic.id, Dynamic.text, Dynamic.status, Unit.name)
        .join(Unit, Unit.id == Dynamic.unit_id)
        .where(Dynamic.created_at > since_dt, Dynamic.created_at <= now)
        .order_by(Dynamic.id)
    ).all()
    if not rows:
        return None
    pending = sum(1 for r in rows if r.status == "pending")
    status_names = {"pending": "待审核", "published": "已发布", "featured": "已推荐"}
    lines = [f"【工作动态日报】{_md(env.local(now).date())} 新增 {len(rows)} 条"
             + (f"（待审核 {pending} 条）：" if pending else "：")]
    for index, r in enumerate(rows[:DIGEST_ITEMS], 1):
        snippet = " ".join(r.text.split())
        snippet = snippet[:60] + ("…" if len(snippet) > 60 else "")
        lines.append(f"{index}. {r.name}：{snippet}〔{status_names.get(r.status, r.status)}〕")
    if len(rows) > DIGEST_ITEMS:
        lines.append(f"……另有 {len(rows) - DIGEST_ITEMS} 条")
    if env.board_url:
        lines.append(f"详情见督导看板：{env.board_url}")
    text = "\n".join(lines)
    bid = _insert(conn, kind=KIND_DIGEST, period=env.local(now).date().isoformat(), unit_id=None,
                  text=text, status="published", now=now)
    _to_chats(conn, groups_svc.chats(conn, "admin"), text, cause=f"bulletin:{bid}", now=now,
              not_before=next_working_moment(env.calendar, now))
    return bid
