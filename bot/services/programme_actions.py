"""Admin actions on sites, spot checks and rectification items as one unit of work each: the
change, its audit entry and the message telling the unit (through the outbox). The CLI and the
board call these; chat handlers call the underlying services and answer on their context."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from bot.core.env import ServiceEnv
from bot.services import audit, rectifications, sites, spotchecks, unit_notify
from bot.services import units as units_svc
from bot.services.rectifications import RectInfo
from bot.services.sites import SiteInfo
from bot.services.spotchecks import CheckInfo


def nominate_site(conn: Connection, *, unit: str, name: str, description: str, year: int,
                  actor: str, channel: str, now: datetime) -> SiteInfo:
    u = units_svc.require(conn, unit)
    s = sites.nominate(conn, unit_id=u.id, name=name, description=description, year=year,
                       actor=actor, now=now)
    audit.record(conn, at=now, actor=actor, channel=channel, action="site.nominate",
                 target=f"site:{s.id}", detail={"unit": u.id, "name": s.name, "year": year})
    unit_notify.tell(conn, u.id, f"已登记{u.name}申报的{year}年示范点候选“{s.name}”（编号 {s.id}），"
                     "将在年内跟踪培育、年底验收", cause=f"site:{s.id}", now=now)
    return s


def record_site(conn: Connection, site_id: int, *, kind: str, text: str, actor: str,
                channel: str, now: datetime) -> sites.RecordInfo:
    r = sites.add_record(conn, site_id, kind=kind, text=text, actor=actor, now=now)
    audit.record(conn, at=now, actor=actor, channel=channel, action="site.record",
                 target=f"site:{site_id}", detail={"kind": r.kind, "text": r.text})
    return r


def decide_site(conn: Connection, site_id: int, *, passed: bool, reason: str, actor: str,
                channel: str, now: datetime) -> SiteInfo:
    s = sites.decide(conn, site_id, passed=passed, reason=reason, actor=actor, now=now)
    audit.record(conn, at=now, actor=actor, channel=channel,
                 action="site.accept" if passed else "site.reject", target=f"site:{s.id}",
                 detail={"passed": passed, "reason": s.reason})
    verdict = "验收通过，列入本年度示范点名单" if passed else "验收未通过"
    unit_notify.tell(conn, s.unit_id, f"{s.unit}的示范点“{s.name}”（编号 {s.id}）{verdict}："
                     f"{s.reason}", cause=f"site:{s.id}", now=now)
    return s


def draw_check(conn: Connection, *, pool: str, count: int, seed: int | None,
               task_id: int | None, actor: str, person_id: int | None, channel: str,
               now: datetime) -> CheckInfo:
    c = spotchecks.draw(conn, pool=pool, count=count, seed=seed, task_id=task_id, actor=actor,
                        person_id=person_id, now=now)
    audit.record(conn, at=now, actor=actor, channel=channel, action="spotcheck.draw",
                 target=f"spotcheck:{c.id}",
                 detail={"pool": c.pool, "seed": str(c.seed), "count": c.count,
                         "population": list(c.population), "drawn": list(c.drawn)})
    return c


def rect_notice(env: ServiceEnv, i: RectInfo) -> str:
    return (f"【整改通知】{i.unit}：{i.text}\n请于 {env.fmt(i.due)} 前完成整改，"
            f"并回复：整改 {i.number} 整改情况（可附文件）")


def add_rect(conn: Connection, env: ServiceEnv, *, unit: str, text: str, due: datetime,
             check_id: int | None, actor: str, channel: str, now: datetime,
             document_id: int | None = None) -> tuple[RectInfo, int]:
    """The item and how many messages told the unit (0: no group and no liaison)."""
    u = units_svc.require(conn, unit)
    i = rectifications.add(conn, unit_id=u.id, text=text, due=due, check_id=check_id,
                           document_id=document_id, actor=actor, now=now)
    audit.record(conn, at=now, actor=actor, channel=channel, action="rectification.create",
                 target=f"rectification:{i.id}",
                 detail={"unit": u.id, "due": due.isoformat(), "check": i.check_id,
                         "document": document_id})
    told = unit_notify.tell(conn, u.id, rect_notice(env, i), cause=f"rectification:{i.id}",
                            now=now)
    return i, told


def close_rect(conn: Connection, rid: int, *, actor: str, channel: str,
               now: datetime) -> RectInfo:
    i = rectifications.close(conn, rid, actor=actor, now=now)
    audit.record(conn, at=now, actor=actor, channel=channel, action="rectification.close",
                 target=f"rectification:{i.id}", detail={})
    unit_notify.tell(conn, i.unit_id, f"{i.unit}的整改事项 {i.number} 已确认整改到位，予以销号",
                     cause=f"rectification:{i.id}", now=now)
    return i


def return_rect(conn: Connection, rid: int, *, reason: str, actor: str, channel: str,
                now: datetime) -> RectInfo:
    i = rectifications.send_back(conn, rid, reason=reason, actor=actor, now=now)
    audit.record(conn, at=now, actor=actor, channel=channel, action="rectification.return",
                 target=f"rectification:{i.id}", detail={"reason": i.reason})
    unit_notify.tell(conn, i.unit_id, f"{i.unit}报送的整改事项 {i.number} 整改情况未通过审核，已退回："
                     f"{i.reason}。请按意见继续整改后重新报送", cause=f"rectification:{i.id}",
                     now=now)
    return i
