"""Charts as inline SVG drawn on the server: no script, no CDN, printable.

Each chart is drawn twice, for a wide screen and for a phone (``class="wide"`` and
``class="narrow"``; the stylesheet shows one): an SVG scaled down to a phone's width would shrink
its text below a readable size, so the phone's drawing is laid out at its own width, with its
labels at 14 px. Every label is escaped; the result is safe to insert as ``Markup``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

RED, BLUE, YELLOW, GREEN, GREY = "#c0392b", "#2c6fbb", "#e0b000", "#2e8b57", "#ddd"
AXIS, INK, FAINT = "#767676", "#222", "#595959"
WIDE, NARROW = 760, 320


def _font(size: int = 14) -> str:
    return f'font-family="sans-serif" font-size="{size}" fill="{INK}"'


def _svg(width: int, height: int, body: list[str], title: str, cls: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>')


def _both(wide: str, narrow: str) -> Markup:
    return Markup(wide + narrow)  # noqa: S704 - labels escaped by the callers below


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


# ------------------------------------------------------------------------------- bar charts


def completion_bars(rows: Sequence[tuple[int, str, int, int]]) -> Markup:
    """One bar per task: units that submitted / units assigned."""
    def draw(width: int, narrow: bool) -> str:
        label_w = 0 if narrow else 260
        row_h = 44 if narrow else 24
        bar_x = 10 if narrow else label_w
        bar_w = width - bar_x - 96
        body = []
        for i, (tid, title, done, total) in enumerate(rows):
            y = 8 + i * row_h
            share = done / total if total else 0.0
            bar_y = y + (22 if narrow else 4)
            if narrow:
                body.append(f'<a href="/tasks/{tid}"><text x="{bar_x}" y="{y + 16}" {_font()}>'
                            f"{escape(_short(title, 20))}</text></a>")
            else:
                body.append(f'<a href="/tasks/{tid}"><text x="{label_w - 6}" y="{y + 16}" '
                            f'text-anchor="end" {_font()}>{escape(_short(title, 17))}</text></a>')
            body.append(f'<rect x="{bar_x}" y="{bar_y}" width="{bar_w}" height="14" '
                        f'fill="{GREY}"/>')
            body.append(f'<rect x="{bar_x}" y="{bar_y}" width="{bar_w * share:.1f}" '
                        f'height="14" fill="{GREEN}"/>')
            body.append(f'<text x="{bar_x + bar_w + 6}" y="{bar_y + 12}" {_font()}>'
                        f"{done}/{total} {share:.0%}</text>")
        if not rows:
            body.append(f'<text x="10" y="24" {_font()}>暂无任务</text>')
        height = 16 + max(1, len(rows)) * row_h
        return _svg(width, height, body, "各任务报送完成率", "narrow" if narrow else "wide")

    return _both(draw(WIDE, False), draw(NARROW, True))


def flags_by_unit(rows: Sequence[tuple[int, str, int, int, int]]) -> Markup:
    """Stacked bars per unit: (unit id, name, red, blue, yellow), each with its counts in words."""
    most = max((r + b + y for _, _, r, b, y in rows), default=0) or 1

    def draw(width: int, narrow: bool) -> str:
        label_w = 0 if narrow else 160
        row_h = 44 if narrow else 24
        bar_x = 10 if narrow else label_w
        bar_w = width - bar_x - (10 if narrow else 130)
        body = []
        for i, (uid, name, red, blue, yellow) in enumerate(rows):
            y0 = 8 + i * row_h
            counts = f"红{red} 蓝{blue} 黄{yellow}"
            if narrow:
                body.append(f'<a href="/units/{uid}"><text x="{bar_x}" y="{y0 + 16}" {_font()}>'
                            f"{escape(_short(name, 12))}　{counts}</text></a>")
            else:
                body.append(f'<a href="/units/{uid}"><text x="{label_w - 6}" y="{y0 + 16}" '
                            f'text-anchor="end" {_font()}>{escape(_short(name, 10))}</text></a>')
            bar_y = y0 + (22 if narrow else 4)
            x = float(bar_x)
            for count, colour in ((red, RED), (blue, BLUE), (yellow, YELLOW)):
                w = bar_w * count / most
                if count:
                    body.append(f'<rect x="{x:.1f}" y="{bar_y}" width="{w:.1f}" height="14" '
                                f'fill="{colour}"/>')
                x += w
            if not narrow:
                body.append(f'<text x="{x + 6:.1f}" y="{bar_y + 12}" {_font()}>{counts}</text>')
        if not rows:
            body.append(f'<text x="10" y="24" {_font()}>暂无旗帜</text>')
        height = 16 + max(1, len(rows)) * row_h
        return _svg(width, height, body, "各单位旗帜分布", "narrow" if narrow else "wide")

    return _both(draw(WIDE, False), draw(NARROW, True))


# ------------------------------------------------------------------------- progress over time


def _day_label(day: date, other: date) -> str:
    return day.isoformat() if day.year != other.year else f"{day:%m-%d}"


def submission_progress(days: Sequence[tuple[str, int]], total: int, *, published: date | None,
                        due: date, today: date) -> Markup:
    """Units that have submitted, as a step line over the task's own time: from the day it was
    published to its deadline (or the last submission after it), with the deadline marked.

    The axis is the task's span rather than the days that happen to have submissions, so one
    day of submissions reads as "nothing until 03-30, then 2 of 4", not as a lone dot.
    """
    if not total or not days:
        return Markup('<p class="muted" id="chart-empty">还没有单位报送，暂无曲线。</p>')
    dated = [(date.fromisoformat(d), n) for d, n in days]
    start = min(published or dated[0][0], dated[0][0])
    end = max(due, dated[-1][0])
    if end <= start:  # everything on one day: give the day some room on both sides
        start, end = start - timedelta(days=1), end + timedelta(days=1)
    line_end = min(max(today, dated[-1][0]), end)

    def draw(width: int, height: int, narrow: bool) -> str:
        left, right, top, bottom = 36, (56 if narrow else 70), 26, 30
        plot_w, plot_h = width - left - right, height - top - bottom
        span = (end - start).days

        def x(day: date) -> float:
            return left + plot_w * (day - start).days / span

        def y(count: int) -> float:
            return top + plot_h - plot_h * count / total

        body = [
            f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
            f'stroke="{AXIS}"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{AXIS}"/>',
            f'<line x1="{left}" y1="{top}" x2="{left + plot_w}" y2="{top}" stroke="{GREY}" '
            f'stroke-dasharray="3 3"/>',
            f'<text x="{left - 4}" y="{top + 5}" text-anchor="end" {_font()}>{total}</text>',
            f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" {_font()}>0</text>',
        ]
        dx = x(due)
        body.append(f'<line x1="{dx:.1f}" y1="{top - 4}" x2="{dx:.1f}" y2="{top + plot_h}" '
                    f'stroke="{RED}" stroke-dasharray="4 3"/>')
        anchor = "end" if dx > left + plot_w * 0.7 else "start"
        shift = -4 if anchor == "end" else 4
        body.append(f'<text x="{dx + shift:.1f}" y="{top - 10}" text-anchor="{anchor}" '
                    f'{_font()}>截止 {escape(_day_label(due, start))}</text>')
        points = [f"{x(start):.1f},{y(0):.1f}"]
        running = 0
        dots = []
        for day, count in dated:
            px = x(day)
            points.append(f"{px:.1f},{y(running):.1f}")
            running += count
            points.append(f"{px:.1f},{y(running):.1f}")
            dots.append(f'<circle cx="{px:.1f}" cy="{y(running):.1f}" r="3" fill="{GREEN}">'
                        f"<title>{escape(day.isoformat())}：当天 {count} 个，累计 {running} 个"
                        f"</title></circle>")
        points.append(f"{x(line_end):.1f},{y(running):.1f}")
        body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{GREEN}" '
                    f'stroke-width="2"/>')
        body += dots
        body.append(f'<text x="{x(line_end) + 4:.1f}" y="{y(running) + 5:.1f}" {_font()}>'
                    f"{running}/{total}</text>")
        body.append(f'<text x="{left}" y="{height - 8}" {_font()}>'
                    f"{escape(_day_label(start, end))}</text>")
        body.append(f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end" {_font()}>'
                    f"{escape(_day_label(end, start))}</text>")
        return _svg(width, height, body, f"累计报送单位数：{running}/{total}",
                    "narrow" if narrow else "wide")

    return _both(draw(WIDE, 220, False), draw(NARROW, 190, True))
