"""Several messages in one batch (one transaction): each sees what the ones before it did."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.app import make_env, prepare_database
from bot.core.adapter import Envelope
from bot.core.event import ChatRef, MessageEvent, Text, UserRef
from bot.core.message import OutgoingMessage
from bot.core.router import RouteTable
from bot.pipeline.dispatcher import Dispatcher
from bot.services import units
from config.settings import load_settings
from handlers import build_router
from storage.db import Database


def _private(sender: str, text: str, message_id: str) -> MessageEvent:
    return MessageEvent(platform="qq", self_id="3889000001", chat=ChatRef.parse(f"qq:user:{sender}"),
                        sender=UserRef.parse(f"qq:{sender}"), message_id=message_id,
                        segments=(Text(text),), time=datetime.now(UTC), to_me=True)


def _texts(delivered: list[Envelope]) -> list[str]:
    return ["".join(s.text for s in d.message.segments if isinstance(s, Text)) for d in delivered]


async def test_a_binding_earlier_in_the_batch_is_seen_by_the_next_message(tmp_path: Path) -> None:
    settings = load_settings(None, {}, cwd=tmp_path, overrides={
        "service": {"data_dir": str(tmp_path / "data")},
        "database": {"url": f"sqlite:///{tmp_path}/dudao.db"}, "nlu": {"enabled": False}})
    env = make_env(settings)
    db = Database(settings.database_url)
    prepare_database(db, settings, env)
    code = db.transaction(lambda c: units.create_invite(c, units.require(c, "洛阳市"),
                                                        now=env.clock.now()))
    delivered: list[Envelope] = []

    async def send_direct(msg: OutgoingMessage, account: str | None) -> None:
        raise AssertionError(f"nothing should be answered outside the outbox: {msg}")

    dispatcher = Dispatcher(db=db, env=env, table=RouteTable(build_router()),
                            deliver=delivered.extend, send_direct=send_direct)
    # Queued before the consumer starts, so the three messages form ONE batch.
    dispatcher.submit(_private("40001", "我的任务", "m1"))
    dispatcher.submit(_private("40001", f"绑定 洛阳 {code}", "m2"))
    dispatcher.submit(_private("40001", "我的任务", "m3"))
    dispatcher.start()
    await dispatcher.stop()
    db.close()

    assert dispatcher.stats["batches"] == 1 and dispatcher.stats["events"] == 3
    before, bound, after = _texts(delivered)
    assert "绑定" in before  # not bound yet: told how to bind
    assert "洛阳市" in bound
    assert after.startswith("洛阳市")  # the same batch already knows who they are
