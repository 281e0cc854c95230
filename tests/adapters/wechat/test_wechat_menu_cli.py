"""``dudao wechat menu``: the real CLI entry point against the fake WeChat API on 127.0.0.1.

The command runs its own event loop (``asyncio.run``), so async tests run it in a thread while
the fake server is served by the test's loop.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.wechat_mp.menu import DEFAULT_MENU, MENU_COMMANDS
from bot.cli import main
from storage.db import Database
from storage.models import AppToken, AuditEntry

from .conftest import APP_ID, FakeWeChat


def write_config(tmp_path: Path, api_base: str = "http://127.0.0.1:9", *,
                 app_id: str = APP_ID, secret: str = "s3cret") -> Path:
    path = tmp_path / "dudao.toml"
    path.write_text(
        f'[service]\ndata_dir = "{tmp_path}/data"\n'
        f'[database]\nurl = "sqlite:///{tmp_path}/dudao.db"\n'
        f'[wechat_mp]\napp_id = "{app_id}"\napp_secret = "{secret}"\napi_base = "{api_base}"\n',
        encoding="utf-8")
    return path


def menu_file(tmp_path: Path, menu: Any) -> str:
    path = tmp_path / "menu.json"
    path.write_text(menu if isinstance(menu, str) else json.dumps(menu, ensure_ascii=False),
                    encoding="utf-8")
    return str(path)


def test_dry_run_prints_the_default_menu_without_calling_wechat(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--config", str(write_config(tmp_path)), "wechat", "menu", "--dry-run"])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == DEFAULT_MENU
    # every CLICK key of the built-in menu is a command the wiring understands
    assert [(b["type"], b["key"]) for b in printed["button"]] == [
        ("click", k) for k in MENU_COMMANDS]
    assert not (tmp_path / "dudao.db").exists()  # a dry run touches nothing


async def test_the_default_menu_is_created_with_the_shared_token(
        tmp_path: Path, fake_wechat: tuple[FakeWeChat, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    fake, base = fake_wechat
    cfg = write_config(tmp_path, base)
    rc = await asyncio.to_thread(main, ["--config", str(cfg), "wechat", "menu", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"created": True, "menu": DEFAULT_MENU}
    assert [(p, b) for p, _, b in fake.requests] == [("/cgi-bin/menu/create", DEFAULT_MENU)]
    assert len(fake.token_calls) == 1
    # the token is stored for the service (and the next command) to share; the action audited
    db = Database(f"sqlite:///{tmp_path}/dudao.db")
    try:
        token = db.transaction(lambda c: c.execute(select(AppToken.token)).scalar())
        entry = db.transaction(lambda c: c.execute(
            select(AuditEntry).where(AuditEntry.action == "wechat.menu")).one())
    finally:
        db.close()
    assert token == fake.current()
    assert (entry.channel, entry.target) == ("cli", f"mp:{APP_ID}")
    assert entry.detail == {"buttons": ["我的任务", "进度", "红旗榜"]}

    rc = await asyncio.to_thread(main, ["--config", str(cfg), "wechat", "menu"])
    assert rc == 0
    assert "公众号菜单已创建：我的任务、进度、红旗榜" in capsys.readouterr().out
    assert len(fake.token_calls) == 1  # the stored token was used


async def test_a_menu_from_a_file(tmp_path: Path, fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    menu = {"button": [
        {"type": "click", "name": "我的任务", "key": "my_tasks"},
        {"name": "更多", "sub_button": [
            {"type": "click", "name": "红旗榜", "key": "flags"},
            {"type": "view", "name": "督导看板", "url": "https://dudao.example.cn/"}]}]}
    rc = await asyncio.to_thread(main, ["--config", str(write_config(tmp_path, base)),
                                        "wechat", "menu", "--file", menu_file(tmp_path, menu)])
    assert rc == 0
    assert [b for p, _, b in fake.requests if p == "/cgi-bin/menu/create"] == [menu]


@pytest.mark.parametrize(("menu", "message"), [
    ({"button": [{"type": "click", "name": "签到", "key": "checkin"}]}, "不是机器人认识的命令"),
    ({"button": [{"type": "click", "name": f"m{i}", "key": "status"} for i in range(4)]},
     "一级菜单应有 1 到 3 个"),
    ({"button": [{"type": "click", "name": "这个名字实在是太长了", "key": "status"}]}, "太长"),
    ({"button": [{"name": "更多", "sub_button": [
        {"type": "view", "name": "看板", "url": "javascript:alert(1)"}]}]}, "网址"),
    ({"button": [{"type": "click", "key": "status"}]}, "缺少名称"),
    ({"menu": []}, '{"button": [...]}'),
    ("{not json", "不是合法的 JSON"),
])
def test_bad_menus_exit_2_with_a_chinese_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], menu: Any, message: str) -> None:
    rc = main(["--config", str(write_config(tmp_path)), "wechat", "menu",
               "--file", menu_file(tmp_path, menu)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and message in err


def test_missing_file_and_missing_credentials_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(write_config(tmp_path))
    assert main(["--config", cfg, "wechat", "menu", "--file", str(tmp_path / "nope.json")]) == 2
    assert "读不到菜单文件" in capsys.readouterr().err
    cfg = str(write_config(tmp_path, app_id="", secret=""))
    assert main(["--config", cfg, "wechat", "menu"]) == 2
    assert "未配置公众号" in capsys.readouterr().err


async def test_wechat_refusal_exits_1(tmp_path: Path, fake_wechat: tuple[FakeWeChat, str],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    fake, base = fake_wechat
    fake.script["/cgi-bin/menu/create"] = [{"errcode": 48001, "errmsg": "api unauthorized"}]
    rc = await asyncio.to_thread(main, ["--config", str(write_config(tmp_path, base)),
                                        "wechat", "menu"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "48001" in err and "微信接口拒绝创建菜单" in err
    assert "s3cret" not in err
    db = Database(f"sqlite:///{tmp_path}/dudao.db")
    try:
        audited = db.transaction(lambda c: c.execute(
            select(AuditEntry).where(AuditEntry.action == "wechat.menu")).all())
    finally:
        db.close()
    assert audited == []
