"""Accuracy of the language layer on the hand-labelled phrasings (tests/nlu/phrasings.toml).

The report (per-intent accuracy, confusion between intents, every miss) is printed and is also
the assertion message, so it shows whether or not pytest captures output.
"""

from __future__ import annotations

from bot.core.nlu import Intent, Parser
from bot.core.nlu.evaluate import LabelledSet, accuracy, report, run


def test_labelled_set_is_large_and_covers_every_intent(labelled: LabelledSet) -> None:
    assert len(labelled.cases) >= 300
    covered = {c.intent for c in labelled.cases}
    assert covered == set(Intent)


def test_intent_and_slot_accuracy(parser: Parser, labelled: LabelledSet) -> None:
    outcomes = run(parser, labelled.cases)
    text = report(outcomes)
    print("\n" + text)
    intent_acc, slot_acc = accuracy(outcomes)
    assert intent_acc >= 0.95, text
    assert slot_acc >= 0.90, text


def test_chatter_never_gets_a_confident_intent(parser: Parser, labelled: LabelledSet) -> None:
    wrong = []
    for case in labelled.cases:
        if case.intent is not Intent.UNKNOWN:
            continue
        got = parser.parse(case.text, now=case.now)
        if got.intent is not Intent.UNKNOWN or got.confidence > 0.5:
            wrong.append(f"{case.text!r} -> {got.intent.value} ({got.confidence:.2f})")
    assert not wrong, "\n".join(wrong)


def test_misclassifications_are_not_confident(parser: Parser, labelled: LabelledSet) -> None:
    """Whatever the parser gets wrong, it must not claim to be sure of it."""
    confident = [
        f"{o.case.text!r}: expected {o.case.intent.value}, got {o.got.intent.value} "
        f"({o.got.confidence:.2f})"
        for o in run(parser, labelled.cases)
        if not o.intent_ok and o.got.confidence >= 0.9
    ]
    assert len(confident) <= 2, "\n".join(confident)
