"""``dudao site …``, ``dudao spotcheck …`` and ``dudao rectify …``: demonstration sites, spot
checks and rectification items (DESIGN §5). Each change is audited; the unit is told in its group
(bot/services/unit_notify.py) through the outbox, which a running ``dudao serve`` delivers."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from bot.cli.common import CliError, Subcommands, group, leaf, load, parse_time
from bot.cli.session import AdminSession, admin_session

if TYPE_CHECKING:
    from bot.services.rectifications import RectInfo
    from bot.services.sites import SiteInfo
    from bot.services.spotchecks import CheckInfo

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DUE_TIME = time(18, 0)  # a deadline given as a date is the end of that working day


def _due(text: str, args: argparse.Namespace) -> datetime:
    settings = load(args)
    if _DATE_ONLY.match(text.strip()):
        return parse_time(f"{text.strip()}T{DUE_TIME:%H:%M}", settings)
    return parse_time(text, settings)


def _year(text: str | None, admin: AdminSession) -> int:
    from bot.domain.periods import parse_year

    return parse_year(text) if text else admin.env.local(admin.env.clock.now()).year


def _positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"应为正整数：{text}")
    return value


def _rect_id(text: str) -> int:
    m = re.fullmatch(r"[#＃]?[Rr]?(\d+)", text.strip())
    if m is None or int(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"整改编号应写作 3 或 R3：{text}")
    return int(m.group(1))


# ---------------------------------------------------------------------------------- sites


def _site_line(s: SiteInfo) -> str:
    return f"{s.id:>4}  {s.year}  {s.unit}  {s.name}  {s.label}" + (
        f"（{s.reason}）" if s.reason else "") + (f"  培育记录 {s.records} 条" if s.records else "")


def cmd_site_add(args: argparse.Namespace) -> int:
    from bot.services import programme_actions as acts
    from bot.services import sites

    with admin_session(args) as admin:
        now, year = admin.env.clock.now(), _year(args.year, admin)
        s = admin.run(lambda conn: acts.nominate_site(
            conn, unit=args.unit, name=args.name, description=args.text or "", year=year,
            actor=admin.actor, channel="cli", now=now))
        admin.emit(sites.to_record(s, admin.env), f"已登记示范点候选 {s.id}：{s.unit} {s.name}")
    return 0


def cmd_site_list(args: argparse.Namespace) -> int:
    from bot.services import sites

    with admin_session(args) as admin:
        year = _year(args.year, admin) if args.year else None
        rows = admin.run(lambda c: sites.list_sites(c, year=year, status=args.status,
                                                    limit=None))
        admin.emit([sites.to_record(s, admin.env) for s in rows],
                   "\n".join(_site_line(s) for s in rows) or "（没有示范点）")
    return 0


def cmd_site_show(args: argparse.Namespace) -> int:
    from bot.services import sites

    with admin_session(args) as admin:
        s, recs = admin.run(lambda c: (sites.get(c, args.id), sites.records(c, args.id)))
        env = admin.env
        record = sites.to_record(s, env) | {"cultivation": [
            {"id": r.id, "kind": r.kind, "text": r.text, "by": r.actor,
             "at": env.local(r.at).isoformat()} for r in recs]}
        lines = [_site_line(s)] + ([f"  简介：{s.description}"] if s.description else [])
        lines += [f"  {env.fmt(r.at)} {r.label}：{r.text}" for r in recs]
        admin.emit(record, "\n".join(lines))
    return 0


def cmd_site_note(args: argparse.Namespace) -> int:
    from bot.services import programme_actions as acts

    with admin_session(args) as admin:
        now = admin.env.clock.now()
        r = admin.run(lambda conn: acts.record_site(conn, args.id, kind=args.kind,
                                                    text=args.text, actor=admin.actor,
                                                    channel="cli", now=now))
        admin.emit({"id": r.id, "site_id": r.site_id, "kind": r.kind, "text": r.text},
                   f"已记录示范点 {r.site_id} 的培育情况（{r.label}）")
    return 0


def cmd_site_accept(args: argparse.Namespace) -> int:
    from bot.services import programme_actions as acts
    from bot.services import sites

    if args.passed is None:
        raise CliError("请用 --pass 或 --fail 写明验收结论")
    with admin_session(args) as admin:
        now = admin.env.clock.now()
        s = admin.run(lambda conn: acts.decide_site(conn, args.id, passed=args.passed,
                                                    reason=args.reason, actor=admin.actor,
                                                    channel="cli", now=now))
        admin.emit(sites.to_record(s, admin.env), f"示范点 {s.id}（{s.unit} {s.name}）：{s.label}")
    return 0


# ---------------------------------------------------------------------------------- checks


def _check_text(c: CheckInfo, env: Any) -> str:
    task = f"，任务：{c.task}" if c.task else ""
    return (f"抽查 {c.id}：从 {c.pool}（{len(c.population)} 个单位）抽取 {c.count} 家{task}\n"
            f"  抽中：{'、'.join(c.drawn_names)}\n  种子：{c.seed}\n"
            f"  抽取人：{c.actor}，{env.fmt(c.created_at)}；"
            + ("按记录复核一致" if c.verified else "按记录复核不一致！"))


def cmd_check_draw(args: argparse.Namespace) -> int:
    from bot.services import programme_actions as acts
    from bot.services import spotchecks

    with admin_session(args) as admin:
        now = admin.env.clock.now()
        c = admin.run(lambda conn: acts.draw_check(
            conn, pool=args.units, count=args.count, seed=args.seed, task_id=args.task,
            actor=admin.actor, person_id=None, channel="cli", now=now))
        admin.emit(spotchecks.to_record(c, admin.env), _check_text(c, admin.env))
    return 0


def cmd_check_list(args: argparse.Namespace) -> int:
    from bot.services import spotchecks

    with admin_session(args) as admin:
        rows = admin.run(lambda c: spotchecks.list_checks(c, limit=None))
        admin.emit([spotchecks.to_record(c, admin.env) for c in rows],
                   "\n".join(_check_text(c, admin.env) for c in rows) or "（没有抽查记录）")
    return 0


def cmd_check_show(args: argparse.Namespace) -> int:
    from bot.services import spotchecks

    with admin_session(args) as admin:
        c = admin.run(lambda conn: spotchecks.get(conn, args.id))
        admin.emit(spotchecks.to_record(c, admin.env), _check_text(c, admin.env))
    return 0


def cmd_check_incident(args: argparse.Namespace) -> int:
    """弄虚作假、敷衍塞责 found by a check: recorded as an incident (yellow flag, deduction)."""
    from bot.services import records, spotchecks
    from bot.services import units as units_svc

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> Any:
            c = spotchecks.get(conn, args.id)
            unit = units_svc.require(conn, args.unit)
            if unit.id not in c.drawn:
                raise CliError(f"{unit.name}不在抽查 {c.id} 抽中的单位中")
            res = records.record_incident(conn, admin.env, unit_id=unit.id,
                                          reason=f"抽查发现：{args.reason}", points=args.points,
                                          admin_id=None, now=now, evidence=f"spotcheck:{c.id}")
            admin.audit(conn, "flag.incident", f"unit:{unit.id}",
                        {"spotcheck": c.id, "flag": res.flag_id,
                         "score_entry": res.score_entry_id, "points": res.points,
                         "reason": res.reason})
            return unit, res

        unit, res = admin.run(write)
        admin.emit({"unit": unit.name, "flag_id": res.flag_id, "points": res.points,
                    "reason": res.reason},
                   f"已记录通报批评：{unit.name}记黄旗一面、扣 {abs(res.points):g} 分（{res.reason}）")
    return 0


# ---------------------------------------------------------------------------------- rectify


def _rect_line(i: RectInfo, env: Any, now: datetime) -> str:
    late = "，已逾期" if i.overdue(now) else ""
    src = f"  抽查 {i.check_id}" if i.check_id else ""
    return f"R{i.id:<4} {i.unit}  {i.text}  {env.fmt(i.due)} 截止  {i.label}{late}{src}"


def cmd_rect_add(args: argparse.Namespace) -> int:
    from bot.services import programme_actions as acts
    from bot.services import rectifications

    due = _due(args.due, args)
    with admin_session(args) as admin:
        now = admin.env.clock.now()
        i, told = admin.run(lambda conn: acts.add_rect(
            conn, admin.env, unit=args.unit, text=args.text, due=due, check_id=args.check,
            actor=admin.actor, channel="cli", now=now))
        text = f"已建立整改事项 {i.number}：{i.unit}，{admin.env.fmt(i.due)} 截止"
        if not told:
            text += "（该单位没有联络群或联络员，未能通知）"
        admin.emit(rectifications.to_record(i, admin.env, now) | {"told": told}, text)
    return 0


def cmd_rect_list(args: argparse.Namespace) -> int:
    from bot.services import rectifications
    from bot.services import units as units_svc

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def read(conn: Connection) -> list[RectInfo]:
            ids = {u.id for u in units_svc.resolve_scope(conn, args.unit)} if args.unit else None
            return rectifications.list_items(conn, status=args.status, unit_ids=ids,
                                             check_id=args.check, limit=None)

        rows = admin.run(read)
        admin.emit([rectifications.to_record(i, admin.env, now) for i in rows],
                   "\n".join(_rect_line(i, admin.env, now) for i in rows) or "（没有整改事项）")
    return 0


def cmd_rect_close(args: argparse.Namespace) -> int:
    from bot.services import programme_actions as acts
    from bot.services import rectifications

    if args.ret and not (args.reason or "").strip():
        raise CliError("退回整改需用 --reason 写明原因")
    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> RectInfo:
            if args.ret:
                return acts.return_rect(conn, args.id, reason=args.reason, actor=admin.actor,
                                        channel="cli", now=now)
            return acts.close_rect(conn, args.id, actor=admin.actor, channel="cli", now=now)

        i = admin.run(write)
        admin.emit(rectifications.to_record(i, admin.env, now),
                   f"整改事项 {i.number}（{i.unit}）：{i.label}")
    return 0


def register(sub: Subcommands) -> None:
    site = group(sub, "site", "示范点：申报、培育记录、年底验收")
    sa = leaf(site, "add", cmd_site_add, "登记一个单位申报的示范点候选")
    sa.add_argument("--unit", required=True)
    sa.add_argument("--name", required=True)
    sa.add_argument("--text", help="简介")
    sa.add_argument("--year", help="年度（默认今年）")
    sl = leaf(site, "list", cmd_site_list, "列出示范点（--status accepted 即年度名单）")
    sl.add_argument("--year")
    sl.add_argument("--status", help="nominated、preparing、accepted、not_accepted")
    ss = leaf(site, "show", cmd_site_show, "一个示范点及其培育记录")
    ss.add_argument("id", type=_positive)
    sn = leaf(site, "note", cmd_site_note, "记录示范点的培育情况（走访、指导、材料）")
    sn.add_argument("id", type=_positive)
    sn.add_argument("--text", required=True)
    sn.add_argument("--kind", default="note", choices=("visit", "guidance", "material", "note"))
    sc = leaf(site, "accept", cmd_site_accept, "年底验收：--pass 或 --fail，并写明理由")
    sc.add_argument("id", type=_positive)
    verdict = sc.add_mutually_exclusive_group()
    verdict.add_argument("--pass", dest="passed", action="store_const", const=True)
    verdict.add_argument("--fail", dest="passed", action="store_const", const=False)
    sc.add_argument("--reason", required=True)

    chk = group(sub, "spotcheck", "抽查：可复核的随机抽取")
    cd = leaf(chk, "draw", cmd_check_draw, "从范围内随机抽取单位（记录范围、种子和结果）")
    cd.add_argument("--units", required=True, help="抽取范围，如 kind:city、各地市、直管县")
    cd.add_argument("--count", required=True, type=_positive)
    cd.add_argument("--seed", type=int, help="种子（复核以往抽查时给出；默认随机）")
    cd.add_argument("--task", type=_positive, help="抽查针对的任务编号")
    leaf(chk, "list", cmd_check_list, "列出抽查记录")
    cs = leaf(chk, "show", cmd_check_show, "一次抽查的范围、种子、结果及复核")
    cs.add_argument("id", type=_positive)
    ci = leaf(chk, "incident", cmd_check_incident, "抽查发现弄虚作假、敷衍塞责：记为通报批评")
    ci.add_argument("id", type=_positive)
    ci.add_argument("--unit", required=True)
    ci.add_argument("--reason", required=True)
    ci.add_argument("--points", type=float)

    rect = group(sub, "rectify", "整改事项：建立、查看、销号或退回")
    ra = leaf(rect, "add", cmd_rect_add, "建立整改事项（通知该单位）")
    ra.add_argument("--unit", required=True)
    ra.add_argument("--text", required=True)
    ra.add_argument("--due", required=True, help="如 2026-07-31 或 2026-07-31T18:00+08:00")
    ra.add_argument("--check", type=_positive, help="来自哪次抽查")
    rl = leaf(rect, "list", cmd_rect_list, "列出整改事项")
    rl.add_argument("--status", help="open、reported、closed、returned")
    rl.add_argument("--unit")
    rl.add_argument("--check", type=_positive)
    rc = leaf(rect, "close", cmd_rect_close, "确认整改到位（销号），或 --return --reason 退回")
    rc.add_argument("id", type=_rect_id)
    rc.add_argument("--return", dest="ret", action="store_true")
    rc.add_argument("--reason")
