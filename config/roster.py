"""Unit rosters: the bundled Henan list and files imported with `dudao unit import`.

A roster is a list of :class:`UnitRow`. Files may be TOML (one ``[[unit]]`` table per unit, see
``config/rosters/henan.toml``), CSV or xlsx with the header ``code,name,short_name,aliases,kind,
parent`` (Chinese headers 编码,名称,简称,别名,类型,上级 work too). Every row is validated and every
problem is collected: a file with any problem raises :class:`RosterError` listing them all, so a
partial file is never imported.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from config.tabular import Table, TableError, cell_text, read_table

__all__ = [
    "KINDS",
    "RosterError",
    "RowProblem",
    "UnitRow",
    "available_rosters",
    "bundled_roster",
    "bundled_roster_path",
    "load_roster",
    "load_roster_file",
    "validate_units",
]

ROSTER_DIR: Final = Path(__file__).with_name("rosters")
KINDS: Final = ("city", "county", "department", "central", "office")
MAX_NAME_LENGTH: Final = 64
MAX_CODE_LENGTH: Final = 64
_TOO_LONG: Final = f"太长（不超过 {MAX_NAME_LENGTH} 字）"
COLUMNS: Final = ("code", "name", "short_name", "aliases", "kind", "parent")
REQUIRED_COLUMNS: Final = ("code", "name", "kind")

_KIND_WORDS: Final = MappingProxyType(
    {
        **{k: k for k in KINDS},
        "市": "city",
        "地市": "city",
        "省辖市": "city",
        "城市": "city",
        "县": "county",
        "县(市)": "county",
        "县（市）": "county",
        "直管县": "county",
        "省直管县": "county",
        "部门": "department",
        "省直部门": "department",
        "省直单位": "department",
        "省直": "department",
        "中央驻豫单位": "central",
        "驻豫单位": "central",
        "中直单位": "central",
        "办公室": "office",
        "督导办": "office",
    }
)
_HEADER_WORDS: Final = MappingProxyType(
    {
        **{c: c for c in COLUMNS},
        "shortname": "short_name",
        "short": "short_name",
        "alias": "aliases",
        "parent_code": "parent",
        "编码": "code",
        "代码": "code",
        "单位编码": "code",
        "名称": "name",
        "单位名称": "name",
        "全称": "name",
        "简称": "short_name",
        "别名": "aliases",
        "类型": "kind",
        "类别": "kind",
        "单位类型": "kind",
        "上级": "parent",
        "上级单位": "parent",
        "上级编码": "parent",
    }
)
_ALIAS_SPLIT: Final = re.compile(r"[|;；、,，\n]")
_CODE_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_FIELD_LABELS: Final = MappingProxyType(
    {
        "code": "编码",
        "name": "名称",
        "short_name": "简称",
        "aliases": "别名",
        "kind": "类型",
        "parent": "上级",
        "file": "文件",
    }
)


@dataclass(frozen=True, slots=True)
class UnitRow:
    """One unit of a roster. ``parent`` is the code of the unit above it (a county's city)."""

    code: str
    name: str
    short_name: str
    aliases: tuple[str, ...] = ()
    kind: str = "department"
    parent: str | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """Every name the unit goes by: name, short name, aliases, without repeats."""
        return tuple(dict.fromkeys((self.name, self.short_name, *self.aliases)))


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem in a roster: ``row_number`` is the line of the row in the file (for TOML the
    line of its ``[[unit]]`` header; 0 for the file as a whole); ``field`` the column."""

    row_number: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row_number} 行" if self.row_number > 0 else "文件"
        label = _FIELD_LABELS.get(self.field, self.field)
        return f"{where}（{label}）：{self.message}" if label else f"{where}：{self.message}"


class RosterError(Exception):
    """A roster with problems; nothing of it may be imported."""

    def __init__(self, problems: list[RowProblem], source: str = "") -> None:
        self.problems = sorted(problems, key=lambda p: (p.row_number, _column_order(p.field)))
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        name = f" {self.source} " if self.source else ""
        head = f"单位名单{name}有 {len(self.problems)} 处问题，未导入任何单位："
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def _column_order(name: str) -> int:
    return COLUMNS.index(name) if name in COLUMNS else len(COLUMNS)


# --------------------------------------------------------------------------- bundled rosters


def available_rosters() -> list[str]:
    """Names of the bundled rosters (``henan``)."""
    return sorted(p.stem for p in ROSTER_DIR.glob("*.toml"))


def bundled_roster_path(name: str = "henan") -> Path:
    path = ROSTER_DIR / f"{name}.toml"
    bundled = "、".join(available_rosters())
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name) or not path.is_file():
        raise RosterError([RowProblem(0, "", f"没有名为“{name}”的内置名单（内置：{bundled}）")])
    return path


def bundled_roster(name: str = "henan") -> list[UnitRow]:
    """The units of a bundled roster, validated."""
    return load_roster_file(bundled_roster_path(name))


def load_roster(spec: str, *, base: Path | None = None) -> list[UnitRow]:
    """A roster named the way ``[service] roster`` names it: a bundled name or a file path
    (relative to ``base``, default the working directory). ``""`` gives no units."""
    spec = spec.strip()
    if not spec:
        return []
    if re.fullmatch(r"[A-Za-z0-9_-]+", spec):
        return bundled_roster(spec)
    path = Path(spec)
    if not path.is_absolute() and base is not None:
        path = base / path
    return load_roster_file(path)


# --------------------------------------------------------------------------- reading files


@dataclass(slots=True)
class _RawRow:
    row_number: int
    values: dict[str, object]


def load_roster_file(
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    known_codes: Iterable[str] | None = None,
    existing: Iterable[UnitRow] | None = None,
) -> list[UnitRow]:
    """Read and validate a roster file (TOML, CSV or xlsx, by its suffix: config/tabular.py).

    ``progress(done, total)`` is called as rows are checked. ``known_codes`` are codes of units
    already in the database that a ``parent`` may name (incremental imports); ``existing`` are
    those units themselves, which also makes names and aliases that clash with theirs an error
    (units in the file with the same code replace them). Raises :class:`RosterError` with every
    problem found.
    """
    source = path.name
    try:
        table = read_table(path, tables=("unit",))
    except TableError as exc:
        raise RosterError([RowProblem(0, "", exc.message)], source) from None
    if path.suffix.lower() == ".toml":
        raw = [_RawRow(r.line, r.values) for r in table.rows]
    else:
        raw = _columns(table, source)
    if not raw:
        raise RosterError([RowProblem(0, "", "文件中没有任何单位")], source)
    units, problems = _parse_rows(raw, progress)
    problems += validate_units(units, known_codes=known_codes, existing=existing)
    if problems:
        raise RosterError(problems, source)
    return [unit for _, unit in units]


def _columns(table: Table, source: str) -> list[_RawRow]:
    """A CSV or sheet's rows by column name (the header may be English or Chinese)."""
    if not table.header:
        return []
    columns: dict[str, str] = {}
    for cell in table.header:
        word = re.sub(r"[\s-]+", "_", cell.lower())
        column = _HEADER_WORDS.get(word) or _HEADER_WORDS.get(word.replace("_", ""))
        if column is not None and column not in columns.values():
            columns[cell] = column
    missing = [c for c in REQUIRED_COLUMNS if c not in columns.values()]
    if missing:
        raise RosterError(
            [
                RowProblem(
                    table.header_line,
                    c,
                    f"表头缺少“{c}”列（表头应为 {','.join(COLUMNS)}）",
                )
                for c in missing
            ],
            source,
        )
    return [_RawRow(r.line, {columns[k]: cell_text(v) for k, v in r.values.items() if k in columns})
            for r in table.rows]


# --------------------------------------------------------------------------- validation


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u3000", " ")).strip()


def _text(raw: _RawRow, name: str, problems: list[RowProblem]) -> str:
    value = raw.values.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        problems.append(RowProblem(raw.row_number, name, "应为文字"))
        return ""
    text = _clean(str(value))
    if any(unicodedata.category(ch) == "Cc" for ch in text):  # NUL and the like: not a name
        problems.append(RowProblem(raw.row_number, name, "含有控制字符"))
        return ""
    return text


def _parse_rows(
    raw_rows: list[_RawRow], progress: Callable[[int, int], None] | None
) -> tuple[list[tuple[int, UnitRow]], list[RowProblem]]:
    """Per-row checks; every row gives a UnitRow (possibly with blanks) so that the cross-row
    checks can still run and report everything at once."""
    problems: list[RowProblem] = []
    units: list[tuple[int, UnitRow]] = []
    total = len(raw_rows)
    if progress is not None:
        progress(0, total)
    for done, raw in enumerate(raw_rows, 1):
        n = raw.row_number
        unknown = sorted(set(raw.values) - set(COLUMNS))
        for name in unknown:
            problems.append(RowProblem(n, name, f"未知字段“{name}”（可用：{', '.join(COLUMNS)}）"))
        code = _text(raw, "code", problems)
        name = _text(raw, "name", problems)
        short_name = _text(raw, "short_name", problems)
        kind_text = _text(raw, "kind", problems)
        parent = _text(raw, "parent", problems) or None

        raw_aliases = raw.values.get("aliases", ())
        if isinstance(raw_aliases, str):
            alias_items: list[object] = list(_ALIAS_SPLIT.split(raw_aliases))
        elif isinstance(raw_aliases, list | tuple):
            alias_items = list(raw_aliases)
        else:
            problems.append(RowProblem(n, "aliases", "应为文字列表"))
            alias_items = []
        aliases: list[str] = []
        for item in alias_items:
            if not isinstance(item, str):
                problems.append(RowProblem(n, "aliases", f"别名应为文字：{item!r}"))
                continue
            alias = _clean(item)
            if alias and alias not in (name, short_name) and alias not in aliases:
                aliases.append(alias)

        if not code:
            problems.append(RowProblem(n, "code", "缺少编码"))
        elif len(code) > MAX_CODE_LENGTH or not _CODE_RE.fullmatch(code):
            problems.append(
                RowProblem(
                    n,
                    "code",
                    f"编码“{code}”无效：只能用字母、数字和 . _ -，不超过 {MAX_CODE_LENGTH} 个字符",
                )
            )
        if not name:
            problems.append(RowProblem(n, "name", "缺少名称"))
        for field_name, value in (("name", name), ("short_name", short_name)):
            if len(value) > MAX_NAME_LENGTH:
                problems.append(RowProblem(n, field_name, f"“{value[:20]}…”{_TOO_LONG}"))
        for alias in aliases:
            if len(alias) > MAX_NAME_LENGTH:
                problems.append(RowProblem(n, "aliases", f"别名“{alias[:20]}…”{_TOO_LONG}"))
        kind = _KIND_WORDS.get(kind_text.lower(), "") if kind_text else ""
        if not kind_text:
            problems.append(RowProblem(n, "kind", f"缺少类型（{'/'.join(KINDS)}）"))
        elif not kind:
            problems.append(
                RowProblem(n, "kind", f"类型“{kind_text}”无效，应为 {'/'.join(KINDS)} 之一")
            )
        if parent is not None and parent == code:
            problems.append(RowProblem(n, "parent", "上级不能是自己"))
            parent = None
        units.append(
            (
                n,
                UnitRow(
                    code=code,
                    name=name,
                    short_name=short_name or name,
                    aliases=tuple(aliases),
                    kind=kind,
                    parent=parent,
                ),
            )
        )
        if progress is not None:
            progress(done, total)
    return units, problems


def validate_units(
    units: Sequence[tuple[int, UnitRow]],
    *,
    known_codes: Iterable[str] | None = None,
    existing: Iterable[UnitRow] | None = None,
) -> list[RowProblem]:
    """Checks across rows: duplicate codes, names and aliases; parents that exist; no cycles.

    ``units`` pairs each unit with its row number. Blank fields (already reported) are skipped.
    """
    problems: list[RowProblem] = []
    codes_in_file: dict[str, int] = {}
    for n, unit in units:
        if not unit.code:
            continue
        first = codes_in_file.get(unit.code)
        if first is not None:
            problems.append(RowProblem(n, "code", f"编码“{unit.code}”重复（第 {first} 行已有）"))
        else:
            codes_in_file[unit.code] = n

    # Every name, short name and alias points at one unit only.
    others: dict[str, tuple[str, str]] = {}  # label → (description of its owner, owner code)
    for old in existing or ():
        if old.code in codes_in_file:
            continue  # replaced by the file's version
        for label in old.labels:
            others.setdefault(label, (f"已有单位“{old.name}”", old.code))
    seen: dict[str, tuple[int, str]] = {}  # label → (row, code) within the file
    for n, unit in units:
        fields_and_labels = [("name", unit.name)]
        if unit.short_name != unit.name:
            fields_and_labels.append(("short_name", unit.short_name))
        fields_and_labels += [("aliases", a) for a in unit.aliases]
        for field_name, label in fields_and_labels:
            if not label:
                continue
            what = {"name": "名称", "short_name": "简称", "aliases": "别名"}[field_name]
            if label in seen and seen[label][1] != unit.code:
                problems.append(
                    RowProblem(n, field_name, f"{what}“{label}”与第 {seen[label][0]} 行的单位重复")
                )
            elif label in others and others[label][1] != unit.code:
                owner = others[label][0]
                problems.append(RowProblem(n, field_name, f"{what}“{label}”与{owner}重复"))
            else:
                seen.setdefault(label, (n, unit.code))

    # Parents exist, and following them never comes back.
    parents: dict[str, str | None] = {}
    for old in existing or ():
        parents[old.code] = old.parent
    for _, unit in units:
        if unit.code:
            parents[unit.code] = unit.parent
    known = set(parents) | set(known_codes or ())
    for n, unit in units:
        if unit.parent is not None and unit.parent not in known:
            problems.append(RowProblem(n, "parent", f"上级编码“{unit.parent}”不存在"))
    reported: set[str] = set()
    for n, unit in units:
        if not unit.code or unit.code in reported:
            continue
        path = [unit.code]
        current = parents.get(unit.code)
        while current is not None and current not in path:
            path.append(current)
            current = parents.get(current)
        if current is not None:  # came back to a code already on the path
            cycle = path[path.index(current) :]
            if unit.code in cycle:
                reported.update(cycle)
                shown = " → ".join([*cycle, current])
                problems.append(RowProblem(n, "parent", f"上级关系形成循环：{shown}"))
    return problems
