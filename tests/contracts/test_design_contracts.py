"""DESIGN §5, line by line: the names other parts and people rely on, so a drift fails here.

Walks the CLI (subcommands and flags from the real parser; ``--json`` keys from the real
command), the environment variable names, the HTTP endpoints (over HTTP, against the real app),
the JSON API's resources and conventions, and the chat vocabulary (each canonical command word
is routed, by the router's own lookup, to a handler allowing exactly the roles in the table).

Contracts being built on other branches right now are checked too, marked as expected to fail
in :data:`PENDING` below: the integrator removes an entry once its branch is merged. Known
drifts between DESIGN and the code (the test keeps to DESIGN) are in :data:`DRIFTS`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.cli.main import build_parser
from bot.core.router import RouteTable
from bot.domain.roles import ADMIN, LIAISON, OFFICIAL, ROLES
from config.settings import load_settings
from handlers import build_router

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- pending on other branches
# Remove an entry when its branch is merged: the checks below then hold without the mark.

_SITES = "built on branch sites (sites, spot checks, rectifications)"
_API_LATER = "API resource declared once branch cases/sites is merged (bot/web/api.py ENDPOINTS)"

PENDING: dict[str, str] = {
    # CLI
    # chat words
    # API resources
}

# DESIGN says one thing, the code another; the test keeps to DESIGN (see the report of ops-api).
DRIFTS: dict[str, str] = {
    "动态": "DESIGN: work dynamics are posted by liaisons; handlers/dynamics.py allows every "
          "registered role",
}


def _marks(key: str) -> list[Any]:
    if key in PENDING:
        return [pytest.mark.xfail(strict=False, reason=PENDING[key])]
    if key in DRIFTS:
        return [pytest.mark.xfail(strict=False, reason=f"drift: {DRIFTS[key]}")]
    return []


def case(key: str, *values: Any) -> Any:
    return pytest.param(*values, id=key, marks=_marks(key))


# ---------------------------------------------------------------- CLI names and flags

# (command path, positional arguments, options) as DESIGN §5 writes them.
CLI: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("serve", (), ()),
    ("console", (), ("--as", "--group")),
    ("person add", ("identity",), ("--unit", "--role", "--name")),
    ("group add", ("chat",), ("--name", "--units", "--purpose")),
    ("unit list", (), ()),
    ("unit import", ("file",), ()),
    ("unit invite", ("unit",), ()),
    ("person invite", ("identity",), ()),
    ("config check", (), ()),
    ("task add", (), ("--title", "--due", "--units", "--system", "--repeat")),
    ("task list", (), ()),
    ("submission list", (), ("--task",)),
    ("notice send", ("text",), ("--to",)),
    ("export", (), ("--year", "--out")),
    ("tick", (), ("--at",)),
    ("task edit", ("id",), ("--title", "--due", "--units")),
    ("task cancel", ("id",), ("--reason",)),
    ("person edit", ("identity",), ("--name", "--unit", "--role")),
    ("person passwd", ("identity",), ()),
    ("person remove", ("identity",), ()),
    ("group edit", ("chat",), ("--name", "--units")),
    ("group remove", ("chat",), ()),
    ("plan import", ("file",), ("--dry-run",)),
    ("plan preset", ("name",), ("--year",)),
    ("case list", (), ("--year", "--status")),
    ("case export", (), ("--year", "--out")),
    ("site add", (), ("--unit", "--name", "--text")),
    ("site list", (), ("--year",)),
    ("site accept", ("id",), ("--pass", "--fail", "--reason")),
    ("spotcheck draw", (), ("--units", "--count", "--seed", "--task")),
    ("rectify add", (), ("--unit", "--text", "--due", "--check")),
    ("rectify list", (), ("--status",)),
    ("rectify close", ("id",), ("--return", "--reason")),
    ("doc letter", (), ("--unit", "--issue", "--out")),
    ("doc bulletin", ("id",), ("--out",)),
    ("doc halfyear", (), ("--half", "--out")),
]
# Not admin subcommands: they run the service or a chat, and have no --json.
NO_JSON = {"serve", "console"}
# Choices DESIGN names for an option.
CHOICES = {
    ("person add", "--role"): {"liaison", "official", "admin"},
    ("group add", "--purpose"): {"exchange", "admin"},
    ("task add", "--system"): {"guidance", "exchange", "supervision", "evaluation"},
}
# Values DESIGN names for an option checked elsewhere than by argparse: its help must name them.
NAMED_IN_HELP = {("task add", "--repeat"): {"quarterly", "monthly", "yearly"}}


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """Every (sub)command's parser by its path, e.g. ``"task add"``."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        found[path] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, f"{path} {name}".strip())

    walk(build_parser(), "")
    return found


