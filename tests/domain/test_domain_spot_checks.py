"""Reproducible, auditable spot-check draws."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.spot_checks import draw, new_seed, verify


def test_draw_is_reproducible_and_verifiable() -> None:
    units = list(range(1, 101))
    first = draw(units, 10, 12345)
    assert first == draw(units, 10, 12345)
    assert len(set(first)) == 10
    assert set(first) <= set(units)
    assert first == sorted(first)
    assert verify(units, 10, 12345, list(reversed(first)))
    assert verify(units, 10, 12346, first) == (draw(units, 10, 12346) == first)
    assert not verify(units, 10, 12345, first[:-1])


def test_bounds() -> None:
    assert draw([3, 1, 2], 0, 1) == []
    assert draw([3, 1, 2, 2], 3, 1) == [1, 2, 3]
    with pytest.raises(InvalidInput):
        draw([1, 2], 3, 1)
    with pytest.raises(InvalidInput):
        draw([1, 2], -1, 1)
    assert not verify([1, 2], 3, 1, [1, 2])


def test_new_seed_is_fresh_and_fits_bigint() -> None:
    seeds = {new_seed() for _ in range(20)}
    assert len(seeds) == 20
    assert all(0 <= s < 2**63 for s in seeds)


@settings(max_examples=150)
@given(
    st.lists(st.integers(1, 500), min_size=1, max_size=60, unique=True),
    st.integers(0, 2**63 - 1),
    st.data(),
)
def test_draw_does_not_depend_on_input_order(
    units: list[int], seed: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(units)))
    shuffled = data.draw(st.permutations(units))
    assert draw(units, k, seed) == draw(shuffled, k, seed)
    assert verify(shuffled, k, seed, draw(units, k, seed))
