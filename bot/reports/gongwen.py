"""A small builder of official documents in the national format (GB/T 9704-2012, 党政机关公文格式).

It knows the page and the elements of a 公文 — page set-up, styles, 版头, title, 主送机关, headings,
body text, tables, 附件说明, signature and date, attachments, 版记, page numbers — and nothing of
what a document says: ``bot/reports/render.py`` lays a ``bot.domain.gongwen.Document`` out with it.

The page (``PageSpec``), from the standard:

- A4 (210 × 297 mm); margins top 37, bottom 35, left 28, right 26 mm: a text area of 156 × 225 mm.
- 22 lines a page: 225 mm / 22 = 28.99 pt a line. Word and LibreOffice place lines on whole
  twips, so the body uses a fixed line spacing of ⌊28.99 × 20⌋ = 579 twips (28.95 pt):
  22 × 579 = 12,738 twips fit in the 12,756 of the text area, 23 lines do not.
- 28 characters a line: 156 mm / 28 = 15.793 pt a character, less than a 3号 character (16 pt),
  so body text is condensed: ``w:spacing`` of ⌊(15.793 − 16) × 20⌋ = −5 twentieths of a point
  (−0.25 pt) a character, 15.75 pt each: 28 × 15.75 = 441 pt fit in the 442.2 pt of the text
  area, 29 (456.75 pt) do not, and justification spreads the rest. Word's character grid
  (``w:docGrid type="linesAndChars"`` with ``w:charSpace``) would say the same to Word, but
  LibreOffice gives each 16 pt character two cells of a 15.79 pt grid (14 characters a line),
  so the grid is a line grid only (``type="lines"``, 579 twips) and the spacing does the work
  in both. Indents are measured in these characters (``w:firstLineChars`` with a twips
  fallback for renderers that ignore the ``…Chars`` forms).
- Text that is not body size (the 2号 title, the 版头, tables, page numbers, 版记) keeps its
  natural spacing and does not snap to the grid (``w:snapToGrid w:val="0"``).

Fonts are set as East-Asian fonts (``w:rFonts w:eastAsia``) in the styles and in the runs that
change font: with only the Latin name, Word sets Chinese text in a fallback font.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from docx import Document as new_document
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm

from bot.domain.gongwen import cn_date, text_width

FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
SONGTI = "宋体"

SIZE_2 = 22.0  # 2号
SIZE_3 = 16.0  # 3号
SIZE_4 = 14.0  # 4号
SIZE_5 = 10.5  # 5号
MARK_SIZE = 30.0  # 发文机关标志: as large as fits, here at most 30 pt (narrowed to fit)
MARK_MIN_SCALE = 50  # % horizontal scale below which the mark's size is reduced instead
RED = "FF0000"
TWIPS_PER_PT = 20
TWIPS_PER_MM = 1440 / 25.4
PT_PER_MM = 72 / 25.4

# 版记 rules: the first and last thick (0.35 mm), the ones between thin (0.25 mm); Word gives
# border widths in eighths of a point.
RULE_THICK = 8  # 1 pt ≈ 0.35 mm
RULE_THIN = 6  # 0.75 pt ≈ 0.26 mm
PAGE_NUMBER_GAP_MM = 7  # page number's top 7 mm below the text area

STYLE_BODY = "GwBody"
STYLE_PLAIN = "GwPlain"
STYLE_TITLE = "GwTitle"
STYLE_MARK = "GwMark"
STYLE_H1 = "GwHeading1"
STYLE_H2 = "GwHeading2"
STYLE_H3 = "GwHeading3"
STYLE_H4 = "GwHeading4"
STYLE_SUBTITLE = "GwSubtitle"
STYLE_TABLE = "GwTable"
STYLE_BANJI = "GwBanji"
STYLE_PAGE_NUMBER = "GwPageNumber"
STYLE_TOC = "GwToc"


@dataclass(frozen=True, slots=True)
class PageSpec:
    """The page of GB/T 9704-2012 and the grid derived from it (see the module docstring)."""

    width_mm: float = 210
    height_mm: float = 297
    top_mm: float = 37
    bottom_mm: float = 35
    left_mm: float = 28
    right_mm: float = 26
    lines: int = 22
    chars: int = 28
    body_pt: float = SIZE_3

    @property
    def text_width_pt(self) -> float:
        return (self.width_mm - self.left_mm - self.right_mm) * PT_PER_MM

    @property
    def text_height_pt(self) -> float:
        return (self.height_mm - self.top_mm - self.bottom_mm) * PT_PER_MM

    @property
    def text_width_twips(self) -> int:
        return math.floor(self.text_width_pt * TWIPS_PER_PT)

    @property
    def line_twips(self) -> int:
        """The fixed line spacing: the most twips that still fit ``lines`` lines."""
        return math.floor(self.text_height_pt * TWIPS_PER_PT / self.lines)

    @property
    def char_pitch_pt(self) -> float:
        """The width of one body character with its spacing (15.75 pt)."""
        return self.body_pt + self.char_spacing_twips / TWIPS_PER_PT

    @property
    def char_spacing_twips(self) -> int:
        """``w:spacing`` (twentieths of a point) added to every body character so that
        ``chars`` of them fit the width and one more does not."""
        return math.floor((self.text_width_pt / self.chars - self.body_pt) * TWIPS_PER_PT)

    def chars_twips(self, n: float) -> int:
        """``n`` body characters as twips (indents)."""
        return round(n * self.char_pitch_pt * TWIPS_PER_PT)


A4 = PageSpec()


# ------------------------------------------------------------------------------ XML helpers


def _el(tag: str, **attrs: Any) -> Any:
    e = OxmlElement(tag)
    for k, v in attrs.items():
        e.set(qn(f"w:{k}"), str(v))
    return e


def _sub(parent: Any, tag: str, **attrs: Any) -> Any:
    e = _el(tag, **attrs)
    parent.append(e)
    return e


def _fonts(rpr: Any, font: str, ascii_font: str | None = None) -> None:
    """Latin and East-Asian names both, theme fonts removed (a theme attribute would win)."""
    old = rpr.find(qn("w:rFonts"))
    if old is not None:
        rpr.remove(old)
    latin = ascii_font or font
    el = _el("w:rFonts", ascii=latin, hAnsi=latin, eastAsia=font, cs=latin, hint="eastAsia")
    rpr.insert(0, el)


def _size(rpr: Any, pt: float) -> None:
    half = str(round(pt * 2))
    for tag in ("w:sz", "w:szCs"):
        old = rpr.find(qn(tag))
        if old is not None:
            rpr.remove(old)
        _sub(rpr, tag, val=half)


def _spacing_exact(ppr: Any, twips: int) -> None:
    _sub(ppr, "w:spacing", before=0, after=0, line=twips, lineRule="exact")


def _no_grid(ppr: Any) -> None:
    _sub(ppr, "w:snapToGrid", val=0)


def _jc(ppr: Any, how: str) -> None:
    _sub(ppr, "w:jc", val=how)


def _run(text: str, *, rpr: Any = None) -> Any:
    r = _el("w:r")
    if rpr is not None:
        r.append(rpr)
    t = _sub(r, "w:t")
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return r


def _field_runs(instr: str, shown: str, rpr_factory: Any = None) -> list[Any]:
    """A complex field (``PAGE``, ``PAGEREF x \\h``) with its cached result ``shown``."""

    def r() -> Any:
        run = _el("w:r")
        if rpr_factory is not None:
            run.append(rpr_factory())
        return run

    begin, code, sep, end = r(), r(), r(), r()
    _sub(begin, "w:fldChar", fldCharType="begin")
    it = _sub(code, "w:instrText")
    it.text = f" {instr} "
    it.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    _sub(sep, "w:fldChar", fldCharType="separate")
    result = _run(shown, rpr=rpr_factory() if rpr_factory else None)
    _sub(end, "w:fldChar", fldCharType="end")
    return [begin, code, sep, result, end]


# ------------------------------------------------------------------------------ the builder


class GongwenBuilder:
    """Adds the elements of a 公文 in order; ``save``/``to_bytes`` gives the .docx."""

    def __init__(self, page: PageSpec = A4, *, title: str = "", author: str = "",
                 created: datetime | None = None) -> None:
        self.page = page
        self.doc: DocxDocument = new_document()
        self._body = self.doc.element.body
        self._sect = self.doc.sections[0]._sectPr
        self._bookmark_id = 0
        self._break_next = False
        self._setup_page()
        self._setup_settings()
        self._setup_styles()
        self._setup_footers()
        props = self.doc.core_properties
        props.title, props.author, props.last_modified_by = title, author, author
        props.comments = ""
        props.keywords = ""
        if created is not None:
            props.created = props.modified = created.replace(tzinfo=None)

    # -------------------------------------------------------------- set-up

    def _setup_page(self) -> None:
        p, s = self.page, self.doc.sections[0]
        s.page_width, s.page_height = Mm(p.width_mm), Mm(p.height_mm)
        s.top_margin, s.bottom_margin = Mm(p.top_mm), Mm(p.bottom_mm)
        s.left_margin, s.right_margin = Mm(p.left_mm), Mm(p.right_mm)
        s.gutter = 0
        s.header_distance = Mm(15)
        # The page number's top edge sits 7 mm below the text area; the footer is measured from
        # the bottom edge of the page to the bottom of its (one, 4号) line.
        number_line_mm = SIZE_4 / PT_PER_MM
        s.footer_distance = Mm(p.bottom_mm - PAGE_NUMBER_GAP_MM - number_line_mm)
        old = self._sect.find(qn("w:docGrid"))
        if old is not None:
            self._sect.remove(old)
        self._sect.append(_el("w:docGrid", type="lines", linePitch=p.line_twips))

    def _setup_settings(self) -> None:
        self.doc.settings.odd_and_even_pages_header_footer = True
        st = self.doc.settings.element
        lang = st.find(qn("w:themeFontLang"))
        if lang is not None:
            lang.set(qn("w:eastAsia"), "zh-CN")

    def _setup_styles(self) -> None:
        styles = self.doc.styles.element
        p = self.page
        # Defaults: 3号仿宋, black, Chinese; no space between paragraphs.
        rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        for old in list(rpr_default):
            rpr_default.remove(old)
        _fonts(rpr_default, FANGSONG)
        _size(rpr_default, p.body_pt)
        _sub(rpr_default, "w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA")
        ppr_default = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
        for old in ppr_default.findall(qn("w:spacing")):
            ppr_default.remove(old)
        _spacing_exact(ppr_default, p.line_twips)

        # The template's other styles (Macro Text, HTML Code…) name Latin fonts only: they take
        # the defaults' fonts instead, so that no style sets Chinese text in a Latin font.
        for st in styles.findall(qn("w:style")):
            for fonts in st.findall(f"{qn('w:rPr')}/{qn('w:rFonts')}"):
                fonts.getparent().remove(fonts)
        normal = self.doc.styles["Normal"].element
        self._style_props(normal, font=FANGSONG, size=p.body_pt, jc="both", plain=True)
        indent = {"firstLineChars": 200, "firstLine": p.chars_twips(2)}
        self._add_style(STYLE_BODY, "正文（公文）", font=FANGSONG, size=p.body_pt, jc="both",
                        ind=indent)
        self._add_style(STYLE_PLAIN, "顶格（公文）", font=FANGSONG, size=p.body_pt, jc="both")
        self._add_style(STYLE_H1, "一级标题（公文）", font=HEITI, size=p.body_pt, jc="both",
                        ind=indent, outline=0)
        self._add_style(STYLE_H2, "二级标题（公文）", font=KAITI, size=p.body_pt, jc="both",
                        ind=indent, outline=1)
        self._add_style(STYLE_H3, "三级标题（公文）", font=FANGSONG, size=p.body_pt, jc="both",
                        ind=indent, outline=2)
        self._add_style(STYLE_H4, "四级标题（公文）", font=FANGSONG, size=p.body_pt, jc="both",
                        ind=indent, outline=3)
        self._add_style(STYLE_TITLE, "标题（公文）", font=XIAOBIAOSONG, size=SIZE_2, jc="center",
                        grid=False, outline=0)
        self._add_style(STYLE_MARK, "发文机关标志（公文）", font=XIAOBIAOSONG, size=MARK_SIZE,
                        jc="center", grid=False, color=RED)
        self._add_style(STYLE_SUBTITLE, "副标题（公文）", font=KAITI, size=p.body_pt,
                        jc="center")
        self._add_style(STYLE_TABLE, "表格（公文）", font=FANGSONG, size=SIZE_5, jc="center",
                        grid=False, line=round(SIZE_5 * 1.45 * TWIPS_PER_PT))
        self._add_style(STYLE_BANJI, "版记（公文）", font=FANGSONG, size=SIZE_4, jc="both",
                        grid=False)
        self._add_style(STYLE_PAGE_NUMBER, "页码（公文）", font=SONGTI, size=SIZE_4, jc="right",
                        grid=False, line=round(SIZE_4 * TWIPS_PER_PT))
        self._add_style(STYLE_TOC, "目录（公文）", font=FANGSONG, size=p.body_pt, jc="left",
                        tabs=[("right", "dot", p.text_width_twips)],
                        ind={"leftChars": 200, "left": p.chars_twips(2),
                             "hangingChars": 200, "hanging": p.chars_twips(2)})

    def _style_props(self, style: Any, *, font: str, size: float, jc: str,
                     ind: dict[str, int] | None = None, grid: bool = True,
                     line: int | None = None, color: str = "000000",
                     outline: int | None = None,
                     tabs: Sequence[tuple[str, str, int]] = (), plain: bool = False) -> None:
        for tag in ("w:pPr", "w:rPr"):
            old = style.find(qn(tag))
            if old is not None:
                style.remove(old)
        ppr = _sub(style, "w:pPr")
        _sub(ppr, "w:widowControl", val=0)  # a moved widow line would leave a page at 21 lines
        if tabs:
            t = _sub(ppr, "w:tabs")
            for val, leader, pos in tabs:
                _sub(t, "w:tab", val=val, leader=leader, pos=pos)
        # Word reads overflowPunct=1 as "punctuation may hang past the right edge" (its usual
        # setting for Chinese text); LibreOffice's DOCX import maps the same value to "no
        # hanging punctuation" (it inverts the flag), and LibreOffice 7.4 does not print a
        # comma hung at the end of a justified line at all. With 1, every character is
        # printed in both.
        _sub(ppr, "w:overflowPunct", val=1)
        if not grid:
            _no_grid(ppr)
        _spacing_exact(ppr, line or self.page.line_twips)
        if ind:
            _sub(ppr, "w:ind", **ind)
        _jc(ppr, jc)
        if outline is not None:
            _sub(ppr, "w:outlineLvl", val=outline)
        rpr = _sub(style, "w:rPr")
        _fonts(rpr, font)
        if not grid:
            _sub(rpr, "w:snapToGrid", val=0)
        _sub(rpr, "w:color", val=color)
        # Body-size text is condensed to fit 28 characters a line; anything else says its own
        # spacing (0), or it would inherit the body's.
        body = grid and size == self.page.body_pt and not plain
        _sub(rpr, "w:spacing", val=self.page.char_spacing_twips if body else 0)
        _size(rpr, size)
        _sub(rpr, "w:lang", val="en-US", eastAsia="zh-CN")

    def _add_style(self, style_id: str, name: str, **props: Any) -> None:
        styles = self.doc.styles.element
        st = _sub(styles, "w:style", type="paragraph", customStyle=1, styleId=style_id)
        _sub(st, "w:name", val=name)
        _sub(st, "w:basedOn", val="Normal")
        _sub(st, "w:qFormat")
        self._style_props(st, **props)

    def _setup_footers(self) -> None:
        """ "— 1 —" in 4号宋体: odd pages on the right, even pages on the left, one character
        (of 4号) in from the edge; the number is a PAGE field."""
        sect = self.doc.sections[0]
        one = round(SIZE_4 * TWIPS_PER_PT)
        for footer, jc, ind in ((sect.footer, "right", {"right": one}),
                                (sect.even_page_footer, "left", {"left": one})):
            footer.is_linked_to_previous = False
            ftr = footer._element
            for old in list(ftr):
                ftr.remove(old)
            p = _sub(ftr, "w:p")
            ppr = _sub(p, "w:pPr")
            _sub(ppr, "w:pStyle", val=STYLE_PAGE_NUMBER)
            _sub(ppr, "w:ind", **ind)
            _jc(ppr, jc)
            p.append(_run("— "))
            for r in _field_runs("PAGE", "1"):
                p.append(r)
            p.append(_run(" —"))

    # -------------------------------------------------------------- paragraphs

    def _p(self, style: str, text: str = "", *, jc: str | None = None,
           ind: dict[str, Any] | None = None, before: int | None = None,
           border_bottom: tuple[str, int, int] | None = None, run_props: Any = None,
           keep_next: bool = False, page_break_before: bool = False) -> Any:
        p = _el("w:p")
        ppr = _sub(p, "w:pPr")
        _sub(ppr, "w:pStyle", val=style)
        if keep_next:
            _sub(ppr, "w:keepNext")
        if page_break_before or self._break_next:
            _sub(ppr, "w:pageBreakBefore")
            self._break_next = False
        if border_bottom is not None:
            color, size, space = border_bottom
            bdr = _sub(ppr, "w:pBdr")
            _sub(bdr, "w:bottom", val="single", sz=size, space=space, color=color)
        if before is not None:
            _sub(ppr, "w:spacing", before=before)
        if ind is not None:
            _sub(ppr, "w:ind", **ind)
        if jc is not None:
            _jc(ppr, jc)
        if text:
            p.append(_run(text, rpr=run_props))
        self._sect.addprevious(p)
        return p

    def blank(self, n: int = 1) -> None:
        """Empty body lines (下空一行, 下空二行)."""
        for _ in range(n):
            self._p(STYLE_PLAIN)

    def mark(self, text: str) -> None:
        """发文机关标志: red 小标宋, centred, its top 35 mm below the text area's top; narrowed
        (character scale) rather than shrunk when a long name would not fit the width."""
        p = self.page
        size, width = MARK_SIZE, text_width(text)
        scale = min(100, math.floor(p.text_width_pt * 100 / (width * size))) if width else 100
        if scale < MARK_MIN_SCALE:
            size = p.text_width_pt * 100 / (width * MARK_MIN_SCALE)
            scale = MARK_MIN_SCALE
        line = round(size * 1.25 * TWIPS_PER_PT)
        rpr = _el("w:rPr")
        _fonts(rpr, XIAOBIAOSONG)
        _sub(rpr, "w:color", val=RED)
        _sub(rpr, "w:w", val=scale)
        _size(rpr, size)
        par = self._p(STYLE_MARK, text, run_props=rpr)
        ppr = par.find(qn("w:pPr"))
        _spacing_exact(ppr, line)
        # The glyphs sit about in the middle of the fixed line: start the line so that their
        # top edge, not the line's, is 35 mm down.
        before = round(35 * TWIPS_PER_MM - (line - size * TWIPS_PER_PT) / 2)
        ppr.find(qn("w:spacing")).set(qn("w:before"), str(max(0, before)))

    def number(self, text: str) -> None:
        """发文字号 two lines under the mark, centred, with the red rule 4 mm below it, and the
        title two lines under the rule."""
        self.blank(2)
        self._p(STYLE_PLAIN, text, jc="center",
                border_bottom=(RED, 12, round(4 * PT_PER_MM)))
        self.blank(2)

    def title(self, text: str, anchor: str = "") -> None:
        """2号小标宋, centred; long titles wrap by themselves (split by meaning in the text with
        line breaks where the author wants them)."""
        p = self._p(STYLE_TITLE, keep_next=True)
        self._text_with_breaks(p, text)
        if anchor:
            self._bookmark(p, anchor)

    def _text_with_breaks(self, p: Any, text: str, rpr_factory: Any = None) -> None:
        for i, part in enumerate(text.split("\n")):
            if i:
                br = _el("w:r")
                _sub(br, "w:br")
                p.append(br)
            p.append(_run(part, rpr=rpr_factory() if rpr_factory else None))

    def _bookmark(self, p: Any, name: str) -> None:
        self._bookmark_id += 1
        start = _el("w:bookmarkStart", id=self._bookmark_id, name=name)
        end = _el("w:bookmarkEnd", id=self._bookmark_id)
        ppr = p.find(qn("w:pPr"))
        ppr.addnext(start)
        p.append(end)

    def subtitle(self, text: str) -> None:
        """A centred 楷体 line under a title, one blank line below."""
        self._p(STYLE_SUBTITLE, text, keep_next=True)
        self.blank(1)

    def addressee(self, text: str) -> None:
        """主送机关: under the title after one blank line, flush left, ending with a colon."""
        self.blank(1)
        self._p(STYLE_PLAIN, text.rstrip("：:") + "：")

    def heading(self, level: int, text: str, anchor: str = "") -> None:
        style = {1: STYLE_H1, 2: STYLE_H2, 3: STYLE_H3, 4: STYLE_H4}[level]
        p = self._p(style, text, keep_next=level <= 2)
        if anchor:
            self._bookmark(p, anchor)

    def paragraph(self, text: str, *, indent: bool = True) -> None:
        self._p(STYLE_BODY if indent else STYLE_PLAIN, text)

    def paragraphs(self, texts: Iterable[str]) -> None:
        for t in texts:
            self.paragraph(t)

    def page_break(self) -> None:
        """The next paragraph starts a page (``w:pageBreakBefore``): a break in a paragraph of
        its own would leave an empty page whenever the text before it fills its page."""
        self._break_next = True

    # -------------------------------------------------------------- tables

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float] = (), *, total: bool = False) -> None:
        """A table of figures in 5号仿宋, as wide as the text area, its header repeated on every
        page; the first column left-aligned (names), the others centred (figures)."""
        if self._break_next:
            self._p(STYLE_PLAIN)  # a table cannot break its page itself: an empty line does
        n = len(columns)
        rel = list(widths) if len(widths) == n else [1.0] * n
        full = self.page.text_width_twips
        grid = [math.floor(full * w / sum(rel)) for w in rel]
        tbl = _el("w:tbl")
        tpr = _sub(tbl, "w:tblPr")
        _sub(tpr, "w:tblW", w=sum(grid), type="dxa")
        _sub(tpr, "w:jc", val="center")
        borders = _sub(tpr, "w:tblBorders")
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            _sub(borders, f"w:{side}", val="single", sz=4, space=0, color="000000")
        _sub(tpr, "w:tblLayout", type="fixed")
        mar = _sub(tpr, "w:tblCellMar")
        _sub(mar, "w:left", w=57, type="dxa")
        _sub(mar, "w:right", w=57, type="dxa")
        tg = _sub(tbl, "w:tblGrid")
        for w in grid:
            _sub(tg, "w:gridCol", w=w)
        self._row(tbl, columns, grid, header=True)
        last = len(rows) - 1
        for i, row in enumerate(rows):
            self._row(tbl, row, grid, bold=total and i == last)
        self._sect.addprevious(tbl)

    def _row(self, tbl: Any, cells: Sequence[str], grid: Sequence[int], *,
             header: bool = False, bold: bool = False) -> None:
        tr = _sub(tbl, "w:tr")
        trpr = _sub(tr, "w:trPr")
        _sub(trpr, "w:cantSplit")
        if header:
            _sub(trpr, "w:tblHeader")
        for col, (text, w) in enumerate(zip(cells, grid, strict=True)):
            tc = _sub(tr, "w:tc")
            tcpr = _sub(tc, "w:tcPr")
            _sub(tcpr, "w:tcW", w=w, type="dxa")
            _sub(tcpr, "w:vAlign", val="center")
            p = _sub(tc, "w:p")
            ppr = _sub(p, "w:pPr")
            _sub(ppr, "w:pStyle", val=STYLE_TABLE)
            if col == 0 and not header:
                _jc(ppr, "left")
            rpr = None
            if header or bold:
                rpr = _el("w:rPr")
                if header:
                    _fonts(rpr, HEITI)
                else:
                    _sub(rpr, "w:b")
            if text:
                p.append(_run(text, rpr=rpr))

    # -------------------------------------------------------------- the end of the body

    def attachment_note(self, names: Sequence[str]) -> None:
        """附件说明: one blank line after the body, two characters in, "附件：1. …", further
        names aligned under the first."""
        if not names:
            return
        self.blank(1)
        p = self.page
        if len(names) == 1:
            self._p(STYLE_BODY, f"附件：{names[0]}")
            return
        head = 2 + text_width("附件：")
        for i, name in enumerate(names, 1):
            text = f"附件：{i}. {name}" if i == 1 else f"{i}. {name}"
            ind: dict[str, Any] = ({"firstLineChars": 200, "firstLine": p.chars_twips(2)}
                                   if i == 1 else {"leftChars": round(head * 100),
                                                   "left": p.chars_twips(head)})
            self._p(STYLE_PLAIN, text, ind=ind)

    def signature(self, issuer: str, when: date | None, *, seal: bool = True) -> None:
        """发文机关署名 and 成文日期 (GB/T 9704 7.3.5).

        With a seal (``seal=True``, the printed and stamped document): the date four characters
        in from the right, the issuer centred over it (two blank lines above leave the seal's
        top within a line of the text). A name too long to be centred over the date is set
        flush right and the date centred under it.
        Without a seal: the issuer two characters in from the right, one blank line above, the
        date on the next line starting two characters right of the issuer's first character (or
        two characters in, the issuer moving left, when the date is the longer).
        """
        date_text = cn_date(when) if when else "　年　月　日"
        ws, wd = text_width(issuer), text_width(date_text)
        if seal:
            right_date = 4.0
            right_sig = right_date + (wd - ws) / 2
            if right_sig < 0:
                right_sig, right_date = 0.0, (ws - wd) / 2
            self.blank(2)
        else:
            right_sig = 2.0
            right_date = right_sig + ws - 2 - wd
            if right_date < 2:
                right_date = 2.0
                right_sig = right_date + wd + 2 - ws
            self.blank(1)
        if issuer:
            self._p(STYLE_PLAIN, issuer, jc="right", ind=self._right(right_sig))
        self._p(STYLE_PLAIN, date_text, jc="right", ind=self._right(right_date))

    def _right(self, chars: float) -> dict[str, Any]:
        return {"rightChars": round(chars * 100), "right": self.page.chars_twips(chars)}

    def attachment_start(self, label: str, title: str) -> None:
        """An attachment on a new page: 附件N in 3号黑体 at the top left, its title centred on
        the third line, one blank line below."""
        rpr = _el("w:rPr")
        _fonts(rpr, HEITI)
        self._p(STYLE_PLAIN, label, jc="left", run_props=rpr, page_break_before=True,
                keep_next=True)
        self.blank(1)
        self.title(title)
        self.blank(1)

    def toc(self, heading: str, entries: Sequence[tuple[str, str, int]]) -> None:
        """A table of contents: each entry dotted to a PAGEREF field of its bookmark (the page
        shown is ``page`` until fields are updated; LibreOffice computes it when it renders)."""
        self.title(heading)
        self.blank(1)
        for text, anchor, page in entries:
            p = self._p(STYLE_TOC, text)
            tab = _el("w:r")
            _sub(tab, "w:tab")
            p.append(tab)
            for r in _field_runs(f"PAGEREF {anchor} \\h", str(page)):
                p.append(r)

    def banji(self, copy_to: Sequence[str], printer: str, printed: date | None) -> None:
        """版记 at the foot of the last page, between rules as wide as the text area: the first
        and last thick, the one between thin; 抄送 (4号仿宋, one character in from each side,
        wrapped lines aligned after the colon, a full stop after the last name) and the printing
        office with the date of printing (one character in from the left and from the right).

        It is a table floated to the bottom of the text area (``w:tblpPr tblpYSpec="bottom"``):
        the standard puts the last rule on the text area's bottom edge.
        """
        if not (copy_to or printer):
            return
        p = self.page
        one = round(SIZE_4 * TWIPS_PER_PT)  # one 4号 character
        full = p.text_width_twips
        tbl = _el("w:tbl")
        tpr = _sub(tbl, "w:tblPr")
        # Anchored to the page horizontally (at the left margin): LibreOffice keeps a floating
        # table as wide as the text area inline unless it is placed relative to the page.
        _sub(tpr, "w:tblpPr", leftFromText=0, rightFromText=0, topFromText=0, bottomFromText=0,
             vertAnchor="margin", tblpYSpec="bottom", horzAnchor="page",
             tblpX=round(p.left_mm * TWIPS_PER_MM))
        _sub(tpr, "w:tblOverlap", val="never")
        _sub(tpr, "w:tblW", w=full, type="dxa")
        borders = _sub(tpr, "w:tblBorders")
        rules = {"top": RULE_THICK, "bottom": RULE_THICK, "insideH": RULE_THIN}
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            if side in rules:
                _sub(borders, f"w:{side}", val="single", sz=rules[side], space=0,
                     color="000000")
            else:
                _sub(borders, f"w:{side}", val="nil")
        _sub(tpr, "w:tblLayout", type="fixed")
        mar = _sub(tpr, "w:tblCellMar")
        _sub(mar, "w:left", w=0, type="dxa")
        _sub(mar, "w:right", w=0, type="dxa")
        _sub(_sub(tbl, "w:tblGrid"), "w:gridCol", w=full)
        if copy_to:
            label = "抄送："
            text = label + "，".join(copy_to) + "。"
            hang = round(text_width(label) * one)
            self._banji_row(tbl, full, [_run(text)],
                            {"left": one + hang, "hanging": hang, "right": one})
        if printer or printed is not None:
            # The date of printing ends one character in from the right: a right tab there
            # (a tab stop at or beyond a right indent is ignored by LibreOffice, so the
            # paragraph has none).
            runs = [_run(printer)]
            if printed is not None:
                tab = _el("w:r")
                _sub(tab, "w:tab")
                runs += [tab, _run(f"{cn_date(printed)}印发")]
            self._banji_row(tbl, full, runs, {"left": one}, tab_at=full - one)
        self._sect.addprevious(tbl)
        # A table must be followed by a paragraph; this one anchors nothing visible.
        self._p(STYLE_PLAIN)

    def _banji_row(self, tbl: Any, width: int, runs: Sequence[Any], ind: dict[str, int], *,
                   tab_at: int | None = None) -> None:
        tr = _sub(tbl, "w:tr")
        _sub(_sub(tr, "w:trPr"), "w:cantSplit")
        tc = _sub(tr, "w:tc")
        _sub(_sub(tc, "w:tcPr"), "w:tcW", w=width, type="dxa")
        par = _sub(tc, "w:p")
        ppr = _sub(par, "w:pPr")
        _sub(ppr, "w:pStyle", val=STYLE_BANJI)
        if tab_at is not None:
            _sub(_sub(ppr, "w:tabs"), "w:tab", val="right", pos=tab_at)
        _sub(ppr, "w:ind", **ind)
        _jc(ppr, "left")
        for r in runs:
            par.append(r)

    # -------------------------------------------------------------- output

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()
