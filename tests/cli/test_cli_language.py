"""The command line speaks the chat's scope words (issue 15): `--units` and `--to` take 全部,
各地市, 直管县, 省直部门, unit names and several joined by 和 / 、 / , besides `all`, `kind:city`
and `郑州市,开封市`; and `dudao console` waits for the language model before its prompt, so a
question typed at once is understood (issue 14). Real processes, a real SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def dudao(tmp_path: Path, *args: str, stdin: str | None = None, nlu: bool = False
          ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUDAO_SERVICE_DATA_DIR": str(tmp_path / "data"),
           "DUDAO_DATABASE_URL": f"sqlite:///{tmp_path}/dudao.db", "PYTHONPATH": str(ROOT),
           "DUDAO_NLU_ENABLED": "true" if nlu else "false"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, text=True,
                          capture_output=True, input=stdin, timeout=120, check=False)


def units_of(tmp_path: Path, title: str) -> list[str]:
    tasks = json.loads(dudao(tmp_path, "task", "list", "--json").stdout)
    return next(t["units"] for t in tasks if t["title"] == title)


def test_scope_words_on_the_command_line(tmp_path: Path) -> None:
    due = "2030-09-30T18:00+08:00"
    assert dudao(tmp_path, "task", "add", "--title", "甲", "--due", due, "--units", "各地市"
                 ).returncode == 0
    assert len(units_of(tmp_path, "甲")) == 18
    assert dudao(tmp_path, "task", "add", "--title", "乙", "--due", due, "--units",
                 "郑州和开封、洛阳").returncode == 0
    assert units_of(tmp_path, "乙") == ["郑州市", "开封市", "洛阳市"]
    assert dudao(tmp_path, "task", "add", "--title", "丙", "--due", due, "--units",
                 "直管县和省直部门").returncode == 0
    both = units_of(tmp_path, "丙")
    assert "巩义市" in both and len(both) > 10
    # the ASCII forms still work
    assert dudao(tmp_path, "task", "add", "--title", "丁", "--due", due, "--units", "kind:city"
                 ).returncode == 0
    assert units_of(tmp_path, "丁") == units_of(tmp_path, "甲")
    # a name nobody knows: exit 2, the name, the closest units
    bad = dudao(tmp_path, "task", "add", "--title", "戊", "--due", due, "--units", "郑州县")
    assert bad.returncode == 2 and "找不到单位：郑州县。您是不是要找：郑州市" in bad.stderr
    group = dudao(tmp_path, "group", "add", "qq:group:40001", "--name", "地市群", "--units", "全部地市")
    assert group.returncode == 0 and "18 个单位" in group.stdout
    sent = dudao(tmp_path, "notice", "send", "--to", "地市", "请报送统计表", "--json")
    assert sent.returncode == 0 and json.loads(sent.stdout)["groups"] == 1
    nobody = dudao(tmp_path, "notice", "send", "--to", "直管县", "请报送统计表")
    assert nobody.returncode == 2 and "没有找到要通知的群" in nobody.stderr


def test_console_waits_for_the_language_model(tmp_path: Path) -> None:
    for args in (("person", "add", "qq:10001", "--role", "admin", "--name", "管理员"),
                 ("group", "add", "qq:group:20001", "--name", "群", "--units", "各地市"),
                 ("task", "add", "--title", "三季度调研报告", "--due", "2030-09-30T18:00+08:00",
                  "--units", "郑州市")):
        assert dudao(tmp_path, *args).returncode == 0
    out = dudao(tmp_path, "console", "--as", "qq:10001", "--group", "qq:group:20001",
                stdin="郑州还有哪些没交？\n", nlu=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    prompt = next(i for i, line in enumerate(lines) if line.startswith("督导控制台"))
    answer = next(i for i, line in enumerate(lines) if "郑州市还有 1 项未提交" in line)
    assert prompt < answer
    assert "没太明白" not in out.stdout
