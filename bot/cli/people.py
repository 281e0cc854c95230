"""``dudao person add | invite``."""

from __future__ import annotations

import argparse

from sqlalchemy import Connection

from bot.cli.common import CliError, Subcommands, group, leaf
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
