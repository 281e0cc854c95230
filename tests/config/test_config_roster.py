"""Rosters: the bundled Henan list and TOML/CSV/xlsx files, validated as a whole."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import Workbook

from config.roster import (
    KINDS,
    RosterError,
    RowProblem,
    UnitRow,
    available_rosters,
    bundled_roster,
    bundled_roster_path,
    load_roster,
    load_roster_file,
)

HEADER = "code,name,short_name,aliases,kind,parent"
GOOD_ROWS = [
    "city-zz,郑州市,郑州,郑州市政府|绿城,city,",
    "county-gy,巩义市,巩义,巩义市政府；巩义县,county,city-zz",
    "dept-ga,省公安厅,公安厅,河南省公安厅、公安,department,",
]


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def problems_of(path: Path, **kwargs: object) -> list[RowProblem]:
    with pytest.raises(RosterError) as info:
        load_roster_file(path, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


# --------------------------------------------------------------------------- the bundled roster


def test_bundled_roster_validates_and_has_the_expected_units() -> None:
    units = bundled_roster()
    kinds = Counter(u.kind for u in units)
    assert kinds["city"] == 18
    assert kinds["county"] == 10
    assert kinds["department"] >= 30
    assert kinds["central"] >= 5
    assert kinds["office"] == 1
    assert set(kinds) <= set(KINDS)
    by_code = {u.code: u for u in units}
    assert len(by_code) == len(units)
    for unit in units:
        assert unit.code.isascii()
        assert re.fullmatch(r"[a-z0-9-]+", unit.code)
        assert unit.short_name
        assert unit.name
    # Every directly administered county hangs under a prefecture city.
    for unit in units:
        if unit.kind == "county":
            assert unit.parent is not None
            assert by_code[unit.parent].kind == "city"
        else:
            assert unit.parent is None
    # Every name a unit goes by belongs to one unit only.
    labels = [label for u in units for label in u.labels]
    assert len(labels) == len(set(labels))


def test_bundled_roster_names_and_aliases() -> None:
    by_name = {label: u for u in bundled_roster() for label in u.labels}
    assert by_name["郑州"].code == "city-zhengzhou"
    assert by_name["郑州市"].short_name == "郑州"
    assert by_name["济源示范区"].kind == "city"
    assert by_name["济源市"].code == "city-jiyuan"
    assert by_name["长垣县"].name == "长垣市"
    assert by_name["长垣"].parent == "city-xinxiang"
    assert by_name["巩义"].parent == "city-zhengzhou"
    assert by_name["河南省公安厅"].code == "dept-public-security"
    assert by_name["公安厅"].name == "省公安厅"
    assert by_name["河南省市场监督管理局"].name == "省市场监管局"
    assert by_name["市场监督管理局"].name == "省市场监管局"
    assert by_name["环保厅"].name == "省生态环境厅"
    assert by_name["国家税务总局河南省税务局"].kind == "central"
    assert by_name["郑州海关"].kind == "central"
    assert by_name["督导办"].code == "office"
    counties = {u.short_name for u in bundled_roster() if u.kind == "county"}
    assert counties == set("巩义 兰考 汝州 滑县 长垣 邓州 永城 固始 鹿邑 新蔡".split())


def test_bundled_roster_file_explains_itself() -> None:
    text = bundled_roster_path().read_text(encoding="utf-8")
    head = text.split("\n[[unit]]", 1)[0]
    assert "2014" in head
    assert "dudao unit import" in head
    tables = [line for line in text.splitlines() if line.startswith("[[unit]]")]
    assert len(tables) == len(bundled_roster())


def test_unknown_bundled_roster() -> None:
    assert available_rosters() == ["henan"]
    with pytest.raises(RosterError, match="没有名为“atlantis”的内置名单"):
        bundled_roster("atlantis")
    with pytest.raises(RosterError):
        bundled_roster("../rosters/henan")


def test_load_roster_spec(tmp_path: Path) -> None:
    assert load_roster("") == []
    assert len(load_roster("henan")) == len(bundled_roster())
    write_csv(tmp_path / "units.csv", [HEADER, *GOOD_ROWS])
    assert len(load_roster("units.csv", base=tmp_path)) == 3
    assert len(load_roster(str(tmp_path / "units.csv"))) == 3


# --------------------------------------------------------------------------- file formats

EXPECTED = [
    UnitRow("city-zz", "郑州市", "郑州", ("郑州市政府", "绿城"), "city", None),
    UnitRow("county-gy", "巩义市", "巩义", ("巩义市政府", "巩义县"), "county", "city-zz"),
    UnitRow("dept-ga", "省公安厅", "公安厅", ("河南省公安厅", "公安"), "department", None),
]


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "units.toml"
    path.write_text(
        """# a comment
