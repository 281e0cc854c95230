"""Every generated document in the national format (GB/T 9704-2012), read back with python-docx:
page size and margins, fonts (East-Asian names included) and sizes, line pitch and character
spacing, the document number, the page-number field in odd and even footers, the 版记 and the
signature block."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Mm

from bot.domain.gongwen import Document, Paragraph, text_width
from bot.reports.gongwen import A4, PageSpec
from bot.reports.render import render
from bot.services import bulletins
from bot.services import drafting as docs
from bot.services.doc_cases import CaseRecord
from bot.services.documents import Actor
from tests.reports.conftest import NOW, at, new_db, seed_year

ACTOR = Actor("cli:test")
KINDS = ["bulletin", "letter", "letter_issued", "halfyear", "cases", "yearly"]
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    tmp = tmp_path_factory.mktemp("gongwen")
    s = new_db(f"sqlite:///{tmp}/gw.db", tmp, NOW)
    seed_year(s, 2026)
    s.clock.set(NOW)
    bid = s.tx(lambda c: bulletins.draft_weekly(c, s.env, at("2026-12-31 11:30"),
                                                notify_admins=False))
    cases = [CaseRecord(f"案例{i}：某局以行政指导化解纠纷", "郑州市", ("行政指导", "行政调解")[i % 2],
                        "基本案情。" * 60 + "\n" + "处理结果。" * 40) for i in range(6)]
    out: dict[str, Path] = {}

    def make(conn: Any) -> None:
        env = s.env
        out["bulletin"] = docs.draft_bulletin(conn, env, bid, actor=ACTOR, now=NOW,
                                              out=tmp / "bulletin.docx").path
        letter = docs.draft_letter(conn, env, "开封市", actor=ACTOR, now=NOW,
                                   out=tmp / "letter.docx")
        out["letter"] = letter.path
        out["letter_issued"] = docs.issue(conn, env, letter.info.id, actor=ACTOR, now=NOW,
                                          out=tmp / "letter_issued.docx").path
        out["halfyear"] = docs.draft_halfyear(conn, env, "2026H1", actor=ACTOR, now=NOW,
                                              out=tmp / "halfyear.docx").path
        out["cases"] = docs.draft_cases(conn, env, 2026, cases, actor=ACTOR, now=NOW,
                                        out=tmp / "cases.docx").path
        out["yearly"] = docs.draft_yearly(conn, env, 2026, actor=ACTOR, now=NOW,
                                          out=tmp / "yearly.docx").path

    s.tx(make)
    yield out
    s.db.close()


def _style(d: Any, style_id: str) -> Any:
    return d.styles.element.find(f"{W}style[@{W}styleId='{style_id}']")


def _attr(el: Any, path: str, name: str) -> str | None:
    found = el.find(path)
    return None if found is None else found.get(qn(f"w:{name}"))


# ---------------------------------------------------------------------------------- the page


def test_reports_page_spec_derivation() -> None:
    assert round(A4.text_width_pt / 72 * 25.4, 3) == 156
    assert round(A4.text_height_pt / 72 * 25.4, 3) == 225
    assert A4.line_twips == 579  # 28.95 pt
    assert A4.line_twips * 22 <= A4.text_height_pt * 20 < A4.line_twips * 23
    assert A4.char_spacing_twips == -5  # -0.25 pt a character
    pitch = A4.char_pitch_pt
    assert pitch * 28 <= A4.text_width_pt < pitch * 29
    # The same rules give another grid for another page (e.g. 20 lines of 25 characters).
    other = PageSpec(lines=20, chars=25)
    assert other.line_twips == 637 and other.char_spacing_twips == 33


@pytest.mark.parametrize("kind", KINDS)
def test_reports_page_size_margins_and_grid(generated: dict[str, Path], kind: str) -> None:
    d = docx.Document(str(generated[kind]))
    (s,) = d.sections
    # Word keeps these in twips: within 0.05 mm of the standard's millimetres.
    for got, mm in ((s.page_width, 210), (s.page_height, 297), (s.top_margin, 37),
                    (s.bottom_margin, 35), (s.left_margin, 28), (s.right_margin, 26),
                    (s.page_width - s.left_margin - s.right_margin, 156),
                    (s.page_height - s.top_margin - s.bottom_margin, 225)):
        assert abs(got - Mm(mm)) < Mm(0.05), (got.mm, mm)
    grid = s._sectPr.find(qn("w:docGrid"))
    assert (grid.get(qn("w:type")), grid.get(qn("w:linePitch"))) == ("lines", "579")
    # Body: fixed 28.95 pt lines, 3号 (sz 32 half-points), condensed 0.25 pt a character.
    body = _style(d, "GwBody")
    assert _attr(body, f"{W}pPr/{W}spacing", "line") == "579"
    assert _attr(body, f"{W}pPr/{W}spacing", "lineRule") == "exact"
    assert _attr(body, f"{W}rPr/{W}sz", "val") == "32"
    assert _attr(body, f"{W}rPr/{W}spacing", "val") == "-5"
    assert _attr(body, f"{W}pPr/{W}ind", "firstLineChars") == "200"
    assert _attr(body, f"{W}pPr/{W}jc", "val") == "both"
    assert _attr(body, f"{W}pPr/{W}widowControl", "val") == "0"


# ---------------------------------------------------------------------------------- fonts


FONTS = {"GwBody": ("仿宋_GB2312", "32"), "GwPlain": ("仿宋_GB2312", "32"),
         "GwTitle": ("方正小标宋简体", "44"), "GwMark": ("方正小标宋简体", "60"),
         "GwHeading1": ("黑体", "32"), "GwHeading2": ("楷体_GB2312", "32"),
         "GwHeading3": ("仿宋_GB2312", "32"), "GwHeading4": ("仿宋_GB2312", "32"),
         "GwSubtitle": ("楷体_GB2312", "32"), "GwTable": ("仿宋_GB2312", "21"),
         "GwBanji": ("仿宋_GB2312", "28"), "GwPageNumber": ("宋体", "28")}


@pytest.mark.parametrize("kind", KINDS)
def test_reports_fonts_are_east_asian_in_styles_and_runs(generated: dict[str, Path],
                                                          kind: str) -> None:
    d = docx.Document(str(generated[kind]))
    for style_id, (font, size) in FONTS.items():
        st = _style(d, style_id)
        fonts = st.find(f"{W}rPr/{W}rFonts")
        assert fonts.get(qn("w:eastAsia")) == font, style_id
        assert fonts.get(qn("w:ascii")) == font, style_id
        assert fonts.get(qn("w:eastAsiaTheme")) is None, style_id  # a theme font would win
        assert _attr(st, f"{W}rPr/{W}sz", "val") == size, style_id
        assert _attr(st, f"{W}rPr/{W}lang", "eastAsia") == "zh-CN", style_id
    defaults = d.styles.element.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts")
    assert defaults.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert defaults.get(qn("w:eastAsiaTheme")) is None
    # Every rFonts anywhere (styles, body, footers) that names a Latin font names the
    # East-Asian one too.
    parts = [d.styles.element, d.element]
    parts += [f._element for s in d.sections for f in (s.footer, s.even_page_footer)]
    for part in parts:
        for el in part.iter(qn("w:rFonts")):
            if el.get(qn("w:ascii")) is not None:
                assert el.get(qn("w:eastAsia")), el.attrib
    # The paragraphs use the styles by meaning: headings by their markers.
    for p in d.paragraphs:
        t = p.text
        if re.match(r"^[一二三四五六七八九十]+、", t) and p.style.style_id != "GwToc":
            assert p.style.style_id == "GwHeading1", t
        elif re.match(r"^（[一二三四五六七八九十]+）", t):
            assert p.style.style_id == "GwHeading2", t


def test_reports_title_and_mark(generated: dict[str, Path]) -> None:
    d = docx.Document(str(generated["letter_issued"]))
    paras = d.paragraphs
    mark = paras[0]
    assert mark.text == "河南省全面推进依法行政工作领导小组办公室文件"
    run = mark.runs[0]._r
    assert run.find(f"{W}rPr/{W}rFonts").get(qn("w:eastAsia")) == "方正小标宋简体"
    assert run.find(f"{W}rPr/{W}color").get(qn("w:val")) == "FF0000"
    scale = int(run.find(f"{W}rPr/{W}w").get(qn("w:val")))
    size = int(run.find(f"{W}rPr/{W}sz").get(qn("w:val"))) / 2
    assert text_width(mark.text) * size * scale / 100 <= A4.text_width_pt  # fits the width
    title = next(p for p in paras if p.style.style_id == "GwTitle")
    assert title.text == "关于开封市推进服务型行政执法\n建设工作的督导建议书"
    assert title.style.paragraph_format.alignment == 1  # centred
    assert _attr(_style(d, "GwTitle"), f"{W}pPr/{W}snapToGrid", "val") == "0"
    i = paras.index(title)
    # 主送机关 after one blank line, flush left, with a full-width colon.
    assert paras[i + 1].text == ""
    assert paras[i + 2].text == "开封市全面推进依法行政工作领导小组办公室："
    assert paras[i + 2].style.style_id == "GwPlain"


# ---------------------------------------------------------------------------------- number


def test_reports_document_number(generated: dict[str, Path]) -> None:
    issued = docx.Document(str(generated["letter_issued"]))
    number = [p for p in issued.paragraphs if "〔" in p.text]
    assert [p.text for p in number] == ["豫依法行政领办督〔2026〕1号"]
    p = number[0]
    assert p.alignment == 1
    border = p._p.find(f"{W}pPr/{W}pBdr/{W}bottom")  # the red rule under the number
    assert border.get(qn("w:color")) == "FF0000"
    draft = docx.Document(str(generated["letter"]))
    assert [p.text for p in draft.paragraphs if "〔" in p.text] == ["豫依法行政领办督〔2026〕　号"]
    bulletin = docx.Document(str(generated["bulletin"]))
    assert [p.text for p in bulletin.paragraphs if "〔" in p.text] == ["豫依法行政领办〔2026〕　号"]
    yearly = docx.Document(str(generated["yearly"]))
    assert not [p for p in yearly.paragraphs if "〔" in p.text]  # a section: no number


# ---------------------------------------------------------------------------------- page numbers


@pytest.mark.parametrize("kind", KINDS)
def test_reports_page_numbers_odd_right_even_left(generated: dict[str, Path], kind: str) -> None:
    d = docx.Document(str(generated[kind]))
    assert d.settings.odd_and_even_pages_header_footer is True
    (s,) = d.sections
    for footer, jc, side in ((s.footer, "right", "right"), (s.even_page_footer, "left", "left")):
        (p,) = footer._element.findall(qn("w:p"))
        assert _attr(p, f"{W}pPr/{W}jc", "val") == jc
        assert _attr(p, f"{W}pPr/{W}ind", side) == "280"  # one 4号 character from the edge
        assert _attr(p, f"{W}pPr/{W}pStyle", "val") == "GwPageNumber"
        instr = [t.text for t in p.iter(qn("w:instrText"))]
        assert instr == [" PAGE "]
        kinds = [f.get(qn("w:fldCharType")) for f in p.iter(qn("w:fldChar"))]
        assert kinds == ["begin", "separate", "end"]
        text = "".join(t.text for t in p.iter(qn("w:t")))
        assert text == "— 1 —"
    # 7 mm below the text area: footer distance + one 4号 line = 35 − 7 mm.
    assert abs((s.footer_distance + Mm(14 / 72 * 25.4)) - Mm(28)) < Mm(0.05)


# ---------------------------------------------------------------------------------- 版记


@pytest.mark.parametrize("kind", ["bulletin", "letter_issued", "halfyear", "cases"])
def test_reports_banji(generated: dict[str, Path], kind: str) -> None:
    d = docx.Document(str(generated[kind]))
    table = d.tables[-1]._tbl
    pos = table.find(f"{W}tblPr/{W}tblpPr")
    assert (pos.get(qn("w:tblpYSpec")), pos.get(qn("w:vertAnchor"))) == ("bottom", "margin")
    borders = table.find(f"{W}tblPr/{W}tblBorders")
    size = {b.tag.removeprefix(W): b.get(qn("w:sz")) for b in borders}
    assert (size["top"], size["bottom"], size["insideH"]) == ("8", "8", "6")  # thick, thin
    assert borders.find(f"{W}left").get(qn("w:val")) == "nil"
    assert int(table.find(f"{W}tblPr/{W}tblW").get(qn("w:w"))) == A4.text_width_twips
    rows = [[c.text for c in r.cells] for r in d.tables[-1].rows]
    today = "2026年12月31日"
    if kind == "letter_issued":  # [documents] letter_copy_to is empty by default
        assert rows == [[f"河南省全面推进依法行政工作领导小组办公室\t{today}印发"]]
    else:
        assert rows == [["抄送：省人民政府办公厅，省司法厅。"],
                        [f"河南省全面推进依法行政工作领导小组办公室\t{today}印发"]]
        hang = table.find(f".//{W}tc/{W}p/{W}pPr/{W}ind")
        assert hang.get(qn("w:hanging")) == str(3 * 280)  # wrapped lines align after "抄送："
    for p in table.iter(qn("w:p")):
        assert _attr(p, f"{W}pPr/{W}pStyle", "val") == "GwBanji"


def test_reports_yearly_section_has_no_banji_or_signature(generated: dict[str, Path]) -> None:
    d = docx.Document(str(generated["yearly"]))
    assert d.tables == []
    assert not [p for p in d.paragraphs if p.text.endswith("印发") or p.text.endswith("日")]


# ---------------------------------------------------------------------------------- signature


def _signature(d: Any, when: str) -> tuple[Any, Any]:
    paras = d.paragraphs
    i = next(i for i, p in enumerate(paras) if p.text == when)
    return paras[i - 1], paras[i]


def _right_chars(p: Any) -> float:
    return int(p._p.find(f"{W}pPr/{W}ind").get(qn("w:rightChars"))) / 100


def test_reports_signature_and_date(generated: dict[str, Path]) -> None:
    d = docx.Document(str(generated["letter_issued"]))
    issuer, when = _signature(d, "2026年12月31日")
    assert issuer.text == "河南省全面推进依法行政工作领导小组办公室"
    assert issuer.alignment == when.alignment == 2  # right
    # A 20-character name cannot be centred over a date four characters in: it is set flush
    # right and the date centred under it.
    assert _right_chars(issuer) == 0
    assert _right_chars(when) == (20 - text_width("2026年12月31日")) / 2


def _doc(**kw: Any) -> Document:
    return replace(Document(kind="letter", title="测试", body=(Paragraph("正文。"),)), **kw)


def test_reports_signature_rules_with_and_without_seal(tmp_path: Path) -> None:
    day = date(2027, 3, 5)
    wd = text_width("2027年3月5日")  # 2027, 3 and 5 are half-width: 6 characters
    sealed = tmp_path / "sealed.docx"
    sealed.write_bytes(render(_doc(signature="督导办公室", date=day, seal=True)))
    issuer, when = _signature(docx.Document(str(sealed)), "2027年3月5日")
    assert _right_chars(when) == 4  # 成文日期右空四字
    assert _right_chars(issuer) == 4 + (wd - 5) / 2  # 署名以成文日期为准居中
    plain = tmp_path / "plain.docx"
    plain.write_bytes(render(_doc(signature="河南省督导工作办公室", date=day, seal=False)))
    issuer, when = _signature(docx.Document(str(plain)), "2027年3月5日")
    assert _right_chars(issuer) == 2  # 署名右空二字
    # 成文日期首字比署名首字右移二字: the date starts two characters right of the name.
    assert (_right_chars(issuer) + 10) - (_right_chars(when) + wd) == 2


# ---------------------------------------------------------------------------------- attachments


def test_reports_attachment_note_and_page(generated: dict[str, Path]) -> None:
    d = docx.Document(str(generated["halfyear"]))
    paras = d.paragraphs
    note = next(p for p in paras if p.text.startswith("附件："))
    assert note.text == "附件：各单位工作推进情况统计表"
    assert paras[paras.index(note) - 1].text == ""  # one blank line after the body
    label = next(p for p in paras if p.text == "附件")
    assert label._p.find(f"{W}pPr/{W}pageBreakBefore") is not None
    assert label.runs[0]._r.find(f"{W}rPr/{W}rFonts").get(qn("w:eastAsia")) == "黑体"
    i = paras.index(label)
    assert paras[i + 1].text == "" and paras[i + 2].text == "各单位工作推进情况统计表"
    assert paras[i + 2].style.style_id == "GwTitle"
    header = d.tables[0].rows[0]._tr
    assert header.find(f"{W}trPr/{W}tblHeader") is not None  # repeated on every page


def test_reports_case_compilation_toc(generated: dict[str, Path]) -> None:
    d = docx.Document(str(generated["cases"]))
    paras = d.paragraphs
    toc = [p for p in paras if p.style.style_id == "GwToc"]
    assert [p.text.split("\t")[0] for p in toc] == [
        "一、行政指导类", "1. 案例0：某局以行政指导化解纠纷（郑州市）",
        "2. 案例2：某局以行政指导化解纠纷（郑州市）", "3. 案例4：某局以行政指导化解纠纷（郑州市）",
        "二、行政调解类", "4. 案例1：某局以行政指导化解纠纷（郑州市）",
        "5. 案例3：某局以行政指导化解纠纷（郑州市）", "6. 案例5：某局以行政指导化解纠纷（郑州市）"]
    bookmarks = {b.get(qn("w:name")) for b in d.element.iter(qn("w:bookmarkStart"))}
    pages = []
    for p in toc:
        (instr,) = [t.text for t in p._p.iter(qn("w:instrText"))]
        anchor = instr.split()[1]
        assert instr == f" PAGEREF {anchor} \\h " and anchor in bookmarks
        pages.append(int(p.text.split("\t")[1]))
    assert pages == sorted(pages) and pages[0] >= 3  # after the notice and the contents
    titles = [p for p in paras if p.style.style_id == "GwTitle" and p.text.startswith("案例")]
    assert len(titles) == 6
