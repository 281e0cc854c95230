"""Two `dudao serve` processes on one PostgreSQL database.

Each QQ account is connected to one of them. Reminders, the weekly bulletin draft and the
daily digest are run by two concurrent `dudao tick --at T` (the scheduler's own job function), notices are written by the
CLI, and both processes poll the outbox every 0.2 s. Then: every reminder is claimed once, every
outbox row is sent exactly once, and a row meant for an account goes out through the process
holding that account's socket (rows without an account through either, once).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.core.event import Text
from bot.core.serialize import load
from storage.models import AuditEntry, Bulletin, Flag, ReminderLedger, Unit
from tests.fault.fault_proc import (
    Impl,
    Records,
    Serve,
    dudao_cli,
    dudao_env,
    run_python,
    seed_bench_world,
    wait_for,
)
from tests.support.pg import pg_url

pytestmark = [pytest.mark.fault, pytest.mark.postgres]

ACCOUNT_A = 10001
ACCOUNT_B = 10002

# 8 exchange groups of 4 units each (groups 0–3 use account A, 4–7 account B), 2 more units in
# no group (their liaisons are reminded privately, on no particular account), one liaison each.
SEED = """
import json
from datetime import datetime
from zoneinfo import ZoneInfo
from bot.app import make_env, prepare_database
from bot.services import groups, people, tasks, units
from config.settings import load_settings
from storage.db import Database

tz = ZoneInfo("Asia/Shanghai")
settings = load_settings()
db = Database(settings.database_url)
prepare_database(db, settings, make_env(settings))
now = datetime(2026, 7, 1, 9, 0, tzinfo=tz)

def go(conn):
    names = [u.name for u in units.list_units(conn)][:34]
    for i, name in enumerate(names):
        people.add(conn, identity=f"qq:{30000000 + i}", unit=name, role="liaison",
                   name=f"联络员{i}", now=now)
    chats = {}
    for g in range(8):
        chat = f"qq:group:{700000000 + g}"
        account = "ACCOUNT_A" if g < 4 else "ACCOUNT_B"
        groups.add(conn, chat=chat, name=f"群{g}", units_spec=",".join(names[g * 4:g * 4 + 4]),
                   purpose="exchange", account=account, webhook_key=None, now=now)
        chats[chat] = account
    tasks.add(conn, title="三季度调研报告", due=datetime(2026, 7, 17, 18, 0, tzinfo=tz),
              units_spec=",".join(names), system="supervision", created_by=None, now=now)
    return chats

