"""Lays a ``bot.domain.gongwen.Document`` out on the page (``GongwenBuilder``) and writes the file.

The order is the standard's: 版头 (mark, number, red rule), title, 主送机关, body, 附件说明,
signature and date, attachments, 版记. ``render`` is the renderer the composition root gives the
services (``ServiceEnv.render_document``); the services write the file
(``bot/services/drafting.py``).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from bot.domain.gongwen import (
    AttachmentStart,
    Block,
    Document,
    Heading,
    PageBreak,
    Paragraph,
    Subtitle,
    Table,
    Title,
    Toc,
    text_width,
)
from bot.reports.gongwen import A4, GongwenBuilder, PageSpec


def render(doc: Document, *, page: PageSpec = A4, created: datetime | None = None) -> bytes:
    """The .docx bytes of ``doc``. A table of contents gets the pages its entries are expected
    on (``estimate_pages``) as the shown value of its page fields."""
    if any(isinstance(b, Toc) for b in (*doc.body, *doc.attachments)):
        doc = with_toc_pages(doc, estimate_pages(doc, page))
    b = GongwenBuilder(page, title=doc.title.replace("\n", ""), author=doc.signature,
                       created=created)
    if doc.mark:
        b.mark(doc.mark)
    if doc.number is not None or doc.mark:
        b.number(doc.number or "")
    b.title(doc.title)
    if doc.addressee:
        b.addressee(doc.addressee)
    else:
        b.blank(1)
    _blocks(b, doc.body)
    b.attachment_note(doc.attachment_note)
    if doc.signature or doc.date:
        b.signature(doc.signature, doc.date, seal=doc.seal)
    _blocks(b, doc.attachments)
    b.banji(doc.copy_to, doc.printer, doc.print_date)
    return b.to_bytes()


def _blocks(b: GongwenBuilder, blocks: tuple[Block, ...]) -> None:
    for block in blocks:
        if isinstance(block, Paragraph):
            b.paragraph(block.text, indent=block.indent)
        elif isinstance(block, Heading):
            b.heading(block.level, block.text, block.anchor)
        elif isinstance(block, Title):
            b.title(block.text, block.anchor)
        elif isinstance(block, Subtitle):
            b.subtitle(block.text)
        elif isinstance(block, Table):
            b.table(block.columns, block.rows, block.widths, total=block.total)
        elif isinstance(block, PageBreak):
            b.page_break()
        elif isinstance(block, AttachmentStart):
            b.attachment_start(block.label, block.title)
        elif isinstance(block, Toc):
            b.toc(block.heading, [(e.text, e.anchor, e.page) for e in block.entries])
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"unknown block {block!r}")


# ---------------------------------------------------------------------------------- pages


class _Pager:
    """Counts pages as the layout fills them, in body lines of the fixed pitch (22 a page)."""

    def __init__(self, page: PageSpec) -> None:
        self.spec = page
        self.page = 1
        self.used = 0.0  # lines used on the current page

    def lines(self, n: float) -> None:
        """``n`` lines that may break across pages."""
        while n > 0:
            room = self.spec.lines - self.used
            if n <= room + 1e-9:
                self.used += n
                return
            n -= room
            self.new_page()

    def block(self, n: float) -> None:
        """``n`` lines kept together (a title)."""
        if self.used + n > self.spec.lines + 1e-9 and self.used > 0:
            self.new_page()
        self.lines(n)

    def new_page(self) -> None:
        self.page += 1
        self.used = 0.0


def _text_lines(text: str, per_line: float, indent: float = 0) -> int:
    return sum(max(1, math.ceil((text_width(part) + indent) / per_line - 1e-9))
               for part in text.split("\n"))


def estimate_pages(doc: Document, page: PageSpec = A4) -> dict[str, int]:
    """The page each anchor (bookmark) is expected on, from the fixed grid: ``chars`` body
    characters a line, ``lines`` lines a page, titles 20 characters a line. Every case of a
    compilation starts a page, so an estimate can only be off where a text's wrapping differs
    from the count by a line at a page's end; LibreOffice recomputes the fields when it prints."""
    p = _Pager(page)
    per_line = page.chars
    title_per_line = math.floor(page.text_width_pt / 22)
    table_row = (10.5 * 1.45 + 1) / (page.line_twips / 20)  # a 5号 row in body lines
    anchors: dict[str, int] = {}
    if doc.mark:
        p.lines(3.5)  # 35 mm down, then the mark
    if doc.mark or doc.number is not None:
        p.lines(5.5)  # two blank lines, the number and its rule, two blank lines
    p.block(_text_lines(doc.title, title_per_line))
    p.lines(1 + (_text_lines(doc.addressee + "：", per_line) if doc.addressee else 0))

    def walk(blocks: tuple[Block, ...]) -> None:
        for b in blocks:
            if isinstance(b, Paragraph):
                p.lines(_text_lines(b.text, per_line, 2 if b.indent else 0))
            elif isinstance(b, Heading):
                if b.anchor:
                    anchors[b.anchor] = p.page
                p.lines(_text_lines(b.text, per_line, 2))
            elif isinstance(b, Title):
                n = _text_lines(b.text, title_per_line)
                if p.used + n > page.lines:
                    p.new_page()
                if b.anchor:
                    anchors[b.anchor] = p.page
                p.block(n)
            elif isinstance(b, Subtitle):
                p.lines(_text_lines(b.text, per_line) + 1)
            elif isinstance(b, Table):
                p.lines(table_row * (len(b.rows) + 2))
            elif isinstance(b, PageBreak):
                p.new_page()
            elif isinstance(b, AttachmentStart):
                p.new_page()
                p.lines(3 + _text_lines(b.title, title_per_line))
            elif isinstance(b, Toc):
                p.block(2 + _text_lines(b.heading, title_per_line))
                for e in b.entries:
                    # The page number and a few dots follow the text; wrapped lines are
                    # indented two characters.
                    w = text_width(e.text) + 3
                    p.lines(1 if w <= per_line else 1 + math.ceil((w - per_line) / (per_line - 2)))

    walk(doc.body)
    if doc.attachment_note:
        p.lines(1 + len(doc.attachment_note))
    if doc.signature or doc.date:
        p.lines(4 if doc.seal else 3)
    walk(doc.attachments)
    return anchors


def with_toc_pages(doc: Document, pages: dict[str, int]) -> Document:
    def fill(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        return tuple(
            replace(b, entries=tuple(replace(e, page=pages.get(e.anchor, e.page))
                                     for e in b.entries)) if isinstance(b, Toc) else b
            for b in blocks)

    return replace(doc, body=fill(doc.body), attachments=fill(doc.attachments))
