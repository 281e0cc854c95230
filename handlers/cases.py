"""案例 / 查案例 / 入选 / 退回 案例#N: typical cases in chat (DESIGN §5).

A liaison sends ``案例 标题 [行政指导|行政调解|行政契约] 内容`` with files; the case is stored with
them and acknowledged in the same transaction (the answer goes out only after the commit). Admins
select (``入选 案例#3``) or return (``退回 案例#3 原因``; ``handlers/review.py`` hands 退回 with
案例 here) and the unit is told in the chat it came from. Anyone registered searches with
``查案例 关键词``: best matches first, each with its number, unit, kind and a board link.
"""

from __future__ import annotations

import re

from bot.core.context import Context
from bot.core.event import ChatRef
from bot.core.nlu import Form, Query, State
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from bot.domain.errors import InvalidInput
from bot.domain.roles import ADMIN, LIAISON
from bot.services import cases as cases_svc
from bot.services import units as units_svc
from bot.services.doc_cases import CASE_KINDS
from handlers.common import person_of, require_unit, visible_units
from handlers.slots import parse_for

router = Router("cases")

SUBMIT = HandlerSpec("case", ("案例",), "案例 标题 [行政指导|行政调解|行政契约] 内容（可附文件）",
                     "报送本单位的典型案例", roles=(LIAISON,), area="cases",
                     example="案例 调解物业纠纷 行政调解 某街道组织双方调解……", action="报送典型案例",
                     word_alone=True)
SEARCH = HandlerSpec("case_search", ("查案例", "搜案例", "找案例"), "查案例 关键词",
                     "按关键词查找典型案例（最相关的在前）",
                     intents=("cases",), roles=ANYONE_REGISTERED, area="cases",
                     example="查案例 物业纠纷")
SELECT = HandlerSpec("case_select", ("入选",), "入选 案例#编号", "把一个典型案例评为入选",
                     roles=(ADMIN,), area="cases", example="入选 案例#3", action="评选典型案例",
                     word_alone=True)
SHOWN = 5
_CASE_NO = re.compile(r"^\s*(?:案例)?\s*[#＃]?\s*(\d+)")


def is_case_ref(args: str) -> bool:
    """Whether 退回's arguments name a case (``案例#3 原因``) rather than a submission."""
    return args.lstrip(" #＃").startswith("案例")


def _number(ctx: Context, example: str) -> tuple[int, str]:
    m = _CASE_NO.match(ctx.args)
    if m is None:
        raise InvalidInput(f"请写明案例编号，例如：{example}", log="case review without number")
    return int(m.group(1)), ctx.args[m.end():].strip(" \t\n:：,，")


def _link(ctx: Context, case_id: int) -> str:
    return f"{ctx.env.board_url}/cases/{case_id}"


@router.handler(SUBMIT)
def submit(ctx: Context) -> None:
    person, unit_id = require_unit(ctx)
    if ctx.event.missing_files:
        raise InvalidInput(f"文件“{'、'.join(ctx.event.missing_files)}”没能下载下来，请重新发送",
                           log="case attachment download failed")
    draft = cases_svc.read_case(ctx.args)
    info = cases_svc.submit(ctx.conn, ctx.env, draft, unit_id=unit_id, person_id=person.id,
                            files=ctx.event.files, now=ctx.now, source_chat=ctx.event.chat.key)
    ctx.audit("case.create", f"case:{info.id}",
              {"unit": unit_id, "kind": info.kind, "files": [f.sha256 for f in info.files]})
    files = f"，附件 {len(info.files)} 个" if info.files else ""
    ctx.reply(f"已收到{info.unit}的典型案例《{info.title}》（案例#{info.id}，{info.kind}{files}），"
              "管理员审核后会告知结果", cause=f"case:{info.id}")


def _line(ctx: Context, i: int, c: cases_svc.CaseInfo) -> str:
    state = "" if c.status == "selected" else f"，{cases_svc.STATUS_NAMES[c.status]}"
    return f"{i}. 案例#{c.id}《{c.title}》{c.unit}，{c.kind}{state} {_link(ctx, c.id)}"


@router.handler(SEARCH)
def search(ctx: Context) -> None:
    person = person_of(ctx)
    # Liaisons see every selected case and their own unit's others (as on the board).
    visible = None if person.role == ADMIN else (visible_units(ctx) or set())
    p = parse_for(ctx, SEARCH)
    q = p.query if p is not None and not ctx.command else None
    if q is not None and q.ref and q.ref not in CASE_KINDS:  # "有没有关于物业纠纷的案例": a search
        _search(ctx, q.ref, visible)
    elif q is not None:  # "今年入选了几个案例", "郑州报了哪些案例", "有没有行政调解的案例"
        _answer(ctx, q, visible)
    else:
        _search(ctx, ctx.args.strip() or (ctx.parse.body if ctx.parse else ""), visible)


