"""Answers about the year's recurring work (四个一, the plan's 周期 rows): per unit, which
instance of each series is done; across units, who has done each one."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.nlu import Query
from bot.services import query as query_svc
from bot.services.stats import PlanCell, PlanColumn, PlanGrid
from handlers.answers.words import asked, fmt_due, name_list

CELL_WORDS = {"accepted": "已通过", "received": "已报送，待审核", "returned": "已退回，待重新报送",
              "owed": "未报送", "overdue": "逾期未报送", "upcoming": "尚未开始",
              "cancelled": "已撤销"}
SHOWN_COLUMNS = 12


def _word(cell: PlanCell) -> str:
    return CELL_WORDS.get(cell.shown, cell.shown)


def render_plan(ctx: Context, q: Query, a: query_svc.Ask, r: query_svc.PlanAnswer) -> str:
    g = r.grid
    if not g.columns:
        return (f"{g.year}年还没有周期性工作（四个一等）。管理员可用 dudao plan preset 四个一 "
                f"--year {g.year} 创建，或导入年度计划")
    if not r.columns:
        return f"{g.year}年该时段没有周期性工作"
    if not g.units:
        return f"{g.year}年的周期性工作不涉及所问的单位"
    if a.units is not None and len(g.units) == 1:
        return _one_unit(ctx, a, r, g)
    return _units(ctx, a, r, g)


def _one_unit(ctx: Context, a: query_svc.Ask, r: query_svc.PlanAnswer, g: PlanGrid) -> str:
    u = g.units[0]
    rows = [(g.columns[i], cell) for i in r.columns
            if (cell := g.cell(u.unit_id, i)) is not None]
    head = (f"{u.name}{g.year}年周期性工作（四个一等）：已报送 {u.done} 期，已到期 {u.due} 期，"
            f"全年 {u.total} 期")
    if r.states:
        matching = [(c, cell) for c, cell in rows if query_svc.plan_cell_matches(cell, r.states)]
        label = asked(r.states)
        if a.form == "yesno":
            if r.states == ("submitted",):  # 完成了吗: what is still owed is the answer
                owed = [(c, cell) for c, cell in rows
                        if query_svc.plan_cell_matches(cell, ("owed",))]
                if not owed:
                    return f"{head}。已生成的各期都已报送"
                return "\n".join([f"{head}。还有 {len(owed)} 期未完成：",
                                  *(_line(ctx, c, cell) for c, cell in owed[:SHOWN_COLUMNS])])
            if not matching:
                return f"{head}。没有{label}的"
        if a.form == "count":
            return f"{head}。{label} {len(matching)} 期"
        if not matching:
            return f"{head}。没有{label}的"
        return "\n".join([f"{head}。{label}的有 {len(matching)} 期：",
                          *(_line(ctx, c, cell) for c, cell in matching[:SHOWN_COLUMNS])])
    shown = [(c, cell) for c, cell in rows if cell.state != "upcoming"]
    upcoming = len(rows) - len(shown)
    lines = [head + "：" if shown else head]
    lines += [_line(ctx, c, cell) for c, cell in shown[:SHOWN_COLUMNS]]
    if len(shown) > SHOWN_COLUMNS:
        lines.append(f"……另有 {len(shown) - SHOWN_COLUMNS} 期，详见督导看板 {ctx.env.board_url}/plan")
    if upcoming:
        lines.append(f"另有 {upcoming} 期尚未开始")
    return "\n".join(lines)


def _line(ctx: Context, c: PlanColumn, cell: PlanCell) -> str:
    return f"· {c.name}（截止 {fmt_due(ctx, c.due)}）：{_word(cell)}"


def _units(ctx: Context, a: query_svc.Ask, r: query_svc.PlanAnswer, g: PlanGrid) -> str:
    states = r.states or ()
    lines: list[str] = []
    started = [i for i in r.columns if g.columns[i].task_id is not None]
    if not started:
        return f"{g.year}年所问时段的周期性工作尚未开始（各期提前生成后可查）"
    for i in started[:SHOWN_COLUMNS]:
        c = g.columns[i]
        cells = [(u, cell) for u in g.units if (cell := g.cell(u.unit_id, i)) is not None]
        done = sum(1 for _, cell in cells if cell.state in ("received", "accepted"))
        head = f"·《{c.name}》（截止 {fmt_due(ctx, c.due)}）"
        if states:
            names = [u.name for u, cell in cells if query_svc.plan_cell_matches(cell, states)]
            if a.form == "count":
                lines.append(f"{head}{asked(states)} {len(names)} 个")
            else:
                lines.append(f"{head}{asked(states)} {len(names)} 个"
                             + (f"：{name_list(names)}" if names else ""))
        else:
            lines.append(f"{head}已报送 {done}/{len(cells)}")
    if len(started) > SHOWN_COLUMNS:
        lines.append(f"……另有 {len(started) - SHOWN_COLUMNS} 期，详见督导看板 {ctx.env.board_url}/plan")
    return "\n".join([f"{g.year}年周期性工作（四个一等），{len(g.units)} 个单位：", *lines])
