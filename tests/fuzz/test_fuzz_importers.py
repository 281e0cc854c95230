"""Hypothesis over the unit importers (`dudao unit import FILE`: CSV, TOML, xlsx).

Whatever the bytes, reading a roster either returns valid rows or raises RosterError naming the
problems — never another exception — and an import is all or nothing: when it fails the units
in the database are exactly what they were. The path is the one `cmd_unit_import` takes:
``load_roster_file`` with the existing units, then ``units.import_rows`` in one transaction.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import Connection, func, select

from bot.services import units
from config.roster import RosterError, UnitRow, load_roster_file
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Unit, UnitAlias

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_counter = itertools.count()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Path]]:
    tmp = tmp_path_factory.mktemp("import_fuzz")
    db = Database(f"sqlite:///{tmp}/units.db")
    upgrade(db)
    seed = [units.RosterRow("410100", "郑州市", "郑州", "city", ("郑州",)),
            units.RosterRow("410200", "开封市", "开封", "city", ())]
    from datetime import UTC, datetime

    db.transaction(lambda c: units.import_rows(c, seed, now=datetime(2026, 1, 1, tzinfo=UTC)))
    yield db, tmp
    db.close()


def _snapshot(conn: Connection) -> tuple[object, ...]:
    rows = conn.execute(select(Unit.code, Unit.name, Unit.short_name, Unit.kind, Unit.parent_id)
                        .order_by(Unit.code)).all()
    aliases = conn.execute(select(func.count()).select_from(UnitAlias)).scalar_one()
    return (tuple(tuple(r) for r in rows), aliases)


def _import(db: Database, path: Path) -> str:
    """What `dudao unit import` does; returns "ok" or the error shown to the admin."""
    from datetime import UTC, datetime

    existing = db.transaction(units.list_units)
    codes = {u.id: u.code for u in existing}
    current = [UnitRow(u.code, u.name, u.short_name, u.aliases, u.kind,
                       codes.get(u.parent_id) if u.parent_id else None) for u in existing]
    try:
        rows = load_roster_file(path, existing=current)
    except RosterError as exc:
        message = str(exc)
    else:
        db.transaction(lambda c: units.import_rows(
            c, [units.RosterRow(r.code, r.name, r.short_name, r.kind, r.aliases, r.parent)
                for r in rows], now=datetime(2026, 2, 1, tzinfo=UTC)))
        return "ok"
    # A clear refusal: every problem named, in Chinese, for the admin.
    assert message.startswith("单位名单") and "未导入任何单位" in message
    return message


def _check_all_or_nothing(db: Database, path: Path) -> None:
    before = db.transaction(_snapshot)
    outcome = _import(db, path)
    after = db.transaction(_snapshot)
    if outcome != "ok":
        assert after == before, f"a refused import changed the units: {outcome}"


cells = st.one_of(st.text(max_size=20), st.sampled_from(
    ["410100", "410300", "郑州市", "洛阳市", "city", "county", "市", "县区", "department", "",
     "x|y", "410100", "410300.0", "=1+1", "省司法厅", "-", "A-1", "洛阳", "郑州"]))
headers = st.lists(st.sampled_from(["code", "name", "short_name", "aliases", "kind", "parent",
                                    "编码", "名称", "简称", "别名", "类型", "上级", "junk", ""]),
                   min_size=0, max_size=7)
tables = st.tuples(headers, st.lists(st.lists(cells, max_size=8), max_size=6))


def _path(tmp: Path, suffix: str) -> Path:
    return tmp / f"roster{next(_counter)}{suffix}"


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([".csv", ".toml", ".xlsx", ".xls", ".txt"]))
def test_fuzz_import_arbitrary_bytes(world: tuple[Database, Path], data: bytes,
                                     suffix: str) -> None:
    db, tmp = world
    path = _path(tmp, suffix)
    path.write_bytes(data)
    _check_all_or_nothing(db, path)


@FUZZ
@given(tables, st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
def test_fuzz_import_csv_tables(world: tuple[Database, Path],
                                table: tuple[list[str], list[list[str]]], encoding: str) -> None:
    db, tmp = world
    head, rows = table
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(head)
    w.writerows(rows)
    path = _path(tmp, ".csv")
    try:
        path.write_bytes(buf.getvalue().encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes(buf.getvalue().encode("utf-8"))
    _check_all_or_nothing(db, path)


@FUZZ
@given(tables)
def test_fuzz_import_xlsx_tables(world: tuple[Database, Path],
                                 table: tuple[list[str], list[list[str]]]) -> None:
    db, tmp = world
    head, rows = table
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for line in [head, *rows]:
        # Control characters cannot be stored in a sheet; Excel users cannot type them either.
        ws.append([c if c.isprintable() else "" for c in line])
    path = _path(tmp, ".xlsx")
    wb.save(path)
    _check_all_or_nothing(db, path)


toml_values = st.one_of(st.text(max_size=15), st.integers(), st.booleans(),
                        st.lists(st.text(max_size=6), max_size=3))


def _toml_str(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_str(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    text = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)
    return f'"{text}"'


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(["code", "name", "short_name", "aliases", "kind",
                                                 "parent", "extra"]),
                                st.one_of(cells, toml_values), max_size=7), max_size=5))
def test_fuzz_import_toml_units(world: tuple[Database, Path],
                                units_: list[dict[str, object]]) -> None:
    db, tmp = world
    text = "\n".join("[[unit]]\n" + "".join(f"{k} = {_toml_str(v)}\n" for k, v in u.items())
                     for u in units_)
    path = _path(tmp, ".toml")
    path.write_text(text, encoding="utf-8")
    _check_all_or_nothing(db, path)
