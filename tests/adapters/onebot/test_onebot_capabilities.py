"""What an account's implementation can do is learnt once and serves every capability.

Reacting (``Reactor``) and posting a group file from a URL (``FileSender``) both depend on the
implementation behind the account; the adapter asks its get_version_info once per account and
socket (``Connection.app_names``) and decides both from that one answer. Real sockets, fake
implementations naming themselves as NapCat or Lagrange.
"""

from __future__ import annotations

from typing import Any

from bot.core.adapter import Envelope, FileSender, Reactor
from bot.core.event import ChatKind, ChatRef, Face, Reply
from bot.core.message import REACTION, OutgoingMessage

from .conftest import Harness

NAPCAT = {"app_name": "NapCat.Onebot", "app_version": "4.8.95", "protocol_version": "v11"}
LAGRANGE = {"app_name": "Lagrange.OneBot", "app_version": "0.0.3", "protocol_version": "v11"}
GROUP = ChatRef("qq", ChatKind.GROUP, "40001")


def _reaction(account: str) -> Envelope:
    msg = OutgoingMessage(GROUP, (Reply("5001"), Face("124")))
    return Envelope(7, msg, account, REACTION, None)


def _asked(actions: list[dict[str, Any]]) -> int:
    return sum(a["action"] == "get_version_info" for a in actions)


async def test_one_answer_decides_reactions_and_files_per_account(harness: Harness) -> None:
    adapter = harness.adapter
    assert isinstance(adapter, FileSender) and isinstance(adapter, Reactor)
    napcat = await harness.impl(self_id=111)
    napcat.results["get_version_info"] = NAPCAT
    lagrange = await harness.impl(self_id=222)
    lagrange.results["get_version_info"] = LAGRANGE

    assert await adapter.can_send_file(GROUP, "111") is True
    assert await adapter.react(_reaction("111")) is True
    assert await adapter.can_send_file(GROUP, "111") is True
    assert _asked(napcat.actions) == 1
    assert [a["params"] for a in napcat.actions if a["action"] == "set_msg_emoji_like"] == [
        {"message_id": 5001, "emoji_id": "124"}]

    # The other account's implementation is its own: no file upload, no reaction.
    assert await adapter.react(_reaction("222")) is False
    assert await adapter.can_send_file(GROUP, "222") is False
    assert _asked(lagrange.actions) == 1
    assert not [a for a in lagrange.actions if a["action"] == "set_msg_emoji_like"]

    # A private chat never gets a group file, and is not worth asking about.
    private = ChatRef("qq", ChatKind.PRIVATE, "10001")
    assert await adapter.can_send_file(private, "111") is False
    assert _asked(napcat.actions) == 1


async def test_a_reconnect_asks_again(harness: Harness) -> None:
    """Another implementation may come back on the same account: it is asked anew."""
    first = await harness.impl(self_id=111)
    first.results["get_version_info"] = NAPCAT
    assert await harness.adapter.can_send_file(GROUP, "111") is True
    await first.close()
    second = await harness.impl(self_id=111)
    second.results["get_version_info"] = LAGRANGE
    assert await harness.adapter.can_send_file(GROUP, "111") is False
    assert await harness.adapter.react(_reaction("111")) is False
    assert _asked(second.actions) == 1


async def test_an_implementation_that_cannot_say_is_trusted_with_neither(
        harness: Harness) -> None:
    impl = await harness.impl(self_id=111)
    impl.failures["get_version_info"] = {"retcode": 1404, "message": "unknown action"}
    assert await harness.adapter.can_send_file(GROUP, "111") is False
    assert await harness.adapter.react(_reaction("111")) is False
    assert _asked(impl.actions) == 1
