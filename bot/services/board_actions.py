"""What an admin does on the web board, with the same effects as the chat commands.

Each function is one unit of work: the change, the recomputed flag, the audit entry and the chat
message to the unit (through the outbox, delivered after commit) happen together or not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from bot.core.env import ServiceEnv
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.domain.errors import InvalidInput
from bot.services import audit, flag_rules
from bot.services import bulletins as bulletins_svc
from bot.services import groups as groups_svc
from bot.services import outbox as outbox_svc
from bot.services import records as records_svc
from bot.services import submissions as subs_svc
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc
from storage.models import Identity, Person

CHANNEL = "web"


def _actor(admin_id: int) -> str:
    return f"person:{admin_id}"


def _tell_unit(conn: Connection, sub: subs_svc.SubmissionInfo, text: str, now: datetime) -> None:
    """The unit hears of the review where it submitted, as with a review made in chat."""
    if not sub.source_chat:
        return
    group = groups_svc.get_by_chat(conn, sub.source_chat)
    outbox_svc.enqueue(conn, OutgoingMessage.text(ChatRef.parse(sub.source_chat), text), now=now,
                       kind="notify", cause=f"submission:{sub.id}",
                       account=group.account if group else None)


def review(conn: Connection, env: ServiceEnv, submission_id: int, *, accept: bool,
           rating: str | None, reason: str | None, admin_id: int, now: datetime
           ) -> tuple[subs_svc.SubmissionInfo, str | None]:
    """Accept with a rating or return with a reason; returns the submission and the flag change."""
    sub = subs_svc.review(conn, submission_id, accept=accept, rating=rating, reason=reason,
                          reviewer_id=admin_id, now=now)
    flag = flag_rules.refresh_task_unit_flag(conn, env, sub.task_id, sub.unit_id, now)
    if accept:
        audit.record(conn, at=now, actor=_actor(admin_id), channel=CHANNEL,
                     action="submission.accept", target=f"submission:{sub.id}",
                     detail={"rating": sub.rating})
        _tell_unit(conn, sub, f"{sub.unit}提交的《{sub.task}》（#{sub.id}）已审核通过，"
                              f"评价：{sub.rating}", now)
    else:
        text = (reason or "").strip()
        audit.record(conn, at=now, actor=_actor(admin_id), channel=CHANNEL,
                     action="submission.return", target=f"submission:{sub.id}",
                     detail={"reason": text})
        _tell_unit(conn, sub, f"{sub.unit}提交的《{sub.task}》（#{sub.id}）不符合要求，已退回：{text}。"
                              "请按意见修改后重新提交", now)
    return sub, flag


def override_flag(conn: Connection, *, task_id: int, unit_id: int, color: str, reason: str,
                  admin_id: int, now: datetime) -> None:
    if color not in flag_rules.COLOR_NAMES:
        raise InvalidInput("旗帜颜色只能是红旗、蓝旗或黄旗", log=f"bad flag colour {color!r}")
    task = tasks_svc.get(conn, task_id)
    if unit_id not in task.unit_ids:
        raise InvalidInput("这个单位不在该任务的范围内", log="override outside the task's units")
    before = flag_rules.current_flag(conn, task_id, unit_id)
    flag_rules.override(conn, task_id, unit_id, color, reason, admin_id=admin_id, now=now)
    audit.record(conn, at=now, actor=_actor(admin_id), channel=CHANNEL, action="flag.override",
                 target=f"task:{task_id}/unit:{unit_id}",
                 detail={"color": color, "reason": reason.strip(),
                         "before": before[0] if before else None})


def publish_task(conn: Connection, *, title: str, due: datetime, units_spec: str, system: str,
                 description: str, admin_id: int, now: datetime
                 ) -> tuple[tasks_svc.TaskInfo, list[str]]:
    task, warnings = tasks_svc.add(conn, title=title, due=due, units_spec=units_spec or "all",
                                   system=system, description=description, created_by=admin_id,
                                   now=now)
    audit.record(conn, at=now, actor=_actor(admin_id), channel=CHANNEL, action="task.create",
                 target=f"task:{task.id}", detail={"title": task.title, "due": due.isoformat(),
                                                   "units": len(task.unit_ids)})
    return task, warnings


def publish_bulletin(conn: Connection, bulletin_id: int, *, admin_id: int, now: datetime) -> int:
    sent = bulletins_svc.publish(conn, bulletin_id, admin_id, now)
    audit.record(conn, at=now, actor=_actor(admin_id), channel=CHANNEL, action="bulletin.publish",
                 target=f"bulletin:{bulletin_id}", detail={"messages": sent})
    return sent


def record_login(conn: Connection, *, person_id: int | None, address: str, ok: bool,
                 login: str, now: datetime) -> None:
    audit.record(conn, at=now, actor=_actor(person_id) if person_id else "anonymous",
                 channel=CHANNEL, action="web.login" if ok else "web.login_failed",
                 target=f"person:{person_id}" if person_id else "login",
                 detail={"address": address, "login": login[:64]})


def record_link(conn: Connection, *, admin_id: int, unit_id: int, days: int, now: datetime) -> str:
    unit = units_svc.get(conn, unit_id)
    audit.record(conn, at=now, actor=_actor(admin_id), channel=CHANNEL, action="web.view_link",
                 target=f"unit:{unit_id}", detail={"days": days})
    return unit.name


def admin_credentials(conn: Connection, login: str) -> tuple[int, str] | None:
    """(person id, password hash) of the active admin who logs in as ``login``.

    ``login`` is one of the admin's identities (``qq:10001``) or the admin's name when that name
    is unique among admins with a password.
    """
    login = login.strip()
    if not login:
        return None
    base = select(Person.id, Person.password_hash).where(
        Person.role == "admin", Person.active.is_(True), Person.password_hash.is_not(None))
    rows = conn.execute(base.join(Identity, Identity.person_id == Person.id)
                        .where(Identity.identity == login)).all()
    if not rows:
        rows = conn.execute(base.where(Person.name == login)).all()
    if len(rows) != 1:
        return None
    return int(rows[0].id), str(rows[0].password_hash)


def record_event(conn: Connection, env: ServiceEnv, *, unit_id: int, kind: str, reason: str,
                 points: float | None, evidence: str, admin_id: int, now: datetime) -> str:
    """An innovation (red flag + bonus) or an enforcement incident (yellow flag + deduction)."""
    if kind not in ("innovation", "incident"):
        raise InvalidInput("请选择创新举措或执法问题", log=f"bad record kind {kind!r}")
    unit = units_svc.get(conn, unit_id)
    record = records_svc.record_innovation if kind == "innovation" else records_svc.record_incident
    res = record(conn, env, unit_id=unit_id, reason=reason, points=points, admin_id=admin_id,
                 now=now, evidence=evidence)
    audit.record(conn, at=now, actor=_actor(admin_id), channel=CHANNEL, action=f"flag.{kind}",
                 target=f"unit:{unit_id}",
                 detail={"flag": res.flag_id, "score_entry": res.score_entry_id,
                         "points": res.points, "reason": res.reason})
    amount = f"{abs(res.points):g}"
    if kind == "innovation":
        return f"已记录创新举措：{unit.name}记红旗一面、加 {amount} 分（{res.reason}）"
    return f"已记录执法问题：{unit.name}记黄旗一面、扣 {amount} 分（{res.reason}）"
