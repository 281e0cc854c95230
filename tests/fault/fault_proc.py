"""Real `dudao serve` processes for the fault suite, and a OneBot implementation that talks to them.

Everything here is the outside view: processes are started with `python -m bot serve` and a
DUDAO_* environment, killed with signals, and judged by what a OneBot implementation receives
over a real socket and by what the database holds afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import Engine

from storage.db import normalise_url
from storage.models import InboundMessage, OutboxMessage, Submission
from tests.adapters.onebot.fake_impl import FakeImpl, group_message, lifecycle, seg

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fault-token"
BUSY = "系统繁忙，请稍后再试"
ACK = "已收到 #"
# The seed of bench/bench_inbound.py: 200 liaisons qq:20000000+i, groups qq:group:600000000+g.
FIRST_USER = 20000000
FIRST_GROUP = 600000000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dudao_env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a dudao process: ours only, nothing inherited from the test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUDAO_")}
    env.update({
        "DUDAO_DATABASE_URL": db_url,
        "DUDAO_SERVICE_DATA_DIR": str(data_dir),
        "DUDAO_ONEBOT_ACCESS_TOKEN": TOKEN,
        "DUDAO_SERVICE_LOG_LEVEL": "WARNING",
        # Spacing protects real QQ accounts; here it would only slow the test down.
        "DUDAO_OUTBOX_ACCOUNT_INTERVAL_MS": "0",
        "DUDAO_OUTBOX_GROUP_INTERVAL_MS": "0",
        "DUDAO_OUTBOX_JITTER_MS": "0",
        # Acknowledgements are matched to submissions by their quote; merged ones quote none
        # (tests/e2e/test_e2e_rush.py covers merging).
        "DUDAO_OUTBOX_COALESCE_ACKS": "false",
        "DUDAO_OUTBOX_POLL_INTERVAL_S": "0.2",
        "DUDAO_OUTBOX_RETRY_BACKOFF_S": "0.5",
        "DUDAO_SCHEDULE_ENABLED": "false",
        "DUDAO_NLU_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run a snippet in a fresh interpreter with ``env`` (settings come from the environment)."""
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"snippet failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def seed_bench_world(env: dict[str, str]) -> None:
    """bench/bench_inbound.py's seed: 200 liaisons, 10 groups serving all units, one open task."""
    run_python("from bench.bench_inbound import seed; seed({})", env)


def _die_with_parent() -> None:
    """Linux: SIGKILL the child if the test run itself is killed (no orphaned servers)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def dudao_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """A `dudao …` command running in the background (communicate() with a timeout)."""
    return subprocess.Popen([sys.executable, "-m", "bot", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_die_with_parent)


class Serve:
    """One `dudao serve` process; always stopped by the fixture that made it."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = {**env, "DUDAO_HTTP_PORT": str(self.port)}
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/onebot/v11/ws"

    def start(self) -> Serve:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n=== start {self.starts} ===\n".encode())
        log.flush()
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=self.env,
                                     cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        return self

    async def ready(self, within: float = 60.0) -> None:
        """Wait until /healthz answers 200 (schema upgraded, database reachable)."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n"
                                         + self.log_tail())
                with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                    async with session.get(self.base + "/healthz",
                                           timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} not healthy after {within}s:\n"
                                         + self.log_tail())
                await asyncio.sleep(0.1)

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with aiohttp.ClientSession() as session, session.get(
                self.base + "/healthz", timeout=aiohttp.ClientTimeout(total=10)) as r:
            return r.status, await r.json()

    def kill9(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time. Safe to call twice."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def errors_in_log(self) -> list[str]:
        """Tracebacks in the log: a fault may be logged as a warning, never crash a handler."""
        try:
            text_ = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text_.splitlines() if line.startswith("Traceback")]


# ---------------------------------------------------------------------------------- the impl


@dataclass
class Reply:
    action: str
    target: int
    reply_to: str | None
    text: str
    at: float


@dataclass
class Impl:
    """A OneBot implementation (FakeImpl) that sends submissions and sorts the bot's answers."""

    impl: FakeImpl
    seen: int = 0
    replies: list[Reply] = field(default_factory=list)

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, serve: Serve, self_id: int,
                      attempts: int = 50) -> Impl:
        for i in range(attempts):
            try:
                async with asyncio.timeout(10):
                    impl = await FakeImpl(session, serve.ws_url, self_id=self_id,
                                          token=TOKEN).connect()
                await impl.send_event(lifecycle(self_id=self_id))
                return cls(impl)
            except (aiohttp.ClientError, OSError, TimeoutError):
                if i == attempts - 1:
                    raise
                await asyncio.sleep(0.1)
        raise AssertionError("unreachable")

    def collect(self) -> list[Reply]:
        """Parse the send actions received since the last call."""
        new = self.impl.actions[self.seen:]
        self.seen += len(new)
        out = []
        for a in new:
            action = a.get("action", "")
            if not action.startswith("send_"):
                continue
            params = a.get("params") or {}
            segs = params.get("message") or []
            reply_to = next((str(s["data"]["id"]) for s in segs if s.get("type") == "reply"),
                            None)
            body = "".join(s["data"].get("text", "") for s in segs if s.get("type") == "text")
            target = int(params.get("group_id") or params.get("user_id") or 0)
            out.append(Reply(action, target, reply_to, body, time.monotonic()))
        self.replies.extend(out)
        return out

    def acked(self) -> set[str]:
        self.collect()
        return {r.reply_to for r in self.replies if r.reply_to and r.text.startswith(ACK)}

    def busy(self) -> set[str]:
        self.collect()
        return {r.reply_to for r in self.replies if r.reply_to and r.text == BUSY}

    async def submit(self, seq: int, self_id: int) -> None:
        await self.impl.send_event(submission(seq, self_id))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.impl.close()


