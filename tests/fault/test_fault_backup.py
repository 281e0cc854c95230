"""Backup of a live 10,000-submission database, and restore into an empty data directory.

A real `dudao serve` receives submissions from a OneBot implementation over its socket while a
real `dudao backup` process copies the database. The archive is then opened by the test itself
(tar, gzip, sqlite3: not our code): the copy must be one moment of the database (its counts lie
between those before and after the backup, and the rows written together in one transaction are
all there or all absent), and nothing the bot acknowledged is missing from the live database.
Then `dudao restore` is refused while the service runs, and a restore into an empty data
directory gives a service that answers 进度 exactly as the original did, keeps the board's signed
links valid and serves the attachments.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import re
import sqlite3
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import text

from bench.bench_backup import build_world
from tests.adapters.onebot.fake_impl import private_message, seg
from tests.fault.fault_proc import Impl, Records, Serve, dudao_cli, dudao_env, wait_for

pytestmark = pytest.mark.fault

SELF_ID = 3889000001  # the bot's QQ account (the admin is qq:10001)
ADMIN_QQ = 10001
WINDOW = 40  # submissions sent and not yet acknowledged
AFTER_BACKUP = 60  # submissions streamed after the backup process has exited
QUESTIONS = ("进度", "进度 专项任务07", "进度 专项任务33", "谁没交 专项任务12", "进度 郑州市")


def _admin_asks(text_: str, message_id: int) -> dict[str, Any]:
    p = private_message(text_, message_id=message_id, self_id=SELF_ID)
    p.update(user_id=ADMIN_QQ, sender={"user_id": ADMIN_QQ, "nickname": "管理员"},
             message=[seg("text", text=text_)])
    return p


async def _ask(impl: Impl, text_: str, message_id: int) -> str:
    """Ask privately as the admin; the bot's answer (one message)."""
    seen = len(impl.replies)
    await impl.impl.send_event(_admin_asks(text_, message_id))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        impl.collect()
        answers = [r for r in impl.replies[seen:] if r.target == ADMIN_QQ]
        if answers:
            return answers[0].text
        await asyncio.sleep(0.02)
    raise AssertionError(f"no answer to {text_!r}")


