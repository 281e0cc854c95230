"""``dudao unit list | import | invite | link``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import Connection

from bot.cli.common import CliError, Subcommands, group, leaf, load
from bot.cli.session import admin_session

KINDS = ("city", "county", "department", "central", "office")


def cmd_unit_list(args: argparse.Namespace) -> int:
    from bot.services import units

    with admin_session(args) as admin:
        rows = admin.run(lambda c: units.list_units(c, kind=args.kind))
        names = dict((u.id, u.name) for u in rows)
        records = [{"id": u.id, "code": u.code, "name": u.name, "short_name": u.short_name,
                    "kind": u.kind, "parent": names.get(u.parent_id) if u.parent_id else None,
                    "aliases": list(u.aliases)} for u in rows]
        text = "\n".join(
            f"{u.id:>4}  {u.name}（{u.short_name}）  {units.KIND_NAMES.get(u.kind, u.kind)}"
            + (f"  别名：{'、'.join(u.aliases)}" if u.aliases else "") for u in rows)
        admin.emit(records, text or "（没有单位）")
    return 0


def _import_progress(args: argparse.Namespace, done: int, total: int) -> None:
    if args.json or (not sys.stderr.isatty() and total < 1000):
        return
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r校验 [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_unit_import(args: argparse.Namespace) -> int:
    from bot.services import units
    from config.roster import RosterError, UnitRow, load_roster_file

    with admin_session(args) as admin:
        existing = admin.run(units.list_units)
        codes_by_id = {u.id: u.code for u in existing}
        current = [UnitRow(u.code, u.name, u.short_name, u.aliases, u.kind,
                           codes_by_id.get(u.parent_id) if u.parent_id else None)
                   for u in existing]
        try:
            rows = load_roster_file(Path(args.file), existing=current,
                                    progress=lambda done, total: _import_progress(args, done,
                                                                                  total))
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
        admin.emit({"added": added, "updated": updated, "rows": len(rows)},
                   f"导入完成：新增 {added} 个单位，更新 {updated} 个")
    return 0


def cmd_unit_invite(args: argparse.Namespace) -> int:
    from bot.services import units

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> tuple[str, str]:
            unit = units.require(conn, args.unit)
            code = units.create_invite(conn, unit, now=now, days=args.days, uses=args.uses)
            admin.audit(conn, "unit.invite", f"unit:{unit.id}",
                        {"days": args.days, "uses": args.uses})
            return unit.name, code

        name, code = admin.run(write)
        admin.emit({"unit": name, "code": code, "days": args.days, "uses": args.uses},
                   f"{name}的绑定邀请码：{code}（{args.days} 天内有效，可用 {args.uses} 次）\n"
                   f"联络员在群里或私聊发送：绑定 {name} {code}")
    return 0


def cmd_unit_link(args: argparse.Namespace) -> int:
    from bot.services import units
    from bot.web import links

    settings = load(args)
    links.check_days(args.days)  # a bad lifetime fails before the database is touched
    with admin_session(args, settings) as admin:
        now = admin.env.clock.now()
        signer = links.signer_for(settings)

        def write(conn: Connection) -> links.ViewLink:
            unit = units.require(conn, args.unit)
            link = links.make_view_link(conn, signer=signer, base_url=admin.env.board_url,
                                        unit_id=unit.id, days=args.days, now=now)
            admin.audit(conn, "unit.view_link", f"unit:{unit.id}", {"days": args.days})
            return link

        link = admin.run(write)
        expires = admin.env.local(link.expires_at)
        note = admin.env.local_links_note()
        admin.emit({"url": link.url, "unit": link.unit, "expires_at": expires.isoformat()},
                   f"{link.unit}督导看板只读链接（可查看本单位及下级单位，"
                   f"{expires:%Y-%m-%d %H:%M} 前有效）：\n{link.url}" + (f"\n{note}" if note else ""))
        if note and args.json:
            print(note, file=sys.stderr)
    return 0


def register(sub: Subcommands) -> None:
    unit = group(sub, "unit", "单位")
    ul = leaf(unit, "list", cmd_unit_list, "列出单位")
    ul.add_argument("--kind", choices=KINDS)
    ui = leaf(unit, "import", cmd_unit_import, "从 TOML、CSV 或 xlsx 导入单位")
    ui.add_argument("file")
    uv = leaf(unit, "invite", cmd_unit_invite, "生成单位联络员绑定邀请码")
    uv.add_argument("unit")
    uv.add_argument("--days", type=int, default=30, help="有效天数")
    uv.add_argument("--uses", type=int, default=3, help="可用次数")
    uk = leaf(unit, "link", cmd_unit_link, "生成单位督导看板只读链接（含下级单位）")
    uk.add_argument("unit")
    uk.add_argument("--days", type=int, default=30, help="有效天数（1 到 366，默认 30）")
