"""收到 in reply to a notice: a reaction where the implementation can show one, silence elsewhere.

The fake OneBot implementation names itself in get_version_info as NapCat, LLOneBot or
go-cqhttp; the adapter learns it from there (not the handler). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e.conftest import Bot
from tests.e2e.test_e2e_conversations import ADMIN, LIAISON, _text, message, say, seed

VERSIONS = {
    "napcat": {"app_name": "NapCat.Onebot", "app_version": "4.8.0", "protocol_version": "v11"},
    "llonebot": {"app_name": "LLOneBot", "app_version": "6.0.0", "protocol_version": "v11"},
    "go-cqhttp": {"app_name": "go-cqhttp", "app_version": "v1.2.0", "protocol_version": "v11"},
}


async def notice_and_ack(bot: Bot) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An admin's notice, a liaison's 收到 quoting it; the 收到 and what the bot did after."""
    seed(bot)
    await say(bot, message(ADMIN, "通知 周五前报送半年总结"), replies=2)
    await asyncio.sleep(0.3)
    notice_action = next(a for a in bot.impl.actions if "【通知】" in _text(a))
    notice_mid = 90000 + [a for a in bot.impl.actions
                          if a["action"] == "send_group_msg"].index(notice_action) + 1
    ack = message(LIAISON, "收到", reply_to=notice_mid)
    before = len(bot.impl.actions)
    await bot.impl.send_event(ack)
    await asyncio.sleep(0.8)
    return ack, bot.impl.actions[before:]


@pytest.mark.parametrize("impl", ["napcat", "llonebot"])
async def test_napcat_and_llonebot_react_to_the_ack(bot: Bot, impl: str) -> None:
    bot.impl.results["get_version_info"] = VERSIONS[impl]
    ack, after = await notice_and_ack(bot)
    reactions = [a for a in after if a["action"] == "set_msg_emoji_like"]
    assert [r["params"] for r in reactions] == [
        {"message_id": ack["message_id"], "emoji_id": "124"}]
    assert not [a for a in after if a["action"].startswith("send_")]  # no message to the group
    # The acknowledgement counted as before.
    [who] = await say(bot, message(ADMIN, "谁没确认"))
    assert "已确认 1 个单位" in who
    # The implementation is asked once per connection, not for every reaction.
    await bot.impl.send_event(message(LIAISON, "收到"))
    await asyncio.sleep(0.6)
    assert sum(a["action"] == "get_version_info" for a in bot.impl.actions) == 1
    assert sum(a["action"] == "set_msg_emoji_like" for a in bot.impl.actions) == 2


async def test_go_cqhttp_gets_no_reaction_and_the_group_no_message(bot: Bot) -> None:
    bot.impl.results["get_version_info"] = VERSIONS["go-cqhttp"]
    _, after = await notice_and_ack(bot)
    assert not [a for a in after if a["action"] == "set_msg_emoji_like"]
    assert not [a for a in after if a["action"].startswith("send_")]
    [who] = await say(bot, message(ADMIN, "谁没确认"))
    assert "已确认 1 个单位" in who


async def test_an_implementation_that_does_not_say_what_it_is_gets_no_reaction(
        bot: Bot) -> None:
    bot.impl.failures["get_version_info"] = {"retcode": 1404, "message": "unknown action"}
    _, after = await notice_and_ack(bot)
    assert [a["action"] for a in after] == ["get_version_info"]
