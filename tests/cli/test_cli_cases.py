"""`dudao case add | list | show | select | return | export`, run in-process as an operator runs
them (the bundled roster, SQLite on disk), including the selected case counting as the unit's
yearly case collection of the 四个一 preset."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from storage.db import Database
from storage.models import OutboxMessage, Series, Submission, Task, TaskUnit, Unit
from tests.cli.test_cli_plan import Cli

Y = date.today().year  # cases belong to the year they arrive in


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, capsys)


def _collection_state(cli: Cli, unit: str) -> tuple[str, list[str]]:
    """The unit's state on this year's 典型案例收集 instance, and what it has submitted to it."""
    db = Database(cli.url)
    try:
        def read(conn: Connection) -> tuple[str, list[str]]:
            uid = conn.execute(select(Unit.id).where(Unit.name == unit)).scalar_one()
            tid = conn.execute(select(Task.id).join(Series, Series.id == Task.series_id)
                               .where(Series.kind == "cases", Task.period == str(Y))).scalar_one()
            state = conn.execute(select(TaskUnit.state).where(
                TaskUnit.task_id == tid, TaskUnit.unit_id == uid)).scalar_one()
            texts = conn.execute(select(Submission.text).where(
                Submission.task_id == tid, Submission.unit_id == uid)).scalars().all()
            return state, list(texts)
        return db.transaction(read)
    finally:
        db.close()


def test_case_add_list_select_return_export(cli: Cli) -> None:
    cli.json("plan", "preset", "四个一", "--year", str(Y))
    material = cli.root / "调解笔录.pdf"
    material.write_bytes(b"%PDF-1.4 mediation record")
    a = cli.json("case", "add", "--unit", "郑州", "--title", "物业纠纷调解促成和解",
                 "--kind", "行政调解", "--text", "某街道组织业主与物业公司调解，达成和解协议",
                 "--file", str(material))
    assert (a["unit"], a["kind"], a["status"], a["year"]) == ("郑州市", "行政调解", "submitted", Y)
    assert [f["name"] for f in a["files"]] == ["调解笔录.pdf"]
    b = cli.json("case", "add", "--unit", "开封市", "--title", "包容审慎监管指导",
                 "--text", "对新业态企业开展行政指导，首违不罚")
    assert b["kind"] == "行政指导"  # named in the text
    assert [c["id"] for c in cli.json("case", "list")] == [a["id"], b["id"]]
    assert cli.json("case", "list", "--status", "selected") == []

    assert _collection_state(cli, "郑州市") == ("owed", [])
    sel = cli.json("case", "select", str(a["id"]))
    assert sel["status"] == "selected" and sel["collection_task"] is not None
    # Counted as 郑州's case collection of the year: submitted and accepted.
    state, texts = _collection_state(cli, "郑州市")
    assert state == "accepted" and texts == [f"典型案例《物业纠纷调解促成和解》（案例#{a['id']}）入选"]
    status, _, err = cli.run("case", "select", str(a["id"]))
    assert status == 2 and "已经入选" in err

    status, _, err = cli.run("case", "return", str(b["id"]), "--reason", " ")
    assert status == 2 and "请写明退回原因" in err
    ret = cli.json("case", "return", str(b["id"]), "--reason", "事实不够完整")
    assert (ret["status"], ret["reason"]) == ("returned", "事实不够完整")
    assert _collection_state(cli, "开封市") == ("owed", [])

    selected = cli.json("case", "list", "--year", str(Y), "--status", "selected")
    assert [c["id"] for c in selected] == [a["id"]]
    found = cli.json("case", "list", "--query", "物业纠纷")
    assert [c["id"] for c in found] == [a["id"]]
    status, out, _ = cli.run("case", "list")
    assert status == 0 and f"案例#{a['id']}" in out and "入选" in out and "退回" in out
    status, _, err = cli.run("case", "show", "999")
    assert status == 2 and "没有编号为 999 的案例" in err
    assert [x[0] for x in cli.audit("case.create")] and len(cli.audit("case.select")) == 1
    assert len(cli.audit("case.return")) == 1

    out_file = cli.root / "案例汇编.docx"
    made = cli.json("case", "export", "--year", str(Y), "--out", str(out_file))
    assert made["cases"] == 1 and made["status"] == "draft" and Path(made["path"]) == out_file
    with zipfile.ZipFile(out_file) as z:
        body = z.read("word/document.xml").decode()
    assert "物业纠纷调解促成和解" in body and "包容审慎监管指导" not in body
    status, _, err = cli.run("case", "export", "--year", str(Y - 5), "--out", str(out_file))
    assert status == 2 and "没有入选的典型案例" in err


def test_cli_review_tells_the_unit_where_it_sent_the_case(cli: Cli) -> None:
    """A case from the CLI has no chat to answer in: nothing is queued for it."""
    a = cli.json("case", "add", "--unit", "洛阳市", "--title", "行政契约履约指导",
                 "--text", "签订行政协议后跟踪指导履约")
    cli.json("case", "select", str(a["id"]))
    assert cli.count(OutboxMessage) == 0
