"""Rectification items (整改): created from a spot check's findings or on their own, with a
deadline; the unit reports (text and files), an admin closes the item or returns it with a
reason (DESIGN §3, §4). State rules: bot/domain/rectifications.py. Reminders:
bot/services/rectify_reminders.py. Callers audit and tell the unit (bot/services/unit_notify.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, insert, select, update

from bot.core.env import ServiceEnv
from bot.core.event import StoredFile
from bot.domain import rectifications as rules
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.rectifications import RectState
from storage.models import Rectification, SpotCheck, Unit

DEFAULT_LIMIT = 100
STATUSES = tuple(s.value for s in RectState)


@dataclass(frozen=True, slots=True)
class RectInfo:
    id: int
    unit_id: int
    unit: str
    check_id: int | None
    document_id: int | None
    text: str
    due: datetime
    status: str
    report: str
    files: tuple[dict[str, Any], ...]
    reported_at: datetime | None
    reason: str
    closed_actor: str | None
    closed_at: datetime | None
    created_actor: str
    created_at: datetime

    @property
    def label(self) -> str:
        return RectState(self.status).label

    @property
    def number(self) -> str:
        """How chat names it: #R3."""
        return f"#R{self.id}"

    def overdue(self, now: datetime) -> bool:
        return rules.overdue(RectState(self.status), self.due, now)


_COLUMNS = (Rectification.id, Rectification.unit_id, Unit.name.label("unit"),
            Rectification.check_id, Rectification.document_id, Rectification.text,
            Rectification.due, Rectification.status, Rectification.report, Rectification.files,
            Rectification.reported_at, Rectification.reason, Rectification.closed_actor,
            Rectification.closed_at, Rectification.created_actor, Rectification.created_at)


def _info(r: Row[Any]) -> RectInfo:
    return RectInfo(r.id, r.unit_id, r.unit, r.check_id, r.document_id, r.text, r.due, r.status,
                    r.report, tuple(r.files or ()), r.reported_at, r.reason, r.closed_actor,
                    r.closed_at, r.created_actor, r.created_at)


def get(conn: Connection, rid: int) -> RectInfo:
    r = conn.execute(select(*_COLUMNS).join(Unit, Unit.id == Rectification.unit_id)
                     .where(Rectification.id == rid)).first()
    if r is None:
        raise NotFound(f"没有编号为 #R{rid} 的整改事项", log=f"unknown rectification {rid}")
    return _info(r)


def add(conn: Connection, *, unit_id: int, text: str, due: datetime, actor: str, now: datetime,
        check_id: int | None = None, document_id: int | None = None) -> RectInfo:
    text = rules.check_text(text)
    if check_id is not None:
        row = conn.execute(select(SpotCheck.drawn).where(SpotCheck.id == check_id)).first()
        if row is None:
            raise NotFound(f"没有编号为 {check_id} 的抽查记录", log=f"unknown spot check {check_id}")
        if unit_id not in [int(i) for i in row.drawn]:
            raise InvalidInput(f"该单位不在抽查 {check_id} 抽中的单位中",
                               log=f"unit {unit_id} not drawn in check {check_id}")
    rid = conn.execute(insert(Rectification).returning(Rectification.id), {
        "unit_id": unit_id, "check_id": check_id, "document_id": document_id, "text": text,
        "due": due, "status": RectState.OPEN.value, "report": "", "files": [], "reason": "",
        "created_actor": actor, "created_at": now,
    }).scalar_one()
    return get(conn, int(rid))


def report(conn: Connection, rid: int, *, unit_id: int, person_id: int | None, text: str,
           files: tuple[StoredFile, ...] = (), now: datetime) -> RectInfo:
    """The unit's report; only the unit the item is addressed to may report it."""
    item = get(conn, rid)
    if item.unit_id != unit_id:
        raise NotAllowed(f"整改事项 {item.number} 不是本单位的，只能报送本单位的整改事项",
                         log=f"unit {unit_id} reports rectification {rid} of unit {item.unit_id}")
    if not text.strip() and not files:
        raise InvalidInput(f"请写明整改情况（可附文件），例如：整改 {item.number} 已完成台账补录",
                           log="empty rectification report")
    state = rules.report(rid, RectState(item.status))
    conn.execute(update(Rectification).where(Rectification.id == rid).values(
        status=state.value, report=text.strip()[:rules.MAX_TEXT], reported_by=person_id,
        reported_at=now,
        files=[{"name": f.name, "sha256": f.sha256, "size": f.size, "path": f.path}
               for f in files]))
    return get(conn, rid)