@pytest.mark.parametrize(("command", "positionals", "options"),
                         [case(c, c, p, o) for c, p, o in CLI])
def test_cli_command_and_flags(command: str, positionals: tuple[str, ...],
                               options: tuple[str, ...]) -> None:
    parsers = _parsers()
    assert command in parsers, f"`dudao {command}` does not exist"
    parser = parsers[command]
    flags = {o for a in parser._actions for o in a.option_strings}
    for option in options:
        assert option in flags, f"`dudao {command}` has no {option}"
    if command not in NO_JSON:
        assert "--json" in flags, f"`dudao {command}` has no --json"
    given = [a for a in parser._actions if not a.option_strings
             and not isinstance(a, argparse._SubParsersAction)]
    assert len(given) == len(positionals), (command, [a.dest for a in given])
    for (cmd, option), choices in CHOICES.items():
        if cmd == command:
            action = next(a for a in parser._actions if option in a.option_strings)
            assert set(action.choices or ()) == choices, (command, option)
    for (cmd, option), words in NAMED_IN_HELP.items():
        if cmd == command:
            action = next(a for a in parser._actions if option in a.option_strings)
            assert all(w in (action.help or "") for w in words), (command, option, action.help)


def test_cli_top_level_options_and_json_after_the_subcommand() -> None:
    parser = build_parser()
    assert "--config" in {o for a in parser._actions for o in a.option_strings}
    args = parser.parse_args(["task", "list", "--json"])
    assert args.json is True
    with pytest.raises(SystemExit):
        parser.parse_args(["--json", "task", "list"])  # --json belongs after the subcommand


def test_cli_python_m_bot_is_the_dudao_command(tmp_path: Path) -> None:
    res = _dudao(tmp_path, "--help")
    assert res.returncode == 0
    for command in ("serve", "console", "person", "group", "unit", "config", "task",
                    "submission", "notice", "export", "tick", "plan", "doc"):
        assert command in res.stdout, command


# ---------------------------------------------------------------- --json keys, real CLI


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env.update({"DUDAO_NLU_ENABLED": "false", "DUDAO_SERVICE_DATA_DIR": str(tmp_path / "data"),
                "PYTHONPATH": str(ROOT)})
    return env


def _dudao(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)


def _json(tmp_path: Path, *args: str) -> Any:
    res = _dudao(tmp_path, *args, "--json")
    assert res.returncode == 0, (args, res.stderr)
    return json.loads(res.stdout)


TASK_KEYS = {"id", "title", "due", "units", "system", "status"}
SUBMISSION_KEYS = {"id", "task_id", "task", "unit", "submitter", "text", "attachments", "status",
                   "rating", "version", "submitted_at"}
ATTACHMENT_KEYS = {"name", "sha256", "size"}


