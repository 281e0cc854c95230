"""An official document (公文) as plain data, and the wording rules of GB/T 9704-2012 that do not
depend on layout: the document number (发文字号), dates, heading markers, widths in characters.

The services build a ``Document`` from the records; it is stored as JSON with the document's row
(so that issuing prints exactly the text an admin approved, not a recount) and laid out on the
page by ``bot/reports/gongwen.py``. Nothing here knows python-docx or the database.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from bot.domain.errors import InvalidInput

CN_DIGITS = "〇一二三四五六七八九"
MAX_PREFIX = 40


# ---------------------------------------------------------------------------------- wording


def cn_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (the numbers of headings)."""
    if not 1 <= n <= 99:
        raise ValueError(f"heading number out of range: {n}")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "")


def outline_marker(level: int, n: int) -> str:
    """The marker of the n-th heading of a level: 一、 （一） 1. （1） (GB/T 9704 7.3.3)."""
    if level == 1:
        return f"{cn_numeral(n)}、"
    if level == 2:
        return f"（{cn_numeral(n)}）"
    if level == 3:
        return f"{n}."
    if level == 4:
        return f"（{n}）"
    raise ValueError(f"heading level must be 1..4, got {level}")


def check_prefix(prefix: str) -> str:
    """An agency code (机关代字) for document numbers: non-empty, no brackets or digits at the end
    (they would run into the year), at most ``MAX_PREFIX`` characters."""
    p = prefix.strip()
    if not p or len(p) > MAX_PREFIX or any(c in p for c in "〔〕[]()（）") or p[-1].isdigit():
        raise InvalidInput(f"发文字号的机关代字“{prefix}”无效：应为不含括号、不以数字结尾的文字，"
                           f"不超过 {MAX_PREFIX} 个字", log=f"bad document prefix {prefix!r}")
    return p


def doc_number(prefix: str, year: int, sequence: int | None) -> str:
    """豫依法行政领办督〔2027〕3号: the year in 六角括号, the sequence without leading zeros or 第.

    A draft has no sequence yet: the place is left blank (〔2027〕　号) as on a paper draft.
    """
    if sequence is not None and sequence < 1:
        raise ValueError(f"document sequence must be positive, got {sequence}")
    return f"{prefix}〔{year}〕{'　' if sequence is None else sequence}号"


def cn_date(d: dt.date) -> str:
    """2027年3月5日: the year in full, no leading zeros (成文日期, 印发日期)."""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_month_day(d: dt.date) -> str:
    return f"{d.month}月{d.day}日"


def lateness(delta: timedelta) -> str:
    """How late, as the bulletins say it: 3天、2天5小时、5小时、不足1小时."""
    if delta <= timedelta(0):
        return "未逾期"
    days, seconds = delta.days, delta.seconds
    hours = seconds // 3600
    if days and hours:
        return f"{days}天{hours}小时"
    if days:
        return f"{days}天"
    return f"{hours}小时" if hours else "不足1小时"


def char_width(ch: str) -> float:
    """A character's width in 字 (a Chinese character's width): full-width 1, half-width 0.5."""
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 0.5


def text_width(text: str) -> float:
    return sum(char_width(c) for c in text)


# ---------------------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Body text: 3号仿宋, first line indented two characters, justified."""

    text: str
    indent: bool = True


@dataclass(frozen=True, slots=True)
class Heading:
    """一、 (黑体), （一） (楷体), 1. and （1） (仿宋): ``text`` starts with its marker.

    ``anchor`` names a bookmark a table of contents can point at (case compilations).
    """

    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class Title:
    """A title inside the body (an attachment's, a case's): 2号小标宋, centred."""

    text: str
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class Subtitle:
    """A centred line under a title in 3号楷体 (a case's unit and kind)."""

    text: str


