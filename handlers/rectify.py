"""整改 / 确认整改 / 退回整改 / 抽查 / 整改情况: a unit reports on its rectification item (text and
files), an admin closes it or returns it (the unit is told), an admin draws a spot check, and
anyone asks how far the items got ("郑州的整改完成了没", "开封还有哪些整改没完成")."""

from __future__ import annotations

import re

from bot.core.context import Context
from bot.core.nlu import State
from bot.core.router import ANYONE_REGISTERED, HandlerSpec, Router
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.rectifications import RectState
from bot.domain.roles import ADMIN, LIAISON
from bot.services import rectifications as rect_svc
from bot.services import spotchecks as checks_svc
from bot.services import unit_notify
from bot.services import units as units_svc
from handlers.common import ensure_visible, person_of, require_unit, visible_units
from handlers.slots import named_units, parse_for

router = Router("rectify")

REPORT = HandlerSpec("rectify_report", ("整改",), "整改 #编号 整改情况（可附文件）",
                     "报送本单位整改事项的整改情况", roles=(LIAISON,), area="rectify",
                     example="整改 #R3 已补齐执法案卷并完成培训", action="报送整改情况",
                     word_alone=True)
CONFIRM = HandlerSpec("rectify_close", ("确认整改",), "确认整改 #编号",
                      "确认整改到位，整改事项销号", roles=(ADMIN,), area="rectify",
                      example="确认整改 #R3", action="确认整改")
SEND_BACK = HandlerSpec("rectify_return", ("退回整改",), "退回整改 #编号 原因",
                        "退回单位报送的整改情况并说明原因", roles=(ADMIN,), area="rectify",
                        example="退回整改 #R3 缺少整改前后对比材料", action="退回整改")
DRAW = HandlerSpec("spotcheck", ("抽查",), "抽查 [范围] N家",
                   "随机抽取单位进行抽查（记录范围、种子和结果，可复核）", roles=(ADMIN,),
                   area="rectify", example="抽查 地市 5家", action="组织抽查", word_alone=True)
STATUS = HandlerSpec("rectifications", ("整改情况",), "整改情况 [单位]",
                     "查看整改事项的完成情况", intents=("rectifications",),
                     roles=ANYONE_REGISTERED, area="rectify", example="整改情况 开封")

_NUMBER = re.compile(r"[#＃]?\s*[Rr]\s*(\d+)|[#＃]\s*(\d+)|^\s*(\d+)")
_COUNT = re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*[家个]?\s*$")
_SEED = re.compile(r"种子\s*[:：]?\s*(\d+)")
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SHOWN = 10


def _number(ctx: Context, spec: HandlerSpec) -> tuple[int, str]:
    """The item's number (#R3, R3, #3) and the words after it."""
    m = _NUMBER.search(ctx.args)
    if m is None:
        raise InvalidInput(f"请写明整改事项编号，例如：{spec.example}",
                           log=f"{spec.name} without number")
    rest = (ctx.args[:m.start()] + " " + ctx.args[m.end():]).strip()
    return int(next(g for g in m.groups() if g)), rest


def _tell(ctx: Context, unit_id: int, text: str, cause: str) -> None:
    """Tell the unit in its group (not again in the chat the answer goes to)."""
    for t in unit_notify.targets(ctx.conn, unit_id):
        if t.chat.key != ctx.event.chat.key:
            ctx.send(t.chat, text, cause=cause, mentions=t.mentions, account=t.account)


@router.handler(REPORT)
def report(ctx: Context) -> None:
    person, unit_id = require_unit(ctx)
    if ctx.event.missing_files:
        raise InvalidInput(f"文件“{'、'.join(ctx.event.missing_files)}”没能下载下来，请重新发送",
                           log="rectification attachment download failed")
    rid, text = _number(ctx, REPORT)
    item = rect_svc.report(ctx.conn, rid, unit_id=unit_id, person_id=person.id, text=text,
                           files=ctx.event.files, now=ctx.now)
    ctx.audit("rectification.report", f"rectification:{rid}",
              {"unit": unit_id, "files": len(item.files)})
    files = f"，附件 {len(item.files)} 个" if item.files else ""
    ctx.reply(f"已收到{item.unit}整改事项 {item.number} 的整改情况{files}，管理员审核后告知结果",
              cause=f"rectification:{rid}")


@router.handler(CONFIRM)
def close(ctx: Context) -> None:
    admin = person_of(ctx)
    rid, _ = _number(ctx, CONFIRM)
    item = rect_svc.close(ctx.conn, rid, actor=admin.actor, now=ctx.now)
    ctx.audit("rectification.close", f"rectification:{rid}", {})
    text = f"{item.unit}的整改事项 {item.number} 已确认整改到位，予以销号"
    ctx.reply(text)
    _tell(ctx, item.unit_id, text, f"rectification:{rid}")


