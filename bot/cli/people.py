"""``dudao person add | invite | list | edit | passwd | remove``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import Connection

from bot.cli.common import CliError, Subcommands, group, leaf, load
from bot.cli.session import admin_session

ROLES = ("liaison", "official", "admin")


def _password_hash(args: argparse.Namespace) -> str | None:
    """The board password of ``person add``: given, asked for (--prompt-password), or none."""
    if args.password is None and not (args.role == "admin" and args.prompt_password):
        return None
    from bot.web.passwords import hash_password

    pw = args.password
    if pw is None:
        import getpass

        pw = getpass.getpass("管理员登录密码：")
    if len(pw) < 8:
        raise CliError("密码至少 8 位")
    return hash_password(pw)


def cmd_person_add(args: argparse.Namespace) -> int:
    from bot.services import people

    with admin_session(args) as admin:
        now = admin.env.clock.now()
        password_hash = _password_hash(args)
        platforms = people.known_platforms(admin.env.settings)
        identity = people.parse_identity(args.identity, platforms)

        def write(conn: Connection) -> people.PersonInfo:
            p = people.add(conn, identity=identity, unit=args.unit, role=args.role,
                           name=args.name or "", now=now, password_hash=password_hash)
            admin.audit(conn, "person.add", f"person:{p.id}",
                        {"identity": identity, "role": args.role, "unit": p.unit_name})
            return p

        p = admin.run(write)
        # "qq:10001（管理员）：管理员" said the role twice when the name is the role's word.
        who = p.name if p.name and p.name != people.ROLE_NAMES[p.role] else ""
        where = f"{p.unit_name}" if p.unit_name else "不属于任何单位"
        admin.emit({"id": p.id, "identity": identity, "name": p.name, "role": p.role,
                    "unit": p.unit_name},
                   f"已登记 {identity}{f'（{who}）' if who else ''}："
                   f"{people.ROLE_NAMES[p.role]}，{where}")
    return 0


def cmd_person_invite(args: argparse.Namespace) -> int:
    from bot.services import people

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> str:
            code = people.create_person_invite(conn, args.identity, now=now)
            admin.audit(conn, "person.invite", args.identity, {})
            return code

        code = admin.run(write)
        admin.emit({"identity": args.identity, "code": code},
                   f"一次性绑定码：{code}\n请在公众号里发送：绑定 {code}")
    return 0


def _person_record(p: Any, identity: str) -> dict[str, Any]:
    return {"id": p.id, "identity": identity, "name": p.name, "role": p.role, "unit": p.unit_name}


def cmd_person_list(args: argparse.Namespace) -> int:
    from bot.services import people

    with admin_session(args) as admin:
        rows = admin.run(people.list_people)
        admin.emit([{"id": r.id, "identities": list(r.identities), "name": r.name,
                     "role": r.role, "unit": r.unit_name, "password": r.has_password}
                    for r in rows],
                   "\n".join(f"{','.join(r.identities):<24} {r.unit_name or '（无单位）'}  "
                             f"{people.ROLE_NAMES.get(r.role, r.role)}  {r.name}" for r in rows)
                   or "（没有人员）")
    return 0


def cmd_person_edit(args: argparse.Namespace) -> int:
    from bot.services import people

    if args.name is None and args.unit is None and args.role is None:
        raise CliError("没有要修改的内容：请给出 --name、--unit 或 --role")
    with admin_session(args) as admin:
        def write(conn: Connection) -> tuple[people.PersonInfo, dict[str, list[Any]]]:
            p, changes = people.edit(conn, args.identity, name=args.name, unit=args.unit,
                                     role=args.role)
            admin.audit(conn, "person.edit", f"person:{p.id}",
                        {"identity": people.parse_identity(args.identity), **changes})
            return p, changes

        p, changes = admin.run(write)
        admin.emit({**_person_record(p, args.identity), "changes": changes},
                   f"已修改 {args.identity}：{p.unit_name or '（无单位）'} "
                   f"{people.ROLE_NAMES[p.role]}" + (f" {p.name}" if p.name else ""))
    return 0


def _read_password() -> str:
    """From a prompt (twice) on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        import getpass

        pw = getpass.getpass("新的看板登录密码：")
        if getpass.getpass("再输入一次：") != pw:
            raise CliError("两次输入的密码不一致")
    else:
        pw = sys.stdin.readline().rstrip("\r\n")
    if len(pw) < 8:
        raise CliError("密码至少 8 位")
    return pw


def cmd_person_passwd(args: argparse.Namespace) -> int:
    from bot.services import people
    from bot.web.passwords import hash_password

    settings = load(args)
    people.parse_identity(args.identity)  # a typo fails before the prompt
    password_hash = hash_password(_read_password())
    with admin_session(args, settings) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> people.PersonInfo:
            p = people.set_password(conn, args.identity, password_hash, now=now,
                                    configured_admins=tuple(settings.admins))
            admin.audit(conn, "person.passwd", f"person:{p.id}",
                        {"identity": people.parse_identity(args.identity)})
            return p

        p = admin.run(write)
        admin.emit(_person_record(p, args.identity),
                   f"已为 {args.identity} 设置看板登录密码")
    return 0


def cmd_person_remove(args: argparse.Namespace) -> int:
    from bot.services import people

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> people.PersonInfo:
            p = people.remove(conn, args.identity, now=now)
            admin.audit(conn, "person.remove", f"person:{p.id}",
                        {"identity": people.parse_identity(args.identity), "role": p.role,
                         "unit": p.unit_name})
            return p

        p = admin.run(write)
        admin.emit({**_person_record(p, args.identity), "active": False},
                   f"已停用 {args.identity}（{p.unit_name or '无单位'} "
                   f"{people.ROLE_NAMES[p.role]}），其历史记录保留")
    return 0


def register(sub: Subcommands) -> None:
    person = group(sub, "person", "人员")
    pa = leaf(person, "add", cmd_person_add, "登记人员")
    pa.add_argument("identity", help="平台:号码，如 qq:30001")
    pa.add_argument("--unit")
    pa.add_argument("--role", required=True, choices=ROLES)
    pa.add_argument("--name")
    pa.add_argument("--password", help="管理员看板登录密码（不给则在 --prompt-password 时询问）")
    pa.add_argument("--prompt-password", action="store_true")
    pi = leaf(person, "invite", cmd_person_invite, "生成公众号一次性绑定码")
    pi.add_argument("identity")
    leaf(person, "list", cmd_person_list, "列出在册人员")
    pe = leaf(person, "edit", cmd_person_edit, "修改人员的姓名、单位或角色")
    pe.add_argument("identity", help="平台:号码，如 qq:30001")
    pe.add_argument("--name")
    pe.add_argument("--unit")
    pe.add_argument("--role", help="liaison | official | admin")
    pp = leaf(person, "passwd", cmd_person_passwd,
              "设置管理员的看板登录密码（终端里提示输入，否则读标准输入的第一行）")
    pp.add_argument("identity", help="平台:号码，如 qq:10001（可以是 DUDAO_ADMINS 中的管理员）")
    pr = leaf(person, "remove", cmd_person_remove, "停用人员（不再识别其身份，历史记录保留）")
    pr.add_argument("identity", help="平台:号码，如 qq:30001")