def test_cli_json_keys_of_tasks_submissions_and_invites(tmp_path: Path) -> None:
    # First start: the bundled roster is loaded (DESIGN §5, `dudao serve` / any admin command).
    added = _json(tmp_path, "task", "add", "--title", "三季度调研报告",
                  "--due", "2026-09-30T18:00+08:00", "--units", "郑州市", "--system", "guidance")
    task_id = added["id"] if isinstance(added, dict) else added
    assert isinstance(task_id, int)
    tasks = _json(tmp_path, "task", "list")
    assert isinstance(tasks, list) and len(tasks) == 1
    assert TASK_KEYS <= set(tasks[0]), set(tasks[0])
    assert tasks[0]["id"] == task_id and tasks[0]["system"] == "guidance"
    _submit(tmp_path, task_id)
    subs = _json(tmp_path, "submission", "list", "--task", str(task_id))
    assert isinstance(subs, list) and len(subs) == 1
    assert SUBMISSION_KEYS <= set(subs[0]), set(subs[0])
    assert set(subs[0]["attachments"][0]) >= ATTACHMENT_KEYS
    assert subs[0]["id"] >= 1  # the #12 of the chat
    assert isinstance(_json(tmp_path, "unit", "invite", "郑州市")["code"], str)
    assert _dudao(tmp_path, "person", "add", "qq:30011", "--unit", "郑州市",
                  "--role", "official").returncode == 0
    assert isinstance(_json(tmp_path, "person", "invite", "qq:30011")["code"], str)
    # Bad input: a non-zero exit and one clear line, nothing on stdout.
    bad = _dudao(tmp_path, "task", "add", "--title", "x", "--due", "明天", "--json")
    assert bad.returncode != 0 and bad.stdout == "" and bad.stderr.startswith("错误：")


def _submit(tmp_path: Path, task_id: int) -> None:
    """A liaison's submission with a file, written by the service as the chat path does (the
    CLI has no command to submit; the check is of what `submission list` prints)."""
    code = f"""
import sys
from datetime import datetime, UTC
from bot.core.event import StoredFile
from bot.services import people, submissions, units
from config.settings import load_settings
from storage.db import Database
db = Database(load_settings().database_url)
def write(conn):
    uid = next(u.id for u in units.list_units(conn) if u.name == "郑州市")
    p = people.add(conn, identity="qq:30001", unit="郑州市", role="liaison", name="张三",
                   now=datetime.now(UTC))
    submissions.submit(conn, task_id={task_id}, unit_id=uid, person_id=p.id, text="见附件",
                       files=(StoredFile("报告.docx", "ab" * 32, 10, "x/报告.docx"),),
                       now=datetime.now(UTC))
db.transaction(write)
db.close()
"""
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(tmp_path),
                         capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr


# ---------------------------------------------------------------- environment variables

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ENV: list[tuple[str, str, str, Any]] = [
    ("DUDAO_DATABASE_URL", "sqlite:///contract.db", "database.url", "sqlite:///contract.db"),
    ("DUDAO_HTTP_PORT", "8181", "http.port", 8181),
    ("DUDAO_ONEBOT_ACCESS_TOKEN", "tok-123", "onebot.access_token", "tok-123"),
    ("DUDAO_ONEBOT_SECRET", "sec-456", "onebot.secret", "sec-456"),
    ("DUDAO_WECHAT_MP_TOKEN", "wxtoken", "wechat_mp.token", "wxtoken"),
    ("DUDAO_WECHAT_MP_APP_ID", "wx1234567890", "wechat_mp.app_id", "wx1234567890"),
    ("DUDAO_WECHAT_MP_AES_KEY", AES_KEY, "wechat_mp.aes_key", AES_KEY),
    ("DUDAO_WECHAT_MP_MODE", "compatible", "wechat_mp.mode", "compatible"),
    ("DUDAO_ADMINS", "qq:10001,qq:10002", "admins", ("qq:10001", "qq:10002")),
]


@pytest.mark.parametrize(("var", "value", "where", "expected"), ENV, ids=[e[0] for e in ENV])
def test_env_var_names(tmp_path: Path, var: str, value: str, where: str, expected: Any) -> None:
    env = {var: value}
    if var == "DUDAO_WECHAT_MP_MODE":
        env["DUDAO_WECHAT_MP_AES_KEY"] = AES_KEY
    settings: Any = load_settings(environ=env, cwd=tmp_path)
    for part in where.split("."):
        settings = getattr(settings, part)
    assert settings == expected