print(json.dumps(db.transaction(go)))
db.close()
""".replace("ACCOUNT_A", str(ACCOUNT_A)).replace("ACCOUNT_B", str(ACCOUNT_B))


def _text(content: Any) -> str:
    return "".join(s.text for s in load(content) if isinstance(s, Text))


async def _race_ticks(env: dict[str, str], at: str, n: int = 2) -> list[dict[str, Any]]:
    """``n`` `dudao tick --at` processes started together; their JSON reports."""
    procs = [dudao_cli(["tick", "--at", at, "--json"], env) for _ in range(n)]
    reports = []
    for p in procs:
        out, err = await asyncio.to_thread(p.communicate, timeout=120)
        assert p.returncode == 0, f"tick failed:\n{out}\n{err}"
        reports.append(json.loads(out))
    return reports


async def test_two_processes_send_each_reminder_and_message_once(
        tmp_path: Path, spawn: Callable[[str, dict[str, str]], Serve],
        session: aiohttp.ClientSession) -> None:
    url = pg_url("dudao_fault_scaleout")
    env = dudao_env(url, tmp_path / "data")
    chats: dict[str, str] = json.loads(run_python(SEED, env))
    # The processes' own minute schedulers stay off: they would sweep at the real time and make
    # the counts depend on the day the suite runs. `dudao tick --at` runs the very function a
    # scheduler runs every minute (bot.scheduler.run_due_jobs), at a moment we choose.
    p1 = spawn("serve1", env).start()
    p2 = spawn("serve2", env).start()
    await asyncio.gather(p1.ready(), p2.ready())
    records = Records(url)
    try:
        a = await Impl.connect(session, p1, ACCOUNT_A)
        b = await Impl.connect(session, p2, ACCOUNT_B)

        claimed: list[tuple[int, int, str]] = []
        outbox_ids: list[int] = []
        for moment, stage in (("2026-07-08T09:00+08:00", "before-7"),
                              # Friday after the weekly draft and the digest are due: both race.
                              ("2026-07-17T17:45+08:00", ""),
                              ("2026-07-20T09:00+08:00", "overdue-1"),
                              ("2026-07-20T09:00+08:00", None)):  # the same moment again
            reports = await _race_ticks(env, moment)
            got = [(c["task_id"], c["unit_id"], c["stage"]) for r in reports
                   for c in r["sweep"]["claimed"]]
            assert len(got) == len(set(got)), f"claimed twice at {moment}: {got}"
            if stage is None:
                assert got == [], "a repeated moment claimed reminders again"
            elif stage:
                # 34 units owe the task: each claimed once, by one of the two ticks.
                assert len(got) == 34, got
                assert {s for _, _, s in got} == {stage}
            claimed += got
            outbox_ids += [i for r in reports for i in r["sweep"]["outbox_ids"]]
        assert len(claimed) == len(set(claimed))
        assert len(outbox_ids) == len(set(outbox_ids))
        # At least one message per group per stage, plus the two privately reminded liaisons.
        assert len(outbox_ids) >= 2 * (8 + 2)

        notice = dudao_cli(["notice", "send", "--to", "all", "下午三点开会"], env)
        out, err = await asyncio.to_thread(notice.communicate, timeout=120)
        assert notice.returncode == 0, out + err

        def delivered() -> bool:
            return records.outbox_states().get("pending", 0) == 0

        await wait_for(delivered, 30, "both processes to deliver the outbox")
        await asyncio.sleep(1.0)  # pollers run every 0.2 s: anything sent twice would show now
        a.collect()
        b.collect()

        rows = records.outbox_rows()
        assert rows and all(r.state == "sent" for r in rows), Counter(r.state for r in rows)
        assert all(r.attempts == 1 for r in rows), [(r.id, r.attempts) for r in rows]
        # Every row reached the implementation exactly once, through the right account.
        sent_by: dict[str, Counter[tuple[int, str]]] = {
            str(ACCOUNT_A): Counter((r.target, r.text) for r in a.replies),
            str(ACCOUNT_B): Counter((r.target, r.text) for r in b.replies),
        }
        for r in rows:
            target = int(r.chat.rsplit(":", 1)[1])
            key = (target, _text(r.content))
            if r.account is not None:
                assert chats[r.chat] == r.account
                assert sent_by[r.account][key] == 1, (r.chat, r.account, sent_by[r.account][key])
                other = str(ACCOUNT_B if r.account == str(ACCOUNT_A) else ACCOUNT_A)
                assert sent_by[other][key] == 0, f"{r.chat} sent by the wrong account"
            else:
                total = sent_by[str(ACCOUNT_A)][key] + sent_by[str(ACCOUNT_B)][key]
                assert total == 1, (r.chat, total)
        assert len(a.replies) + len(b.replies) == len(rows)
        assert {r.kind for r in rows} == {"reminder", "notice"}

        # The database agrees: one ledger row per claim, one current flag per (task, unit),
        # at most one digest per day and one weekly draft per week whichever process ran them.
        with records.engine.connect() as conn:
            ledger = conn.execute(select(ReminderLedger.task_id, ReminderLedger.unit_id,
                                         ReminderLedger.stage)).all()
            flags = conn.execute(select(Flag.unit_id, func.count()).where(Flag.current.is_(True))
                                 .group_by(Flag.task_id, Flag.unit_id)).all()
            digests = conn.execute(select(AuditEntry.target, func.count())
                                   .where(AuditEntry.action == "schedule.digest")
                                   .group_by(AuditEntry.target)).all()
            weekly = conn.execute(select(Bulletin.period, func.count())
                                  .group_by(Bulletin.kind, Bulletin.period)).all()
        assert {tuple(r) for r in ledger} >= set(claimed)
        assert len(ledger) == len({tuple(r) for r in ledger})
        assert len(flags) == 34 and all(n == 1 for _, n in flags)
        assert len(digests) == 1 and all(n == 1 for _, n in digests), digests
        assert len(weekly) == 1 and all(n == 1 for _, n in weekly), weekly
        for p in (p1, p2):
            assert not p.errors_in_log(), p.log_tail()
        await a.close()
        await b.close()
    finally:
        records.close()


async def test_processes_started_together_on_an_empty_database(
        tmp_path: Path, spawn: Callable[[str, dict[str, str]], Serve]) -> None:
    """A fresh deployment: every process upgrades the schema at start; they must not collide."""
    url = pg_url("dudao_fault_firststart")
    env = dudao_env(url, tmp_path / "data")
    procs = [spawn(f"fresh{i}", env).start() for i in range(3)]
    await asyncio.gather(*(p.ready() for p in procs))
    records = Records(url)
    try:
        with records.engine.connect() as conn:
            units = conn.execute(select(func.count()).select_from(Unit)).scalar_one()
        # The bundled roster was loaded once, not once per process.
        assert units > 0
        assert units == len({u for u in _unit_codes(records)})
    finally:
        records.close()


def _unit_codes(records: Records) -> list[str]:
    with records.engine.connect() as conn:
        return list(conn.execute(select(Unit.code)).scalars())


async def test_two_processes_acknowledge_concurrent_submissions(
        tmp_path: Path, spawn: Callable[[str, dict[str, str]], Serve],
        session: aiohttp.ClientSession) -> None:
    url = pg_url("dudao_fault_concurrent")
    env = dudao_env(url, tmp_path / "data")
    seed_bench_world(env)
    p1, p2 = spawn("c1", env).start(), spawn("c2", env).start()
    await asyncio.gather(p1.ready(), p2.ready())
    a = await Impl.connect(session, p1, ACCOUNT_A)
    b = await Impl.connect(session, p2, ACCOUNT_B)
    n = 600

    async def burst(impl: Impl, self_id: int) -> None:
        for seq in range(1, n + 1):
            await impl.submit(seq, self_id)
            if seq % 50 == 0:
                await asyncio.sleep(0.01)

    await asyncio.gather(burst(a, ACCOUNT_A), burst(b, ACCOUNT_B))

    def answered() -> bool:
        for i in (a, b):
            i.collect()
        return all(len({r.reply_to for r in i.replies if r.reply_to}) >= n for i in (a, b))

    await wait_for(answered, 60, "an answer to every submission")
    every = {str(i) for i in range(1, n + 1)}
    other = Counter(r.text[:12] for i in (a, b) for r in i.replies if not r.text.startswith("已收到"))
    assert not other, f"answers other than an acknowledgement: {other}"
    assert a.acked() == every and b.acked() == every, (
        f"not acknowledged: {len(every - a.acked())} + {len(every - b.acked())}")
    await a.close()
    await b.close()
