"""Routing: which handler a message reaches, who may use it, and whether the bot was addressed.

Handlers are plain functions registered on ``Router`` objects (one per area, in ``handlers/``)
with a ``HandlerSpec`` that says which command words and language intents reach them and which
roles may use them. Routers are composed in one place (``handlers.build_router``) and flattened
into a ``RouteTable``, which decides for every message, in this order:

1. A message starting with a command word (with or without ``/``, ``#``, ``＃``) reaches that
   command's handler — unless, read whole by the language layer, it is something else: a
   question ("退回的呢？", "提交了吗") or another request ("通知下谁还没回复收到"). Only messages
   where that is possible are read (the word run into more words, or a question at the end).
   A command word that is also an ordinary opening ("旗帜鲜明讲政治", ``word_alone``) counts,
   without the language layer, only when followed by a separator or when the bot was
   addressed. A handler whose command reader finds the message is not its command after all
   raises :class:`NotACommand`, and the message is talk like those.
2. A message carrying files, addressed to the bot, reaches the handler that takes files
   (a file sent in reply to a reminder is a submission for that task).
3. Otherwise only a message addressed to the bot is answered: the language layer names an
   intent some handler declares, or the *fallback* (the conversation: clarifying questions,
   "not understood") has it; without one the bot says it did not understand (with suggestions).

*Addressed* means: @ the bot, a private chat, a reply to a message the bot sent, or — in a
group — a short 是 / 不是 from the person the bot just asked a question (the registered
``expects_answer`` predicate says so). In groups the bot speaks only when spoken to; a command
word at the start counts as speaking to it.

Roles are enforced here and nowhere else. A person whose role may not use a handler gets one
line saying who may ("只有管理员可以发布任务") when they addressed the bot (or wrote ``/`` or
``#``); when they did not, a command word at the start of their message is talk among
colleagues ("通知大家…"), and the bot stays silent. Someone not registered at all is told how
to bind. Handlers keep the finer rules (a liaison acts only for their own unit).

Notices and subscription events reach the one observer registered for their kind.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.context import Context, Member, NoticeContext
from bot.core.event import ChatKind
from bot.domain.roles import ROLE_NAMES, ROLES

Handler = Callable[[Context], None]
Observer = Callable[[NoticeContext], None]
# The fallback answers what no command or intent took (True), or leaves it to the router (False).
Fallback = Callable[[Context], bool]
# Whether a message not addressed to the bot answers a question the bot asked its sender.
ExpectsAnswer = Callable[[Context], bool]

PREFIXES = ("/", "#", "＃", "／")
ANYONE_REGISTERED = ROLES

UNKNOWN = "没太明白您的意思。发送“帮助”查看可用的指令。"
NOT_BOUND = ("您还没有绑定单位。请发送“绑定 单位名称 邀请码”（邀请码向管理员索取），"
             "或“绑定 单位名称”等待管理员确认。")


class NotACommand(Exception):
    """Raised by a handler whose command reader finds that the message only starts with its
    command word ("进度条卡住了"): the router treats the message as talk."""


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    name: str
    commands: tuple[str, ...]  # command words; the first is the canonical one shown in help
    usage: str  # e.g. "提交 [任务] 内容"
    summary: str  # one line of help
    intents: tuple[str, ...] = ()
    # Who may use it: empty = anyone, people not registered yet included;
    # ANYONE_REGISTERED = every role.
    roles: tuple[str, ...] = ()
    area: str = ""
    example: str = ""
    action: str = ""  # what it does, for the refusal: "只有管理员可以{action}"
    takes_files: bool = False  # files sent to the bot without a command word come here
    # The command word is also an ordinary opening ("旗帜鲜明讲政治", "创新驱动发展"): run into
    # other words without a separator it is a command only when addressed or when the language
    # layer reads it as the command.
    word_alone: bool = False

    def allows(self, person: Member | None) -> bool:
        return not self.roles or (person is not None and person.role in self.roles)

    @property
    def refusal(self) -> str:
        """One line saying who may ("只有管理员可以发布任务")."""
        who = "和".join(ROLE_NAMES.get(r, r) for r in self.roles)
        return f"只有{who}可以{self.action or f'使用“{self.commands[0]}”'}"


@dataclass(slots=True)
class Route:
    spec: HandlerSpec
    fn: Handler


@dataclass
class Router:
    area: str
    routes: list[Route] = field(default_factory=list)
    observers: dict[str, Observer] = field(default_factory=dict)
    children: list[Router] = field(default_factory=list)
    fallbacks: list[Fallback] = field(default_factory=list)
    answer_checks: list[ExpectsAnswer] = field(default_factory=list)

    def handler(self, spec: HandlerSpec) -> Callable[[Handler], Handler]:
        """Tag-and-register: ``@router.handler(HandlerSpec(...))``."""

        def register(fn: Handler) -> Handler:
            self.routes.append(Route(spec, fn))
            return fn

        return register

    def observe(self, *kinds: str) -> Callable[[Observer], Observer]:
        """Register the observer of notices or subscription events of these kinds."""

        def register(fn: Observer) -> Observer:
            for kind in kinds:
                if kind in self.observers:
                    raise ValueError(f"a second observer for {kind!r} in {self.area!r}")
                self.observers[kind] = fn
            return fn

        return register

    def fallback(self, fn: Fallback) -> Fallback:
        """Register what answers an addressed message no command or intent took (one in all)."""
        self.fallbacks.append(fn)
        return fn

    def expects_answer(self, fn: ExpectsAnswer) -> ExpectsAnswer:
        """Register the check of whether a message not addressed to the bot answers a question
        the bot asked its sender (one in all); such a message then addresses the bot."""
        self.answer_checks.append(fn)
        return fn

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

    def all_observers(self) -> list[tuple[str, Observer]]:
        out = list(self.observers.items())
        for c in self.children:
            out.extend(c.all_observers())
        return out

    def all_fallbacks(self) -> list[Fallback]:
        return self.fallbacks + [f for c in self.children for f in c.all_fallbacks()]

    def all_answer_checks(self) -> list[ExpectsAnswer]:
        return self.answer_checks + [f for c in self.children for f in c.all_answer_checks()]


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
        self._files = next((r for r in self.routes if r.spec.takes_files), None)
        self._observers: dict[str, Observer] = {}
        for kind, fn in root.all_observers():
            if kind in self._observers:
                raise ValueError(f"two observers for {kind!r}: one observer per event kind")
            self._observers[kind] = fn
        self._fallback = _at_most_one(root.all_fallbacks(), "fallback")
        self._expects_answer = _at_most_one(root.all_answer_checks(), "expects_answer")

    # --- lookups ------------------------------------------------------------------------------

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

    # --- routing ------------------------------------------------------------------------------

    def route(self, ctx: Context) -> bool:
        """Pick the handler for a message and run it (see the module docstring). Returns
        whether the bot answered or acted."""
        ev = ctx.event
        text = ev.text
        ctx.addressed = (ev.to_me or ev.chat.kind is ChatKind.PRIVATE
                         or ctx.quoted is not None)
        ctx.prefixed = text[:1] in PREFIXES
        match = self.by_command(text)
        if match is not None and _reads_otherwise(ctx, match.command):
            match = None  # "退回的呢？", "通知下谁还没回复收到": a command word, not the command
        if match is not None:
            ctx.command, ctx.args = match.command, match.args
            explicit = ctx.addressed or ctx.prefixed
            if match.route.spec.word_alone and _is_talk(ctx, explicit):
                return _talk(ctx, explicit)
            return self._run(match.route, ctx, explicit=explicit)
        if not ctx.addressed:
            if self._expects_answer is None or not self._expects_answer(ctx):
                return False
            ctx.addressed = True  # "是" / "不是，是开封": the answer to the bot's question
        if ev.attachments and self._files is not None:
            ctx.command, ctx.args = self._files.spec.commands[0], text
            return self._run(self._files, ctx, explicit=True)
        parse = ctx.parse if text and _understands(ctx) else None
        if parse is not None and parse.clarify is None and parse.confidence >= 0.5:
            route = self.by_intent(parse.intent.value)
            if route is not None:
                ctx.command, ctx.args = "", text
                return self._run(route, ctx, explicit=True)
        if self._fallback is not None and self._fallback(ctx):
            return True
        if parse is not None and parse.clarify:
            ctx.reply(parse.clarify)
            return True
        suggestions = self.suggest(text)
        hint = f"您是不是想用：{'、'.join(suggestions)}？" if suggestions else ""
        ctx.reply((hint + "\n" if hint else "") + UNKNOWN)
        return True

    @staticmethod
    def _run(route: Route, ctx: Context, *, explicit: bool) -> bool:
        spec = route.spec
        if spec.allows(ctx.person):
            try:
                route.fn(ctx)  # ctx.parse is made on first use, if the handler needs slots
            except NotACommand:
                return _talk(ctx, explicit)
            return True
        if ctx.person is None:
            ctx.reply(NOT_BOUND)  # strangers are told how to become someone
            return True
        if not explicit:
            return False  # "通知大家…" from a liaison is talk among colleagues
        ctx.reply(spec.refusal)
        return True

    def observe(self, ctx: NoticeContext) -> bool:
        """Hand a notice or subscription event to the observer of its kind, if there is one."""
        fn = self._observers.get(ctx.event.kind)
        if fn is None:
            return False
        fn(ctx)
        return True


_SEPARATORS = " \t\r\n:：,，、;；.。!！?？"
# A command word followed by one of these is not run into other words ("提交？" still asks).
_WORD_ENDS = " \t\r\n:：,，、;；.。!！"
_ENDS_ASKING = re.compile(r"([?？]|[吗呢么嘛]|没有|了没)[啊呀吧哈\s]*$")


def _at_most_one(fns: list[Callable[[Context], bool]], what: str
                 ) -> Callable[[Context], bool] | None:
    if len(fns) > 1:
        raise ValueError(f"{len(fns)} routers register a {what}: one in all")
    return fns[0] if fns else None


def _understands(ctx: Context) -> bool:
    """Whether the language layer is there to read natural phrasing (it loads after start, and
    may be switched off; commands are understood without it)."""
    parser = ctx.env.parser
    return parser is not None and parser.language


def _reads_otherwise(ctx: Context, command: str) -> bool:
    """Whether a message that starts with a command word is, read whole, something else: a
    question ("退回的呢？", "提交了吗") or another request ("通知下谁还没回复收到"). Only messages
    where that is possible are parsed (the command word run together with more words, or a
    question at the end), so "提交 月报 见附件" costs nothing more."""
    text = ctx.event.text.lstrip()
    if text[:1] in PREFIXES:
        return False  # "/通过 …" is always the command
    after = text[len(command):] if text.startswith(command) else ""
    glued = bool(after) and after[0] not in _WORD_ENDS
    if not (glued or _ENDS_ASKING.search(text)) or not _understands(ctx):
        return False
    parse = ctx.parse
    return parse is not None and not parse.canonical


def _is_talk(ctx: Context, explicit: bool) -> bool:
    """Whether a message that merely starts with a ``word_alone`` command word is ordinary talk
    ("旗帜鲜明讲政治", "动态调整清单", "创新驱动发展"), not a command.

    A command word followed by a separator (or nothing) is a command. Run together with more
    words, the language layer has decided already (:func:`_reads_otherwise`); without it the
    message is a command only if the bot was addressed or it starts with / or #.
    """
    body = ctx.event.text.lstrip()
    if body[:1] in PREFIXES:
        body = body[1:].lstrip()
    rest = body[len(ctx.command):] if body.startswith(ctx.command) else ""
    if not rest or rest[0] in _SEPARATORS or _understands(ctx):
        return False
    return not explicit


def _talk(ctx: Context, explicit: bool) -> bool:
    """A message that only starts with a command word: silence, unless it was said to the bot."""
    if explicit:
        ctx.reply(UNKNOWN)  # said to the bot, but not as a command
    return explicit
