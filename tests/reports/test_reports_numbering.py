"""Issuing: the next number of the year per agency code, no gaps, no duplicates — also when two
processes issue at once on one PostgreSQL database (here: threads with their own engines and
connections, each issuing in its own transaction, as two `dudao serve` processes would)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from bot.domain.errors import Conflict, InvalidInput
from bot.services import documents as register
from bot.services import drafting as docs
from bot.services.documents import Actor
from config.settings import load_settings
from storage.db import Database
from storage.models import AuditEntry, DocumentCounter, DocumentRecord
from tests.reports.conftest import NOW, Seeded, at, new_db, seed_year
from tests.support.pg import pg_url

ACTOR = Actor("cli:test")


def _draft_letters(s: Seeded, n: int, tmp_path: Path) -> list[int]:
    out = []
    for i in range(n):
        made = s.tx(lambda c, i=i: docs.draft_letter(c, s.env, "省司法厅", actor=ACTOR, now=NOW,
                                                     out=tmp_path / f"d{i}.docx"))
        out.append(made.info.id)
    return out


def test_reports_numbers_follow_per_prefix_and_year(seeded: Seeded, tmp_path: Path) -> None:
    letters = _draft_letters(seeded, 3, tmp_path)
    half = seeded.tx(lambda c: docs.draft_halfyear(c, seeded.env, "2026H1", actor=ACTOR, now=NOW,
                                                   out=tmp_path / "h.docx")).info.id
    numbers = [seeded.tx(lambda c, d=d: docs.issue(c, seeded.env, d, actor=ACTOR, now=NOW,
                                                   out=tmp_path / f"i{d}.docx")).info.number
               for d in (letters[1], half, letters[0], letters[2])]
    assert numbers == ["豫依法行政领办督〔2026〕1号", "豫依法行政领办〔2026〕1号",
                       "豫依法行政领办督〔2026〕2号", "豫依法行政领办督〔2026〕3号"]
    # A new year starts again at 1.
    jan = at("2027-01-05 10:00")
    nxt = seeded.tx(lambda c: docs.draft_letter(c, seeded.env, "省司法厅", actor=ACTOR, now=jan,
                                                year=2026, out=tmp_path / "n.docx")).info.id
    made = seeded.tx(lambda c: docs.issue(c, seeded.env, nxt, actor=ACTOR, now=jan,
                                          out=tmp_path / "n2.docx"))
    assert made.info.number == "豫依法行政领办督〔2027〕1号"
    assert made.document.date is not None and made.document.date.isoformat() == "2027-01-05"


def test_reports_issue_twice_and_unnumbered_are_refused(seeded: Seeded, tmp_path: Path) -> None:
    (doc_id,) = _draft_letters(seeded, 1, tmp_path)
    seeded.tx(lambda c: docs.issue(c, seeded.env, doc_id, actor=ACTOR, now=NOW,
                                   out=tmp_path / "a.docx"))
    with pytest.raises(Conflict) as again:
        seeded.tx(lambda c: docs.issue(c, seeded.env, doc_id, actor=ACTOR, now=NOW))
    assert again.value.message == f"文件#{doc_id} 已于 2026-12-31 签发，文号 豫依法行政领办督〔2026〕1号"
    yearly = seeded.tx(lambda c: docs.draft_yearly(c, seeded.env, 2026, actor=ACTOR, now=NOW,
                                                   out=tmp_path / "y.docx")).info.id
    with pytest.raises(InvalidInput):
        seeded.tx(lambda c: docs.issue(c, seeded.env, yearly, actor=ACTOR, now=NOW))
    # Nothing was numbered by the refusals: the next letter gets 2.
    (nxt,) = _draft_letters(seeded, 1, tmp_path)
    assert seeded.tx(lambda c: docs.issue(c, seeded.env, nxt, actor=ACTOR, now=NOW,
                                          out=tmp_path / "b.docx")).info.number.endswith("〕2号")


def test_reports_failed_issue_leaves_no_gap(seeded: Seeded, tmp_path: Path) -> None:
    a, b = _draft_letters(seeded, 2, tmp_path)

    def issue_then_fail(conn: Connection) -> None:
        docs.issue(conn, seeded.env, a, actor=ACTOR, now=NOW, out=tmp_path / "x.docx")
        raise RuntimeError("the commit never happens")

    with pytest.raises(RuntimeError):
        seeded.tx(issue_then_fail)
    got = seeded.tx(lambda c: docs.issue(c, seeded.env, b, actor=ACTOR, now=NOW,
                                         out=tmp_path / "y.docx"))
    assert got.info.number == "豫依法行政领办督〔2026〕1号"
    assert seeded.tx(lambda c: register.get(c, a)).status == "draft"


def _issue_concurrently(url: str, settings_dir: Path, drafts: list[int], workers: int,
                        hold_s: float) -> list[tuple[int, int]]:
    """``workers`` threads, each with its own Database (engine, pool, connections), issue the
    drafts at once; each holds its transaction open ``hold_s`` after taking its number, so that
    the others run into it. Returns (document id, sequence) of every issue."""
    from bot.app import make_env

    settings = load_settings(None, {}, cwd=settings_dir,
                             overrides={"service": {"data_dir": str(settings_dir / "data")}})
    barrier = threading.Barrier(workers)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    shares = [drafts[i::workers] for i in range(workers)]

    def run(mine: list[int]) -> None:
        db = Database(url)
        env = make_env(settings)
        try:
            barrier.wait()
            for doc_id in mine:
                def tx(conn: Connection, doc_id: int = doc_id) -> int:
                    made = register.issue(conn, doc_id, prefix="豫依法行政领办督", actor=ACTOR,
                                          now=NOW, today=env.local(NOW).date())
                    time.sleep(hold_s)
                    assert made.info.sequence is not None
                    return made.info.sequence

                seq = db.transaction(tx)
                with lock:
                    results.append((doc_id, seq))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


@pytest.fixture
def pg_seeded(tmp_path: Path) -> Iterator[tuple[Seeded, str]]:
    url = pg_url("dudao_test_numbering")
    s = new_db(url, tmp_path, NOW)
    seed_year(s, 2026)
    s.clock.set(NOW)
    yield s, url
    s.db.close()


@pytest.mark.postgres
def test_reports_concurrent_issuing_on_postgres_gives_consecutive_numbers(
        pg_seeded: tuple[Seeded, str], tmp_path: Path) -> None:
    s, url = pg_seeded
    drafts = _draft_letters(s, 12, tmp_path)
    results = _issue_concurrently(url, tmp_path, drafts, workers=4, hold_s=0.05)
    seqs = sorted(seq for _, seq in results)
    assert seqs == list(range(1, 13))  # no gap, no repeat
    assert sorted(d for d, _ in results) == sorted(drafts)

    def stored(conn: Connection) -> tuple[list[tuple[int, str]], int]:
        rows = conn.execute(select(DocumentRecord.sequence, DocumentRecord.number)
                            .where(DocumentRecord.status == "issued")
                            .order_by(DocumentRecord.sequence)).all()
        last = conn.execute(select(DocumentCounter.last)
                            .where(DocumentCounter.prefix == "豫依法行政领办督")).scalar_one()
        return [(r[0], r[1]) for r in rows], int(last)

    rows, last = s.tx(stored)
    assert rows == [(i, f"豫依法行政领办督〔2026〕{i}号") for i in range(1, 13)]
    assert last == 12


def test_reports_concurrent_issuing_on_sqlite_gives_consecutive_numbers(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/n.db"
    s = new_db(url, tmp_path, NOW)
    seed_year(s, 2026)
    s.clock.set(NOW)
    try:
        drafts = _draft_letters(s, 6, tmp_path)
        results = _issue_concurrently(url, tmp_path, drafts, workers=3, hold_s=0.02)
        assert sorted(seq for _, seq in results) == list(range(1, 7))
    finally:
        s.db.close()


def test_reports_issue_is_audited_from_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from bot.cli import main

    url = f"sqlite:///{tmp_path}/cli.db"
    s = new_db(url, tmp_path, NOW)
    seed_year(s, 2026)
    s.db.close()
    monkeypatch.setenv("DUDAO_DATABASE_URL", url)
    monkeypatch.setenv("DUDAO_SERVICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DUDAO_SERVICE_ROSTER", "")
    assert main(["doc", "letter", "--unit", "省司法厅", "--issue", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["status"] == "issued" and got["id"] == 1
    assert Path(got["path"]).is_file()
    db = Database(url)
    try:
        rows = db.transaction(lambda c: c.execute(
            select(AuditEntry.action, AuditEntry.target, AuditEntry.channel)
            .where(AuditEntry.action.like("document.%")).order_by(AuditEntry.id)).all())
    finally:
        db.close()
    assert [tuple(r) for r in rows] == [("document.draft", "document:1", "cli"),
                                        ("document.issue", "document:1", "cli")]


_ISSUER = """
import json, sys, time
from datetime import datetime
from storage.db import Database
from bot.services import documents as register
from bot.services.documents import Actor