_STATES = {State.SELECTED: "selected", State.RETURNED: "returned"}
_STATE_WORDS = {"selected": "入选", "returned": "被退回"}


def _answer(ctx: Context, q: Query, visible: set[int] | None) -> None:
    """A question about cases as filters: how many, which, whether any (the lines as 查案例's)."""
    units = [units_svc.get(ctx.conn, u) for u in q.unit_ids]
    if q.mine and ctx.person is not None and ctx.person.unit_id:
        units = [units_svc.get(ctx.conn, ctx.person.unit_id)]
    scope = "、".join(u.name for u in units)
    if not units and q.kinds:  # "各地市报了几个案例": the units of those kinds
        units = [u for k in q.kinds for u in units_svc.list_units(ctx.conn, kind=k)]
        scope = "、".join(units_svc.KIND_NAMES.get(k, k) for k in q.kinds)
    status = next((_STATES[s] for s in q.states if s in _STATES), None)
    year = q.date_from.year if q.date_from is not None else None
    found = cases_svc.find(ctx.conn, year=year, status=status, kind=q.ref or None,
                           unit_ids={u.id for u in units} if units or q.kinds else None,
                           visible_units=visible, limit=SHOWN)
    when = f"{year}年" if year else ""
    state = f"{_STATE_WORDS[status]}的" if status else ""
    joint = "的" if scope and not (when or state) else ""
    what = f"{scope}{joint}{when}{state}{q.ref}典型案例"
    if not found.total:
        ctx.reply(f"没有{what}")
        return
    yes = "有，" if q.form is Form.YESNO else ""
    lines = [f"{yes}{what}共 {found.total} 个" + ("（最新的在前）：" if found.shown else "")]
    lines += [_line(ctx, i, c) for i, c in enumerate(found.shown, 1)]
    if found.total > SHOWN:
        lines.append(f"更多见督导看板 {ctx.env.board_url}/cases")
    ctx.reply("\n".join(lines))


def _search(ctx: Context, words: str, visible: set[int] | None) -> None:
    """查案例 关键词 (and a question naming a keyword): best matches first."""
    if not words:
        raise InvalidInput("请写明要查的关键词，例如：查案例 物业纠纷", log="case search without words")
    res = cases_svc.search(ctx.conn, words, visible_units=visible, limit=SHOWN)
    if not res.hits:
        ctx.reply(f"没有找到与“{words}”相关的典型案例")
        return
    lines = [f"与“{words}”相关的典型案例（共 {res.total} 个，最相关的在前）："]
    lines += [_line(ctx, i, c) for i, c in enumerate(res.hits, 1)]
    if res.total > SHOWN:
        lines.append(f"更多见督导看板 {ctx.env.board_url}/cases?q={words}")
    ctx.reply("\n".join(lines))


def _tell_unit(ctx: Context, info: cases_svc.CaseInfo, text: str) -> None:
    if info.source_chat:
        ctx.send(ChatRef.parse(info.source_chat), text, kind="notify", cause=f"case:{info.id}")


@router.handler(SELECT)
def select(ctx: Context) -> None:
    admin = person_of(ctx)
    case_id, _ = _number(ctx, "入选 案例#3")
    done = cases_svc.select_case(ctx.conn, ctx.env, case_id, reviewer_id=admin.id, now=ctx.now)
    c = done.case
    ctx.audit("case.select", f"case:{case_id}", {"unit": c.unit_id,
                                                 "collection_task": done.collection_task})
    counted = "，已计入该单位本年度典型案例收集" if done.collection_task else ""
    ctx.reply(f"案例#{case_id}《{c.title}》（{c.unit}，{c.kind}）已入选{counted}")
    _tell_unit(ctx, c, cases_svc.unit_notice(c))


def return_case(ctx: Context) -> None:
    """退回 案例#3 原因 (reached through 退回, which is the submissions' command word too)."""
    admin = person_of(ctx)
    case_id, reason = _number(ctx, "退回 案例#3 事实部分不够完整")
    done = cases_svc.return_case(ctx.conn, case_id, reason=reason, reviewer_id=admin.id,
                                 now=ctx.now)
    c = done.case
    ctx.audit("case.return", f"case:{case_id}", {"unit": c.unit_id, "reason": reason})
    ctx.reply(f"已退回案例#{case_id}《{c.title}》（{c.unit}）")
    _tell_unit(ctx, c, cases_svc.unit_notice(c))
