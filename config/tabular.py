"""Rows of a TOML, CSV or xlsx file, each with the line it came from: what importers read.

The unit roster (config/roster.py) and the yearly work plan (``dudao plan import``) are both a
table a person fills in with Excel or a text editor. This module only reads: which columns a
row has and what they mean is the importer's business. Problems that make the file unreadable
raise :class:`TableError` with a Chinese message; an importer reports problems in rows itself,
by line (for TOML, the line of the row's ``[[table]]`` header).

- TOML: the array of tables named by ``tables`` (``[[unit]]``, ``[[任务]]``…); the file's other
  top-level keys come back in ``Table.top`` (a plan's ``year``).
- CSV: UTF-8 (with or without BOM) or GB18030, as Excel on Chinese Windows saves it; comma or
  tab separated; the first non-empty row is the header.
- xlsx: the first sheet, values as stored (numbers, dates); a file declaring a DTD or entities
  is refused before it is parsed (config/xlsx_guard.py).
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

SUFFIXES: Final = (".toml", ".csv", ".xlsx", ".xlsm")
FORMATS: Final = "，请用 TOML、CSV 或 xlsx"


class TableError(Exception):
    """The file cannot be read as a table; ``message`` says why, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class RawRow:
    """One row: ``line`` in the file, ``values`` by column (as the file names them)."""

    line: int
    values: dict[str, object]


@dataclass(slots=True)
class Table:
    rows: list[RawRow]
    header: tuple[str, ...] = ()  # CSV and xlsx: the header's cells, as written
    header_line: int = 0
    top: dict[str, object] = field(default_factory=dict)  # TOML: keys outside the tables


def read_table(path: Path, *, tables: tuple[str, ...]) -> Table:
    """Read ``path`` by its suffix. ``tables`` are the names a TOML file may give its rows."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        hint = "（请在 Excel 中另存为 .xlsx）" if suffix == ".xls" else ""
        raise TableError(f"不支持的文件类型“{suffix or '无扩展名'}”{FORMATS}{hint}")
    if not path.is_file():
        raise TableError(f"文件不存在：{path}")
    if suffix == ".toml":
        return _toml(path, tables)
    cells = _csv_cells(path) if suffix == ".csv" else _xlsx_cells(path)
    return _with_header(cells)


def cell_text(value: object) -> str:
    """A cell as text: nothing is "", 3.0 is "3"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _toml(path: Path, tables: tuple[str, ...]) -> Table:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("TOML 文件必须是 UTF-8 编码") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TableError(f"TOML 格式错误：{exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays and tables
        raise TableError("TOML 格式错误：嵌套层数过多") from None
    present = [name for name in tables if name in data]
    if len(present) > 1:
        raise TableError(f"表名 {'、'.join(f'[[{n}]]' for n in present)} 只能用一种")
    name = present[0] if present else tables[0]
    items = data.get(name, [])
    if not isinstance(items, list) or not all(isinstance(u, dict) for u in items):
        raise TableError(f"每一行应写成 [[{name}]] 表")
    # Number each row by the line of its [[name]] header, so problems point into the file.
    header = re.compile(rf"\s*\[\[\s*\"?{re.escape(name)}\"?\s*\]\]")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if header.match(line)]
    if len(lines) != len(items):
        lines = list(range(1, len(items) + 1))
    top = {k: v for k, v in data.items() if k not in tables}
    return Table([RawRow(n, dict(item)) for n, item in zip(lines, items, strict=True)], top=top)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # what Excel on Chinese Windows writes


def _csv_cells(path: Path) -> list[list[object]]:
    try:
        text = _decode(path.read_bytes())
    except UnicodeDecodeError:
        raise TableError("无法识别文件编码，请保存为 UTF-8 或 GB18030") from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise TableError(f"CSV 格式错误：{exc}") from None


def _xlsx_cells(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    from config.xlsx_guard import xlsx_problem

    problem = xlsx_problem(path)
    if problem:
        raise TableError(problem)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TableError(f"无法读取 Excel 文件：{exc}") from None
    except Exception as exc:  # openpyxl on a crafted file: whatever it raises, the file is bad
        raise TableError(f"无法读取 Excel 文件（{type(exc).__name__}）") from None
    try:
        sheet = workbook.worksheets[0]
        # read_only: the sheet's XML is parsed here, row by row, so its errors surface here too.
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    except Exception as exc:
        raise TableError(f"无法读取 Excel 文件（{type(exc).__name__}）") from None
    finally:
        workbook.close()


def _with_header(cells: list[list[object]]) -> Table:
    """The first non-empty row is the header; blank rows are not rows."""
    start = 0
    while start < len(cells) and not any(cell_text(c).strip() for c in cells[start]):
        start += 1
    if start == len(cells):
        return Table([])
    header = tuple(cell_text(c).strip().lstrip("\ufeff") for c in cells[start])
    rows: list[RawRow] = []
    for line, row in enumerate(cells[start + 1:], start=start + 2):
        if not any(cell_text(c).strip() for c in row):
            continue
        values: dict[str, object] = {}
        for name, value in zip(header, row, strict=False):
            if name and name not in values:
                values[name] = value
        rows.append(RawRow(line, values))
    return Table(rows, header, start + 1)