@dataclass(frozen=True, slots=True)
class Table:
    """A table of figures. ``widths`` are relative column widths; ``total`` marks the last row
    as a total line (bold)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()
    total: bool = False


@dataclass(frozen=True, slots=True)
class PageBreak:
    pass


@dataclass(frozen=True, slots=True)
class AttachmentStart:
    """An attachment begins on a new page: 附件N (黑体, top left), its title on the third line."""

    label: str  # 附件 / 附件1
    title: str


@dataclass(frozen=True, slots=True)
class TocEntry:
    text: str
    anchor: str
    page: int  # the page number expected (shown until the reader updates fields)


@dataclass(frozen=True, slots=True)
class Toc:
    """A table of contents: one line per entry, dotted to its page number."""

    heading: str
    entries: tuple[TocEntry, ...]


Block = Paragraph | Heading | Title | Subtitle | Table | PageBreak | AttachmentStart | Toc

_BLOCK_TYPES: dict[str, type[Any]] = {
    "p": Paragraph, "h": Heading, "title": Title, "sub": Subtitle, "table": Table,
    "br": PageBreak, "att": AttachmentStart, "toc": Toc,
}
_TYPE_NAMES = {v: k for k, v in _BLOCK_TYPES.items()}


# ---------------------------------------------------------------------------------- document


@dataclass(frozen=True, slots=True)
class Document:
    """Everything printed on an official document, in the order of GB/T 9704.

    版头: ``mark`` (发文机关标志, red; empty for none) and ``number`` (发文字号, None in a draft).
    主体: ``title``, ``addressee`` (主送机关, without the colon), ``body``, ``attachment_note``
    (附件说明, the names of the attachments), ``signature`` (发文机关署名) and ``date`` (成文日期),
    ``attachments`` (blocks, each attachment beginning with an ``AttachmentStart``).
    版记: ``copy_to`` (抄送机关), ``printer`` (印发机关) and ``print_date`` (印发日期).
    ``meta`` carries structured facts other features act on (a letter's demands and reply
    deadline), never printed as such.
    """

    kind: str
    title: str
    body: tuple[Block, ...]
    mark: str = ""
    number: str | None = None
    addressee: str = ""
    attachment_note: tuple[str, ...] = ()
    signature: str = ""
    date: dt.date | None = None
    seal: bool = True
    attachments: tuple[Block, ...] = ()
    copy_to: tuple[str, ...] = ()
    printer: str = ""
    print_date: dt.date | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def numbered(self, number: str, when: dt.date) -> Document:
        """The issued document: its number, and the day it is signed and printed."""
        return replace(self, number=number, date=when, print_date=when)

    def text(self) -> str:
        """Every printed word, one line per block (for search, tests and the chat summary)."""
        lines = [x for x in (self.mark, self.number or "", self.title) if x]
        if self.addressee:
            lines.append(self.addressee + "：")
        lines += [_block_text(b) for b in self.body]
        if self.attachment_note:
            lines.append("附件：" + "；".join(self.attachment_note))
        lines += [x for x in (self.signature, cn_date(self.date) if self.date else "") if x]
        lines += [_block_text(b) for b in self.attachments]
        if self.copy_to:
            lines.append("抄送：" + "，".join(self.copy_to) + "。")
        if self.printer:
            lines.append(self.printer + (f" {cn_date(self.print_date)}印发"
                                         if self.print_date else ""))
        return "\n".join(x for x in lines if x)

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "title": self.title, "mark": self.mark, "number": self.number,
            "addressee": self.addressee, "body": [_block_json(b) for b in self.body],
            "attachment_note": list(self.attachment_note), "signature": self.signature,
            "date": self.date.isoformat() if self.date else None, "seal": self.seal,
            "attachments": [_block_json(b) for b in self.attachments],
            "copy_to": list(self.copy_to), "printer": self.printer,
            "print_date": self.print_date.isoformat() if self.print_date else None,
            "meta": dict(self.meta),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Document:
        return cls(
            kind=data["kind"], title=data["title"], mark=data.get("mark", ""),
            number=data.get("number"), addressee=data.get("addressee", ""),
            body=tuple(_block_from(b) for b in data.get("body", ())),
            attachment_note=tuple(data.get("attachment_note", ())),
            signature=data.get("signature", ""),
            date=dt.date.fromisoformat(data["date"]) if data.get("date") else None,
            seal=bool(data.get("seal", True)),
            attachments=tuple(_block_from(b) for b in data.get("attachments", ())),
            copy_to=tuple(data.get("copy_to", ())), printer=data.get("printer", ""),
            print_date=(dt.date.fromisoformat(data["print_date"]) if data.get("print_date")
                        else None),
            meta=dict(data.get("meta", {})),
        )


def _block_text(b: Block) -> str:
    if isinstance(b, Paragraph | Heading | Title | Subtitle):
        return b.text
    if isinstance(b, Table):
        return "\n".join("\t".join(r) for r in (b.columns, *b.rows))
    if isinstance(b, AttachmentStart):
        return f"{b.label}\n{b.title}"
    if isinstance(b, Toc):
        return "\n".join([b.heading, *(e.text for e in b.entries)])
    return ""


def _block_json(b: Block) -> dict[str, Any]:
    out: dict[str, Any] = {"t": _TYPE_NAMES[type(b)]}
    for name in type(b).__slots__:
        value = getattr(b, name)
        if isinstance(b, Toc) and name == "entries":
            value = [[e.text, e.anchor, e.page] for e in value]
        elif isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        out[name] = value
    return out


def _block_from(data: Mapping[str, Any]) -> Block:
    cls = _BLOCK_TYPES.get(data.get("t", ""))
    if cls is None:
        raise ValueError(f"unknown block type {data.get('t')!r}")
    args = {k: v for k, v in data.items() if k != "t"}
    if cls is Table:
        args["columns"] = tuple(args["columns"])
        args["rows"] = tuple(tuple(r) for r in args["rows"])
        args["widths"] = tuple(args.get("widths", ()))
    elif cls is Toc:
        args["entries"] = tuple(TocEntry(t, a, int(p)) for t, a, p in args["entries"])
    block: Block = cls(**args)
    return block


# ---------------------------------------------------------------------------------- outline


class Outline:
    """Numbers headings as they are added: ``h(1, "总体情况")`` → 一、总体情况; a new level-1
    heading restarts the numbering of the levels below it."""

    def __init__(self) -> None:
        self._counts = [0, 0, 0, 0]

    def marker(self, level: int) -> str:
        self._counts[level - 1] += 1
        for i in range(level, 4):
            self._counts[i] = 0
        return outline_marker(level, self._counts[level - 1])

    def h(self, level: int, text: str, anchor: str = "") -> Heading:
        return Heading(level, self.marker(level) + text, anchor)


def numbered_items(items: Sequence[str], level: int = 3) -> list[Paragraph]:
    """Items as paragraphs numbered at ``level`` (1. … / （1）…), for lists inside a section."""
    return [Paragraph(outline_marker(level, i) + text) for i, text in enumerate(items, 1)]
