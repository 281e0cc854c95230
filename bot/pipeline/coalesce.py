"""Acknowledgements waiting for one group go out as one message.

On a deadline day thirty liaisons submit in one group within a minute. Each submission is
acknowledged ("已收到 #12：郑州市《三季度报告》"), and the account may send one message a second at
most, so thirty separate acknowledgements trickle in for half a minute and flood the group. The
delivery lane instead takes, when an acknowledgement's turn comes, every other acknowledgement for
the same chat already waiting in its queue, and sends them as one message: one line each (number,
unit, task as written by the handler) after an @ of its sender.

What stays true:

- Only rows this process holds are merged. They come from the dispatcher after the commit that
  stored the submission (written already leased to this process) or from the poller's claim
  (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so no two processes
  hold the same row and every acknowledgement is in exactly one message.
- The merged message carries all its rows: sent, they are all marked sent with its platform id;
  failed, each row is retried (or given up) as it would have been alone.
- A crash after the send and before the rows are marked leaves them leased; after the lease
  another process sends them again (possibly merged differently). That is the outbox's
  at-least-once contract, unchanged: an acknowledgement may be repeated after a crash, never lost.
"""

from __future__ import annotations

from collections import deque

from bot.core.adapter import Envelope
from bot.core.event import ChatKind, Mention, Reply, Segment, Text
from bot.core.message import OutgoingMessage

# Most acknowledgements in one message: a list longer than this is hard to scan for one's own
# number, and QQ folds long messages. The text limit (``[outbox] split_chars``) applies as well.
MAX_ACKS = 30
# What an @ adds to a line when the platform renders it ("@张三 "): an estimate for the limit.
_MENTION_CHARS = 12


def sender_of(d: Envelope) -> str:
    """The sender an acknowledgement answers ("" when ``d`` is not a mergeable one)."""
    if d.kind != "reply" or d.chat.kind is not ChatKind.GROUP or not d.cause:
        return ""
    segs = d.message.segments
    first = segs[0] if segs else None
    if not isinstance(first, Reply) or not first.user_id:
        return ""
    if not all(isinstance(s, Text) for s in segs[1:]):
        return ""
    return first.user_id


def _chars(d: Envelope) -> int:
    return len(d.message.plain) + _MENTION_CHARS + 1


def take(first: Envelope, queue: deque[Envelope], *, limit_chars: int,
         max_acks: int = MAX_ACKS) -> list[Envelope]:
    """``first`` and the acknowledgements for its chat waiting in ``queue`` (removed from it),
    oldest first, as many as fit one message. The rest keep their places for the next turn."""
    group = [first]
    if not sender_of(first):
        return group
    size = _chars(first)
    kept: deque[Envelope] = deque()
    while queue:
        d = queue.popleft()
        if (len(group) < max_acks and d.chat == first.chat and d.account == first.account
                and sender_of(d) and size + _chars(d) <= limit_chars):
            group.append(d)
            size += _chars(d)
        else:
            kept.append(d)
    queue.extend(kept)
    return group


def merge(group: list[Envelope]) -> Envelope:
    """One envelope for the group: the acknowledgement itself when alone (exactly what it would
    have been without merging), else one line per acknowledgement after an @ of its sender."""
    first = group[0]
    if len(group) == 1:
        return first
    segs: list[Segment] = []
    for i, d in enumerate(group):
        if i:
            segs.append(Text("\n"))
        segs.append(Mention(sender_of(d)))
        segs.append(Text(" " + d.message.plain))
    return Envelope(first.outbox_id, OutgoingMessage(first.chat, tuple(segs)), first.account,
                    first.kind, first.cause)
