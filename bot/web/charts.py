"""Charts as inline SVG drawn on the server: no script, no CDN, printable.

Every label is escaped; the result is safe to insert as ``Markup``.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

RED, BLUE, YELLOW, GREEN, GREY = "#c0392b", "#2c6fbb", "#e0b000", "#2e8b57", "#ddd"
_FONT = 'font-family="sans-serif" font-size="12"'


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(  # noqa: S704 - labels escaped by the callers below
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def completion_bars(rows: Sequence[tuple[int, str, int, int]], *, width: int = 760) -> Markup:
    """One bar per task: units that submitted / units assigned."""
    label_w, bar_w, row_h = 260, width - 260 - 90, 22
    body = []
    for i, (tid, title, done, total) in enumerate(rows):
        y = 10 + i * row_h
        share = done / total if total else 0.0
        short = title if len(title) <= 18 else title[:17] + "…"
        body.append(f'<a href="/tasks/{tid}"><text x="{label_w - 6}" y="{y + 14}" '
                    f'text-anchor="end" {_FONT}>{escape(short)}</text></a>')
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="14" fill="{GREY}"/>')
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w * share:.1f}" height="14" '
                    f'fill="{GREEN}"/>')
        body.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}" {_FONT}>'
                    f'{done}/{total} {share:.0%}</text>')
    if not rows:
        body.append(f'<text x="10" y="24" {_FONT}>暂无任务</text>')
    return _svg(width, 20 + max(1, len(rows)) * row_h, body, "各任务报送完成率")


def flags_by_unit(rows: Sequence[tuple[int, str, int, int, int]], *, width: int = 760) -> Markup:
    """Stacked bars per unit: (unit id, name, red, blue, yellow)."""
    label_w, row_h = 160, 22
    bar_w = width - label_w - 120
    most = max((r + b + y for _, _, r, b, y in rows), default=0) or 1
    body = []
    for i, (uid, name, red, blue, yellow) in enumerate(rows):
        y0 = 10 + i * row_h
        body.append(f'<a href="/units/{uid}"><text x="{label_w - 6}" y="{y0 + 14}" '
                    f'text-anchor="end" {_FONT}>{escape(name)}</text></a>')
        x = float(label_w)
        for count, colour in ((red, RED), (blue, BLUE), (yellow, YELLOW)):
            w = bar_w * count / most
            if count:
                body.append(f'<rect x="{x:.1f}" y="{y0 + 3}" width="{w:.1f}" height="14" '
                            f'fill="{colour}"/>')
            x += w
        body.append(f'<text x="{x + 6:.1f}" y="{y0 + 14}" {_FONT}>'
                    f'红{red} 蓝{blue} 黄{yellow}</text>')
    if not rows:
        body.append(f'<text x="10" y="24" {_FONT}>暂无旗帜</text>')
    return _svg(width, 20 + max(1, len(rows)) * row_h, body, "各单位旗帜分布")


def cumulative_line(days: Sequence[tuple[str, int]], total: int, *, width: int = 760,
                    height: int = 220) -> Markup:
    """Units that have submitted, day by day (completion over time)."""
    left, bottom, top, right = 40, 30, 12, 20
    plot_w, plot_h = width - left - right, height - top - bottom
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
            f'stroke="#888"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>',
            f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" {_FONT}>{total}</text>',
            f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" {_FONT}>0</text>']
    if days and total:
        n = len(days)
        points = []
        running = 0
        for i, (day, count) in enumerate(days):
            running += count
            x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
            y = top + plot_h - plot_h * running / total
            points.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{GREEN}">'
                        f"<title>{escape(day)}：累计 {running}</title></circle>")
        body.insert(0, f'<polyline points="{" ".join(points)}" fill="none" stroke="{GREEN}" '
                       f'stroke-width="2"/>')
        body.append(f'<text x="{left}" y="{height - 8}" {_FONT}>{escape(days[0][0][5:])}</text>')
        body.append(f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end" {_FONT}>'
                    f"{escape(days[-1][0][5:])}</text>")
    else:
        body.append(f'<text x="{left + 10}" y="{top + 30}" {_FONT}>尚无报送</text>')
    return _svg(width, height, body, "累计报送单位数")
