"""The database as the layers above the services see it: a place to run units of work.

``storage.db.Database`` is the one implementation; only the composition root (``bot/app.py``)
and the command line build it. The pipeline, the scheduler, the web board and the reports are
handed one and run service functions in it, one transaction each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")


class Database(Protocol):
    url: str
    is_sqlite: bool

    @property
    def dialect(self) -> str: ...

    def transaction(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction on the calling thread."""
        ...

    async def run(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` as one transaction on a database thread and await its result."""
        ...

    async def ping(self) -> bool: ...

    def close(self) -> None: ...
