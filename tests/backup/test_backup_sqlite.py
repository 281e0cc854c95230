"""`dudao backup` and `dudao restore` on SQLite: round trip, refusals, damaged archives."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tarfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_services, lifecycle
from bot.cli.backup import ProgressLine
from bot.services import backup as backup_svc
from bot.services import backup_archive
from bot.web.security import KEY_FILE
from config.settings import load_settings
from storage import service_lock
from storage.blobs import blob_path, files_root
from tests.backup.conftest import (
    Site,
    edit_database,
    members,
    reseal,
    sqlite_site,
    table_counts,
    write_members,
)

QUIET = {"DUDAO_NLU_ENABLED": "false"}  # no language model to load for an in-process service


def _backup(site: Site, archive: Path, json_out: Callable[[], Any]) -> dict[str, Any]:
    assert site.run("backup", "--out", str(archive), "--json") == 0
    return dict(json_out())


def _untouched(target: Site) -> None:
    """A refused restore created no database and left no staging directory behind."""
    assert not (target.data / "dudao.db").exists()
    assert not list(target.root.rglob(".restore-*"))


def test_round_trip_into_an_empty_data_directory(site: Site, empty: Site, tmp_path: Path,
                                                  json_out: Callable[[], Any]) -> None:
    archive = tmp_path / "b.tar"
    made = _backup(site, archive, json_out)
    source_counts = table_counts(site.data / "dudao.db")
    # The source has one row more: the audit entry of the backup, written after it.
    assert made["database"]["tables"] == {**source_counts,
                                          "audit_log": source_counts["audit_log"] - 1}
    assert made["verified"] is True and made["files"]["missing"] == []
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds password hashes and the board key
    referenced = {r[0] for r in sqlite3.connect(site.data / "dudao.db").execute(
        "SELECT DISTINCT sha256 FROM attachments")}
    assert made["files"]["count"] == len(referenced) > 0

    assert empty.run("restore", str(archive), "--json") == 0
    restored = json_out()
    assert restored["files"] == {"restored": len(referenced), "present": 0}
    assert restored["moved_aside"] is None
    counts = table_counts(empty.data / "dudao.db")
    # Everything in the backup, plus the audit row of the restore itself.
    assert counts == {**made["database"]["tables"],
                      "audit_log": made["database"]["tables"]["audit_log"] + 1}
    for sha in referenced:
        data = blob_path(files_root(empty.data), sha).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
    assert (empty.data / KEY_FILE).read_text() == (site.data / KEY_FILE).read_text()
    assert KEY_FILE in backup_archive.DATA_FILES
    last = sqlite3.connect(empty.data / "dudao.db").execute(
        "SELECT action, target FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert last == ("backup.restore", "backup:b.tar")
    # The source recorded the backup in its own audit log.
    assert sqlite3.connect(site.data / "dudao.db").execute(
        "SELECT count(*) FROM audit_log WHERE action = 'backup.create'").fetchone() == (1,)


def test_a_target_with_data_needs_force_and_keeps_the_old_file(
        site: Site, tmp_path: Path, json_out: Callable[[], Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "b.tar"
    _backup(site, archive, json_out)
    # Work done after the backup: the restore will take it away (kept in the old file).
    assert site.run("task", "add", "--title", "备份之后的任务", "--due",
                    "2027-01-10T18:00+08:00") == 0
    capsys.readouterr()

    assert site.run("restore", str(archive)) == 2
    assert "目标数据库已有数据" in capsys.readouterr().err
    titles = {r[0] for r in sqlite3.connect(site.data / "dudao.db").execute(
        "SELECT title FROM tasks")}
    assert "备份之后的任务" in titles

    assert site.run("restore", str(archive), "--force", "--json") == 0
    result = json_out()
    aside = Path(result["moved_aside"])
    assert aside.name.startswith("dudao.db.before-restore-")
    assert result["files"]["restored"] == 0 < result["files"]["present"]  # there already
    now_titles = {r[0] for r in sqlite3.connect(site.data / "dudao.db").execute(
        "SELECT title FROM tasks")}
    assert "备份之后的任务" not in now_titles
    assert "备份之后的任务" in {r[0] for r in sqlite3.connect(aside).execute(
        "SELECT title FROM tasks")}
    assert sqlite3.connect(site.data / "dudao.db").execute("PRAGMA integrity_check").fetchone() \
        == ("ok",)


@pytest.mark.parametrize("damage", ["database byte", "attachment byte", "half", "no manifest",
                                    "manifest count", "not a tar", "escaping name"])
def test_a_damaged_archive_is_refused_and_nothing_is_written(
        damage: str, site: Site, empty: Site, tmp_path: Path, json_out: Callable[[], Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "b.tar"
    _backup(site, archive, json_out)
    raw = bytearray(archive.read_bytes())
    content = members(archive)
    expected = {
        "database byte": "sha256 校验不符", "attachment byte": "sha256 校验不符",
        "half": "不完整", "no manifest": "没有找到清单", "manifest count": "校验和不符",
        "not a tar": "损坏", "escaping name": "不认识",
    }[damage]
    if damage in ("database byte", "attachment byte"):
        name = "database/dudao.db.gz" if damage == "database byte" else next(
            n for n in content if n.startswith("files/"))
        with tarfile.open(archive) as tar:
            offset = tar.getmember(name).offset_data
        raw[offset + 100] ^= 0x01  # one bit, in the middle of the member
        archive.write_bytes(bytes(raw))
    elif damage == "half":
        archive.write_bytes(bytes(raw[: len(raw) // 2]))
    elif damage == "no manifest":
        with tarfile.open(archive) as tar:
            cut = tar.getmember("manifest.json").offset  # cut at a member boundary
        archive.write_bytes(bytes(raw[:cut]))
    elif damage == "manifest count":
        manifest = json.loads(content["manifest.json"])
        manifest["database"]["tables"]["submissions"] += 1
        write_members(archive, {**content,
                                "manifest.json": json.dumps(manifest).encode()})
    elif damage == "not a tar":
        archive.write_bytes(b"this is not an archive\n" * 100)
    else:
        write_members(archive, reseal({"files/../../../evil": b"x", **content}))

    assert empty.run("restore", str(archive)) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and expected in err, err
    _untouched(empty)


def test_a_consistent_forgery_is_still_checked_against_the_database_copy(
        site: Site, empty: Site, tmp_path: Path, json_out: Callable[[], Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    """Hashes and checksum recomputed: the copy itself must still match the manifest."""
    archive = tmp_path / "b.tar"
    _backup(site, archive, json_out)
    content = members(archive)
    write_members(archive, reseal(edit_database(content, "DELETE FROM submissions WHERE id = 7;",
                                                tmp_path / "scratch.db")))
    assert empty.run("restore", str(archive)) == 2
    assert "行数与清单不符（submissions" in capsys.readouterr().err
    _untouched(empty)

    newer = edit_database(content, "UPDATE alembic_version SET version_num = '9999';",
                          tmp_path / "scratch2.db")
    manifest = json.loads(newer["manifest.json"])
    manifest["database"]["schema_revision"] = "9999"
    write_members(archive, reseal({**newer, "manifest.json": json.dumps(manifest).encode()}))
    assert empty.run("restore", str(archive)) == 2
    assert "结构版本 '9999' 本程序不认识" in capsys.readouterr().err
    _untouched(empty)


def test_restore_is_refused_while_a_service_holds_the_database(
        site: Site, tmp_path: Path, json_out: Callable[[], Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "b.tar"
    _backup(site, archive, json_out)
    before = table_counts(site.data / "dudao.db")
    held = service_lock.take_shared(site.url)  # what `dudao serve` holds for its whole life
    try:
        assert site.run("restore", str(archive), "--force") == 2
        assert "正被运行中的 dudao 使用" in capsys.readouterr().err
    finally:
        held.release()
    assert table_counts(site.data / "dudao.db") == before
    assert not list(site.data.glob("*before-restore*"))


async def test_nothing_opens_the_database_while_a_restore_holds_it(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    restoring = service_lock.take_exclusive(site.url)
    try:
        assert site.run("task", "list") == 2
        assert "数据库正在恢复" in capsys.readouterr().err
        settings = load_settings(site.config, QUIET)
        with pytest.raises(service_lock.LockBusy):  # `dudao serve` and `dudao console`
            async with lifecycle(build_services(settings)):
                pass
    finally:
        restoring.release()
    assert site.run("task", "list") == 0
    # and while a service runs, a second one shares the database (restore does not)
    settings = load_settings(site.config, QUIET)
    async with lifecycle(build_services(settings)):
        with pytest.raises(service_lock.LockBusy):
            service_lock.take_exclusive(site.url)
        assert site.run("task", "list") == 0
    service_lock.take_exclusive(site.url).release()


def test_a_backup_that_does_not_verify_leaves_nothing_behind(site: Site, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "b.tar"
    flipped = []

    def disk_error(stage: str, done: int, total: int) -> None:
        # While attachments are being written, a byte of the database member already on disk
        # goes bad (as a failing disk would): the read-back must notice.
        if stage == "files" and not flipped:
            tmp = next(out_dir.glob(".b.tar.*.tmp"))
            with open(tmp, "r+b") as fh:
                fh.seek(1024 + 200)
                byte = fh.read(1)
                fh.seek(1024 + 200)
                fh.write(bytes([byte[0] ^ 0xFF]))
            flipped.append(tmp)

    with pytest.raises(backup_svc.BackupFailed) as failed:
        backup_svc.create(site.url, site.data, out, now=datetime.now(UTC), progress=disk_error)
    assert flipped
    assert failed.value.message.startswith("备份校验失败，没有生成备份文件")
    assert list(out_dir.iterdir()) == []  # no archive, no temporary file, no work directory


def test_missing_attachments_are_listed_and_the_rest_restored(
        site: Site, empty: Site, tmp_path: Path, json_out: Callable[[], Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    sha = sqlite3.connect(site.data / "dudao.db").execute(
        "SELECT sha256 FROM attachments ORDER BY id LIMIT 1").fetchone()[0]
    blob_path(files_root(site.data), sha).unlink()
    archive = tmp_path / "b.tar"
    assert site.run("backup", "--out", str(archive), "--json") == 0
    captured = capsys.readouterr()
    made = json.loads(captured.out)
    assert made["files"]["missing"] == [sha]
    assert "在文件库中缺失" in captured.err
    manifest = json.loads(members(archive)["manifest.json"])
    assert manifest["files"]["missing"] == [sha]
    assert empty.run("restore", str(archive), "--json") == 0
    assert json_out()["files"]["restored"] == made["files"]["count"]
    assert not blob_path(files_root(empty.data), sha).exists()


def test_backup_refuses_bad_output_paths_and_a_missing_database(
        site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert site.run("backup", "--out", str(tmp_path / "nope" / "b.tar")) == 2
    assert "目录" in capsys.readouterr().err
    assert site.run("backup", "--out", str(tmp_path)) == 2
    assert "是一个目录" in capsys.readouterr().err
    assert site.run("backup", "--out", str(site.data / "dudao.db")) == 2
    assert "不能写到数据库文件" in capsys.readouterr().err
    nothing = sqlite_site(tmp_path, "nothing")
    assert nothing.run("backup", "--out", str(tmp_path / "n.tar")) == 2
    assert "没有可备份的数据库" in capsys.readouterr().err
    assert not (tmp_path / "n.tar").exists()


def test_restore_refuses_a_missing_file(empty: Site, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert empty.run("restore", str(tmp_path / "none.tar")) == 2
    assert "不存在" in capsys.readouterr().err


def test_the_progress_line() -> None:
    class Stream:
        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    out = Stream()
    line = ProgressLine(out, enabled=True, quiet_s=0)  # type: ignore[arg-type]
    line("database", 10, 100)
    line("database", 20, 100)  # same stage, too soon: not repeated on a log
    line("files", 3, 40)
    line("verify", 5 * 1024 * 1024, 10 * 1024 * 1024)
    line.end()
    assert out.text.splitlines() == ["复制数据库 10%", "复制附件 8%（3/40 个）",
                                     "校验备份 50%（5.0 MB / 10.0 MB）"]
    quiet = Stream()
    ProgressLine(quiet, enabled=True)("database", 1, 2)  # the first second is quiet
    ProgressLine(quiet, enabled=False, quiet_s=0)("database", 1, 2)
    assert quiet.text == ""
