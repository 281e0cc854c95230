"""``dudao console``: chat with the bot in a terminal, as any identity, in any chat.

It runs the same dispatcher, handlers and database as ``dudao serve``; only the transport is
the terminal. Messages the bot sends to the chat you are in are printed as its answers; messages
to other chats are shown with their destination, so you can see reminders and notices too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.core.adapter import Envelope
from bot.core.event import ChatKind, ChatRef, Mention, MessageEvent, Reply, Text, UserRef
from config.settings import Settings

BOT_ID = "console-bot"


class ConsoleSender:
    """Prints what the bot sends. One instance per platform the console speaks for."""

    def __init__(self, platform: str, here: ChatRef, out: TextIO | None = None) -> None:
        self.platform = platform
        self.here = here
        self.out = out or sys.stdout

    def available_accounts(self, platform: str) -> list[str]:
        return [BOT_ID]

    async def send(self, envelope: Envelope) -> str:
        message = envelope.message
        mentions = " ".join(f"@{s.user_id}" for s in message.segments if isinstance(s, Mention))
        text = (mentions + " " if mentions else "") + message.plain
        prefix = "督导" if message.chat == self.here else f"督导 → {message.chat.key}"
        print(f"{prefix}：{text}", file=self.out, flush=True)
        return f"c{envelope.outbox_id}"  # what "^" quotes: the outbox row it came from


def run_console(settings: Settings, *, identity: str, chat: str) -> int:
    try:
        sender_ref = UserRef.parse(identity)
        chat_ref = ChatRef.parse(chat)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    return asyncio.run(_main(settings, sender_ref, chat_ref))


async def _main(settings: Settings, who: UserRef, chat: ChatRef) -> int:
    from bot.app import _lifecycle_console, build_services

    sender = ConsoleSender(chat.platform, chat)
    services = build_services(settings, extra_senders={chat.platform: sender})
    services.delivery.settings = dataclasses.replace(
        services.delivery.settings, poll_interval_s=3600, account_interval_ms=0,
        group_interval_ms=0, jitter_ms=0, broadcast_per_minute=0)
    async with _lifecycle_console(services):
        where = "群聊" if chat.kind is ChatKind.GROUP else "私聊"
        print(f"督导控制台：你是 {who.key}，在{where} {chat.key}。输入“帮助”查看指令，Ctrl-D 退出。",
              flush=True)
        loop = asyncio.get_running_loop()
        counter = itertools.count(1)
        run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        last_bot_message: str | None = None
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            segs: list[object] = []
            reply_to = None
            if text.startswith("^") and last_bot_message:  # "^收到" replies to the last message
                reply_to = last_bot_message
                text = text[1:].strip()
                segs.append(Reply(reply_to))
            segs.append(Text(text))
            ev = MessageEvent(platform=chat.platform, self_id=BOT_ID, chat=chat, sender=who,
                              message_id=f"{run_id}-{next(counter)}", segments=tuple(segs),  # type: ignore[arg-type]
                              time=datetime.now(UTC), sender_name=who.id, to_me=True,
                              reply_to=reply_to)
            produced = await services.dispatcher.feed(ev)
            await asyncio.sleep(0.05)
            for d in produced:
                if d.message.chat == chat:
                    last_bot_message = f"c{d.outbox_id}"
            await _settle(services)
    return 0


async def _settle(services: object) -> None:
    await asyncio.sleep(0.2)
