"""``dudao case list | show | add | select | return | export``: typical cases (DESIGN §5).

    dudao case list [--year 2027] [--status submitted|selected|returned] [--unit 郑州市]
    dudao case show ID
    dudao case add --unit 郑州市 --title … [--kind 行政调解] --text … [--file F …]
    dudao case select ID            入选 (counts as the unit's case collection of the year)
    dudao case return ID --reason … 退回
    dudao case export --year 2027 --out 案例汇编.docx   the year's selected cases, compiled

Every change is one transaction and audited; the unit is told in its group (through the
outbox, delivered by a running ``dudao serve``) as when an admin does it in chat.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from bot.cli.common import CLI_ACTOR, Subcommands, group, leaf
from bot.cli.session import admin_session

if TYPE_CHECKING:
    from bot.services.cases import CaseInfo


def _line(c: CaseInfo) -> str:
    from bot.services.cases import STATUS_NAMES

    files = f"  附件 {len(c.files)}" if c.files else ""
    reason = f"  （{c.reason}）" if c.reason else ""
    return (f"案例#{c.id:<4} {c.year}  {STATUS_NAMES.get(c.status, c.status)}  {c.kind}  "
            f"{c.unit}  《{c.title}》{files}{reason}")


def _year(text: str | None) -> int | None:
    from bot.domain.periods import parse_year

    return parse_year(text) if text else None


def cmd_case_list(args: argparse.Namespace) -> int:
    from bot.services import cases
    from bot.services import units as units_svc

    year = _year(args.year)
    with admin_session(args) as admin:
        def read(conn: Connection) -> list[CaseInfo]:
            unit_id = units_svc.require(conn, args.unit).id if args.unit else None
            if args.query:
                return list(cases.search(conn, args.query, year=year, status=args.status,
                                         unit_id=unit_id, kind=args.kind, limit=100).hits)
            return cases.list_cases(conn, year=year, status=args.status, unit_id=unit_id,
                                    kind=args.kind, after_id=args.after, limit=args.limit)

        rows = admin.run(read)
        admin.emit([c.record() for c in rows], "\n".join(map(_line, rows)) or "（没有案例）")
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    from bot.services import cases

    with admin_session(args) as admin:
        c = admin.run(lambda conn: cases.get(conn, args.id))
        lines = [_line(c), c.text] + [f"  附件：{f.name}（{f.size} 字节，sha256 {f.sha256}）"
                                      for f in c.files]
        admin.emit(c.record(), "\n".join(x for x in lines if x))
    return 0


def cmd_case_add(args: argparse.Namespace) -> int:
    from bot.domain.errors import InvalidInput
    from bot.services import cases
    from bot.services import units as units_svc
    from bot.services.files import FileStore
    from storage.blobs import files_root

    draft = cases.read_case(" ".join(x for x in (f"《{args.title}》", args.kind or "",
                                                 args.text or "") if x))
    paths = [Path(p) for p in args.file or ()]
    for p in paths:
        if not p.is_file():
            raise InvalidInput(f"文件不存在：{p}", log=f"case file missing {p}")
    with admin_session(args) as admin:
        store = FileStore(files_root(admin.settings.service.data_dir))
        stored = tuple(asyncio.run(_store_all(store, paths)))
        now = admin.env.clock.now()

        def write(conn: Connection) -> CaseInfo:
            unit = units_svc.require(conn, args.unit)
            info = cases.submit(conn, admin.env, draft, unit_id=unit.id, person_id=None,
                                files=stored, now=now, channel="cli")
            admin.audit(conn, "case.create", f"case:{info.id}",
                        {"unit": unit.id, "kind": info.kind, "files": [f.sha256 for f in stored]})
            return info

        info = admin.run(write)
        admin.emit(info.record(), f"已登记 {_line(info)}")
    return 0


async def _store_all(store: Any, paths: list[Path]) -> list[Any]:
    return [await store.put(p.name, p.read_bytes()) for p in paths]


def _review(args: argparse.Namespace, *, select: bool) -> int:
    from bot.services import cases

    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> Any:
            if select:
                done = cases.select_case(conn, admin.env, args.id, reviewer_id=None, now=now)
                c = done.case
                admin.audit(conn, "case.select", f"case:{c.id}",
                            {"unit": c.unit_id, "collection_task": done.collection_task})
            else:
                done = cases.return_case(conn, args.id, reason=args.reason, reviewer_id=None,
                                         now=now)
                c = done.case
                admin.audit(conn, "case.return", f"case:{c.id}",
                            {"unit": c.unit_id, "reason": c.reason})
            cases.tell_unit(conn, c, now)
            return done

        done = admin.run(write)
        c = done.case
        what = "已入选" if select else "已退回"
        extra = "，已计入该单位本年度典型案例收集" if done.collection_task else ""
        admin.emit(c.record() | {"collection_task": done.collection_task},
                   f"{what} {_line(c)}{extra}")
    return 0


def cmd_case_select(args: argparse.Namespace) -> int:
    return _review(args, select=True)


def cmd_case_return(args: argparse.Namespace) -> int:
    return _review(args, select=False)


def cmd_case_export(args: argparse.Namespace) -> int:
    from bot.services import cases
    from bot.services import drafting as docs
    from bot.services.documents import Actor

    year = _year(args.year)
    assert year is not None
    with admin_session(args) as admin:
        now = admin.env.clock.now()

        def write(conn: Connection) -> Any:
            records = cases.selected_records(conn, year)
            made = docs.draft_cases(conn, admin.env, year, records, actor=Actor(CLI_ACTOR),
                                    now=now, out=Path(args.out) if args.out else None)
            info = made.info
            admin.audit(conn, "document.draft", f"document:{info.id}",
                        {"kind": info.kind, "title": info.title, "path": str(made.path),
                         "sha256": info.sha256, "cases": len(records)})
            return made, len(records)

        made, n = admin.run(write)
        admin.emit(made.record() | {"cases": n},
                   f"已生成{year}年度典型案例汇编（{n} 篇，文件#{made.info.id}，草稿，"
                   f"签发：dudao doc issue {made.info.id}）\n{made.path}")
    return 0


def register(sub: Subcommands) -> None:
    from bot.services.doc_cases import CASE_KINDS

    statuses = ("submitted", "selected", "returned")
    case = group(sub, "case", "典型案例：列表、登记、入选、退回、汇编")
    cl = leaf(case, "list", cmd_case_list, "列出典型案例（可按年度、状态、单位、类型筛选，或按关键词查找）")
    cl.add_argument("--year", help="年度，如 2027")
    cl.add_argument("--status", choices=statuses)
    cl.add_argument("--unit", help="单位名称或简称")
    cl.add_argument("--kind", choices=CASE_KINDS)
    cl.add_argument("--query", "-q", help="关键词（最相关的在前）")
    cl.add_argument("--after", type=int, help="从这个编号之后列起（分页）")
    cl.add_argument("--limit", type=int, default=100, help="最多列出多少个（默认 100）")
    cs = leaf(case, "show", cmd_case_show, "查看一个案例及其附件")
    cs.add_argument("id", type=int)
    ca = leaf(case, "add", cmd_case_add, "登记一个单位报送的典型案例（如通过邮件收到的）")
    ca.add_argument("--unit", required=True, help="单位名称或简称")
    ca.add_argument("--title", required=True)
    ca.add_argument("--kind", choices=CASE_KINDS, help="类型（默认按内容判断，否则“其他”）")
    ca.add_argument("--text", default="", help="案例内容")
    ca.add_argument("--file", action="append", help="案例材料文件（可多次）")
    cse = leaf(case, "select", cmd_case_select, "案例入选（计入该单位本年度典型案例收集）")
    cse.add_argument("id", type=int)
    cr = leaf(case, "return", cmd_case_return, "退回案例并说明原因")
    cr.add_argument("id", type=int)
    cr.add_argument("--reason", required=True)
    ce = leaf(case, "export", cmd_case_export, "把某年度入选的案例编成案例汇编（.docx）")
    ce.add_argument("--year", required=True, help="年度，如 2027")
    ce.add_argument("--out", help="写到这个 .docx 文件（默认在数据目录的 documents 下）")
