"""What the browser tests measure on a rendered page: overflow, flag labels, text sizes, tap
targets and colour contrast (WCAG 2.1: relative luminance and contrast ratio).

The page is measured by one script (``AUDIT``) that returns plain data; the judging is here, in
Python, so a failure names the element and the numbers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tests.web.cdp import Page

# The board's flag colours and the word each one must carry (text as well as colour).
FLAG_COLOURS = {"rgb(192, 57, 43)": "红", "rgb(44, 111, 187)": "蓝", "rgb(224, 176, 0)": "黄"}
MIN_FONT_PX = 14.0
MIN_TAP_PX = 44.0

AUDIT = r"""
(() => {
  const shown = el => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0') return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (bg && bg !== 'transparent' && !/rgba\(.*, 0\)$/.test(bg)) return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const sample = el => (el.textContent || el.value || el.getAttribute('aria-label') || '')
      .trim().replace(/\s+/g, ' ').slice(0, 40);
  const texts = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || seen.has(el)) continue;
    if (el.closest('title, option, style, script')) continue;
    seen.add(el);
    if (!shown(el)) continue;
    const cs = getComputedStyle(el);
    let size = parseFloat(cs.fontSize);
    const svg = el.closest('svg');
    let colour = cs.color;
    if (svg) {  // SVG text: its size in user units times the drawing's scale; its ink is fill
      const box = svg.viewBox && svg.viewBox.baseVal;
      if (box && box.width) size *= svg.getBoundingClientRect().width / box.width;
      colour = cs.fill;
    }
    texts.push({text: node.textContent.trim().slice(0, 30), tag: el.tagName.toLowerCase(),
                size, weight: parseInt(cs.fontWeight, 10) || 400, colour,
                background: background(el)});
  }
  const taps = [];
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, label[for], summary')) {
    if (el.tagName === 'INPUT' && el.type === 'checkbox' && getComputedStyle(el).display === 'none') continue;
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    taps.push({tag: el.tagName.toLowerCase(), text: sample(el), width: r.width, height: r.height});
  }
  const flags = [];
  for (const el of document.querySelectorAll('body *')) {
    const bg = getComputedStyle(el).backgroundColor;
    if (!(bg in FLAGS) || !shown(el)) continue;
    flags.push({background: bg, text: el.textContent.trim()});
  }
  const cssHas = [...document.styleSheets].some(
      s => [...s.cssRules].some(r => r.cssText.indexOf(':has(') >= 0));
  return JSON.stringify({
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    texts, taps, flags, scripts: document.scripts.length, cssHas});
})()
""".replace("FLAGS", json.dumps(FLAG_COLOURS))


@dataclass
class Audit:
    scroll_width: int
    inner_width: int
    texts: list[dict[str, Any]]
    taps: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    scripts: int
    css_has: bool


async def audit(page: Page) -> Audit:
    data = json.loads(await page.js(AUDIT))
    return Audit(data["scrollWidth"], data["innerWidth"], data["texts"], data["taps"],
                 data["flags"], data["scripts"], data["cssHas"])


_RGB = re.compile(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)")


def rgb(css: str) -> tuple[float, float, float]:
    m = _RGB.fullmatch(css.strip())
    assert m, f"not an rgb() colour: {css!r}"
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def luminance(colour: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb()`` colours, 1.0 to 21.0."""
    la, lb = sorted((luminance(rgb(a)), luminance(rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def is_large(text: dict[str, Any]) -> bool:
    """WCAG's large text (3:1 suffices): 18 pt, or 14 pt bold."""
    return bool(text["size"] >= 24 or (text["size"] >= 18.66 and text["weight"] >= 700))


def contrast_failures(a: Audit) -> list[str]:
    out = []
    for t in a.texts:
        need = 3.0 if is_large(t) else 4.5
        ratio = contrast(t["colour"], t["background"])
        if ratio < need:
            out.append(f"{t['text']!r} ({t['tag']}): {t['colour']} on {t['background']} = "
                       f"{ratio:.2f} < {need}")
    return out


def font_failures(a: Audit) -> list[str]:
    return [f"{t['text']!r} ({t['tag']}): {t['size']:.1f}px" for t in a.texts
            if t["size"] < MIN_FONT_PX - 0.05]


def tap_failures(a: Audit) -> list[str]:
    return [f"{t['tag']} {t['text']!r}: {t['width']:.0f}×{t['height']:.0f}px" for t in a.taps
            if t["width"] < MIN_TAP_PX - 0.5 or t["height"] < MIN_TAP_PX - 0.5]


def flag_label_failures(a: Audit) -> list[str]:
    return [f"{f['background']} shows {f['text']!r} without {FLAG_COLOURS[f['background']]}"
            for f in a.flags if FLAG_COLOURS[f["background"]] not in f["text"]]


def contrast_pairs(a: Audit) -> dict[tuple[str, str], float]:
    """Every (text colour, background) pair on the page and its ratio."""
    return {(t["colour"], t["background"]): round(contrast(t["colour"], t["background"]), 2)
            for t in a.texts}
