"""``dudao console``: the terminal as a platform — chat with the bot as any identity, in any chat.

It is an adapter like the others: the service, dispatcher, handlers and database are those of
``dudao serve``; only the transport is the terminal. Each line typed is a message to the bot
in the chosen chat (``^`` first replies to the bot's last message there); what the bot sends to
that chat is printed as its answer, messages to other chats of the platform with their
destination, so reminders and notices show too.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from aiohttp import web

from bot.core.adapter import AdapterFactory, Envelope, Host
from bot.core.event import ChatKind, ChatRef, Mention, MessageEvent, Reply, Segment, Text, UserRef

BOT_ID = "console-bot"
# Time for what a line caused elsewhere (notices to other chats) to be printed before the
# next prompt is read.
SETTLE_S = 0.2


class ConsoleAdapter:
    name = "console"

    def __init__(self, host: Host, *, who: UserRef, chat: ChatRef,
                 stdin: TextIO | None = None, out: TextIO | None = None,
                 finished: asyncio.Event | None = None) -> None:
        self.platforms = (chat.platform,)
        self.host = host
        self.who = who
        self.here = chat
        self.stdin = stdin or sys.stdin
        self.out = out or sys.stdout
        self.finished = finished or asyncio.Event()  # set when the terminal is closed
        self._reader: asyncio.Task[None] | None = None

    # --- the Adapter protocol -----------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return []

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_lines(), name="console")

    async def stop(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()

    async def close(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"chat": self.here.key, "as": self.who.key}

    def available_accounts(self, platform: str) -> list[str]:
        return [BOT_ID]

    async def send(self, envelope: Envelope) -> str:
        message = envelope.message
        mentions = " ".join(f"@{s.user_id}" for s in message.segments if isinstance(s, Mention))
        text = (mentions + " " if mentions else "") + message.plain
        prefix = "督导" if message.chat == self.here else f"督导 → {message.chat.key}"
        print(f"{prefix}：{text}", file=self.out, flush=True)
        return f"c{envelope.outbox_id}"  # what "^" quotes: the outbox row it came from

    async def resolve_attachments(self, event: MessageEvent) -> MessageEvent:
        return event  # a terminal sends no files

    # --- the terminal -------------------------------------------------------------------------

    async def _read_lines(self) -> None:
        # Questions typed at once must be understood: the prompt waits for the language model.
        await self.host.until_handling()
        where = "群聊" if self.here.kind is ChatKind.GROUP else "私聊"
        print(f"督导控制台：你是 {self.who.key}，在{where} {self.here.key}。"
              "输入“帮助”查看指令，Ctrl-D 退出。", file=self.out, flush=True)
        loop = asyncio.get_running_loop()
        counter = itertools.count(1)
        run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        last_bot_message: str | None = None
        try:
            while True:
                line = await loop.run_in_executor(None, self.stdin.readline)
                if not line:
                    break
                text = line.strip()
                if not text:
                    continue
                segs: list[Segment] = []
                reply_to = None
                if text.startswith("^") and last_bot_message:  # "^收到" replies to the last
                    reply_to = last_bot_message
                    text = text[1:].strip()
                    segs.append(Reply(reply_to))
                segs.append(Text(text))
                ev = MessageEvent(platform=self.here.platform, self_id=BOT_ID, chat=self.here,
                                  sender=self.who, message_id=f"{run_id}-{next(counter)}",
                                  segments=tuple(segs), time=datetime.now(UTC),
                                  sender_name=self.who.id, to_me=True, reply_to=reply_to)
                produced = await self.host.feed(ev)
                for d in produced:
                    if d.chat == self.here:
                        last_bot_message = f"c{d.outbox_id}"
                await asyncio.sleep(SETTLE_S)
        finally:
            self.finished.set()


def factory(who: UserRef, chat: ChatRef) -> tuple[AdapterFactory, asyncio.Event]:
    """A factory for the registry, and the event set when the terminal is closed (Ctrl-D)."""
    done = asyncio.Event()

    def create(settings: Any, host: Host) -> ConsoleAdapter:
        return ConsoleAdapter(host, who=who, chat=chat, finished=done)

    return create, done