def close(conn: Connection, rid: int, *, actor: str, now: datetime) -> RectInfo:
    item = get(conn, rid)
    state = rules.close(rid, RectState(item.status))
    conn.execute(update(Rectification).where(Rectification.id == rid).values(
        status=state.value, closed_actor=actor, closed_at=now))
    return get(conn, rid)


def send_back(conn: Connection, rid: int, *, reason: str, actor: str, now: datetime) -> RectInfo:
    item = get(conn, rid)
    state = rules.send_back(rid, RectState(item.status), reason)
    conn.execute(update(Rectification).where(Rectification.id == rid).values(
        status=state.value, reason=reason.strip()))
    return get(conn, rid)


def list_items(conn: Connection, *, status: str | None = None, unfinished: bool = False,
               unit_ids: set[int] | None = None, check_id: int | None = None,
               due_since: datetime | None = None, due_until: datetime | None = None,
               after_id: int | None = None, limit: int | None = DEFAULT_LIMIT) -> list[RectInfo]:
    """Items by id (paged: ``after_id``, ``limit``); ``unfinished``: not closed yet;
    ``due_since``/``due_until``: deadlines in that range (a year's items)."""
    where: list[ColumnElement[bool]] = []
    if due_since is not None:
        where.append(Rectification.due >= due_since)
    if due_until is not None:
        where.append(Rectification.due < due_until)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"整改状态“{status}”不存在，可选：{'、'.join(STATUSES)}",
                               log=f"unknown rectification status {status!r}")
        where.append(Rectification.status == status)
    if unfinished:
        where.append(Rectification.status != RectState.CLOSED.value)
    if unit_ids is not None:
        where.append(Rectification.unit_id.in_(sorted(unit_ids)))
    if check_id is not None:
        where.append(Rectification.check_id == check_id)
    if after_id is not None:
        where.append(Rectification.id > after_id)
    q = (select(*_COLUMNS).join(Unit, Unit.id == Rectification.unit_id).where(*where)
         .order_by(Rectification.id))
    if limit is not None:
        q = q.limit(limit)
    return [_info(r) for r in conn.execute(q)]


def overdue_counts(conn: Connection, now: datetime, *, since: datetime | None = None,
                   until: datetime | None = None) -> Counter[int]:
    """unit id → items still owed past their deadline (optionally: with deadlines in a range)."""
    where: list[ColumnElement[bool]] = [
        Rectification.status.in_([s.value for s in RectState if s.owed]),
        Rectification.due < now]
    if since is not None:
        where.append(Rectification.due >= since)
    if until is not None:
        where.append(Rectification.due < until)
    return Counter(int(u) for (u,) in conn.execute(select(Rectification.unit_id).where(*where)))


def unit_summary(env: ServiceEnv, items: list[RectInfo], now: datetime) -> str:
    """One line per item, for chat: #R3 开封市 台账不全（7月10日 截止，待整改，已逾期）."""
    lines = []
    for i in items:
        late = "，已逾期" if i.overdue(now) else ""
        text = i.text if len(i.text) <= 40 else i.text[:40] + "…"
        lines.append(f"· {i.number} {i.unit}：{text}（{env.fmt(i.due)} 截止，{i.label}{late}）")
    return "\n".join(lines)


def to_record(i: RectInfo, env: ServiceEnv, now: datetime) -> dict[str, Any]:
    def t(m: datetime | None) -> str | None:
        return env.local(m).isoformat() if m else None

    return {"id": i.id, "number": i.number, "unit_id": i.unit_id, "unit": i.unit,
            "check_id": i.check_id, "document_id": i.document_id, "text": i.text,
            "due": t(i.due), "status": i.status, "status_label": i.label,
            "overdue": i.overdue(now), "report": i.report,
            "files": [{"name": f["name"], "sha256": f["sha256"], "size": f["size"]}
                      for f in i.files],
            "reported_at": t(i.reported_at), "reason": i.reason, "closed_by": i.closed_actor,
            "closed_at": t(i.closed_at), "created_by": i.created_actor,
            "created_at": t(i.created_at)}