async def _run(cmd: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    proc = dudao_cli(cmd, env)
    out, err = await asyncio.to_thread(proc.communicate, timeout=180)
    return proc.returncode, out, err


def _count(records: Records, sql: str) -> int:
    with records.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _open_archive(archive: Path, into: Path) -> tuple[dict[str, Any], sqlite3.Connection,
                                                      dict[str, bytes]]:
    """The manifest, the database copy and the attachment members, read without dudao's code."""
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        raw = tar.extractfile("database/dudao.db.gz").read()  # type: ignore[union-attr]
        blobs = {m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                 for m in tar.getmembers() if m.name.startswith("files/")}
    into.write_bytes(gzip.decompress(raw))
    return manifest, sqlite3.connect(into), blobs


async def test_backup_under_live_submissions_then_restore_answers_the_same(
        tmp_path: Path, spawn: Callable[[str, dict[str, str]], Serve],
        session: aiohttp.ClientSession) -> None:
    live_dir = tmp_path / "live"
    url = f"sqlite:///{live_dir}/dudao.db"
    world = build_world(url, live_dir)
    assert world["submissions"] == 10_000
    env = dudao_env(url, live_dir)
    serve = spawn("live", env).start()
    await serve.ready()
    records = Records(url)
    impl = await Impl.connect(session, serve, SELF_ID)
    try:
        # ---------------------------------------------------------- stream while backing up
        backup_done = asyncio.Event()
        sent: list[int] = []

        async def stream() -> None:
            seq, after = 1, 0
            deadline = time.monotonic() + 120
            while after < AFTER_BACKUP:
                while len(sent) - len(impl.acked()) >= WINDOW:
                    if time.monotonic() > deadline:
                        raise AssertionError("no acknowledgements: " + serve.log_tail())
                    await asyncio.sleep(0.002)
                await impl.submit(seq, SELF_ID)
                sent.append(seq)
                seq += 1
                if backup_done.is_set():
                    after += 1
                await asyncio.sleep(0.004)
                assert seq < 5000, "the backup never finished"

        streamer = asyncio.create_task(stream())
        await wait_for(lambda: len(impl.acked()) >= 50, 30, "the first acknowledgements")
        archive = tmp_path / "live.tar"
        before = _count(records, "SELECT count(*) FROM submissions")
        started = time.monotonic()
        code, out, err = await _run(["backup", "--out", str(archive), "--json"], env)
        ended = time.monotonic()
        after = _count(records, "SELECT count(*) FROM submissions")
        backup_done.set()
        await streamer
        await wait_for(lambda: {str(s) for s in sent} <= impl.acked(), 30,
                       "an acknowledgement of every streamed submission")
        assert code == 0, err
        report = json.loads(out)
        assert report["verified"] is True and report["files"]["missing"] == []
        acked_during = [r for r in impl.replies if r.text.startswith("已收到 #")
                        and started <= r.at <= ended]
        assert before < after and acked_during, "submissions were not streaming during the backup"

        # ---------------------------------------------------------- the copy is one moment
        manifest, copy, blobs = _open_archive(archive, tmp_path / "copy.db")
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        in_copy = copy.execute("SELECT count(*) FROM submissions").fetchone()[0]
        assert manifest["database"]["tables"]["submissions"] == in_copy \
            == report["database"]["tables"]["submissions"]
        assert before <= in_copy <= after
        tables = copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                              " AND name NOT LIKE 'sqlite_%'").fetchall()
        for (name,) in tables:
            assert copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] \
                == manifest["database"]["tables"][name], name
        # Rows one transaction wrote together are all in the copy or all absent: every streamed
        # submission has its inbound message, every assignment points at its latest version.
        streamed = copy.execute(
            "SELECT count(*) FROM submissions WHERE source_message_id NOT LIKE 'built-%'"
        ).fetchone()[0]
        assert streamed == copy.execute("SELECT count(*) FROM inbound_messages").fetchone()[0]
        assert streamed == in_copy - 10_000 > 0
        assert copy.execute(
            "SELECT count(*) FROM task_units tu WHERE last_submission_id IS NOT NULL AND "
            "last_submission_id != (SELECT max(id) FROM submissions s"
            " WHERE s.task_id = tu.task_id AND s.unit_id = tu.unit_id)").fetchone()[0] == 0
        # The attachments it refers to, each under its own hash.
        referenced = {r[0] for r in copy.execute("SELECT DISTINCT sha256 FROM attachments")}
        assert {name.rsplit("/", 1)[1] for name in blobs} == referenced
        assert all(hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]
                   for name, data in blobs.items())
        copied_ids = {r[0] for r in copy.execute(
            "SELECT source_message_id FROM submissions WHERE source_message_id NOT LIKE 'built-%'")}
        copy.close()

        # ---------------------------------------------------------- nothing acknowledged lost
        live_ids = set(records.submissions_by_message())
        assert impl.acked() <= live_ids, sorted(impl.acked() - live_ids)[:10]
        assert copied_ids <= live_ids
        acked_after_start = {r.reply_to for r in impl.replies
                             if r.text.startswith("已收到 #") and r.at >= started}
        assert acked_after_start and acked_after_start <= live_ids

        # ---------------------------------------------------------- restore refused while live
        count_live = _count(records, "SELECT count(*) FROM submissions")
        code, out, err = await _run(["restore", str(archive), "--force"], env)
        assert code == 2, (out, err)
        assert "正被运行中的 dudao 使用" in err and "请先停止服务" in err
        assert _count(records, "SELECT count(*) FROM submissions") == count_live
        assert not list(live_dir.glob("*before-restore*"))

        # ---------------------------------------------------------- restore into an empty dir
        answers = [await _ask(impl, q, 900_000 + i) for i, q in enumerate(QUESTIONS)]
        assert "进行中的任务" in answers[0] and "已通过" in answers[1]
        code, out, err = await _run(["unit", "link", "郑州市", "--json"], env)
        assert code == 0, err
        link = urlsplit(json.loads(out)["url"])
        quiet = tmp_path / "quiet.tar"
        code, out, err = await _run(["backup", "--out", str(quiet), "--json"], env)
        assert code == 0, err
        files_in_backup = json.loads(out)["files"]["count"]

        restored_dir = tmp_path / "restored"
        env2 = dudao_env("", restored_dir)  # the default: <data_dir>/dudao.db
        code, out, err = await _run(["restore", str(quiet), "--json"], env2)
        assert code == 0, err
        restored = json.loads(out)
        assert restored["files"] == {"restored": files_in_backup, "present": 0}
        assert restored["data_files"] == ["web_secret.key"]
        assert (restored_dir / "dudao.db").is_file()

        serve2 = spawn("restored", env2).start()
        await serve2.ready()
        impl2 = await Impl.connect(session, serve2, SELF_ID)
        try:
            again = [await _ask(impl2, q, 900_100 + i) for i, q in enumerate(QUESTIONS)]
        finally:
            await impl2.close()
        # The same figures; a board link in an answer names each service's own port.
        assert _without_ports(again) == _without_ports(answers), (again, answers)

        # The read-only link made before the backup still opens the board, and an attachment
        # of 郑州市 downloads with its content intact.
        restored_db = Records(f"sqlite:///{restored_dir}/dudao.db")
        try:
            with restored_db.engine.connect() as conn:
                aid, sha = conn.execute(text(
                    "SELECT a.id, a.sha256 FROM attachments a JOIN submissions s"
                    " ON s.id = a.submission_id JOIN units u ON u.id = s.unit_id"
                    " WHERE u.name = '郑州市' ORDER BY a.id LIMIT 1")).one()
        finally:
            restored_db.close()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as viewer:
            async with viewer.get(f"{serve2.base}{link.path}") as r:
                assert r.status == 200 and "郑州市" in await r.text()
            async with viewer.get(f"{serve2.base}/files/{aid}") as r:
                assert r.status == 200
                assert hashlib.sha256(await r.read()).hexdigest() == sha
        assert not serve.errors_in_log(), serve.log_tail()
        assert not serve2.errors_in_log(), serve2.log_tail()
    finally:
        await impl.close()
        records.close()


def _without_ports(answers: list[str]) -> list[str]:
    return [re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:PORT", a) for a in answers]
