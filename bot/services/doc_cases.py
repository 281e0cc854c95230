"""The case compilation (案例汇编): a year's selected typical cases, as an official document.

A notice issuing the compilation (印发…的通知), with the compilation attached: a table of
contents, then the cases grouped by kind (行政指导, 行政调解, 行政契约, 其他), each on a new page
with its title, unit and text.

It is built from a plain list of case records (``CaseRecord``), so that it does not depend on how
cases are stored: the cases feature (the programme issue) reads the year's selected cases and
calls ``build`` with them (``dudao case export --year 2027``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.env import ServiceEnv
from bot.domain.errors import InvalidInput
from bot.domain.gongwen import (
    AttachmentStart,
    Block,
    Document,
    Heading,
    PageBreak,
    Paragraph,
    Subtitle,
    Title,
    Toc,
    TocEntry,
    cn_numeral,
)
from bot.services import doc_common as common

KIND = "cases"
CASE_KINDS = ("行政指导", "行政调解", "行政契约", "其他")


@dataclass(frozen=True, slots=True)
class CaseRecord:
    title: str
    unit: str
    kind: str  # one of CASE_KINDS (anything else is filed under 其他)
    text: str  # paragraphs separated by line breaks


def compilation_title(year: int) -> str:
    return f"{year}年度全省服务型行政执法典型案例汇编"


def build(env: ServiceEnv, year: int, cases: Sequence[CaseRecord], now: datetime) -> Document:
    if not cases:
        raise InvalidInput(f"{year}年没有入选的典型案例，无法生成案例汇编",
                           log=f"case compilation {year}: no cases")
    cfg = env.settings.documents
    today = common.today(env, now)
    groups: dict[str, list[CaseRecord]] = {k: [] for k in CASE_KINDS}
    for c in cases:
        groups[c.kind if c.kind in CASE_KINDS else "其他"].append(c)
    counts = "、".join(f"{k}类{len(v)}篇" for k, v in groups.items() if v)
    body: list[Block] = [Paragraph(
        f"现将{compilation_title(year)}印发给你们，共收录典型案例{len(cases)}篇，其中{counts}。"
        "请结合工作实际认真学习借鉴，充分发挥典型案例的引导作用。")]
    entries: list[TocEntry] = []
    pages: list[Block] = []
    n = 0
    for g, (kind, items) in enumerate(((k, v) for k, v in groups.items() if v), 1):
        group_anchor = f"_DudaoKind{g}"
        entries.append(TocEntry(f"{cn_numeral(g)}、{kind}类", group_anchor, 0))
        for i, case in enumerate(items):
            n += 1
            anchor = f"_DudaoCase{n}"
            entries.append(TocEntry(f"{n}. {case.title}（{case.unit}）", anchor, 0))
            pages.append(PageBreak())
            if i == 0:
                pages.append(Heading(1, f"{cn_numeral(g)}、{kind}类", group_anchor))
            pages.append(Title(case.title, anchor))
            pages.append(Subtitle(f"{case.unit}　{kind}"))
            pages += [Paragraph(p.strip()) for p in case.text.splitlines() if p.strip()]
    title = compilation_title(year)
    attachments: list[Block] = [AttachmentStart("附件", title), Toc("目　录", tuple(entries)),
                                *pages]
    return Document(
        kind=KIND, title=common.two_line_title(f"关于印发{year}年度全省服务型行政执法",
                                                "典型案例汇编的通知"),
        body=tuple(body), mark=cfg.mark, addressee=cfg.bulletin_to, attachment_note=(title,),
        signature=cfg.issuer, date=today, seal=cfg.seal, attachments=tuple(attachments),
        copy_to=cfg.copy_to, printer=cfg.issuer, print_date=today,
        meta={"year": year, "cases": len(cases)},
    )
