"""What an admin types on the command line is read as chat reads it (issue 14).

A deadline given as a date alone is that day at 18:00 (``[plan] due_time``), as in chat; an
identity is checked and normalised (lower-case platform, a known platform, QQ numbers only
digits), so ``QQ:10001`` is the person ``qq:10001`` and not a second one. Real command, real
SQLite database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.serving import clean_env


def dudao(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(DUDAO_NLU_ENABLED="false", DUDAO_SERVICE_DATA_DIR=str(tmp_path / "data"),
                    DUDAO_DATABASE_URL=f"sqlite:///{tmp_path}/dudao.db", **extra)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_date_alone_is_due_at_six_in_the_evening(tmp_path: Path) -> None:
    res = dudao(tmp_path, "task", "add", "--title", "年度总结", "--due", "2030-12-20",
                "--units", "郑州市", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["due"] == "2030-12-20T18:00:00+08:00"
    # a time given is kept; the configured time of day is the default
    res = dudao(tmp_path, "task", "add", "--title", "月报", "--due", "2030-12-21T09:30",
                "--units", "郑州市", "--json")
    assert json.loads(res.stdout)["due"] == "2030-12-21T09:30:00+08:00"
    res = dudao(tmp_path, "task", "add", "--title", "周报", "--due", "2030-12-22",
                "--units", "郑州市", "--json", DUDAO_PLAN_DUE_TIME="17:30")
    assert json.loads(res.stdout)["due"] == "2030-12-22T17:30:00+08:00"


def test_identities_are_normalised_and_checked(tmp_path: Path) -> None:
    first = dudao(tmp_path, "person", "add", "QQ:10001", "--role", "admin", "--name", "管理员")
    assert first.returncode == 0, first.stderr
    # one line, the role said once
    assert first.stdout.splitlines() == ["已登记 qq:10001：管理员，不属于任何单位"]
    again = dudao(tmp_path, "person", "add", "qq:10001", "--role", "admin", "--name", "王五")
    assert again.returncode == 2 and "身份 qq:10001 已经登记过了" in again.stderr
    named = dudao(tmp_path, "person", "add", "qq:30001", "--unit", "郑州市", "--role", "liaison",
                  "--name", "张三")
    assert named.stdout.splitlines() == ["已登记 qq:30001（张三）：联络员，郑州市"]


@pytest.mark.parametrize(("identity", "says"), [
    ("qq:abc", "QQ 号只能是数字"),
    ("qq:10001x", "QQ 号只能是数字"),
    ("foo:123", "不认识的平台“foo”"),
    ("10001", "应写作 平台:号码"),
    ("qq:", "应写作 平台:号码"),
])
def test_a_bad_identity_is_refused_and_nothing_is_registered(tmp_path: Path, identity: str,
                                                             says: str) -> None:
    res = dudao(tmp_path, "person", "add", identity, "--role", "admin")
    assert res.returncode == 2
    assert len(res.stderr.splitlines()) == 1 and says in res.stderr
    people = dudao(tmp_path, "person", "add", "qq:10002", "--role", "admin", "--json")
    assert json.loads(people.stdout)["id"] == 1  # nobody was written before


def test_configured_admins_are_normalised_too(tmp_path: Path) -> None:
    res = dudao(tmp_path, "person", "add", "qq:10001", "--role", "admin",
                DUDAO_ADMINS="QQ:10001")
    # the configured admin is qq:10001, registered at start: the same identity again is refused
    assert res.returncode == 2 and "已经登记过了" in res.stderr


def test_the_console_speaks_as_the_normalised_identity(tmp_path: Path) -> None:
    assert dudao(tmp_path, "person", "add", "qq:10001", "--role", "admin").returncode == 0
    env = clean_env(DUDAO_NLU_ENABLED="false", DUDAO_SERVICE_DATA_DIR=str(tmp_path / "data"),
                    DUDAO_DATABASE_URL=f"sqlite:///{tmp_path}/dudao.db")
    res = subprocess.run([sys.executable, "-m", "bot", "console", "--as", "QQ:10001"],
                         cwd=tmp_path, env=env, input="帮助\n", capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert "你是 qq:10001" in res.stdout and "发布任务" in res.stdout  # the admin's help
    bad = dudao(tmp_path, "console", "--as", "qq:zhang")
    assert bad.returncode == 2 and "QQ 号只能是数字" in bad.stderr


def test_a_platform_of_ones_own_is_known_once_configured(tmp_path: Path) -> None:
    args = ("person", "add", "lb:alice", "--unit", "郑州市", "--role", "liaison")
    refused = dudao(tmp_path, *args)
    assert refused.returncode == 2 and "不认识的平台“lb”" in refused.stderr
    # `[service] adapters` names an adapter of one's own (docs/architecture.md): its platform
    ok = dudao(tmp_path, *args, DUDAO_SERVICE_ADAPTERS="onebot,tests.adapters.loopback")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("已登记 lb:alice：联络员，郑州市")
