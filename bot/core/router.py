"""Routing a message to one handler.

Handlers are plain functions registered on ``Router`` objects (one per area, in ``handlers/``)
with a ``HandlerSpec`` that says which command words and language intents reach them and who
may use them. Routers are composed in one place (``handlers.build_router``). The spec is also
the help text, so help can never drift from what the bot understands.

A message reaches a handler when (first match wins):
1. it starts with a command word (with or without ``/``, ``#`` or ``＃``), or
2. it is addressed to the bot (@, reply to the bot, private chat) and the language layer names an
   intent some handler declares.
In groups a message that is neither is ignored: the bot speaks only when spoken to.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.context import Context

Handler = Callable[[Context], None]

PREFIXES = ("/", "#", "＃", "／")


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    name: str
    commands: tuple[str, ...]  # command words; the first is the canonical one shown in help
    usage: str  # e.g. "提交 [任务] 内容"
    summary: str  # one line of help
    intents: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # empty = anyone, including people not bound yet
    area: str = ""
    example: str = ""


@dataclass(slots=True)
class Route:
    spec: HandlerSpec
    fn: Handler


@dataclass
class Router:
    area: str
    routes: list[Route] = field(default_factory=list)
    children: list[Router] = field(default_factory=list)

    def handler(self, spec: HandlerSpec) -> Callable[[Handler], Handler]:
        """Tag-and-register: ``@router.handler(HandlerSpec(...))``."""

        def register(fn: Handler) -> Handler:
            self.routes.append(Route(spec, fn))
            return fn

        return register

    def include(self, *routers: Router) -> None:
        for r in routers:
            if r is self or r in self.children:
                raise ValueError(f"router {r.area!r} included twice or into itself")
            self.children.append(r)

    def all_routes(self) -> list[Route]:
        out = list(self.routes)
        for c in self.children:
            out.extend(c.all_routes())
        return out


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    command: str
    args: str


class RouteTable:
    """The flattened, ordered lookup built once from the router tree."""

    def __init__(self, root: Router) -> None:
        self.routes = root.all_routes()
        words: list[tuple[str, Route]] = []
        for r in self.routes:
            for w in r.spec.commands:
                words.append((w, r))
        # Longest word first so 发布通报 wins over 发布 and 通报.
        self._words = sorted(words, key=lambda p: -len(p[0]))
        self._intents: dict[str, Route] = {}
        for r in self.routes:
            for i in r.spec.intents:
                self._intents.setdefault(i, r)

    def by_command(self, text: str) -> Match | None:
        body = text.lstrip()
        prefixed = body[:1] in PREFIXES
        if prefixed:
            body = body[1:].lstrip()
        for word, route in self._words:
            if body.startswith(word):
                rest = body[len(word):]
                # A command word must end at a separator, unless it is a whole short message
                # ("收到了" is still an acknowledgement) — we accept any continuation for words
                # of 2+ characters, which are not ordinary sentence openings in this vocabulary.
                return Match(route, word, rest.strip(" \t\n:：,，"))
        return None

    def by_intent(self, intent: str) -> Route | None:
        return self._intents.get(intent)

    def suggest(self, text: str) -> list[str]:
        """Command words close to what was typed, for "did you mean"."""
        body = text.lstrip("".join(PREFIXES)).strip()
        head = body.split()[0] if body.split() else body
        words = [w for w, _ in self._words]
        cands = difflib.get_close_matches(head[:6], words, n=3, cutoff=0.5)
        return list(dict.fromkeys(cands))
