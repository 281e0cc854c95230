"""PassiveReplies and MpSender without the service: a held chat's sends wait for the verdict."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.wechat_mp.sender import MpSender, PassiveReplies
from bot.core.adapter import Envelope, SendError
from bot.core.event import ChatRef
from bot.core.message import OutgoingMessage

CHAT = ChatRef.parse("mp:user:oHELD_0001")


def _envelope(outbox_id: int, text: str) -> Envelope:
    return Envelope(outbox_id, OutgoingMessage.text(CHAT, text), None, "reply", "")


async def test_send_to_a_held_chat_waits_and_skips_what_was_answered_passively() -> None:
    passive = PassiveReplies()
    sender = MpSender(passive=passive)  # no API: anything not skipped would raise
    answered = _envelope(7, "answered in the HTTP response")
    with passive.hold(CHAT.key):
        pending = asyncio.create_task(sender.send(answered))
        await asyncio.sleep(0.05)
        assert not pending.done()  # waits for the handler's verdict
        passive.delivered([7])
    assert await pending == "passive"
    # once only: the same message again is not skipped
    with pytest.raises(SendError, match="not configured"):
        await sender.send(answered)


async def test_an_equal_but_different_message_is_not_skipped() -> None:
    passive = PassiveReplies()
    with passive.hold(CHAT.key):
        passive.delivered([7])
    assert not passive.take(_envelope(8, "same text").outbox_id)
    assert not passive.take(None)  # an answer sent outside the outbox is never skipped
    assert not passive.held(CHAT.key)