url, start, now, ids = sys.argv[1], float(sys.argv[2]), datetime.fromisoformat(sys.argv[3]), sys.argv[4]
db = Database(url)
while time.time() < start:  # both processes begin together
    time.sleep(0.002)
out = []
for doc_id in map(int, ids.split(",")):
    def tx(conn, doc_id=doc_id):
        made = register.issue(conn, doc_id, prefix="豫依法行政领办督", actor=Actor("cli:proc"),
                              now=now, today=now.date())
        time.sleep(0.03)  # hold the number while the other process asks for one
        return made.info.sequence
    out.append([doc_id, db.transaction(tx)])
db.close()
print(json.dumps(out))
"""


@pytest.mark.postgres
def test_reports_two_processes_issuing_on_postgres_get_consecutive_numbers(
        pg_seeded: tuple[Seeded, str], tmp_path: Path) -> None:
    """The same as above with two real OS processes (two `dudao` processes on one database)."""
    import json
    import os
    import subprocess
    import sys

    s, url = pg_seeded
    drafts = _draft_letters(s, 10, tmp_path)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = time.time() + 5.0  # after both have imported and connected
    procs = [subprocess.Popen(
        [sys.executable, "-c", _ISSUER, url, str(start), NOW.isoformat(),
         ",".join(map(str, drafts[i::2]))], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True) for i in range(2)]
    results: list[tuple[int, int]] = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results += [(int(d), int(q)) for d, q in json.loads(out)]
    assert sorted(q for _, q in results) == list(range(1, 11))  # no gap, no repeat
    assert sorted(d for d, _ in results) == sorted(drafts)
    # Both processes really interleaved: each got numbers from the middle of the run.
    first = sorted(q for d, q in results if d in drafts[0::2])
    assert first != list(range(1, 6)) and first != list(range(6, 11))
