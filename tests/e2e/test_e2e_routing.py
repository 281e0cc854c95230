"""Who may do what, decided in one place (the router), and when the bot is addressed.

A person who addresses the bot (@, privately, a reply to one of its messages, or a command
starting with / or #) with a command their role does not allow gets one line saying who may;
a command word said to colleagues gets silence. A reply to any message the bot sent counts as
addressing it; a file sent to the bot (privately, or in reply to a reminder) is a submission.
Runs on SQLite and PostgreSQL over a fake OneBot implementation.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from sqlalchemy import select

from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.services import outbox, people, submissions
from storage.models import Attachment, OutboxMessage, Task
from tests.adapters.onebot.fake_impl import seg
from tests.e2e.conftest import Bot, file_server
from tests.e2e.test_e2e_conversations import ADMIN, GROUP, LIAISON, message, say, seed

OFFICIAL = 30003


def _private(user: int, text: str | None = None, **kw: Any) -> dict[str, Any]:
    payload = message(user, text, **kw)
    payload.update(message_type="private", sub_type="friend")
    del payload["group_id"]
    return payload


async def _bot_message_id(bot: Bot, text: str) -> int:
    """The platform id the bot's message containing ``text`` got (recorded after the send)."""
    for _ in range(200):
        rows = bot.db.transaction(lambda c: c.execute(
            select(OutboxMessage.content, OutboxMessage.platform_message_id)
            .where(OutboxMessage.platform_message_id.is_not(None))).all())
        for content, pid in rows:
            if any(text in s.get("text", "") for s in content):
                return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no sent message with {text!r}")


async def test_a_refusal_says_who_may_and_talk_stays_silent(bot: Bot) -> None:
    seed(bot)
    # Addressed: @, the / prefix, privately — one line each, nothing done.
    for payload in (message(LIAISON, "发布任务 年度总结 截止 12月20日", at_bot=True),
                    message(LIAISON, "/发布任务 年度总结 截止 12月20日"),
                    _private(LIAISON, "发布任务 年度总结 截止 12月20日")):
        assert await say(bot, payload) == ["只有管理员可以发布任务"]
    assert await say(bot, message(LIAISON, "#通过 #1 优")) == ["只有管理员可以审核提交"]
    assert await say(bot, _private(ADMIN, "我的任务")) == ["只有联络员和领导可以查看本单位的待办"]
    # Said to colleagues in the group: not for the bot.
    assert await say(bot, message(LIAISON, "发布任务的事下午再说"), replies=0) == []
    assert await say(bot, message(LIAISON, "通知大家：明天开会"), replies=0) == []
    titles = bot.db.transaction(lambda c: c.execute(select(Task.title)).scalars().all())
    assert titles == ["三季度调研报告"]
    # Someone not registered is told how to bind, addressed or not — unless the command word
    # only opens an ordinary sentence.
    [hint] = await say(bot, message(99999, "通知 明天开会"))
    assert hint.startswith("您还没有绑定单位")
    assert await say(bot, message(99999, "旗帜鲜明讲政治"), replies=0) == []
    assert await say(bot, message(99999, "创新驱动发展是关键"), replies=0) == []


async def test_a_reply_to_the_bot_addresses_it(bot: Bot) -> None:
    seed(bot)
    await say(bot, message(LIAISON, "帮助"))
    help_id = await _bot_message_id(bot, "可用指令")
    # Not addressed: silence. The same words in reply to the bot: answered.
    assert await say(bot, message(LIAISON, "这个怎么用"), replies=0) == []
    [answer] = await say(bot, message(LIAISON, "这个怎么用", reply_to=help_id))
    assert "没太明白" in answer
    # A reply to someone else's message is still talk among colleagues.
    assert await say(bot, message(LIAISON, "这个怎么用", reply_to=12345), replies=0) == []
    # A refusal is given to a reply as it is to an @.
    assert await say(bot, message(LIAISON, "通知 下午开会", reply_to=help_id)) == [
        "只有管理员可以发通知"]


async def test_files_sent_to_the_bot_are_submissions(bot: Bot) -> None:
    task_id = seed(bot)
    now = bot.services.env.clock.now()
    bot.db.transaction(lambda c: people.add(c, identity=f"qq:{OFFICIAL}", unit="郑州市",
                                            role="official", name="赵市长", now=now))
    body = b"PK\x03\x04 a report" * 64
    async with file_server("/r.docx", body) as url:
        attachment = [seg("file", file="报告.docx", file_id="/abc", url=url)]
        # A file to colleagues in the group is not for the bot.
        assert await say(bot, message(LIAISON, segments=attachment), replies=0) == []
        # Privately, a file alone is a submission.
        [ack] = await say(bot, _private(LIAISON, segments=attachment))
        assert ack.startswith("已收到 #1：郑州市《三季度调研报告》") and "附件1个" in ack
        # In reply to the bot's reminder, a file is a submission for the reminder's task.
        bot.db.transaction(lambda c: outbox.enqueue(
            c, OutgoingMessage.text(ChatRef.parse(GROUP), "【提醒】请提交三季度调研报告"),
            now=now, kind="reminder", cause=f"task:{task_id}"))
        reminder_id = await _bot_message_id(bot, "【提醒】")
        [ack2] = await say(bot, message(LIAISON, segments=attachment, reply_to=reminder_id))
        assert "第2版" in ack2 and "附件1个" in ack2
        # An official is told who may submit.
        assert await say(bot, _private(OFFICIAL, segments=attachment)) == ["只有联络员可以提交材料"]
    subs = bot.db.transaction(submissions.list_submissions)
    assert [s.version for s in subs] == [1, 2]
    shas = bot.db.transaction(lambda c: c.execute(select(Attachment.sha256)).scalars().all())
    assert set(shas) == {hashlib.sha256(body).hexdigest()}