@router.handler(SEND_BACK)
def send_back(ctx: Context) -> None:
    admin = person_of(ctx)
    rid, reason = _number(ctx, SEND_BACK)
    item = rect_svc.send_back(ctx.conn, rid, reason=reason, actor=admin.actor, now=ctx.now)
    ctx.audit("rectification.return", f"rectification:{rid}", {"reason": item.reason})
    ctx.reply(f"已退回 {item.unit}整改事项 {item.number} 的整改情况：{item.reason}")
    _tell(ctx, item.unit_id, f"{item.unit}报送的整改事项 {item.number} 整改情况未通过审核，已退回："
                             f"{item.reason}。请按意见继续整改后重新报送", f"rectification:{rid}")


def _count(words: str) -> tuple[int, str]:
    m = _COUNT.search(words)
    if m is None:
        raise InvalidInput(f"请写明抽取几家，例如：{DRAW.example}", log="spot check without count")
    raw = m.group(1)
    if raw.isdigit():
        n = int(raw)
    elif raw == "十":
        n = 10
    elif raw.startswith("十"):
        n = 10 + _CN.get(raw[1:], 0)
    elif raw.endswith("十"):
        n = _CN.get(raw[:-1], 0) * 10
    elif "十" in raw:
        a, _, b = raw.partition("十")
        n = _CN.get(a, 0) * 10 + _CN.get(b, 0)
    else:
        n = _CN.get(raw, 0)
    return n, words[:m.start()].strip()


@router.handler(DRAW)
def draw(ctx: Context) -> None:
    admin = person_of(ctx)
    words = ctx.args.strip()
    seed = None
    sm = _SEED.search(words)
    if sm is not None:
        seed = int(sm.group(1))
        words = (words[:sm.start()] + words[sm.end():]).strip()
    count, pool = _count(words)
    c = checks_svc.draw(ctx.conn, pool=pool or "全部", count=count, seed=seed,
                        actor=admin.actor, person_id=admin.id, now=ctx.now)
    ctx.audit("spotcheck.draw", f"spotcheck:{c.id}",
              {"pool": c.pool, "seed": str(c.seed), "count": c.count,
               "population": list(c.population), "drawn": list(c.drawn)})
    ctx.reply(f"抽查 {c.id}：从{pool or '全部单位'}（{len(c.population)} 家）中随机抽取 {c.count} 家："
              f"{'、'.join(c.drawn_names)}\n种子 {c.seed}，范围 {c.pool}；"
              f"任何人可用 dudao spotcheck draw --units {c.pool} --count {c.count} --seed {c.seed} 复核",
              cause=f"spotcheck:{c.id}")


@router.handler(STATUS)
def status(ctx: Context) -> None:
    p = parse_for(ctx, STATUS)
    person = person_of(ctx)
    units = named_units(ctx, p)
    if not units and ((p is not None and p.my_unit) or person.role != ADMIN) \
            and person.unit_id is not None:
        units = [units_svc.get(ctx.conn, person.unit_id)]
    visible = visible_units(ctx)
    ensure_visible(visible, [u.id for u in units], "您只能查看本单位的整改事项",
                   log="rectification status of another unit")
    ids = {u.id for u in units} if units else visible
    if ids is not None and not ids:
        raise NotAllowed("您的账号没有关联单位", log="rectification status without unit")
    items = rect_svc.list_items(ctx.conn, unit_ids=ids, limit=None)
    scope = "、".join(u.name for u in units)
    if not items:
        ctx.reply(f"{scope}没有整改事项" if scope else "目前没有整改事项")
        return
    closed = sum(1 for i in items if i.status == RectState.CLOSED.value)
    unfinished = [i for i in items if i.status != RectState.CLOSED.value]
    overdue = [i for i in unfinished if i.overdue(ctx.now)]
    late = len(overdue)
    if not unfinished:
        ctx.reply(f"{scope}的整改事项共 {len(items)} 项，已全部整改到位（销号）")
        return
    head = (f"{scope}的整改事项共 {len(items)} 项：已销号 {closed} 项，未完成 {len(unfinished)} 项"
            + (f"（其中逾期 {late} 项）" if late else ""))
    if p is not None and p.query is not None and State.OVERDUE in p.query.states:
        # "哪些整改逾期了": the overdue ones are listed (the head still counts them all)
        if not overdue:
            ctx.reply(head + "，没有逾期的")
            return
        unfinished = overdue
    lines = [head, rect_svc.unit_summary(ctx.env, unfinished[:SHOWN], ctx.now)]
    if len(unfinished) > SHOWN:
        lines.append(f"更多见督导看板 {ctx.env.board_url}/rectifications")
    ctx.reply("\n".join(lines))
