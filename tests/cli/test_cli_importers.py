"""Unit rosters as operators give them, through the real `dudao` command (a subprocess).

- ``[service] roster`` set to a file path (documented) is loaded on a fresh database by the
  first command that opens it (``person add``, ``task add``, ``serve``…).
- A bad file, including a crafted xlsx (DTD, internal or external entities) or a TOML nested too
  deep, is exit status 2 with a message in Chinese — never a traceback — and imports nothing.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[2]
ROSTER_TOML = """\
[[unit]]
code = "4101"
name = "郑州市"
short_name = "郑州"
kind = "city"

[[unit]]
code = "4102"
name = "开封市"
short_name = "开封"
kind = "city"
"""


def dudao(cwd: Path, *args: str, roster: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env.update(DUDAO_DATABASE_URL=f"sqlite:///{cwd}/dudao.db", DUDAO_SERVICE_ROSTER=roster,
               DUDAO_SERVICE_DATA_DIR=str(cwd / "data"), DUDAO_NLU_ENABLED="false",
               PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def unit_names(cwd: Path, roster: str = "") -> list[str]:
    done = dudao(cwd, "unit", "list", "--json", roster=roster)
    assert done.returncode == 0, done.stderr
    return [u["name"] for u in json.loads(done.stdout)]


@pytest.mark.parametrize("first", ["person", "task", "unit"])
def test_cli_roster_file_path_is_loaded_on_a_fresh_database(tmp_path: Path, first: str) -> None:
    (tmp_path / "rosters").mkdir()
    (tmp_path / "rosters" / "units.toml").write_text(ROSTER_TOML, encoding="utf-8")
    roster = "rosters/units.toml"  # relative to the working directory, like data_dir
    commands = {
        "person": ["person", "add", "qq:30001", "--unit", "郑州市", "--role", "liaison"],
        "task": ["task", "add", "--title", "三季度调研报告", "--due", "2026-09-30T18:00+08:00",
                 "--units", "kind:city"],
        "unit": ["unit", "list"],
    }
    done = dudao(tmp_path, *commands[first], roster=roster)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert unit_names(tmp_path, roster) == ["郑州市", "开封市"]


def test_cli_serve_loads_a_roster_file_path_on_a_fresh_database(tmp_path: Path) -> None:
    (tmp_path / "units.toml").write_text(ROSTER_TOML, encoding="utf-8")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env.update(DUDAO_DATABASE_URL=f"sqlite:///{tmp_path}/dudao.db", DUDAO_HTTP_PORT=str(port),
               DUDAO_SERVICE_ROSTER="units.toml", DUDAO_SERVICE_DATA_DIR=str(tmp_path / "data"),
               DUDAO_NLU_ENABLED="false", DUDAO_SCHEDULE_ENABLED="false", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"dudao serve did not start (exit {proc.poll()})")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert "Traceback" not in out and "2 units loaded" in out, out[-3000:]
    assert unit_names(tmp_path, "units.toml") == ["郑州市", "开封市"]


def test_cli_roster_csv_and_xlsx_paths_work_too(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "units.csv").write_text(
        "code,name,short_name,kind\n4101,郑州市,郑州,city\n", encoding="utf-8")
    assert unit_names(tmp_path / "a", "units.csv") == ["郑州市"]
    (tmp_path / "b").mkdir()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "name", "short_name", "kind"])
    ws.append(["4102", "开封市", "开封", "city"])
    wb.save(tmp_path / "b" / "units.xlsx")
    assert unit_names(tmp_path / "b", str(tmp_path / "b" / "units.xlsx")) == ["开封市"]


def test_cli_bad_roster_file_at_first_start_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "units.csv").write_text("code,name\n4101\n", encoding="utf-8")
    for roster in ("units.csv", "missing.toml"):
        done = dudao(tmp_path, "person", "add", "qq:30001", "--role", "admin", roster=roster)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "错误" in done.stderr
        assert "roster" in done.stderr


# ------------------------------------------------------------------------ crafted files


def _plain_xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "name", "short_name", "kind"])
    ws.append(["4109", "漯河市", "漯河", "city"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def crafted_xlsx(path: Path, prolog: str, *, name: str = "漯河市", part: str = "sheet",
                 encoding: str = "utf-8") -> Path:
    """A real workbook whose sheet (or workbook part) XML gets ``prolog`` before its root
    element, and ``name`` in place of the unit name (an entity reference, say)."""
    src = zipfile.ZipFile(io.BytesIO(_plain_xlsx()))
    target = {"sheet": "xl/worksheets/sheet1.xml", "workbook": "xl/workbook.xml"}[part]
    with zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == target:
                text = data.decode("utf-8")
                if text.startswith("<?xml"):
                    text = text[text.index("?>") + 2:]
                text = prolog + text.replace("漯河市", name)
                if encoding != "utf-8":
                    text = f'<?xml version="1.0" encoding="{encoding}"?>' + text
                data = text.encode(encoding)
            out.writestr(item, data)
    return path


LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY a "哈哈哈哈哈哈哈哈哈哈">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                    for i in range(8)) + "]>")


@pytest.mark.parametrize(("label", "kwargs"), [
    ("internal entities", {"prolog": LAUGHS, "name": "&i;"}),
    ("small internal entity", {"prolog": '<!DOCTYPE worksheet [<!ENTITY x "漯河市">]>',
                               "name": "&x;"}),
    ("external entity", {"prolog": '<!DOCTYPE worksheet [<!ENTITY x SYSTEM '
                                   '"file:///etc/hostname">]>', "name": "&x;"}),
    ("parameter entity", {"prolog": '<!DOCTYPE worksheet [<!ENTITY % p SYSTEM '
                                    '"http://127.0.0.1:9/evil.dtd"> %p;]>'}),
    ("bare doctype", {"prolog": "<!DOCTYPE worksheet>"}),
    ("doctype in the workbook part", {"prolog": '<!DOCTYPE workbook [<!ENTITY x "y">]>',
                                      "part": "workbook"}),
    ("utf-16 part", {"prolog": '<!DOCTYPE worksheet [<!ENTITY x "漯河市">]>', "name": "&x;",
                     "encoding": "utf-16"}),
])
def test_cli_crafted_xlsx_is_refused_with_exit_2(tmp_path: Path, label: str,
                                                 kwargs: dict[str, str]) -> None:
    path = crafted_xlsx(tmp_path / "units.xlsx", **kwargs)
    done = dudao(tmp_path, "unit", "import", str(path))
    assert done.returncode == 2, (label, done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    assert "错误" in done.stderr and "未导入任何单位" in done.stderr
    assert unit_names(tmp_path) == []


def test_cli_plain_xlsx_still_imports(tmp_path: Path) -> None:
    path = tmp_path / "units.xlsx"
    path.write_bytes(_plain_xlsx())
    done = dudao(tmp_path, "unit", "import", str(path))
    assert done.returncode == 0, done.stderr
    assert unit_names(tmp_path) == ["漯河市"]


@pytest.mark.parametrize(("suffix", "content"), [
    (".toml", b"a = " + b"[" * 2000 + b"]" * 2000 + b"\n"),
    (".toml", b"a = " + b"{b=" * 2000 + b"1" + b"}" * 2000 + b"\n"),
    (".csv", b"code,name,short_name,kind\n4101,\x00,x,city\n"),
    (".csv", b"code,name,short_name,kind\n4101,\"" + b"x" * 200_000 + b"\",x,city\n"),
    (".xlsx", b"PK\x03\x04 not really a zip"),
])
def test_cli_other_crafted_files_are_refused_with_exit_2(tmp_path: Path, suffix: str,
                                                         content: bytes) -> None:
    path = tmp_path / f"units{suffix}"
    path.write_bytes(content)
    done = dudao(tmp_path, "unit", "import", str(path))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "错误" in done.stderr
