"""Period scores (DESIGN §4: flags combined with bonuses and deductions, weights in config)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput
from bot.domain.flags import FlagColor, incident, innovation
from bot.domain.scoring import ScoreBreakdown, ScoreEntry, ScoreWeights, unit_score


def test_default_weights() -> None:
    result = unit_score(
        {FlagColor.RED: 2, FlagColor.BLUE: 3, FlagColor.YELLOW: 1},
        [innovation(1, 2, "创新").score, incident(1, 1.5, "问题").score],
        ScoreWeights(),
        on_time_rate=5 / 6,
    )
    assert result == ScoreBreakdown(
        red=2,
        blue=3,
        yellow=1,
        flag_points=8.0,
        bonus=2.0,
        deduction=1.5,
        on_time_rate=0.8333,
        total=8.5,
    )


def test_configured_weights_and_missing_colours() -> None:
    result = unit_score({FlagColor.RED: 1}, [], ScoreWeights(red=5, blue=2, yellow=-3))
    assert (result.total, result.blue, result.yellow, result.on_time_rate) == (5.0, 0, 0, None)


def test_plain_string_keys_work_too() -> None:
    # Storage may count flags by their stored string; FlagColor is a StrEnum with those values.
    counts: dict[FlagColor, int] = {FlagColor("yellow"): 2}
    assert unit_score(counts, [], ScoreWeights()).total == -2.0


def test_decimal_rounding_is_exact() -> None:
    entries = [ScoreEntry(1, 0.1, "a"), ScoreEntry(1, 0.2, "b"), ScoreEntry(1, 0.005, "c")]
    assert unit_score({}, entries, ScoreWeights()).bonus == 0.31  # 0.305 rounds half up


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        unit_score({}, [ScoreEntry(1, 1, "a"), ScoreEntry(2, 1, "b")], ScoreWeights())
    with pytest.raises(ValueError):
        unit_score({FlagColor.RED: -1}, [], ScoreWeights())
    with pytest.raises(ValueError):
        unit_score({}, [], ScoreWeights(), on_time_rate=1.5)
    with pytest.raises(InvalidInput):
        ScoreEntry(1, 0, "零分")
    with pytest.raises(InvalidInput):
        ScoreEntry(1, 1, "")


counts = st.integers(0, 50)
amounts = st.floats(0.01, 20, allow_nan=False).map(lambda x: round(x, 2))


@settings(max_examples=150)
@given(counts, counts, counts, st.lists(amounts, max_size=5), st.lists(amounts, max_size=5))
def test_total_is_the_sum_of_its_parts_and_order_free(
    red: int, blue: int, yellow: int, bonuses: list[float], deductions: list[float]
) -> None:
    entries = [ScoreEntry(1, b, "加分") for b in bonuses] + [
        ScoreEntry(1, -x, "扣分") for x in deductions
    ]
    flags = {FlagColor.RED: red, FlagColor.BLUE: blue, FlagColor.YELLOW: yellow}
    result = unit_score(flags, entries, ScoreWeights())
    assert result == unit_score(flags, list(reversed(entries)), ScoreWeights())
    assert result.total == pytest.approx(
        result.flag_points + result.bonus - result.deduction, abs=0.011
    )
    assert result.flag_points == 3 * red + blue - yellow
    assert result.bonus >= 0
    assert result.deduction >= 0
