"""`dudao doc …` as an operator runs it: a real process on a seeded database."""

from __future__ import annotations

import json
from pathlib import Path

import docx

from tests.reports.conftest import at, new_db, seed_year
from tests.reports.test_reports_cli import dudao


def _db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/doc.db"
    s = new_db(url, tmp_path, at("2026-01-02 09:00"))
    seed_year(s, 2025)  # all of 2025 is past whatever the wall clock says
    s.db.close()
    return url


def test_reports_doc_cli_draft_issue_list(tmp_path: Path) -> None:
    url = _db(tmp_path)
    out = tmp_path / "半年报告.docx"
    r = dudao(tmp_path, "doc", "halfyear", "--half", "2025H1", "--out", str(out), "--json", db=url)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got == {"id": 1, "number": None, "path": str(out), "status": "draft",
                   "kind": "halfyear", "title": "关于2025年上半年全省服务型行政执法建设工作推进情况的报告"}
    assert "2025年上半年，共部署督导任务3项" in "\n".join(
        p.text for p in docx.Document(str(out)).paragraphs)

    r = dudao(tmp_path, "doc", "issue", "1", db=url)
    assert r.returncode == 0, r.stderr
    head, path, note = r.stdout.strip().splitlines()
    assert note == "文件可在督导看板“公文”页下载。"  # a half-year report goes to nobody by itself
    year = head.split("〔")[1][:4]  # the year it is issued in: the wall clock's
    assert head == (f"已签发 文件#1：豫依法行政领办〔{year}〕1号"
                    "《关于2025年上半年全省服务型行政执法建设工作推进情况的报告》")
    assert Path(path).is_file() and Path(path).name == f"00001-halfyear-{year}-1.docx"
    assert Path(path).parent.parent == tmp_path / "data" / "documents"

    r = dudao(tmp_path, "doc", "list", "--json", db=url)
    (row,) = json.loads(r.stdout)
    assert (row["id"], row["status"], row["number"]) == (1, "issued", f"豫依法行政领办〔{year}〕1号")
    assert row["created_by"].startswith("cli:") and row["issued_by"].startswith("cli:")


def test_reports_doc_cli_bad_input(tmp_path: Path) -> None:
    url = _db(tmp_path)
    cases = [
        (("doc", "halfyear", "--half", "2025H3"), "半年“2025H3”无效"),
        (("doc", "letter", "--unit", "开封市", "--out", "x.txt"), "输出文件应以 .docx 结尾"),
        (("doc", "letter", "--unit", "火星市"), "找不到单位“火星市”"),
        (("doc", "bulletin", "99"), "没有编号为 99 的通报"),
        (("doc", "issue", "7"), "没有编号为 7 的文件"),
    ]
    for args, message in cases:
        r = dudao(tmp_path, *args, db=url)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("错误：") and message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
    r = dudao(tmp_path, "doc", "list", db=url)
    assert r.stdout.strip() == "（没有文件）"  # nothing was left behind by the refusals


def test_reports_doc_cli_issued_letter_makes_rectification_items(tmp_path: Path) -> None:
    """Issuing a 督导建议书 turns its demands into the unit's rectification items, due on the
    reply day; a draft makes none."""
    url = _db(tmp_path)
    r = dudao(tmp_path, "doc", "letter", "--unit", "开封市", "--json", db=url)
    assert r.returncode == 0, r.stderr
    r = dudao(tmp_path, "rectify", "list", "--json", db=url)
    assert json.loads(r.stdout) == []
    r = dudao(tmp_path, "doc", "issue", "1", db=url)
    assert r.returncode == 0, r.stderr
    items = json.loads(dudao(tmp_path, "rectify", "list", "--json", db=url).stdout)
    assert items and all(i["unit"] == "开封市" and i["document_id"] == 1 for i in items)
    assert all(i["status"] == "open" and i["due"].endswith("T18:00:00+08:00") for i in items)
    assert items[-1]["text"] == "举一反三，建立本单位督导任务台账，确保后续任务按时保质完成。"