def submission(seq: int, self_id: int) -> dict[str, Any]:
    """A liaison's submission in an exchange group; ``seq`` is also its message_id."""
    user = FIRST_USER + seq % 200
    group = FIRST_GROUP + seq % 10
    text_ = f"提交 第三季度调研报告 材料{seq}"
    return group_message(text_, message_id=seq, self_id=self_id, group_id=group, user_id=user,
                         message=[seg("text", text=text_)],
                         sender={"user_id": user, "nickname": f"联络员{seq % 200}", "card": "",
                                 "role": "member"})


async def wait_for(predicate: Any, within: float, what: str, poll: float = 0.02) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(poll)


# ---------------------------------------------------------------------------------- the database


class Records:
    """Read the database directly (the test's own connection, not the service's code)."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(normalise_url(url), pool_pre_ping=True)

    def close(self) -> None:
        self.engine.dispose()

    def submissions_by_message(self) -> dict[str, int]:
        """source_message_id → how many submission rows carry it."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(Submission.source_message_id)).scalars().all()
        counts: dict[str, int] = {}
        for mid in rows:
            counts[str(mid)] = counts.get(str(mid), 0) + 1
        return counts

    def inbound_keys(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(InboundMessage.dedupe_key)).scalars())

    def outbox_states(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT state, count(*) FROM outbox GROUP BY state")).all()
        return {str(s): int(n) for s, n in rows}

    def outbox_rows(self, kind: str | None = None) -> list[Any]:
        q = select(OutboxMessage.id, OutboxMessage.chat, OutboxMessage.account,
                   OutboxMessage.state, OutboxMessage.kind, OutboxMessage.content,
                   OutboxMessage.attempts)
        if kind is not None:
            q = q.where(OutboxMessage.kind == kind)
        with self.engine.connect() as conn:
            return list(conn.execute(q.order_by(OutboxMessage.id)).all())

    def expire_outbox_leases(self) -> int:
        """Stand in for waiting out the claim lease (bot/services/outbox.CLAIM_LEASE, 60 s).

        A process that dies leaves its claimed rows leased; any process takes them once the
        lease has passed. Moving the lease's end to now is what 60 s of waiting would do, and
        keeps the suite fast; the restarted process must still find and send them itself.
        """
        with self.engine.begin() as conn:
            now = _utcnow()
            res = conn.execute(update(OutboxMessage)
                               .where(OutboxMessage.state == "pending",
                                      OutboxMessage.not_before > now)
                               .values(not_before=now))
            return int(res.rowcount or 0)


def _utcnow() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def payload_summary(replies: Iterable[Reply]) -> str:
    return json.dumps([r.__dict__ for r in list(replies)[:5]], ensure_ascii=False, default=str)
