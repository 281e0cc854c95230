"""No acknowledgement for what is not stored: the database connection dies AT COMMIT.

A deferred constraint trigger runs inside PostgreSQL's COMMIT, after every handler has finished
and the acknowledgement is already in the outbox rows of the transaction. When the submission's
text carries a marker, the trigger terminates its own backend: the connection dies between
handling and commit, exactly the moment that decides whether the bot may say "已收到". The sender
must hear "系统繁忙，请稍后再试" instead, nothing of the message may be in the database, and a
re-delivery of the same event once the database is back must be processed normally.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from bot.services import submissions
from storage.models import AuditEntry, InboundMessage, OutboxMessage
from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_conversations import LIAISON, message, say, seed

MARKER = "CUT-AT-COMMIT"

KILL_AT_COMMIT = f"""
CREATE FUNCTION dudao_test_die_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.text LIKE '%{MARKER}%' THEN
        PERFORM pg_terminate_backend(pg_backend_pid());
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER dudao_test_die_at_commit AFTER INSERT ON submissions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dudao_test_die_at_commit();
"""


@pytest.fixture(params=["postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    from tests.support.pg import pg_url

    return pg_url("dudao_test_commit_cut")


def _count(bot: Bot, model: type, *where: object) -> int:
    return int(bot.db.transaction(lambda c: c.execute(
        select(func.count()).select_from(model).where(*where)).scalar_one()))


@pytest.mark.postgres
async def test_connection_killed_at_commit_means_busy_not_acknowledged(bot: Bot) -> None:
    seed(bot)
    bot.db.transaction(lambda c: c.execute(text(KILL_AT_COMMIT)))
    doomed = message(LIAISON, f"提交 三季度调研报告 {MARKER}")

    [answer] = await say(bot, doomed)

    assert answer == "系统繁忙，请稍后再试"
    assert not [a for a in bot.impl.actions if "已收到" in str(a["params"])]
    # Nothing of the event survived: no submission, no stored message, no audit row, and no
    # outbox row that a poller could deliver later as a late "已收到".
    assert bot.db.transaction(submissions.list_submissions) == []
    assert _count(bot, InboundMessage, InboundMessage.text.contains(MARKER)) == 0
    assert _count(bot, AuditEntry, AuditEntry.action == "submission.create") == 0
    assert _count(bot, OutboxMessage) == 0

    # The database is back (the pool replaces the dead connection) and the platform re-delivers
    # the same event: it is processed as new, once, and acknowledged.
    bot.db.transaction(lambda c: c.execute(text(
        "DROP TRIGGER dudao_test_die_at_commit ON submissions")))
    [ack] = await say(bot, doomed)
    assert ack.startswith("已收到 #")
    assert len(bot.db.transaction(submissions.list_submissions)) == 1
    health = await bot.session.get(bot.server.make_url("/healthz"))
    assert health.status == 200
