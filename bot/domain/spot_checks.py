"""Spot checks (抽查): a random draw of units that anyone can re-run and verify.

The draw is a pure function of (unit ids, k, seed). The seed comes from ``secrets`` so nobody can
steer it, and the caller records it with the result; an auditor later re-runs :func:`verify` to
show the draw was not hand-picked. The ids are de-duplicated and sorted first, so the order a
query happened to return them in does not matter. (``random.Random.sample`` has been stable across
CPython 3 releases; verify with the same major version the draw was made with.)
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence

from bot.domain.errors import InvalidInput


def new_seed() -> int:
    """A fresh unpredictable seed; 63 bits so it fits a signed 64-bit database column."""
    return secrets.randbits(63)


def draw(unit_ids: Sequence[int], k: int, seed: int) -> list[int]:
    """``k`` distinct units out of ``unit_ids``, sorted ascending, determined by ``seed``."""
    population = sorted(set(unit_ids))
    if k < 0:
        raise InvalidInput("抽查数量不能为负数", log=f"spot check with k={k}")
    if k > len(population):
        raise InvalidInput(
            f"抽查数量 {k} 超过了可抽单位数 {len(population)}",
            log=f"spot check k={k} > population {len(population)}",
        )
    return sorted(random.Random(seed).sample(population, k))


def verify(unit_ids: Sequence[int], k: int, seed: int, drawn: Sequence[int]) -> bool:
    """Whether ``drawn`` is exactly what :func:`draw` gives for these inputs (in any order)."""
    try:
        expected = draw(unit_ids, k, seed)
    except InvalidInput:
        return False
    return sorted(drawn) == expected
