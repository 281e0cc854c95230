"""Correcting what an admin created (issue 14, DESIGN §5): `dudao task edit | cancel`, `dudao
person list | edit | passwd | remove`, `dudao group edit | remove`, through the real command on
SQLite and PostgreSQL. Every change is audited; bad input is one Chinese line and a non-zero exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from storage.db import Database
from storage.models import AuditEntry, Flag, Group, OutboxMessage, Person, Task
from tests.support.pg import pg_url

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.config = tmp_path / "dudao.toml"
        self.config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n'
                               f'[database]\nurl = "{url}"\n[nlu]\nenabled = false\n',
                               encoding="utf-8")
        self.capsys = capsys

    def run(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            status = main(["--config", str(self.config), *args])
        except SystemExit as exc:
            status = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return status, out, err

    def json(self, *args: str) -> Any:
        status, out, err = self.run(*args, "--json")
        assert status == 0, err
        return json.loads(out)

    def fails(self, *args: str) -> str:
        status, out, err = self.run(*args)
        assert status != 0, out
        assert len(err.strip().splitlines()) == 1, err
        return err.strip()

    def query(self, stmt: Any) -> list[Any]:
        db = Database(self.url)
        try:
            return list(db.transaction(lambda c: c.execute(stmt).all()))
        finally:
            db.close()

    def audit(self, action: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [tuple(r) for r in self.query(  # type: ignore[misc]
            select(AuditEntry.actor, AuditEntry.target, AuditEntry.detail)
            .where(AuditEntry.action == action).order_by(AuditEntry.id))]

    def outbox(self, after: int = 0) -> list[tuple[int, str, str, str]]:
        rows = self.query(select(OutboxMessage.id, OutboxMessage.chat, OutboxMessage.kind,
                                 OutboxMessage.content).where(OutboxMessage.id > after)
                          .order_by(OutboxMessage.id))
        return [(r.id, r.chat, r.kind, "".join(s.get("text", "") for s in r.content))
                for r in rows]


@pytest.fixture(params=["sqlite", "postgres"])
def cli(request: pytest.FixtureRequest, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> Cli:
    url = (f"sqlite:///{tmp_path}/dudao.db" if request.param == "sqlite"
           else pg_url("dudao_test_cli_corrections"))
    c = Cli(tmp_path, url, capsys)
    assert c.run("group", "add", "qq:group:40001", "--name", "地市群", "--units",
                 "郑州市,开封市")[0] == 0
    assert c.run("group", "add", "qq:group:40002", "--name", "洛阳群", "--units", "洛阳市")[0] == 0
    assert c.run("person", "add", "qq:30001", "--unit", "郑州市", "--role", "liaison",
                 "--name", "张三")[0] == 0
    return c


def test_a_cancelled_past_due_task_has_its_flags_withdrawn_and_is_reminded_no_more(
        cli: Cli) -> None:
    units = "郑州市,开封市,洛阳市"
    wrong = cli.json("task", "add", "--title", "误发的调研报告", "--due", "2026-11-20T18:00+08:00",
                     "--units", units)["id"]
    kept = cli.json("task", "add", "--title", "对照任务", "--due", "2026-11-20T18:00+08:00",
                    "--units", units)["id"]
    cli.json("tick", "--at", "2026-11-23T09:30+08:00")  # past due: yellow, first urging
    yellow = cli.query(select(Flag.unit_id).where(Flag.task_id == wrong, Flag.current.is_(True),
                                                  Flag.color == "yellow"))
    assert len(yellow) == 3
    last = cli.outbox()[-1][0]

    done = cli.json("task", "cancel", str(wrong), "--reason", "重复发布")
    assert (done["status"], done["flags_withdrawn"], done["groups_told"]) == ("cancelled", 3, 2)
    told = cli.outbox(last)
    assert sorted(chat for _, chat, _, _ in told) == ["qq:group:40001", "qq:group:40002"]
    assert all(text.startswith(f"【任务撤销】《误发的调研报告》（任务 {wrong}）已撤销，原因：重复发布")
               for _, _, _, text in told)
    # the rows stay, withdrawn with the reason; none is current
    flags = cli.query(select(Flag.current, Flag.withdrawn_reason, Flag.withdrawn_at)
                      .where(Flag.task_id == wrong))
    assert len(flags) == 3
    assert all(not f.current and f.withdrawn_reason == "任务已撤销：重复发布" and f.withdrawn_at
               for f in flags)
    assert cli.audit("task.cancel") == [
        ("cli:" + os.environ.get("USER", "root"), f"task:{wrong}",
         {"reason": "重复发布", "groups": 2, "flags_withdrawn": 3})]

    # the next tick urges the task kept, never the cancelled one
    last = cli.outbox()[-1][0]
    tick = cli.json("tick", "--at", "2026-11-25T09:30+08:00")
    assert {c["task_id"] for c in tick["sweep"]["claimed"]} == {kept}
    urged = cli.outbox(last)
    assert urged and all("对照任务" in text and "误发" not in text for _, _, _, text in urged)

    # cancelled: not in the open list, shown as cancelled in the full one; cannot be edited
    assert [t["id"] for t in cli.json("task", "list")] == [kept]
    assert {t["id"]: t["status"] for t in cli.json("task", "list", "--all")}[wrong] == "cancelled"
    assert cli.fails("task", "edit", str(wrong), "--title", "新标题") == (
        f"错误：任务 {wrong}《误发的调研报告》已撤销，不能再修改")
    assert cli.fails("task", "cancel", str(wrong), "--reason", "再撤一次") == (
        f"错误：任务 {wrong}《误发的调研报告》已经撤销过了")


def test_a_changed_deadline_is_told_once_per_group_and_audited(cli: Cli) -> None:
    tid = cli.json("task", "add", "--title", "三季度调研报告", "--due", "2027-09-30T18:00+08:00",
                   "--units", "郑州市,开封市,洛阳市")["id"]
    last = cli.outbox()[-1][0] if cli.outbox() else 0
    out = cli.json("task", "edit", str(tid), "--due", "2027-10-15T18:00+08:00", "--title",
                   "三季度调研报告（修订）")
    assert out["title"] == "三季度调研报告（修订）" and out["due"].startswith("2027-10-15T10:00")
    assert out["groups_told"] == 2
    told = cli.outbox(last)
    assert sorted(chat for _, chat, _, _ in told) == ["qq:group:40001", "qq:group:40002"]
    by_chat = {chat: text for _, chat, _, text in told}
    assert by_chat["qq:group:40001"] == (
        f"【任务变更】《三季度调研报告（修订）》（任务 {tid}）截止时间由 9月30日 18:00 改为 "
        "10月15日 18:00。\n涉及单位：郑州市、开封市")
    assert by_chat["qq:group:40002"].endswith("涉及单位：洛阳市")
    (entry,) = cli.audit("task.edit")
    assert entry[1] == f"task:{tid}"
    assert entry[2]["title"] == ["三季度调研报告", "三季度调研报告（修订）"]
    assert entry[2]["due"][1].startswith("2027-10-15T18:00")

    # units: 洛阳 moved out, nothing more to tell about the deadline
    out = cli.json("task", "edit", str(tid), "--units", "郑州市,开封市")
    assert out["units"] == ["郑州市", "开封市"] and out["groups_told"] == 0
    # nothing to change, unknown task, bad id, bad time, unknown unit: one line each
    assert cli.fails("task", "edit", str(tid)) == "错误：没有要修改的内容：请给出 --title、--due 或 --units"
    assert cli.fails("task", "edit", str(tid), "--units", "郑州市,开封市") == (
        f"错误：任务 {tid} 没有变化：给出的内容与现在相同")
    assert cli.fails("task", "edit", "999", "--title", "x") == "错误：没有编号为 999 的任务"
    assert cli.fails("task", "edit", "abc", "--title", "x") == "错误：任务编号应为数字：'abc'"
    assert cli.fails("task", "edit", str(tid), "--due", "明天") .startswith("错误：时间格式不对")
    assert "火星市" in cli.fails("task", "edit", str(tid), "--units", "火星市")
    assert cli.fails("task", "cancel", str(tid), "--reason", "  ") == "错误：撤销任务需要写明原因（--reason）"
    assert len(cli.audit("task.edit")) == 2  # refusals wrote nothing


def test_people_are_edited_listed_and_removed_with_their_history_kept(cli: Cli) -> None:
    out = cli.json("person", "edit", "qq:30001", "--name", "张三丰", "--unit", "开封市")
    assert (out["name"], out["unit"], out["role"]) == ("张三丰", "开封市", "liaison")
    assert out["changes"] == {"name": ["张三", "张三丰"], "unit": ["郑州市", "开封市"]}
    listed = {p["identities"][0]: p for p in cli.json("person", "list")}
    assert listed["qq:30001"]["unit"] == "开封市"
    assert cli.fails("person", "edit", "qq:30001") == (
        "错误：没有要修改的内容：请给出 --name、--unit 或 --role")
    assert cli.fails("person", "edit", "qq:30001", "--name", "张三丰") == (
        "错误：qq:30001 没有变化：给出的内容与现在相同")
    assert cli.fails("person", "edit", "qq:39999", "--name", "x") == (
        "错误：身份 qq:39999 没有登记（或已停用）")
    assert cli.fails("person", "edit", "qq:30001", "--role", "bogus") == (
        "错误：角色“bogus”不存在，可选：admin、liaison、official")

    removed = cli.json("person", "remove", "qq:30001")
    assert removed["active"] is False
    assert "qq:30001" not in {p["identities"][0] for p in cli.json("person", "list")}
    row = cli.query(select(Person.active, Person.name).where(Person.id == removed["id"]))
    assert [(r.active, r.name) for r in row] == [(False, "张三丰")]  # the record stays
    assert cli.fails("person", "remove", "qq:30001") == "错误：身份 qq:30001 没有登记（或已停用）"
    assert [a[2]["identity"] for a in cli.audit("person.edit")] == ["qq:30001"]
    # the last admin stays one
    assert cli.run("person", "add", "qq:10001", "--role", "admin")[0] == 0
    assert cli.fails("person", "remove", "qq:10001") == "错误：这是最后一位管理员，不能停用"
    assert cli.fails("person", "edit", "qq:10001", "--role", "liaison", "--unit", "郑州市") == (
        "错误：这是最后一位管理员，不能改为其他角色")
    assert [a[1] for a in cli.audit("person.remove")] == [f"person:{removed['id']}"]


def test_groups_are_edited_and_removed(cli: Cli) -> None:
    out = cli.json("group", "edit", "qq:group:40001", "--name", "郑开群", "--units", "郑州市")
    assert (out["name"], out["units"]) == ("郑开群", 1)
    assert out["changes"] == {"name": ["地市群", "郑开群"], "units": [2, 1]}
    assert cli.fails("group", "edit", "qq:group:40001") == (
        "错误：没有要修改的内容：请给出 --name 或 --units")
    assert cli.fails("group", "edit", "qq:group:49999", "--name", "x") == (
        "错误：群 qq:group:49999 没有登记")
    cli.json("group", "remove", "qq:group:40002")
    assert [g["chat"] for g in cli.json("group", "list")] == ["qq:group:40001"]
    assert cli.query(select(Group.active).where(Group.chat == "qq:group:40002"))[0].active is False
    # a task published now is told to no removed group
    tid = cli.json("task", "add", "--title", "测试", "--due", "2027-09-30T18:00+08:00",
                   "--units", "郑州市,洛阳市")["id"]
    out = cli.json("task", "edit", str(tid), "--due", "2027-10-30T18:00+08:00")
    assert out["groups_told"] == 1
    assert [a[1] for a in cli.audit("group.edit")] == ["qq:group:40001"]
    assert [a[1] for a in cli.audit("group.remove")] == ["qq:group:40002"]
    # registered again after removal: active with what is given now
    assert cli.run("group", "add", "qq:group:40002", "--name", "新洛阳群", "--units", "洛阳市")[0] == 0
    assert {g["chat"] for g in cli.json("group", "list")} == {"qq:group:40001", "qq:group:40002"}


def _dudao(tmp_path: Path, *args: str, stdin: str = "", **env: str
           ) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    full.update({"DUDAO_NLU_ENABLED": "false", "DUDAO_SERVICE_DATA_DIR": str(tmp_path / "data"),
                 "PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=full,
                          input=stdin, capture_output=True, text=True, timeout=60, check=False)


def test_passwd_from_stdin_for_an_admin_named_only_in_the_configuration(tmp_path: Path) -> None:
    admins = {"DUDAO_ADMINS": "qq:10001"}
    res = _dudao(tmp_path, "person", "passwd", "qq:10001", "--json", stdin="s3cret-pass\n",
                 **admins)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["role"] == "admin"
    assert "s3cret-pass" not in res.stdout + res.stderr
    db = Database(f"sqlite:///{tmp_path}/data/dudao.db")
    try:
        stored = db.transaction(lambda c: c.execute(select(Person.password_hash)).scalars().all())
        actions = db.transaction(lambda c: c.execute(
            select(AuditEntry.action, AuditEntry.detail).where(AuditEntry.action == "person.passwd")
        ).all())
    finally:
        db.close()
    from bot.web.passwords import verify_password

    assert len(stored) == 1 and verify_password("s3cret-pass", stored[0])
    assert [(a, d) for a, d in actions] == [("person.passwd", {"identity": "qq:10001"})]
    # short, unknown, not an admin: one line each, nothing stored
    short = _dudao(tmp_path, "person", "passwd", "qq:10001", stdin="short\n", **admins)
    assert (short.returncode, short.stderr.strip()) == (2, "错误：密码至少 8 位")
    unknown = _dudao(tmp_path, "person", "passwd", "qq:19999", stdin="long-enough\n", **admins)
    assert unknown.returncode != 0
    assert unknown.stderr.strip() == "错误：身份 qq:19999 没有登记（或已停用）"
    assert _dudao(tmp_path, "person", "add", "qq:30001", "--unit", "郑州市", "--role",
                  "liaison", **admins).returncode == 0
    liaison = _dudao(tmp_path, "person", "passwd", "qq:30001", stdin="long-enough\n", **admins)
    assert liaison.stderr.strip() == "错误：qq:30001 不是管理员：只有管理员可以登录看板"


def test_series_instances_are_edited_and_cancelled_like_tasks(cli: Cli) -> None:
    made = cli.json("task", "add", "--title", "季度工作小结", "--due", "2026-03-31T18:00+08:00",
                    "--units", "郑州市", "--repeat", "quarterly", "--until",
                    "2026-06-30T18:00+08:00")
    first, second = (t["id"] for t in made["tasks"][:2])
    out = cli.json("task", "edit", str(first), "--due", "2026-04-10T18:00+08:00")
    assert out["series_id"] == made["series_id"] and out["due"].startswith("2026-04-10")
    done = cli.json("task", "cancel", str(second), "--reason", "本期不做")
    assert done["status"] == "cancelled" and done["period"] == made["tasks"][1]["period"]
    rows = cli.query(select(Task.status, Task.cancel_reason).where(Task.id == second))
    assert [(r.status, r.cancel_reason) for r in rows] == [("cancelled", "本期不做")]
    # the export says so: the task sheet's status, the plan sheet's cell
    out = Path(cli.config).parent / "stats.xlsx"
    cli.json("export", "--year", "2026", "--out", str(out))
    book = load_workbook(out)
    task_rows = [[c for c in row if c is not None] for row in book["任务完成情况"].values]
    assert any("已撤销" in r and any("季度工作小结" in str(c) for c in r) for r in task_rows)
    plan = [[c for c in row if c is not None] for row in book["周期性任务"].values]
    zz = next(r for r in plan if r and r[0] == "郑州市")
    assert "已撤销" in zz
