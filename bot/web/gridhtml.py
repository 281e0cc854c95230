"""The units × tasks grid (and its phone form, a list of units) as HTML, built directly rather
than through the template engine.

300 units × 200 tasks is 60,000 cells: a template loop costs several microseconds per cell, a
lookup in a table of ready-made cells well under one. Cell markup is constant; names and titles
are escaped here, so the result is safe to insert as ``Markup``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from markupsafe import Markup, escape

from bot.services.board import Grid

# Text as well as colour in every cell: the flag is readable in print and without colour vision.
CELLS = {
    "red": "<td class=fr>红</td>",
    "blue": "<td class=fb>蓝</td>",
    "yellow": "<td class=fy>黄</td>",
    "received": "<td class=sr>审</td>",
    "returned": "<td class=sx>退</td>",
    "owed": "<td class=so>未</td>",
    "accepted": "<td class=sa>过</td>",
}
EMPTY = "<td></td>"


def _counts(c: Counter[str]) -> str:
    return (f"<td class=nr>{c['red']}</td><td class=nb>{c['blue']}</td>"
            f"<td class=ny>{c['yellow']}</td>")


def grid_html(g: Grid, fmt: Callable[[datetime], str]) -> Markup:
    task_ids = [t.id for t in g.tasks]
    out = ["<table id=grid class=grid><thead><tr><th class=un>单位</th>"
           "<th class=nr>红旗</th><th class=nb>蓝旗</th><th class=ny>黄旗</th>"]
    for t in g.tasks:
        title = escape(t.title)
        out.append(f"<th class=tk data-t={t.id}><a href=\"/tasks/{t.id}\" "
                   f"title=\"{title}（截止 {escape(fmt(t.due))}）\">{escape(t.title[:10])}</a></th>")
    out.append("</tr></thead><tbody>")
    cells = g.cells
    empty: Counter[str] = Counter()
    for u in g.units:
        uid = u.id
        head = f"<a href=\"/units/{uid}\">{escape(u.name)}</a>"
        row = "".join([CELLS.get(cells.get((uid, tid), ""), EMPTY) for tid in task_ids])
        out.append(f"<tr data-u={uid}><th class=un>{head}</th>"
                   f"{_counts(g.unit_counts.get(uid, empty))}{row}</tr>")
    out.append("</tbody><tfoot>")
    for color, label, cls in (("red", "红旗数", "nr"), ("blue", "蓝旗数", "nb"),
                              ("yellow", "黄旗数", "ny")):
        out.append(f"<tr class=sum-{color}><th class=un>{label}</th><td></td><td></td><td></td>")
        out.append("".join([f"<td class={cls}>{g.task_counts[tid][color]}</td>"
                            for tid in task_ids]))
        out.append("</tr>")
    out.append("<tr class=sum-done><th class=un>已报送</th><td></td><td></td><td></td>")
    for tid in task_ids:
        total = sum(g.task_counts[tid].values())
        done = g.task_done[tid]
        out.append(f"<td title=\"{done}/{total}\">{done}</td>")
    out.append("</tr></tfoot></table>")
    return Markup("".join(out))  # noqa: S704 - every user value above is escaped


def unit_list_html(g: Grid) -> Markup:
    """The board on a phone: one line per unit with its flag counts (each with its word, not
    only its colour) and what it still has to do; a tap opens the unit."""
    out = ["<ul class=ulist id=ulist>"]
    empty: Counter[str] = Counter()
    for u in g.units:
        c = g.unit_counts.get(u.id, empty)
        todo = []
        if g.unit_owed[u.id]:
            todo.append(f"尚需报送 {g.unit_owed[u.id]} 项")
        if c["received"]:
            todo.append(f"待审核 {c['received']} 项")
        out.append(f"<li data-u={u.id}><a href=\"/units/{u.id}\"><span class=n>{escape(u.name)}"
                   f"</span><span class=c><i class=\"flag red\">红 {c['red']}</i>"
                   f"<i class=\"flag blue\">蓝 {c['blue']}</i>"
                   f"<i class=\"flag yellow\">黄 {c['yellow']}</i></span>"
                   f"<span class=o>{' · '.join(todo) or '没有待办'}</span></a></li>")
    out.append("</ul>")
    return Markup("".join(out))  # noqa: S704 - the unit names are escaped