[[unit]]
code = "city-zz"
name = "郑州市"
short_name = "郑州"
aliases = ["郑州市政府", "绿城", "郑州"]
kind = "city"

[[unit]]
code = "county-gy"
name = "巩义市"
short_name = "巩义"
aliases = "巩义市政府|巩义县"
kind = "county"
parent = "city-zz"

[[unit]]
code = "dept-ga"
name = "省公安厅"
short_name = "公安厅"
aliases = ["河南省公安厅", "公安"]
kind = "department"
""",
        encoding="utf-8",
    )
    assert load_roster_file(path) == EXPECTED


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_file_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "units.csv", [HEADER, *GOOD_ROWS], encoding)
    assert load_roster_file(path) == EXPECTED


def test_csv_with_chinese_header_blank_lines_and_extra_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "units.csv",
        [
            "编码,名称,简称,别名,类型,上级,备注",
            "city-zz,郑州市,郑州,郑州市政府|绿城,市,,省会",
            ",,,,,,",
            "county-gy, 巩义市 ,巩义,巩义市政府；巩义县,直管县,city-zz,",
            'dept-ga,省公安厅,公安厅,"河南省公安厅、公安",省直部门,,',
        ],
    )
    assert load_roster_file(path) == EXPECTED


def test_xlsx_file(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    for line in GOOD_ROWS:
        sheet.append([cell or None for cell in line.split(",")])
    other = workbook.create_sheet("ignored")
    other.append(["not", "a", "roster"])
    path = tmp_path / "units.xlsx"
    workbook.save(path)
    assert load_roster_file(path) == EXPECTED


def test_xlsx_numbers_are_read_as_text(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append([4101, "郑州市", "郑州", None, "city", None])
    sheet.append([410181, "巩义市", "巩义", None, "county", 4101])
    path = tmp_path / "units.xlsx"
    workbook.save(path)
    units = load_roster_file(path)
    assert [u.code for u in units] == ["4101", "410181"]
    assert units[1].parent == "4101"


def test_short_name_defaults_to_name(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", ["code,name,kind", "office,督导办,office"])
    assert load_roster_file(path) == [UnitRow("office", "督导办", "督导办", (), "office", None)]


def test_progress_is_reported(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "units.csv", [HEADER, *GOOD_ROWS])
    calls: list[tuple[int, int]] = []
    load_roster_file(path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


# --------------------------------------------------------------------------- problems


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bad.csv",
        [
            HEADER,
            "city-zz,郑州市,郑州,,city,",  # row 2: fine
            ",开封市,开封,,city,",  # row 3: no code
            "city-ly,,洛阳,,city,",  # row 4: no name
            "city-ay,安阳市,安阳,,town,",  # row 5: bad kind
            "city-zz,平顶山市,平顶山,,city,",  # row 6: duplicate code
            "city-xx,郑州市,,,city,",  # row 7: duplicate name
            "county-gy,巩义市,巩义,郑州,county,city-nowhere",  # row 8: alias taken, parent missing
            f"dept-long,{'省' * 65},,,department,",  # row 9: name too long
            "bad code!,新乡市,新乡,,city,",  # row 10: bad code
            "city-hb,鹤壁市,鹤壁,,,",  # row 11: no kind
        ],
    )
    with pytest.raises(RosterError) as info:
        load_roster_file(path)
    found = {(p.row_number, p.field) for p in info.value.problems}
    assert found == {
        (3, "code"),
        (4, "name"),
        (5, "kind"),
        (6, "code"),
        (7, "name"),
        (8, "aliases"),
        (8, "parent"),
        (9, "name"),
        (10, "code"),
        (11, "kind"),
    }
    text = str(info.value)
    assert text.startswith("单位名单 bad.csv 有 10 处问题，未导入任何单位：")
    for row in (3, 4, 5, 6, 7, 8, 9, 10, 11):
        assert f"第 {row} 行" in text
    assert "第 8 行（上级）：上级编码“city-nowhere”不存在" in text
    assert "第 6 行（编码）：编码“city-zz”重复（第 2 行已有）" in text
    assert "类型“town”无效" in text


def test_alias_may_not_be_another_units_name_or_alias(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "a.csv",
        [
            HEADER,
            "a,甲单位,甲,阿|共同,department,",
            "b,乙单位,乙,甲单位,department,",  # another unit's name
            "c,丙单位,丙,共同,department,",  # another unit's alias
            "d,丁单位,阿,,department,",  # short name = another unit's alias
        ],
    )
    found = {(p.row_number, p.field) for p in problems_of(path)}
    assert found == {(3, "aliases"), (4, "aliases"), (5, "short_name")}


def test_own_name_in_aliases_is_harmless(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [HEADER, "a,甲单位,甲,甲单位|甲|甲方|甲方,department,"])
    assert load_roster_file(path)[0].aliases == ("甲方",)


def test_parent_cycles_are_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "c.csv",
        [
            HEADER,
            "a,甲,,,city,c",
            "b,乙,,,city,a",
            "c,丙,,,city,b",
            "d,丁,,,city,d",
            "e,戊,,,county,a",  # under the cycle but not in it: only its ancestors are wrong
        ],
    )
    problems = problems_of(path)
    assert [(p.row_number, p.field) for p in problems] == [(2, "parent"), (5, "parent")]
    assert "循环：a → c → b → a" in problems[0].message
    assert "上级不能是自己" in problems[1].message


def test_known_codes_allow_parents_outside_the_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "k.csv", [HEADER, "county-gy,巩义市,巩义,,county,city-zz"])
    assert problems_of(path)[0].field == "parent"
    units = load_roster_file(path, known_codes={"city-zz"})
    assert units[0].parent == "city-zz"


def test_existing_units_clash_unless_replaced(tmp_path: Path) -> None:
    existing = [UnitRow("city-zz", "郑州市", "郑州", ("绿城",), "city")]
    clash = write_csv(tmp_path / "x.csv", [HEADER, "city-other,绿城,,,city,"])
    assert "与已有单位“郑州市”重复" in problems_of(clash, existing=existing)[0].message
    replace = write_csv(tmp_path / "y.csv", [HEADER, "city-zz,郑州市,郑州,绿城|商都,city,"])
    assert load_roster_file(replace, existing=existing)[0].aliases == ("绿城", "商都")
    child = write_csv(tmp_path / "z.csv", [HEADER, "county-gy,巩义市,巩义,,county,city-zz"])
    assert load_roster_file(child, existing=existing)[0].parent == "city-zz"


def test_toml_problems_point_at_the_unit_header_line(tmp_path: Path) -> None:
    path = tmp_path / "u.toml"
    path.write_text(
        '[[unit]]\ncode = "a"\nname = "甲"\nkind = "city"\n\n'
        '[[unit]]\ncode = "a"\nname = "乙"\nkind = "city"\ncolour = "red"\naliases = 3\n',
        encoding="utf-8",
    )
    problems = problems_of(path)
    assert {(p.row_number, p.field) for p in problems} == {
        (6, "code"),
        (6, "colour"),
        (6, "aliases"),
    }


def test_missing_header_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", ["code,short_name", "a,甲"])
    found = {(p.row_number, p.field) for p in problems_of(path)}
    assert found == {(1, "name"), (1, "kind")}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("units.xls", b"", "请在 Excel 中另存为 .xlsx"),
        ("units.json", b"[]", "不支持的文件类型“.json”"),
        ("empty.csv", b"", "文件中没有任何单位"),
        ("header-only.csv", HEADER.encode() + b"\n", "文件中没有任何单位"),
        ("empty.toml", b"# nothing\n", "文件中没有任何单位"),
        ("broken.toml", b"[[unit]\n", "TOML 格式错误"),
        ("broken.xlsx", b"not a zip", "无法读取 Excel 文件"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RosterError) as info:
        load_roster_file(path)
    assert message in str(info.value)
    assert info.value.problems[0].row_number == 0


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="文件不存在"):
        load_roster_file(tmp_path / "nowhere.csv")