def test_config_check_shows_the_effective_configuration_with_secrets_masked(
        tmp_path: Path) -> None:
    secret = "s3cret-access-token-value"
    res = subprocess.run([sys.executable, "-m", "bot", "config", "check", "--json"],
                         cwd=tmp_path, env={**_env(tmp_path), "DUDAO_ONEBOT_ACCESS_TOKEN": secret,
                                            "DUDAO_HTTP_PORT": "8181"},
                         capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    assert secret not in res.stdout + res.stderr
    assert "8181" in res.stdout


def test_wechat_mode_default_follows_the_aes_key(tmp_path: Path) -> None:
    plain = load_settings(environ={}, cwd=tmp_path).wechat_mp
    safe = load_settings(environ={"DUDAO_WECHAT_MP_AES_KEY": AES_KEY}, cwd=tmp_path).wechat_mp
    assert (plain.effective_mode, safe.effective_mode) == ("plain", "safe")


# ---------------------------------------------------------------- HTTP endpoints


@dataclass
class App:
    client: TestClient


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    from bot.app import create_app

    settings = load_settings(environ={}, cwd=tmp_path, overrides={
        "service": {"data_dir": str(tmp_path / "data"), "roster": ""},
        "database": {"url": f"sqlite:///{tmp_path}/dudao.db"},
        "schedule": {"enabled": False}, "nlu": {"enabled": False},
        "onebot": {"access_token": "contract-token"},
        "wechat_mp": {"token": "wxtoken", "app_id": "wx1234567890"},
        "web": {"api_token": "contract-api-token"},
    })
    client = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
    await client.start_server()
    try:
        yield App(client)
    finally:
        await client.close()


ENDPOINTS = [("GET", "/healthz"), ("GET", "/onebot/v11/ws"), ("POST", "/onebot/v11/http"),
             ("GET", "/onebot/v12/ws"), ("GET", "/wechat/mp"), ("POST", "/wechat/mp"),
             ("GET", "/"), ("GET", "/api/v1/"), ("GET", "/api/v1/openapi.json")]


async def test_endpoints_are_served(app: App) -> None:
    routes = {(r.method, r.resource.canonical) for r in app.client.app.router.routes()
              if r.resource is not None}
    for method, path in ENDPOINTS:
        assert (method, path) in routes, f"{method} {path} is not served"
    health = await app.client.get("/healthz")
    assert health.status == 200 and health.content_type == "application/json"
    body = await health.json()
    assert "database" in json.dumps(body) and "adapters" in json.dumps(body)
    # The board and its JSON need a login or a token: a redirect for the board, a JSON 401.
    board = await app.client.get("/", allow_redirects=False)
    assert board.status in (302, 303)
    for path in ("/api/v1/", "/api/v1/openapi.json"):
        refused = await app.client.get(path)
        assert refused.status == 401 and "error" in await refused.json()


async def test_onebot_reverse_ws_takes_bearer_or_query_token(app: App) -> None:
    for kwargs in ({"headers": {"Authorization": "Bearer contract-token", "X-Self-ID": "1"}},
                   {"params": {"access_token": "contract-token"},
                    "headers": {"X-Self-ID": "2"}}):
        ws = await app.client.ws_connect("/onebot/v11/ws", **kwargs)  # type: ignore[arg-type]
        await ws.close()
    wrong = await app.client.get("/onebot/v11/ws", headers={"Authorization": "Bearer nope",
                                                            "X-Self-ID": "3"})
    assert wrong.status in (401, 403)


# ---------------------------------------------------------------- the JSON API

API_RESOURCES = [case("api:units", "units"), case("api:tasks", "tasks"),
                 case("api:submissions", "submissions"), case("api:flags", "flags"),
                 case("api:notices", "notices"), case("api:cases", "cases"),
                 case("api:sites", "sites"), case("api:rectifications", "rectifications")]
BEARER = {"Authorization": "Bearer contract-api-token"}


@pytest.mark.parametrize("resource", API_RESOURCES)
async def test_api_resource_listed_described_and_paged(app: App, resource: str) -> None:
    index = await (await app.client.get("/api/v1/", headers=BEARER)).json()
    assert resource in {r["name"] for r in index["resources"]}
    spec = await (await app.client.get("/api/v1/openapi.json", headers=BEARER)).json()
    assert spec["openapi"].startswith("3.1")
    path = f"/api/v1/{resource}"
    assert path in spec["paths"], path
    params = {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
    assert {"limit", "cursor"} <= params
    page = await (await app.client.get(f"{path}?limit=1", headers=BEARER)).json()
    assert set(page) == {"items", "next_cursor"}


async def test_api_submission_filters_and_notice_acknowledgements(app: App) -> None:
    spec = await (await app.client.get("/api/v1/openapi.json", headers=BEARER)).json()
    params = {p["name"] for p in spec["paths"]["/api/v1/submissions"]["get"]["parameters"]}
    assert {"task", "unit", "since"} <= params
    assert any(p.startswith("/api/v1/notices/") and "acknowledgement" in p
               for p in spec["paths"])


async def test_api_every_error_is_json(app: App) -> None:
    for path in ("/api/v1/no-such-thing", "/api/v1/units/999999", "/api/v1/tasks/abc"):
        resp = await app.client.get(path, headers=BEARER)
        assert resp.status == 404
        body = await resp.json()
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])


