"""The scheduler proposes 督导建议书 (``dudao tick --at``, real processes, SQLite and PostgreSQL):
a unit with two current yellow flags gets one draft letter and the admin group is told, once —
a repeated tick, a later day of the same week and a later week with the draft still waiting
propose nothing more; a unit with one yellow flag gets none; nothing is issued or sent to units.
A unit with an overdue rectification item gets one too (once a week); after its letter is issued it
is proposed again only when an item runs out of time after that letter (one of the letter's own
demands, here), not for the items the letter already named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from bot.services import rectifications as rect_svc
from storage.models import DocumentDelivery, DocumentRecord, JobLedger
from tests.schedule.conftest import ADMIN_GROUP, World, at, outbox
from tests.schedule.test_schedule_cli_notice import dudao


def _letters(w: World) -> list[tuple[int, str, int | None, str | None]]:
    def q(conn: Connection) -> list[tuple[int, str, int | None, str | None]]:
        return [(r.id, r.status, r.unit_id, r.path) for r in conn.execute(
            select(DocumentRecord.id, DocumentRecord.status, DocumentRecord.unit_id,
                   DocumentRecord.path)
            .where(DocumentRecord.kind == "letter").order_by(DocumentRecord.id))]

    return w.tx(q)


def _tick(w: World, moment: str) -> dict[str, object]:
    r = dudao(w.path, w.db.url, "tick", "--at", moment, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def _run(w: World) -> None:
    w.add_task("六月月报", at("2026-06-30 18:00"), scope="开封市")
    w.add_task("专项自查", at("2026-07-03 18:00"), scope="开封市,郑州市")
    kaifeng = w.unit["开封市"]

    first = _tick(w, "2026-07-08T18:30+08:00")
    assert "letter_proposal" in first["ran"]
    [proposed] = first["letters"]  # type: ignore[misc]
    assert proposed["unit_id"] == kaifeng and proposed["yellow"] == 2
    [(doc_id, status, unit_id, path)] = _letters(w)
    assert (proposed["document_id"], status, unit_id) == (doc_id, "draft", kaifeng)
    assert path is not None and Path(path).is_file()
    told = [m for m in outbox(w.db) if m.kind == "letter_proposal"]
    assert [m.chat for m in told] == [ADMIN_GROUP]
    assert f"开封市（黄旗 2 面）：文件#{doc_id}" in told[0].text
    assert "签发 文件#编号" in told[0].text and "郑州市" not in told[0].text

    for again in ("2026-07-08T18:30+08:00", "2026-07-10T18:30+08:00",
                  "2026-07-15T18:30+08:00"):
        later = _tick(w, again)
        assert not later["letters"] and "letter_proposal" not in later["ran"], again
    assert len(_letters(w)) == 1
    assert len([m for m in outbox(w.db) if m.kind == "letter_proposal"]) == 1

    def facts(conn: Connection) -> tuple[int, list[str]]:
        deliveries = conn.execute(select(func.count()).select_from(DocumentDelivery)).scalar_one()
        claims = conn.execute(select(JobLedger.period).where(JobLedger.job == "letter_proposal")
                              .order_by(JobLedger.period)).scalars().all()
        return int(deliveries), list(claims)

    deliveries, claims = w.tx(facts)
    assert deliveries == 0  # proposed, not issued: nothing goes to the unit
    assert claims == [f"2026-W28:u{kaifeng}"]  # the later week found the draft still waiting


def test_schedule_tick_proposes_a_letter_once(world: World) -> None:
    _run(world)


@pytest.mark.postgres
def test_schedule_tick_proposes_a_letter_once_on_postgres(pg_world: World) -> None:
    _run(pg_world)


def _run_rectifications(w: World) -> None:
    luoyang, zhengzhou, kaifeng = w.unit["洛阳市"], w.unit["郑州市"], w.unit["开封市"]

    def items(conn: Connection) -> None:
        made = at("2026-07-01 10:00")
        rect_svc.add(conn, unit_id=luoyang, text="执法案卷评查问题整改", due=at("2026-07-06 18:00"),
                     actor="cli:test", now=made)
        # Reported before its deadline, awaiting review: not owed, so not overdue.
        rid = rect_svc.add(conn, unit_id=zhengzhou, text="台账补录", due=at("2026-07-06 18:00"),
                           actor="cli:test", now=made).id
        rect_svc.report(conn, rid, unit_id=zhengzhou, person_id=None, text="已补录", now=made)
        rect_svc.add(conn, unit_id=kaifeng, text="制度修订", due=at("2026-07-20 18:00"),
                     actor="cli:test", now=made)  # not yet due at the first ticks

    w.tx(items)
    first = _tick(w, "2026-07-08T18:30+08:00")
    [proposed] = first["letters"]  # type: ignore[misc]
    assert (proposed["unit_id"], proposed["overdue"], proposed["yellow"]) == (luoyang, 1, 0)
    [(doc_id, status, unit_id, _)] = _letters(w)
    assert (proposed["document_id"], status, unit_id) == (doc_id, "draft", luoyang)
    [told] = [m for m in outbox(w.db) if m.kind == "letter_proposal"]
    assert f"洛阳市（整改逾期 1 项）：文件#{doc_id}" in told.text
    assert "郑州市" not in told.text and "开封市" not in told.text

    again = _tick(w, "2026-07-08T18:30+08:00")
    assert not again["letters"] and "letter_proposal" not in again["ran"]
    assert len(_letters(w)) == 1

    r = dudao(w.path, w.db.url, "doc", "issue", str(doc_id), "--json")
    assert r.returncode == 0, r.stderr
    # The issued letter's demands are 洛阳市's new items, due on its reply day (5 working days).
    demands = [i for i in w.tx(lambda c: rect_svc.list_items(c, unit_ids={luoyang}))
               if i.document_id == doc_id]
    assert demands and {i.due for i in demands} == {at("2026-07-15 18:00")}

    # Next week: 洛阳市's old item is still overdue but its letter named it; 开封市's not yet due.
    assert not _tick(w, "2026-07-13T18:30+08:00")["letters"]
    # Two weeks on: the letter's demands ran out of time, and 开封市's item too.
    later = _tick(w, "2026-07-22T18:30+08:00")
    got = {p["unit_id"]: p["overdue"] for p in later["letters"]}  # type: ignore[union-attr]
    assert got == {luoyang: 1 + len(demands), kaifeng: 1}
    assert not _tick(w, "2026-07-22T18:30+08:00")["letters"]
    assert not _tick(w, "2026-07-24T18:30+08:00")["letters"]  # same week, drafts waiting

    def claims(conn: Connection) -> list[str]:
        return list(conn.execute(select(JobLedger.period).where(JobLedger.job == "letter_proposal")
                                 .order_by(JobLedger.period)).scalars())

    assert w.tx(claims) == sorted([f"2026-W28:u{luoyang}", f"2026-W30:u{luoyang}",
                                   f"2026-W30:u{kaifeng}"])


def test_schedule_tick_proposes_a_letter_for_overdue_rectification(world: World) -> None:
    _run_rectifications(world)


@pytest.mark.postgres
def test_schedule_tick_proposes_a_letter_for_overdue_rectification_on_postgres(
        pg_world: World) -> None:
    _run_rectifications(pg_world)
