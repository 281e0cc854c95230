"""Fixtures of the fault suite: workdirs, database URLs and processes that are always stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.fault.fault_proc import Serve
from tests.support.pg import pg_url


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[str, dict[str, str]], Serve]]:
    """Make `dudao serve` processes; every one is stopped (SIGTERM, then SIGKILL) at the end."""
    made: list[Serve] = []

    def make(name: str, env: dict[str, str]) -> Serve:
        s = Serve(name, env, tmp_path)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/dudao.db"
    return pg_url(f"dudao_fault_{request.node.originalname}"[:50])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s
