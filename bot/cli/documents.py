"""``dudao doc …``: official documents (公文) as .docx in the national format (DESIGN §5).

    dudao doc letter --unit 开封市 [--issue]     督导建议书 for a unit
    dudao doc bulletin ID [--issue]             通报 from a weekly bulletin draft (ID of 通报)
    dudao doc halfyear --half 2027H1 [--issue]  半年报告
    dudao doc yearly --year 2027                the yearly report section (a draft, no number)
    dudao doc issue ID                          签发 a draft: the next number of the year
    dudao doc list [--status draft|issued]

Each writes a .docx (``--out FILE``, default under ``<data_dir>/documents``) and prints its
number (or that it is a draft) and its path; ``--json`` gives ``id``, ``number``, ``path``,
``status`` (and ``kind``, ``title``). Every change is one transaction and is audited.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from bot.cli.common import CLI_ACTOR, Subcommands, group, leaf
from bot.cli.session import AdminSession, admin_session


def _actor() -> Any:
    from bot.services.documents import Actor

    return Actor(CLI_ACTOR)


def _out(args: argparse.Namespace) -> Path | None:
    return Path(args.out) if getattr(args, "out", None) else None


def _audit(admin: AdminSession, conn: Connection, action: str, made: Any) -> None:
    info = made.info
    admin.audit(conn, action, f"document:{info.id}",
                {"kind": info.kind, "title": info.title, "number": info.number,
                 "path": str(made.path), "sha256": info.sha256})


def _say(made: Any, *, issued: bool) -> str:
    info = made.info
    if issued:
        head = f"已签发 文件#{info.id}：{info.number}《{info.title}》"
    else:
        head = (f"已起草{info.kind_name} 文件#{info.id}《{info.title}》（草稿"
                + ("，签发时编号：dudao doc issue " + str(info.id)
                   if info.kind != "yearly" else "，供编入年度报告，不单独编号") + "）")
    if issued:
        from bot.services.drafting import delivery_note

        return f"{head}\n{made.path}\n{delivery_note(made)}"
    return f"{head}\n{made.path}"


def _draft_then(args: argparse.Namespace, draft: Callable[[Connection, Any, Any, Any], Any]
                ) -> int:
    """Draft (and with ``--issue`` issue) in one transaction: a failed issue keeps no draft."""
    from bot.services import drafting as docs

    with admin_session(args) as admin:
        now = admin.env.clock.now()
        actor = _actor()

        def write(conn: Connection) -> tuple[Any, bool]:
            made = draft(conn, admin.env, actor, now)
            _audit(admin, conn, "document.draft", made)
            if getattr(args, "issue", False):
                made = docs.issue(conn, admin.env, made.info.id, actor=actor, now=now,
                                  out=_out(args))
                _audit(admin, conn, "document.issue", made)
                return made, True
            return made, False

        made, issued = admin.run(write)
        admin.emit(made.record(), _say(made, issued=issued))
    return 0


def cmd_doc_letter(args: argparse.Namespace) -> int:
    from bot.domain.periods import parse_year
    from bot.services import drafting as docs

    year = parse_year(args.year) if args.year else None
    return _draft_then(args, lambda conn, env, actor, now: docs.draft_letter(
        conn, env, args.unit, actor=actor, now=now, out=_out(args), year=year))


def cmd_doc_bulletin(args: argparse.Namespace) -> int:
    from bot.services import drafting as docs

    return _draft_then(args, lambda conn, env, actor, now: docs.draft_bulletin(
        conn, env, args.id, actor=actor, now=now, out=_out(args)))


def cmd_doc_halfyear(args: argparse.Namespace) -> int:
    from bot.domain.periods import parse_half
    from bot.services import drafting as docs

    parse_half(args.half)  # bad input fails before the database is touched
    return _draft_then(args, lambda conn, env, actor, now: docs.draft_halfyear(
        conn, env, args.half, actor=actor, now=now, out=_out(args)))


def cmd_doc_yearly(args: argparse.Namespace) -> int:
    from bot.domain.periods import parse_year
    from bot.services import drafting as docs

    year = parse_year(args.year)
    return _draft_then(args, lambda conn, env, actor, now: docs.draft_yearly(
        conn, env, year, actor=actor, now=now, out=_out(args)))


def cmd_doc_issue(args: argparse.Namespace) -> int:
    from bot.services import drafting as docs

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> Any:
            made = docs.issue(conn, admin.env, args.id, actor=_actor(), now=now, out=_out(args))
            _audit(admin, conn, "document.issue", made)
            return made

        made = admin.run(write)
        admin.emit(made.record(), _say(made, issued=True))
    return 0


def cmd_doc_list(args: argparse.Namespace) -> int:
    from bot.services import documents as register

    with admin_session(args) as admin:
        rows = admin.run(lambda conn: register.list_documents(conn, status=args.status,
                                                              kind=args.kind))
        records = [{"id": d.id, "kind": d.kind, "title": d.title, "unit": d.unit,
                    "number": d.number, "status": d.status, "path": d.path, "sha256": d.sha256,
                    "created_by": d.created_by, "created_at": d.created_at.isoformat(),
                    "issued_by": d.issued_by,
                    "issued_at": d.issued_at.isoformat() if d.issued_at else None}
                   for d in rows]
        text = "\n".join(
            f"文件#{d.id:<4} {register.STATUS_NAMES.get(d.status, d.status)}  {d.kind_name}  "
            f"{d.number or '（未编号）'}  {d.title}" for d in rows)
        admin.emit(records, text or "（没有文件）")
    return 0


def register(sub: Subcommands) -> None:
    doc = group(sub, "doc", "公文（.docx）：督导建议书、通报、半年报告")

    def outputs(sp: argparse.ArgumentParser, *, issue: bool = True) -> None:
        sp.add_argument("--out", help="写到这个 .docx 文件（默认在数据目录的 documents 下）")
        if issue:
            sp.add_argument("--issue", action="store_true",
                            help="起草后立即签发：取本年度下一个文号")

    dl = leaf(doc, "letter", cmd_doc_letter, "为单位起草督导建议书（黄旗、逾期、退回情况和整改要求）")
    dl.add_argument("--unit", required=True, help="单位名称、简称或代码，如 开封市")
    dl.add_argument("--year", help="统计年度（默认今年）")
    outputs(dl)
    db = leaf(doc, "bulletin", cmd_doc_bulletin, "把一份进度通报草稿生成通报文件（表扬、通报批评）")
    db.add_argument("id", type=int, help="通报编号（聊天里“通报”起草时给出的编号）")
    outputs(db)
    dh = leaf(doc, "halfyear", cmd_doc_halfyear, "起草半年工作报告")
    dh.add_argument("--half", required=True, help="如 2027H1（上半年）、2027H2（下半年）")
    outputs(dh)
    dy = leaf(doc, "yearly", cmd_doc_yearly, "起草年度依法行政工作报告中本项工作的部分（草稿）")
    dy.add_argument("--year", required=True, help="年份，如 2027")
    outputs(dy, issue=False)
    di = leaf(doc, "issue", cmd_doc_issue, "签发文件：取本年度下一个文号，生成正式文件")
    di.add_argument("id", type=int, help="文件编号（文件#N 的 N）")
    outputs(di, issue=False)
    dls = leaf(doc, "list", cmd_doc_list, "列出公文（草稿和已签发）")
    dls.add_argument("--status", choices=("draft", "issued"))
    dls.add_argument("--kind", choices=("bulletin", "letter", "halfyear", "cases", "yearly"))
