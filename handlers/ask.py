"""Questions: a query frame resolved for the person asking, answered by the query service
(bot/services/query.py) and rendered in Chinese, naming the records counted.

Every question comes here: natural ones ("开封有逾期的吗", "哪几家报了月报", "咱们拿的啥旗") and
the question commands of DESIGN §5 (进度, 谁没交, 我的任务, 红旗榜, 旗帜, 近期要交, 谁没确认),
which the parser reads into the same frames. Who sees what: liaisons their own unit, officials
their unit and the units below it, admins everything (handlers/common.visible_units).

Adding a subject: a renderer in :data:`RENDERERS` (see bot/core/nlu/subjects.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from bot.core.context import Context
from bot.core.nlu import Form, Query, State
from bot.core.nlu.timeexpr import find_time
from bot.core.router import HandlerSpec, Router
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.text import compact, normalize
from bot.services import query as query_svc
from bot.services import standings as standings_svc
from bot.services import tasks as tasks_svc
from bot.services import units as units_svc
from bot.services.flag_rules import COLOR_NAMES
from handlers.common import ensure_visible, require_person, visible_units
from handlers.slots import period_label, points, this_year

router = Router("ask")

ASK = HandlerSpec("ask", (), "直接提问", "例如：郑州还有哪些没交？这周有什么要交的？我们单位几面红旗？"
                  "开封有逾期的吗？谁没确认通知？", intents=("query",), area="ask")
NOT_VISIBLE = "您只能查询本单位（或下属单位）的情况"
STATE_NAMES = {"owed": "未提交", "received": "已提交待审核", "accepted": "已通过",
               "returned": "已退回待重新提交"}
SHORT_STATE = {"owed": "未提交", "returned": "退回待改", "received": "已提交待审核",
               "accepted": "已通过"}
ASKED_STATE = {"owed": "未提交", "submitted": "已提交", "overdue": "逾期未交", "returned": "被退回",
               "accepted": "已通过", "pending": "待审核", "acked": "已确认", "not_acked": "未确认"}
MAX_NAMES = 30
TOP_N = 10
MAX_UNITS = 5
MAX_REASONS = 5
SHOWN = 8


@router.handler(ASK)
def ask(ctx: Context) -> None:
    parse = ctx.parse
    if parse is None or parse.query is None:
        raise InvalidInput("没太明白您想查询什么，发送“帮助”查看用法", log="query without a frame")
    answer(ctx, parse.query)


# -- resolving a frame for the person asking ------------------------------------------------


def answer(ctx: Context, q: Query, *, command: str = "") -> None:
    """Answer the question ``q`` (a frame from the parser) for the person asking."""
    subject = q.subject or "tasks"
    form = (q.form or Form.DETAIL).value
    a = _resolve(ctx, q, subject, form, command)
    result = query_svc.answer(ctx.conn, ctx.env, a)
    ctx.reply(RENDERERS[subject](ctx, q, a, result))


def _resolve(ctx: Context, q: Query, subject: str, form: str, command: str) -> query_svc.Ask:
    person = require_person(ctx)
    visible = visible_units(ctx)
    units: frozenset[int] | None
    if q.unit_ids:
        ensure_visible(visible, q.unit_ids, NOT_VISIBLE, log=f"{subject} of another unit")
        units = frozenset(q.unit_ids)
    elif q.kinds:
        ids = {u.id for k in q.kinds for u in units_svc.list_units(ctx.conn, kind=k)}
        units = frozenset(ids if visible is None else ids & visible)
    elif q.mine:
        if person.unit_id is None:
            raise InvalidInput("您的账号没有关联单位，请写明要查询的单位", log="mine without unit")
        units = frozenset({person.unit_id})
    else:
        units = None if visible is None else frozenset(visible)
        if subject == "flags" and form != "rank" and not (q.colour and form in ("list", "count")):
            if visible is None:
                raise InvalidInput("请写明单位，例如：旗帜 郑州市；各单位排名请发送“红旗榜”",
                                   log="flags without unit from admin")
            if person.unit_id is not None:
                units = frozenset({person.unit_id})
        if subject == "flags" and form == "rank":
            units = None  # the ranking is public to everyone bound (it is in bulletins anyway)
    days = _days(ctx, q, subject)
    notice_id = _notice(ctx, q) if subject == "notices" else None
    sid = None
    if subject == "submissions" and q.ref.startswith("#") and q.ref[1:].isdigit():
        sid = int(q.ref[1:])
    return query_svc.Ask(subject=subject, form=form, now=ctx.now,
                         states=tuple(s.value for s in q.states), colour=q.colour, units=units,
                         tasks=q.task_ids, days=days, notice_id=notice_id, submission_id=sid)


def _days(ctx: Context, q: Query, subject: str) -> tuple[date, date] | None:
    today = ctx.env.local(ctx.now).date()
    start, end = q.date_from, q.date_to
    if start is None and end is None:
        return this_year(ctx) if subject == "flags" else None
    if start is None:
        start = min(today, end) if end is not None else today
    if end is None:
        end = max(start, today)
    return start, end


def _notice(ctx: Context, q: Query) -> int | None:
    return notice_of(ctx, q.ref)


def notice_of(ctx: Context, ref: str) -> int | None:
    """The notice named ("#5", "防汛通知", "昨天那个通知"), or None for the latest."""
    ref = ref.strip()
    digits = "".join(ch for ch in ref if ch.isdigit())
    if ref.startswith("#") and digits:
        return int(digits)
    if not ref:
        return None
    norm = normalize(ref)
    span = find_time(norm, ctx.env.local(ctx.now).date(), ctx.env.calendar.is_workday)
    window = None
    if span is not None and span.start is not None:
        window = standings_svc.bounds(ctx.env, span.start, span.end or span.start)
        norm = norm[:span.span[0]] + norm[span.span[1]:]
    words = compact(norm)
    for junk in ("通知", "关于", "那个", "这个", "那条", "这条", "的", "有关"):
        words = words.replace(junk, "")
    found = query_svc.find_notice(ctx.conn, words, window)
    if found is None and words:
        found = query_svc.find_notice(ctx.conn, "", window)
    if found is None:
        raise NotFound(f"没有找到“{ref}”", log=f"no notice matches {ref!r}")
    return found


# -- rendering ------------------------------------------------------------------------------


def _due(ctx: Context, due: datetime) -> str:
    return ctx.env.fmt(due)


def _names(items: list[str], more: int = 0) -> str:
    shown = "、".join(items[:MAX_NAMES])
    extra = len(items) - MAX_NAMES + more
    return shown + (f" 等 {len(items) + more} 个" if extra > 0 else "")


def _asked(states: tuple[str, ...]) -> str:
    return "、".join(ASKED_STATE.get(s, s) for s in states) or ""


def _render_units(ctx: Context, q: Query, a: query_svc.Ask, r: query_svc.AssignmentAnswer) -> str:
    """A task's (or tasks') units: who has not submitted, who has, how many."""
    if not r.tasks:
        if a.tasks or a.units is not None or a.days is not None:
            what = f"{_asked(a.states)}的" if a.states else ""
            return f"没有{what}单位" if a.states else "没有符合条件的任务"
        return "目前没有进行中的任务"
    if len(r.tasks) == 1 and not r.more_tasks:
        return _one_task_units(ctx, a, r.tasks[0])
    lines = [f"进行中的任务有 {len(r.tasks) + r.more_tasks} 项" +
             (f"（{_asked(a.states)}）" if a.states else "") + "，分别是："]
    for t in r.tasks:
        lines.append("· " + _task_line(ctx, a, t))
    if r.more_tasks:
        lines.append(f"……另有 {r.more_tasks} 项，详见督导看板 {ctx.env.board_url}/tasks")
    lines.append("发送“谁没交 任务名称”可查看某一项的完整名单")
    return "\n".join(lines)


def _task_line(ctx: Context, a: query_svc.Ask, t: query_svc.TaskStatus) -> str:
    head = f"《{t.title}》（截止 {_due(ctx, t.due)}）"
    names = [x.unit_name for x in t.rows]
    if a.states:
        label = _asked(a.states)
        if a.form == "count":
            return f"{head}{label} {t.matched} 个"
        return f"{head}{label} {t.matched} 个：{_names(names[:5], t.matched - min(5, len(names)))}"
    c = t.counts
    done = c["received"] + c["accepted"]
    return f"{head}{done}/{t.total} 已提交"


def _one_task_units(ctx: Context, a: query_svc.Ask, t: query_svc.TaskStatus) -> str:
    head = f"《{t.title}》（截止 {_due(ctx, t.due)}）"
    states = a.states
    c = t.counts
    if not states or a.form == "detail":
        if states:
            names = [x.unit_name for x in t.rows]
            return (f"{head}共 {t.total} 个单位，{_asked(states)} {t.matched} 个" +
                    (f"：{_names(names, t.matched - len(names))}" if names else ""))
        return (f"{head}共 {t.total} 个单位：已通过 {c['accepted']}，待审核 {c['received']}，"
                f"退回 {c['returned']}，未提交 {c['owed']}")
    label = _asked(states)
    names = [x.unit_name + ("（退回待改）" if x.state == "returned" and "owed" in states else "")
             for x in t.rows]
    more = t.matched - len(names)
    if states == ("owed",) and a.form in ("list", "yesno"):
        if not t.matched:
            return f"{head}：{t.total} 个单位都已提交"
        if a.form == "yesno":
            return f"{head}还有 {t.matched} 个单位未提交：{_names(names, more)}"
        tail = (f" 等，完整名单见督导看板 {ctx.env.board_url}/tasks/{t.task_id}"
                if len(names) + more > MAX_NAMES else "")
        return (f"{head}{t.total} 个单位中还有 {t.matched} 个未提交："
                f"{'、'.join(names[:MAX_NAMES])}{tail}")
    if a.form == "count":
        return f"{head}{t.total} 个单位中{label} {t.matched} 个" + (
            f"：{_names(names, more)}" if 0 < t.matched <= 10 else "")
    if a.form == "yesno":
        if not t.matched:
            return f"{head}：没有{label}的单位"
        return f"{head}：有，{label} {t.matched} 个：{_names(names, more)}"
    if not t.matched:
        return f"{head}：没有{label}的单位"
    return f"{head}{label}的单位（{t.matched} 个）：{_names(names, more)}"


def _render_tasks(ctx: Context, q: Query, a: query_svc.Ask, r: Any) -> str:
    if isinstance(r, query_svc.UnitTasksAnswer):
        return _unit_tasks(ctx, q, a, r)
    assert isinstance(r, query_svc.AssignmentAnswer)
    if a.form == "when":
        return _deadlines(ctx, r)
    if not r.tasks:
        if a.days is not None:
            return f"{period_label(ctx, *a.days)}没有截止的任务"
        return "目前没有进行中的任务" if not a.states else f"没有{_asked(a.states)}的任务"
    if a.form == "count":
        return f"进行中的任务共 {len(r.tasks) + r.more_tasks} 项" + (
            f"（{_asked(a.states)}）" if a.states else "")
    if a.days is not None:
        return _due_list(ctx, a, r)
    lines = ["进行中的任务："]
    for t in r.tasks:
        done = t.counts["received"] + t.counts["accepted"]
        lines.append(f"· {t.title}：{done}/{t.total} 已提交，截止 {_due(ctx, t.due)}")
    if r.more_tasks:
        lines.append(f"……另有 {r.more_tasks} 项，详见督导看板 {ctx.env.board_url}/tasks")
    return "\n".join(lines)


def _deadlines(ctx: Context, r: query_svc.AssignmentAnswer) -> str:
    if not r.tasks:
        return "没有找到这项任务（可能已经关闭）"
    today = ctx.env.local(ctx.now).date()
    lines = []
    for t in r.tasks[:SHOWN]:
        left = (ctx.env.local(t.due).date() - today).days
        when = "已截止" if t.due < ctx.now else ("今天截止" if left == 0 else f"还有 {left} 天")
        lines.append(f"《{t.title}》截止 {_due(ctx, t.due)}（{when}）")
    return "；".join(lines)


def _due_list(ctx: Context, a: query_svc.Ask, r: query_svc.AssignmentAnswer) -> str:
    assert a.days is not None
    label = period_label(ctx, *a.days)
    lines = [f"{label}截止的任务 {len(r.tasks) + r.more_tasks} 项："]
    for t in r.tasks:
        pending = t.counts["owed"] + t.counts["returned"]
        state = f"{pending}/{t.total} 个单位未交" if pending else "都已提交"
        lines.append(f"· {t.title}，截止 {_due(ctx, t.due)}，{state}")
    if r.more_tasks:
        lines.append(f"……另有 {r.more_tasks} 项，详见督导看板 {ctx.env.board_url}/tasks")
    return "\n".join(lines)


def _unit_tasks(ctx: Context, q: Query, a: query_svc.Ask, r: query_svc.UnitTasksAnswer) -> str:
    parts = []
    for u in r.units[:MAX_UNITS]:
        parts.append(_one_unit_tasks(ctx, q, a, u))
    if len(r.units) > MAX_UNITS:
        parts.append(f"……其余 {len(r.units) - MAX_UNITS} 个单位见督导看板 {ctx.env.board_url}")
    return "\n".join(parts)


def _one_unit_tasks(ctx: Context, q: Query, a: query_svc.Ask, u: query_svc.UnitTasks) -> str:
    name = u.unit_name
    items = u.tasks
    states = a.states
    if a.days is not None and not states:
        label = period_label(ctx, *a.days)
        if not items:
            return f"{name}{label}没有截止的任务"
        lines = [f"{name}{label}截止的任务 {len(items)} 项："]
        lines += [f"· {title}，截止 {_due(ctx, due)}，{SHORT_STATE.get(st, st)}"
                  for _, title, due, st in items[:SHOWN]]
        if len(items) > SHOWN:
            lines.append(f"……另有 {len(items) - SHOWN} 项，详见督导看板 {ctx.env.board_url}/tasks")
        return "\n".join(lines)
    if states == ("owed",) and q.mine and a.form in ("list", "detail"):
        if not items:
            return f"{name}目前没有待提交的任务"
        lines = [f"{name}待提交 {len(items)} 项："]
        for _, title, due, st in items[:10]:
            mark = "（已退回，待重新提交）" if st == "returned" else ""
            overdue = "【已逾期】" if due < ctx.now else ""
            lines.append(f"· {overdue}{title}，截止 {_due(ctx, due)}{mark}")
        if len(items) > 10:
            lines.append(f"……另有 {len(items) - 10} 项，详见督导看板")
        return "\n".join(lines)
    if (states == ("owed",) and a.form == "list") or (not states and a.form == "detail"
                                                     and not a.tasks):
        owed = [i for i in items if i[3] in ("owed", "returned")] if not states else list(items)
        if not owed:
            return f"{name}目前没有未提交的任务"
        text = "；".join(f"{title}（截止 {_due(ctx, due)}" + ("，已逾期" if due < ctx.now else "")
                        + ("，退回待改" if st == "returned" else "") + "）"
                        for _, title, due, st in owed[:10])
        return f"{name}还有 {len(owed)} 项未提交：{text}"
    if not states and a.tasks and len(items) == 1:
        _, title, _, st = items[0]
        return f"{name}《{title}》：{STATE_NAMES[st]}"
    if not states and a.tasks and not items:
        raise NotFound(f"{name}不在《{tasks_svc.get(ctx.conn, a.tasks[0]).title}》的范围内",
                       log="unit not assigned")
    label = _asked(states)
    if a.form == "count":
        return f"{name}{label}的任务 {len(items)} 项（进行中 {u.total} 项）" + (
            "：" + "、".join(f"《{t}》" for _, t, _, _ in items[:SHOWN]) if items else "")
    if a.form == "yesno":
        if not states:
            return _all_states(ctx, name, items)
        if states == ("submitted",):  # 交了没: each task with its state, done or not
            return _all_states(ctx, name, _unit_all(ctx, a, u.unit_id))
        if not items:
            return f"{name}没有{label}的任务" if u.total else f"{name}目前没有进行中的任务"
        return f"{name}有{label}的任务 {len(items)} 项：" + "；".join(
            f"《{t}》截止 {_due(ctx, d)}" for _, t, d, _ in items[:SHOWN])
    if not items:
        return f"{name}没有{label}的任务" if states else f"{name}目前没有进行中的任务"
    if not states:
        return _all_states(ctx, name, items)
    return f"{name}{label}的任务 {len(items)} 项：" + "；".join(
        f"《{t}》截止 {_due(ctx, d)}" for _, t, d, _ in items[:SHOWN])


def _unit_all(ctx: Context, a: query_svc.Ask, unit_id: int) -> tuple[tuple[int, str, datetime, str], ...]:
    every = query_svc.unit_tasks(ctx.conn, ctx.env, query_svc.Ask(
        subject="tasks", form="detail", now=a.now, units=frozenset({unit_id}), tasks=a.tasks,
        days=a.days))
    return every.units[0].tasks if every.units else ()


def _all_states(ctx: Context, name: str, items: tuple[tuple[int, str, datetime, str], ...]) -> str:
    """"交了没": each task with its state (已提交 / 未提交…)."""
    if not items:
        return f"{name}目前没有进行中的任务"
    if len(items) == 1:
        _, title, due, st = items[0]
        late = "，已逾期" if st in ("owed", "returned") and due < ctx.now else ""
        return f"{name}《{title}》：{STATE_NAMES[st]}{late}"
    done = sum(1 for i in items if i[3] in ("received", "accepted"))
    lines = [f"{name}进行中的任务 {len(items)} 项，已提交 {done} 项："]
    for _, title, due, st in items[:SHOWN]:
        late = "，已逾期" if st in ("owed", "returned") and due < ctx.now else ""
        lines.append(f"· {title}：{SHORT_STATE.get(st, st)}{late}（截止 {_due(ctx, due)}）")
    return "\n".join(lines)


def _counts(s: standings_svc.UnitStanding) -> str:
    b = s.score
    extra = ""
    if b.bonus:
        extra += f"，加 {points(b.bonus)} 分"
    if b.deduction:
        extra += f"，扣 {points(b.deduction)} 分"
    return f"红旗 {b.red}、蓝旗 {b.blue}、黄旗 {b.yellow}{extra}，得分 {points(b.total)}"


def _reason(f: standings_svc.FlagRecord) -> str:
    what = f"《{f.task_title}》" if f.task_title else ""
    return f"· {COLOR_NAMES[f.color]}{what}：{f.reason}"


def _render_flags(ctx: Context, q: Query, a: query_svc.Ask, r: query_svc.FlagAnswer) -> str:
    label = period_label(ctx, *r.days)
    rows = list(r.standings)
    colour = COLOR_NAMES.get(r.colour, "") if r.colour else ""
    if a.form == "rank":
        if not rows:
            return f"{label}还没有任何单位获得旗帜或加减分"
        if q.mine or q.unit_ids:
            wanted = set(q.unit_ids) or ({p} if (p := require_person(ctx).unit_id) else set())
            place = [f"{s.unit_name}排第 {i} 名（{_counts(s)}）" for i, s in enumerate(rows, 1)
                     if s.unit_id in wanted]
            if place:
                return f"{label}红旗榜：" + "；".join(place)
        lines = [f"{label}{colour or '红旗'}榜（按{colour or '红旗'}数、得分排序，"
                 f"{len(rows)} 个单位有记录）："]
        for i, s in enumerate(rows[:TOP_N], 1):
            lines.append(f"{i}. {s.unit_name} {_counts(s)}")
        if len(rows) > TOP_N:
            lines.append(f"……其余 {len(rows) - TOP_N} 个单位见督导看板 {ctx.env.board_url}/charts")
        return "\n".join(lines)
    if a.units is None:  # which units have a flag of this colour
        if not rows:
            return f"{label}没有单位获得{colour or '旗帜'}"
        if a.form == "count":
            return f"{label}获得{colour}的单位有 {len(rows)} 个：" + "、".join(s.unit_name for s in rows)
        return f"{label}获得{colour}的单位（{len(rows)} 个）：" + "；".join(
            f"{s.unit_name}{_colour_count(s, r.colour)} 面" for s in rows[:MAX_NAMES])
    out: list[str] = []
    for s in rows[:MAX_UNITS]:
        if r.colour is not None:
            n = _colour_count(s, r.colour)
            if a.form == "yesno":
                out.append(f"{s.unit_name}{label}有{colour} {n} 面" if n else
                           f"{s.unit_name}{label}没有{colour}")
            else:
                out.append(f"{s.unit_name}（{label}）：{_counts(s)}")
            if len(rows) == 1:
                out.extend(_reason(f) for f in s.flags if f.color == r.colour)
            continue
        out.append(f"{s.unit_name}（{label}）：{_counts(s)}")
        if len(rows) == 1:
            out.extend(_reason(f) for f in s.flags[:MAX_REASONS])
            if len(s.flags) > MAX_REASONS:
                out.append(f"……共 {len(s.flags)} 面，详见督导看板 {ctx.env.board_url}/units/{s.unit_id}")
    return "\n".join(out)


def _colour_count(s: standings_svc.UnitStanding, colour: str | None) -> int:
    return int(getattr(s.score, colour)) if colour else s.score.red + s.score.blue + s.score.yellow


def _render_notices(ctx: Context, q: Query, a: query_svc.Ask, r: query_svc.NoticeAnswer) -> str:
    if not r.notices:
        return "还没有发过通知"
    if len(r.notices) > 1:
        lines = ["最近的通知："]
        for n in r.notices:
            total = len(n.acked) + len(n.missing)
            lines.append(f"· 通知 {n.notice_id}（{ctx.env.fmt(n.created_at)}）{_clip(n.text)}："
                         f"已确认 {len(n.acked)}/{total}")
        return "\n".join(lines)
    n = r.notices[0]
    if n.asked and (q.unit_ids or q.mine):
        parts = [f"{name}{'已确认' if ok else '还没有确认'}" for name, ok in n.asked]
        return f"通知 {n.notice_id}（{_clip(n.text)}）：" + "，".join(parts)
    if a.form == "count":
        which = "已确认" if "acked" in a.states else "未确认"
        number = len(n.acked) if "acked" in a.states else len(n.missing)
        return f"通知 {n.notice_id}：{which} {number} 个单位"
    if a.form == "yesno" and "acked" in a.states and not n.missing:
        return f"通知 {n.notice_id}：{len(n.acked)} 个单位都已确认"
    head = f"通知 {n.notice_id}：已确认 {len(n.acked)} 个单位，未确认 {len(n.missing)} 个"
    if n.pending_groups:
        head += f"（还有 {n.pending_groups} 个群在排队发送）"
    if n.missing:
        head += "：" + "、".join(n.missing[:40]) + ("等" if len(n.missing) > 40 else "")
    return head


def _clip(text: str, n: int = 16) -> str:
    return text if len(text) <= n else text[:n] + "…"


SUB_STATUS = {"received": "待审核", "accepted": "已通过", "returned": "已退回"}


def _render_submissions(ctx: Context, q: Query, a: query_svc.Ask,
                        r: query_svc.SubmissionAnswer) -> str:
    label = _asked(a.states)
    if a.submission_id is not None:
        if not r.rows:
            raise NotFound(f"没有编号为 #{a.submission_id} 的提交", log="unknown submission")
        s = r.rows[0]
        return f"#{s.id} {s.unit}《{s.task}》第{s.version}版：{_sub_state(s)}"
    if a.form == "count":
        return f"{label}的提交共 {r.total} 份" if label else f"提交共 {r.total} 份"
    if not r.rows:
        return f"没有{label}的提交" if label else "没有提交记录"
    if a.form == "yesno":
        head = f"有，{label}的提交 {r.total} 份：" if label else f"有 {r.total} 份提交："
    else:
        head = f"{label}的提交 {r.total} 份：" if label else f"提交 {r.total} 份："
    lines = [head]
    for s in r.rows[:SHOWN]:
        lines.append(f"· #{s.id} {s.unit}《{s.task}》第{s.version}版，{_sub_state(s)}"
                     f"（{ctx.env.fmt(s.submitted_at)}）")
    if r.total > SHOWN:
        lines.append(f"……另有 {r.total - SHOWN} 份，详见督导看板 {ctx.env.board_url}/tasks")
    return "\n".join(lines)


def _sub_state(s: query_svc.SubmissionRow) -> str:
    if s.status == "accepted":
        return f"已通过（{s.rating}）" if s.rating else "已通过"
    if s.status == "returned":
        return f"已退回（{s.reason}）" if s.reason else "已退回"
    return "待审核"


RENDERERS: Mapping[str, Callable[[Context, Query, query_svc.Ask, Any], str]] = MappingProxyType({
    "units": _render_units,
    "tasks": _render_tasks,
    "flags": _render_flags,
    "notices": _render_notices,
    "submissions": _render_submissions,
})


def describe(query: Query, unit_names: list[str]) -> str:
    """How a clarifying question names what it thinks was asked: "郑州市的进度"."""
    who = "、".join(unit_names)
    if query.subject == "flags":
        return f"{who}的旗帜" if who else "旗帜情况"
    if query.subject == "notices":
        return f"{who}的通知回执" if who else "通知回执"
    states = "、".join(ASKED_STATE.get(s.value, s.value) for s in query.states)
    if states:
        return f"{who}{states}的情况" if who else f"{states}的情况"
    return f"{who}的进度" if who else "任务进度"


def default_days(ctx: Context) -> tuple[date, date]:
    today = ctx.env.local(ctx.now).date()
    return today, today + timedelta(days=7)


__all__ = ["ASK", "State", "answer", "describe", "router"]