# ---------------------------------------------------------------- chat vocabulary

ALL = "all"  # every registered role
ANYONE = "anyone"  # not registered yet included
# (canonical command word, who) from DESIGN §5's table; a cell with two words gives two rows.
VOCABULARY: list[tuple[str, Any]] = [
    ("帮助", ALL), ("绑定", ANYONE), ("我的任务", {LIAISON, OFFICIAL}),
    ("待办", {LIAISON, OFFICIAL}), ("提交", {LIAISON}), ("进度", ALL), ("谁没交", ALL),
    ("红旗榜", ALL), ("我单位旗帜", ALL), ("动态", {LIAISON}), ("收到", ALL),
    ("谁没确认", {ADMIN}), ("发布任务", {ADMIN}), ("通过", {ADMIN}), ("退回", {ADMIN}),
    ("通知", {ADMIN}), ("创新", {ADMIN}), ("通报批评", {ADMIN}), ("通报", {ADMIN}),
    ("发布通报", {ADMIN}), ("延期", {ADMIN}), ("撤销任务", {ADMIN}), ("案例", {LIAISON}),
    ("查案例", ALL), ("入选", {ADMIN}), ("申报示范点", {LIAISON}), ("示范点", ALL),
    ("整改", {LIAISON}), ("确认整改", {ADMIN}), ("退回整改", {ADMIN}), ("抽查", {ADMIN}),
]


@pytest.mark.parametrize(("word", "who"), [case(w, w, who) for w, who in VOCABULARY])
def test_chat_command_word_routes_to_a_handler_with_the_stated_roles(word: str,
                                                                     who: Any) -> None:
    table = RouteTable(build_router())
    for prefix in ("", "/", "#"):  # with or without a leading / or #
        match = table.by_command(f"{prefix}{word} 参数")
        assert match is not None, f"{prefix}{word} is not a command"
        assert match.command == word, f"{prefix}{word} is taken by {match.command}"
    spec = match.route.spec
    if who == ANYONE:
        assert spec.roles == (), spec.roles
    elif who == ALL:
        assert spec.roles == () or set(spec.roles) == set(ROLES), spec.roles
    else:
        assert set(spec.roles) == who, (word, spec.roles)
        # The refusal says who may (one line, the router's).
        assert spec.refusal.startswith("只有") and "可以" in spec.refusal
