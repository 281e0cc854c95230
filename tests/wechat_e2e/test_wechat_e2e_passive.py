"""PassiveReplies and MpSender without the service: a held chat's sends wait for the verdict."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.wechat_mp.sender import MpSender, PassiveReplies
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage
from bot.core.sending import SendError

CHAT = ChatRef.parse("mp:user:oHELD_0001")


async def test_send_to_a_held_chat_waits_and_skips_what_was_answered_passively() -> None:
    passive = PassiveReplies()
    sender = MpSender(passive=passive)  # no API: anything not skipped would raise
    answered = OutgoingMessage.text(CHAT, "answered in the HTTP response")
    with passive.hold(CHAT.key):
        pending = asyncio.create_task(sender.send(None, answered))
        await asyncio.sleep(0.05)
        assert not pending.done()  # waits for the handler's verdict
        passive.delivered([answered])
    assert await pending == "passive"
    # once only: the same message again is not skipped
    with pytest.raises(SendError, match="not configured"):
        await sender.send(None, answered)


async def test_an_equal_but_different_message_is_not_skipped() -> None:
    passive = PassiveReplies()
    with passive.hold(CHAT.key):
        passive.delivered([OutgoingMessage.text(CHAT, "same text")])
    assert not passive.take(OutgoingMessage.text(CHAT, "same text"))
    assert not passive.held(CHAT.key)
