"""Shared fixtures for the language-layer tests: the labelled set and its vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.core.nlu import Parser
from bot.core.nlu.evaluate import LabelledSet, load

PHRASINGS = Path(__file__).with_name("phrasings.toml")


def is_workday(day: date) -> bool:
    """chinese_calendar (holidays and make-up workdays) where it knows the year, else weekdays
    minus the fixed statutory days."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.weekday() >= 5:
            return False
        return (day.month, day.day) not in {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


@pytest.fixture(scope="session")
def workday() -> Callable[[date], bool]:
    return is_workday


@pytest.fixture(scope="session")
def labelled() -> LabelledSet:
    return load(PHRASINGS)


@pytest.fixture(scope="module")
def parser(labelled: LabelledSet) -> Parser:
    """One parser per test module: building the tokenizer takes about a second."""
    return Parser(labelled.vocabulary, is_workday=is_workday)
