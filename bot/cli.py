"""The ``dudao`` command (DESIGN §5).

Every admin subcommand takes ``--json`` after the subcommand, exits non-zero with a clear message
on bad input, changes nothing when it fails (one transaction), and writes the audit log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection

from bot.domain.errors import DomainError
from config.settings import ConfigError, Settings, load_settings
from storage.service_lock import LockBusy, LockError

T = TypeVar("T")
log = logging.getLogger("dudao.cli")
CLI_ACTOR = f"cli:{os.environ.get('USER', 'root')}"


class CliError(Exception):
    pass


# ----------------------------------------------------------------------------- helpers


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(Path(args.config) if args.config else None)


def _parse_time(text: str, settings: Settings) -> datetime:
    raw = text.strip().replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise CliError(f"时间格式不对：{text!r}，应写作 2026-09-30T18:00+08:00") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.service.tz)
    return moment


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _emit(args: argparse.Namespace, records: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(_jsonable(records), ensure_ascii=False, indent=2))
    else:
        print(text)


class _Admin:
    """An open database for one CLI command (schema upgraded first)."""

    def __init__(self, settings: Settings) -> None:
        import weakref

        from bot.app import make_env, prepare_database
        from storage import service_lock
        from storage.db import Database

        self.settings = settings
        self.env = make_env(settings)
        # Shared with `dudao serve`; a restore takes it alone (storage/service_lock.py). Released
        # by close(), or when this object goes away after a command failed half-way.
        self._lock = service_lock.take_shared(settings.database_url)
        weakref.finalize(self, self._lock.release)
        self.db = Database(settings.database_url,
                           busy_timeout_ms=settings.database.busy_timeout_ms,
                           pool_size=settings.database.pool_size)
        prepare_database(self.db, settings, self.env)

    def run(self, fn: Callable[[Connection], T]) -> T:
        return self.db.transaction(fn)

    def audit(self, conn: Connection, action: str, target: str, detail: dict[str, Any]) -> None:
        from bot.services import audit

        audit.record(conn, at=self.env.clock.now(), actor=CLI_ACTOR, channel="cli",
                     action=action, target=target, detail=detail)

    def close(self) -> None:
        self.db.close()
        self._lock.release()


# ----------------------------------------------------------------------------- commands


def _apply_log_level(level: str, *, verbose: bool) -> None:
    """[service] log_level for the running service (--verbose still means DEBUG).

    The libraries' own INFO lines say nothing to an operator (Alembic's plugin set-up,
    APScheduler's "Running job" twice a minute; our scheduler logs what its jobs did), so they
    are shown only when debugging.
    """
    root = logging.DEBUG if verbose else getattr(logging, level.upper(), logging.INFO)
    logging.getLogger().setLevel(root)
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if verbose
                                           else max(root, logging.WARNING))


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _apply_log_level(settings.service.log_level, verbose=args.verbose)
    # Imported after the log level is set: importing alembic logs its plugin set-up.
    from aiohttp import web

    from bot.app import create_app
    from bot.web.access_log import RedactingAccessLogger

    host = args.host or settings.http.host
    port = args.port or settings.http.port
    app = create_app(settings)

    async def main() -> None:
        # Tokens and signed links travel in URLs: the access log redacts them.
        runner = web.AppRunner(app, handle_signals=False, access_log_class=RedactingAccessLogger)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
        print(f"dudao {_version()} listening on {base}", flush=True)
        print(f"  health:       {base}/healthz", flush=True)
        print(f"  board:        {base}/", flush=True)
        print(f"  OneBot v11:   ws://{base.removeprefix('http://')}/onebot/v11/ws "
              f"(HTTP push: {base}/onebot/v11/http)", flush=True)
        print(f"  OneBot v12:   ws://{base.removeprefix('http://')}/onebot/v12/ws", flush=True)
        print(f"  WeChat MP:    {base}/wechat/mp", flush=True)
        print(f"  database:     {_mask_db(settings.database_url)}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("shutting down…", flush=True)
        await runner.cleanup()

    asyncio.run(main())
    return 0


def _mask_db(url: str) -> str:
    from sqlalchemy import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "***"


def _version() -> str:
    from bot import __version__

    return __version__


def cmd_config_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.json:
        print(json.dumps(settings.describe(), ensure_ascii=False, indent=2, default=str))
    else:
        print(settings.to_toml())
    return 0


def cmd_unit_list(args: argparse.Namespace) -> int:
    from bot.services import units

    admin = _Admin(_settings(args))
    rows = admin.run(lambda c: units.list_units(c, kind=args.kind))
    names = dict((u.id, u.name) for u in rows)
    records = [{"id": u.id, "code": u.code, "name": u.name, "short_name": u.short_name,
                "kind": u.kind, "parent": names.get(u.parent_id) if u.parent_id else None,
                "aliases": list(u.aliases)} for u in rows]
    text = "\n".join(f"{u.id:>4}  {u.name}（{u.short_name}）  {units.KIND_NAMES.get(u.kind, u.kind)}"
                     + (f"  别名：{'、'.join(u.aliases)}" if u.aliases else "") for u in rows)
    _emit(args, records, text or "（没有单位）")
    admin.close()
    return 0


def cmd_unit_import(args: argparse.Namespace) -> int:
    from bot.services import units
    from config.roster import RosterError, UnitRow, load_roster_file

    admin = _Admin(_settings(args))
    existing = admin.run(units.list_units)
    codes_by_id = {u.id: u.code for u in existing}
    current = [UnitRow(u.code, u.name, u.short_name, u.aliases, u.kind,
                       codes_by_id.get(u.parent_id) if u.parent_id else None) for u in existing]

    def progress(done: int, total: int) -> None:
        if args.json or (not sys.stderr.isatty() and total < 1000):
            return
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r校验 [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    try:
        rows = load_roster_file(Path(args.file), progress=progress, existing=current)
    except RosterError as exc:
        raise CliError(f"导入失败，没有导入任何单位：\n{exc}") from exc
    now = admin.env.clock.now()

    def write(conn: Connection) -> tuple[int, int]:
        added, updated = units.import_rows(
            conn, [units.RosterRow(r.code, r.name, r.short_name, r.kind, r.aliases, r.parent)
                   for r in rows], now=now)
        admin.audit(conn, "unit.import", args.file, {"added": added, "updated": updated})
        return added, updated

    added, updated = admin.run(write)
    _emit(args, {"added": added, "updated": updated, "rows": len(rows)},
          f"导入完成：新增 {added} 个单位，更新 {updated} 个")
    admin.close()
    return 0


def cmd_unit_invite(args: argparse.Namespace) -> int:
    from bot.services import units

    admin = _Admin(_settings(args))
    now = admin.env.clock.now()

    def write(conn: Connection) -> tuple[str, str]:
        unit = units.require(conn, args.unit)
        code = units.create_invite(conn, unit, now=now, days=args.days, uses=args.uses)
        admin.audit(conn, "unit.invite", f"unit:{unit.id}", {"days": args.days, "uses": args.uses})
        return unit.name, code

    name, code = admin.run(write)
    _emit(args, {"unit": name, "code": code, "days": args.days, "uses": args.uses},
          f"{name}的绑定邀请码：{code}（{args.days} 天内有效，可用 {args.uses} 次）\n"
          f"联络员在群里或私聊发送：绑定 {name} {code}")
    admin.close()
    return 0


def cmd_unit_link(args: argparse.Namespace) -> int:
    from bot.services import units
    from bot.web import links

    settings = _settings(args)
    links.check_days(args.days)  # a bad lifetime fails before the database is touched
    admin = _Admin(settings)
    now = admin.env.clock.now()
    signer = links.signer_for(settings)

    def write(conn: Connection) -> links.ViewLink:
        unit = units.require(conn, args.unit)
        link = links.make_view_link(conn, signer=signer, base_url=admin.env.board_url,
                                    unit_id=unit.id, days=args.days, now=now)
        admin.audit(conn, "unit.view_link", f"unit:{unit.id}", {"days": args.days})
        return link

    try:
        link = admin.run(write)
    finally:
        admin.close()
    expires = admin.env.local(link.expires_at)
    _emit(args, {"url": link.url, "unit": link.unit, "expires_at": expires.isoformat()},
          f"{link.unit}督导看板只读链接（可查看本单位及下级单位，{expires:%Y-%m-%d %H:%M} 前有效）：\n"
          f"{link.url}")
    return 0


def cmd_person_add(args: argparse.Namespace) -> int:
    from bot.services import people

    admin = _Admin(_settings(args))
    now = admin.env.clock.now()
    password_hash = None
    if args.password is not None or (args.role == "admin" and args.prompt_password):
        from bot.web.passwords import hash_password

        pw = args.password
        if pw is None:
            import getpass

            pw = getpass.getpass("管理员登录密码：")
        if len(pw) < 8:
            raise CliError("密码至少 8 位")
        password_hash = hash_password(pw)

    def write(conn: Connection) -> people.PersonInfo:
        p = people.add(conn, identity=args.identity, unit=args.unit, role=args.role,
                       name=args.name or "", now=now, password_hash=password_hash)
        admin.audit(conn, "person.add", f"person:{p.id}",
                    {"identity": args.identity, "role": args.role, "unit": p.unit_name})
        return p

    p = admin.run(write)
    _emit(args, {"id": p.id, "identity": args.identity, "name": p.name, "role": p.role,
                 "unit": p.unit_name},
          f"已登记 {args.identity}：{p.unit_name or '（无单位）'} {people.ROLE_NAMES[p.role]}"
          + (f" {p.name}" if p.name else ""))
    admin.close()
    return 0


def cmd_person_invite(args: argparse.Namespace) -> int:
    from bot.services import people

    admin = _Admin(_settings(args))
    now = admin.env.clock.now()

    def write(conn: Connection) -> str:
        code = people.create_person_invite(conn, args.identity, now=now)
        admin.audit(conn, "person.invite", args.identity, {})
        return code

    code = admin.run(write)
    _emit(args, {"identity": args.identity, "code": code},
          f"一次性绑定码：{code}\n请在公众号里发送：绑定 {code}")
    admin.close()
    return 0


def cmd_group_add(args: argparse.Namespace) -> int:
    from bot.services import groups

    admin = _Admin(_settings(args))
    now = admin.env.clock.now()

    def write(conn: Connection) -> groups.GroupInfo:
        g = groups.add(conn, chat=args.chat, name=args.name or "", units_spec=args.units,
                       purpose=args.purpose, account=args.account, webhook_key=args.webhook_key,
                       now=now)
        admin.audit(conn, "group.add", g.chat, {"units": len(g.unit_ids), "purpose": g.purpose})
        return g

    g = admin.run(write)
    _emit(args, {"id": g.id, "chat": g.chat, "name": g.name, "purpose": g.purpose,
                 "units": len(g.unit_ids)},
          f"已登记群 {g.chat}（{g.name or '未命名'}，{'管理群' if g.purpose == 'admin' else '交流群'}），"
          f"服务 {len(g.unit_ids)} 个单位")
    admin.close()
    return 0


def cmd_group_list(args: argparse.Namespace) -> int:
    from bot.services import groups

    admin = _Admin(_settings(args))
    rows = admin.run(groups.list_groups)
    _emit(args, [{"id": g.id, "chat": g.chat, "name": g.name, "purpose": g.purpose,
                  "units": len(g.unit_ids)} for g in rows],
          "\n".join(f"{g.chat}  {g.name}  {g.purpose}  {len(g.unit_ids)} 个单位" for g in rows)
          or "（没有群）")
    admin.close()
    return 0


def _task_record(t: Any, names: dict[int, str]) -> dict[str, Any]:
    return {"id": t.id, "title": t.title, "due": t.due.isoformat(),
            "units": [names.get(u, str(u)) for u in t.unit_ids], "system": t.system,
            "status": t.status}


def cmd_task_add(args: argparse.Namespace) -> int:
    from bot.services import tasks

    settings = _settings(args)
    due = _parse_time(args.due, settings)
    admin = _Admin(settings)
    now = admin.env.clock.now()

    def write(conn: Connection) -> tuple[tasks.TaskInfo, list[str]]:
        t, warnings = tasks.add(conn, title=args.title, due=due, units_spec=args.units,
                                system=args.system, description=args.description or "",
                                created_by=None, now=now, recurrence=args.recurrence)
        admin.audit(conn, "task.create", f"task:{t.id}", {"title": t.title, "due": due.isoformat()})
        return t, warnings

    t, warnings = admin.run(write)
    for w in warnings:
        print(f"警告：{w}", file=sys.stderr)
    if args.json:
        _emit(args, {"id": t.id, "title": t.title, "due": t.due.isoformat(),
                     "units": len(t.unit_ids), "warnings": warnings}, "")
    else:
        print(t.id)
    admin.close()
    return 0


def cmd_task_list(args: argparse.Namespace) -> int:
    from bot.services import tasks, units

    admin = _Admin(_settings(args))
    rows = admin.run(lambda c: tasks.list_tasks(c, status=None if args.all else "open"))
    names = {u.id: u.name for u in admin.run(units.list_units)}
    records = [_task_record(t, names) for t in rows]
    text = "\n".join(f"{t.id:>4}  {t.title}  截止 {admin.env.fmt(t.due)}  {len(t.unit_ids)} 个单位  "
                     f"{t.status}" for t in rows)
    _emit(args, records, text or "（没有任务）")
    admin.close()
    return 0


def cmd_submission_list(args: argparse.Namespace) -> int:
    from bot.services import submissions

    admin = _Admin(_settings(args))
    rows = admin.run(lambda c: submissions.list_submissions(c, task_id=args.task))
    records = [{"id": s.id, "task_id": s.task_id, "task": s.task, "unit": s.unit,
                "submitter": s.submitter, "text": s.text,
                "attachments": [{"name": f.name, "sha256": f.sha256, "size": f.size}
                                for f in s.attachments],
                "status": s.status, "rating": s.rating, "version": s.version,
                "submitted_at": s.submitted_at.isoformat()} for s in rows]
    text = "\n".join(f"#{s.id}  {s.unit}《{s.task}》第{s.version}版  {s.status}"
                     f"{' ' + s.rating if s.rating else ''}  {admin.env.fmt(s.submitted_at)}"
                     for s in rows)
    _emit(args, records, text or "（没有提交）")
    admin.close()
    return 0


def cmd_notice_send(args: argparse.Namespace) -> int:
    from bot.services import notices

    admin = _Admin(_settings(args))
    now = admin.env.clock.now()

    def write(conn: Connection) -> notices.NoticeResult:
        res = notices.send(conn, text=" ".join(args.text), targets=args.to, created_by=None,
                           now=now, remind=args.remind)
        admin.audit(conn, "notice.send", f"notice:{res.id}",
                    {"targets": args.to, "remind": args.remind})
        return res

    res = admin.run(write)
    _emit(args, {"id": res.id, "groups": res.groups, "units": res.units},
          f"通知 {res.id} 已写入发件箱：{res.groups} 个群，{res.units} 个单位"
          "（由运行中的 dudao serve 投递）")
    admin.close()
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    from bot.domain.clock import FixedClock

    settings = _settings(args)
    at = _parse_time(args.at, settings)
    admin = _Admin(settings)
    admin.env.clock = FixedClock(at)
    try:
        from bot.scheduler import run_due_jobs
    except ImportError as exc:  # pragma: no cover
        raise CliError("scheduler not available") from exc
    report = asyncio.run(run_due_jobs(admin.db, admin.env, at))
    _emit(args, report, str(report))
    admin.close()
    return 1 if getattr(report, "errors", None) else 0


def cmd_export(args: argparse.Namespace) -> int:
    import time

    from bot.reports.export import check_out, export_year
    from bot.services.stats import parse_year

    started = time.monotonic()
    year = parse_year(args.year)  # bad input fails before the database is touched
    out = check_out(Path(args.out))

    def progress(stage: str) -> None:
        # Quiet for a quick export; a big year says what it is doing after the first second.
        if time.monotonic() - started >= 1.0:
            print(f"导出中：{stage}…", file=sys.stderr, flush=True)

    admin = _Admin(_settings(args))
    try:
        res = export_year(admin.db, admin.env, year, out, progress=progress)
    finally:
        admin.close()
    t = res.totals
    rate = "—" if t["on_time_rate"] is None else f"{t['on_time_rate']:.1%}"
    _emit(args, {"path": str(res.path), "year": res.year, "units": res.units,
                 "tasks": res.tasks, "totals": t, "seconds": round(res.seconds, 3)},
          f"已导出 {res.path}：{res.units} 个单位，{res.tasks} 项任务；按时率 {rate}，"
          f"红旗 {t['red']}、蓝旗 {t['blue']}、黄旗 {t['yellow']}")
    return 0


def cmd_wechat_menu(args: argparse.Namespace) -> int:
    from bot.adapters.wechat_mp.errors import WeChatAPIError
    from bot.adapters.wechat_mp.menu import DEFAULT_MENU, MenuError, load_menu

    settings = _settings(args)
    try:
        menu = load_menu(Path(args.file)) if args.file else DEFAULT_MENU
    except MenuError as exc:
        raise CliError(str(exc)) from None
    if args.dry_run:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    mp = settings.wechat_mp
    if not (mp.app_id and mp.app_secret):
        raise CliError("未配置公众号 [wechat_mp] app_id 和 app_secret，无法创建菜单")
    from bot.app import create_menu

    admin = _Admin(settings)
    try:
        try:
            asyncio.run(create_menu(admin.db, mp, menu))
        except WeChatAPIError as exc:
            print(f"错误：微信接口拒绝创建菜单（errcode {exc.errcode}：{exc.errmsg}）",
                  file=sys.stderr)
            return 1
        names = [b["name"] for b in menu["button"]]
        admin.run(lambda conn: admin.audit(conn, "wechat.menu", f"mp:{mp.app_id}",
                                           {"buttons": names}))
    finally:
        admin.close()
    _emit(args, {"created": True, "menu": menu}, f"公众号菜单已创建：{'、'.join(names)}")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from bot.app import run_console

    return run_console(_settings(args), identity=args.as_, chat=args.group)


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dudao", description="督导：督导工作群机器人服务")
    p.add_argument("--config", help="TOML 配置文件（默认 ./dudao.toml）")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    def leaf(parent: Any, name: str, fn: Callable[[argparse.Namespace], int], help_: str,
             json_: bool = True) -> argparse.ArgumentParser:
        sp: argparse.ArgumentParser = parent.add_parser(name, help=help_, description=help_)
        sp.set_defaults(fn=fn)
        if json_:
            sp.add_argument("--json", action="store_true", help="机器可读的 JSON 输出")
        return sp

    s = leaf(sub, "serve", cmd_serve, "运行服务（HTTP、适配器、调度、发件箱）", json_=False)
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    c = leaf(sub, "console", cmd_console, "在终端里与机器人对话", json_=False)
    c.add_argument("--as", dest="as_", default="qq:10001", help="以哪个身份发言，如 qq:10001")
    c.add_argument("--group", default="qq:group:20001", help="在哪个群里，如 qq:group:20001")

    cfg = sub.add_parser("config", help="配置").add_subparsers(dest="sub", required=True)
    leaf(cfg, "check", cmd_config_check, "显示生效的配置（密钥已遮盖）")

    unit = sub.add_parser("unit", help="单位").add_subparsers(dest="sub", required=True)
    ul = leaf(unit, "list", cmd_unit_list, "列出单位")
    ul.add_argument("--kind", choices=("city", "county", "department", "central", "office"))
    ui = leaf(unit, "import", cmd_unit_import, "从 TOML、CSV 或 xlsx 导入单位")
    ui.add_argument("file")
    uv = leaf(unit, "invite", cmd_unit_invite, "生成单位联络员绑定邀请码")
    uv.add_argument("unit")
    uv.add_argument("--days", type=int, default=30)
    uv.add_argument("--uses", type=int, default=3)
    uk = leaf(unit, "link", cmd_unit_link, "生成单位督导看板只读链接（含下级单位）")
    uk.add_argument("unit")
    uk.add_argument("--days", type=int, default=30, help="有效天数（1 到 366，默认 30）")

    person = sub.add_parser("person", help="人员").add_subparsers(dest="sub", required=True)
    pa = leaf(person, "add", cmd_person_add, "登记人员")
    pa.add_argument("identity", help="平台:号码，如 qq:30001")
    pa.add_argument("--unit")
    pa.add_argument("--role", required=True, choices=("liaison", "official", "admin"))
    pa.add_argument("--name")
    pa.add_argument("--password", help="管理员看板登录密码（不给则在 --prompt-password 时询问）")
    pa.add_argument("--prompt-password", action="store_true")
    pi = leaf(person, "invite", cmd_person_invite, "生成公众号一次性绑定码")
    pi.add_argument("identity")

    group = sub.add_parser("group", help="群").add_subparsers(dest="sub", required=True)
    ga = leaf(group, "add", cmd_group_add, "登记群")
    ga.add_argument("chat", help="平台:group:群号，如 qq:group:40001")
    ga.add_argument("--name")
    ga.add_argument("--units", help="all | kind:city | 郑州市,开封市（不写则暂不服务任何单位）")
    ga.add_argument("--purpose", default="exchange", choices=("exchange", "admin"))
    ga.add_argument("--account", help="在该群发消息的机器人账号（OneBot self id）")
    ga.add_argument("--webhook-key", help="企业微信群机器人的 key")
    leaf(group, "list", cmd_group_list, "列出群")

    task = sub.add_parser("task", help="任务").add_subparsers(dest="sub", required=True)
    ta = leaf(task, "add", cmd_task_add, "发布任务（输出任务编号）")
    ta.add_argument("--title", required=True)
    ta.add_argument("--due", required=True, help="截止时间，如 2026-09-30T18:00+08:00")
    ta.add_argument("--units", help="all | kind:city | 郑州市,开封市（默认 all）")
    ta.add_argument("--system", default="supervision",
                    choices=("guidance", "exchange", "supervision", "evaluation"))
    ta.add_argument("--description")
    ta.add_argument("--recurrence", default="none")
    tl = leaf(task, "list", cmd_task_list, "列出任务")
    tl.add_argument("--all", action="store_true", help="包括已关闭的任务")

    subm = sub.add_parser("submission", help="提交").add_subparsers(dest="sub", required=True)
    sl = leaf(subm, "list", cmd_submission_list, "列出提交")
    sl.add_argument("--task", type=int)

    notice = sub.add_parser("notice", help="通知").add_subparsers(dest="sub", required=True)
    ns = leaf(notice, "send", cmd_notice_send, "群发通知")
    ns.add_argument("--to", default="all", help="all | kind:city | qq:group:40001 | 单位名")
    ns.add_argument("--remind", default="",
                    help="未确认单位的提醒：4x2 = 每 4 个工作小时提醒一次、最多 2 次；none = 不提醒；"
                         "默认按配置 [schedule] notice_remind")
    ns.add_argument("text", nargs="+")

    ex = leaf(sub, "export", cmd_export, "导出年度统计 Excel")
    ex.add_argument("--year", required=True, help="年份，如 2026")
    ex.add_argument("--out", required=True)

    tk = leaf(sub, "tick", cmd_tick, "执行某一时刻到期的定时任务一次（提醒、通报）")
    tk.add_argument("--at", required=True, help="如 2026-07-01T09:00+08:00")

    wechat = sub.add_parser("wechat", help="微信公众号").add_subparsers(dest="sub", required=True)
    wm = leaf(wechat, "menu", cmd_wechat_menu,
              "创建公众号自定义菜单（默认：我的任务、进度、红旗榜）")
    wm.add_argument("--file", help="菜单 JSON 文件（微信 menu/create 格式）；不给则用内置菜单")
    wm.add_argument("--dry-run", action="store_true", help="只打印菜单，不调用微信接口")

    from bot import cli_backup

    cli_backup.add_commands(sub, leaf)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    if args.command != "serve":
        level = logging.DEBUG if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result: int = args.fn(args)
        return result
    except (CliError, ConfigError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 2
    except LockError as exc:
        log.info("%s", exc)
        if isinstance(exc, LockBusy) and exc.restoring:
            print("错误：数据库正在恢复（dudao restore 正在运行），请等恢复完成后再试", file=sys.stderr)
        else:
            print(f"错误：无法锁定数据库：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
