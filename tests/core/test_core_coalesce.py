"""Which waiting acknowledgements ride along in one message, and what that message says."""

from __future__ import annotations

from collections import deque

from bot.core.adapter import Envelope
from bot.core.event import ChatRef, Mention, Reply, Text
from bot.core.message import OutgoingMessage
from bot.pipeline import coalesce

GROUP = ChatRef.parse("qq:group:1")
OTHER = ChatRef.parse("qq:group:2")


def ack(n: int, chat: ChatRef = GROUP, *, user: str = "", account: str = "bot") -> Envelope:
    msg = OutgoingMessage.text(chat, f"已收到 #{n}：单位{n}《年度总结》", reply_to=str(1000 + n),
                               reply_to_user=user or str(500 + n))
    return Envelope(n, msg, account, "reply", f"submission:{n}")


def test_acks_for_the_same_chat_and_account_ride_along_in_order() -> None:
    queue = deque([ack(2), ack(3, OTHER), ack(4), ack(5, account="other"),
                   Envelope(6, OutgoingMessage.text(GROUP, "帮助……", reply_to="9"), "bot",
                            "reply", "")])
    group = coalesce.take(ack(1), queue, limit_chars=1500)
    assert [d.outbox_id for d in group] == [1, 2, 4]
    assert [d.outbox_id for d in queue] == [3, 5, 6]  # the rest keep their order


def test_limits_of_one_message() -> None:
    queue = deque(ack(n) for n in range(2, 50))
    group = coalesce.take(ack(1), queue, limit_chars=10_000)
    assert len(group) == coalesce.MAX_ACKS and len(queue) == 49 - coalesce.MAX_ACKS
    queue = deque(ack(n) for n in range(2, 50))
    group = coalesce.take(ack(1), queue, limit_chars=200)
    merged = coalesce.merge(group)
    assert 1 < len(group) < 10 and len(merged.message.plain) <= 200


def test_a_lone_ack_is_sent_as_it_was_and_a_merged_one_mentions_each_sender() -> None:
    single = ack(1)
    assert coalesce.merge([single]) is single
    merged = coalesce.merge([ack(1), ack(2)])
    assert merged.outbox_id == 1 and merged.chat == GROUP
    assert [s.user_id for s in merged.message.segments if isinstance(s, Mention)] == ["501", "502"]
    assert not any(isinstance(s, Reply) for s in merged.message.segments)
    assert merged.message.plain == " 已收到 #1：单位1《年度总结》\n 已收到 #2：单位2《年度总结》"


def test_only_group_acknowledgements_naming_their_sender_are_merged() -> None:
    private = OutgoingMessage.text(ChatRef.parse("qq:user:7"), "已收到 #3")
    assert coalesce.sender_of(Envelope(3, private, "bot", "reply", "submission:3")) == ""
    no_user = OutgoingMessage(GROUP, (Reply("1"), Text("已收到 #4")))
    assert coalesce.sender_of(Envelope(4, no_user, "bot", "reply", "submission:4")) == ""
    assert coalesce.sender_of(Envelope(5, ack(5).message, "bot", "notify", "x")) == ""
    assert coalesce.take(Envelope(4, no_user, "bot", "reply", "s"), deque([ack(6)]),
                         limit_chars=1500) == [Envelope(4, no_user, "bot", "reply", "s")]
