"""The language layer's vocabulary from the database, and keeping the parser current.

The parser knows units (names, short names, aliases) and open tasks (titles, deadlines). It is
built off the event loop and installed in ``env.parser``. ``keep_fresh`` then checks every
``[nlu] refresh_s`` seconds whether the vocabulary read from the database still equals the one
the parser was built from — a poll, because units and tasks also change from other processes
(`dudao unit import`, `dudao task add`). On a change a whole new parser is built in a thread and
swapped in with one assignment: a message being parsed meanwhile finishes on the old parser,
which is never modified.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

from bot.core.database import Database
from bot.core.env import ServiceEnv
from bot.core.nlu import Parser, Vocabulary
from bot.services.vocabulary import read_vocabulary

log = logging.getLogger("dudao.nlu")


def _construct(vocab: Vocabulary, env: ServiceEnv) -> Parser:
    return Parser(vocab, is_workday=env.calendar.is_workday, tz=env.tz)


async def _build(vocab: Vocabulary, env: ServiceEnv) -> Parser:
    started = time.perf_counter()
    parser = await asyncio.to_thread(_construct, vocab, env)
    log.info("language model built in %.2f s (%d units, %d open tasks)",
             time.perf_counter() - started, len(vocab.units), len(vocab.tasks))
    return parser


async def build_parser(db: Database, env: ServiceEnv) -> Parser:
    """A parser for the current roster and open tasks, constructed off the event loop."""
    vocab = await db.run(lambda conn: read_vocabulary(conn, env))
    return await _build(vocab, env)


async def refresh_parser(db: Database, env: ServiceEnv) -> bool:
    """Rebuild and swap in the parser when units or open tasks changed. Returns whether it did."""
    current = env.parser
    if current is None:
        return False
    vocab = await db.run(lambda conn: read_vocabulary(conn, env))
    if vocab == current.vocabulary:
        return False
    parser = await _build(vocab, env)
    # Only replace what we compared against: a parser installed meanwhile by someone else wins.
    if env.parser is current:
        env.parser = parser
        freeze_long_lived()
    return True


def freeze_long_lived() -> None:
    """Exempt what exists now (the parser's dictionary above all) from cyclic GC scans.

    A parser's dictionary is hundreds of thousands of long-lived objects; without this the
    garbage collector walks them all on every full collection, which showed up as a quarter of
    the CPU spent per inbound message (bench/README.md). Refcounting still frees a replaced
    parser.
    """
    gc.freeze()


async def keep_fresh(db: Database, env: ServiceEnv, interval_s: float) -> None:
    """Poll for vocabulary changes until cancelled; a failed check is logged and retried."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await refresh_parser(db, env)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("language model refresh failed, keeping the current one: %s", exc)
