"""Evaluate the parser on a labelled set and report accuracy per intent and per slot.

A labelled file (TOML) holds its vocabulary (``units``, ``tasks``), a fixed ``now`` and ``cases``;
see ``tests/nlu/phrasings.toml`` and ``tests/nlu/natural.toml`` for the format. Generated sets
(:mod:`.generate`) produce the same :class:`Case` objects.

Measured: intent accuracy; frame accuracy (intent and every slot right); accuracy of each slot
over the cases whose intent was right; the confusion of intents, subjects and forms; and the
rate of *confident wrong answers*: the parse would be acted on (an intent, no question back,
confidence at or above the router's threshold) but the intent or a slot is wrong.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .model import Intent, Parse, TaskName, UnitName, Vocabulary
from .parser import Parser

ACT_THRESHOLD = 0.5  # the router acts on a parse at or above this confidence (handlers/…)

QUERY_SLOTS = ("subject", "form", "states", "colour", "unit_ids", "kinds", "mine", "task_ids",
               "date_from", "date_to", "ref", "follow_up")
ACTION_SLOTS = ("unit_ids", "task_ids", "submission_id", "rating", "date_from", "date_to",
                "deadline", "scope", "body", "mine")
# The programme's questions (cases, sites, rectifications): the subject is the intent; the frame
# says the form, the states, whose (units or "we"), the year and a keyword or case kind (ref).
PROGRAMME_SLOTS = ("form", "states", "unit_ids", "mine", "date_from", "date_to", "ref")
SLOTS_BY_INTENT: Mapping[Intent, tuple[str, ...]] = {
    Intent.CASES: PROGRAMME_SLOTS, Intent.SITES: PROGRAMME_SLOTS,
    Intent.RECTIFICATIONS: PROGRAMME_SLOTS,
    Intent.QUERY: QUERY_SLOTS,
    Intent.REMIND: ("ref", "unit_ids", "kinds", "task_ids"),
    Intent.DENY: ("unit_ids",),
    Intent.CONFIRM: (),
}

ALL_SLOTS = tuple(dict.fromkeys((*QUERY_SLOTS, *ACTION_SLOTS, "clarify")))


@dataclass(frozen=True)
class Case:
    text: str
    intent: Intent
    slots: Mapping[str, object]
    now: datetime
    check_clarify: bool
    source: str = ""  # the template a generated case came from


@dataclass(frozen=True)
class Outcome:
    case: Case
    got: Parse
    intent_ok: bool
    slot_errors: tuple[str, ...]  # "slot: expected … got …"
    slot_results: tuple[tuple[str, bool], ...]

    @property
    def slots_ok(self) -> bool:
        return not self.slot_errors

    @property
    def acted(self) -> bool:
        """Whether the bot would act on this parse (answer or do something) without asking."""
        g = self.got
        return g.intent is not Intent.UNKNOWN and g.clarify is None and g.confidence >= ACT_THRESHOLD

    @property
    def confident_wrong(self) -> bool:
        return self.acted and not (self.intent_ok and self.slots_ok)


@dataclass(frozen=True)
class LabelledSet:
    vocabulary: Vocabulary
    cases: tuple[Case, ...]
    tz: ZoneInfo


def default_is_workday(day: date) -> bool:
    """chinese_calendar where it knows the year; else weekends and statutory days are off."""
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except (ImportError, NotImplementedError):
        if day.weekday() >= 5:
            return False
        return (day.month, day.day) not in {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


def read_vocabulary(data: Mapping[str, Any]) -> Vocabulary:
    units = tuple(
        UnitName(id=int(u["id"]), name=str(u["name"]), short_name=str(u.get("short", u["name"])),
                 aliases=tuple(str(a) for a in u.get("aliases", ())), kind=str(u["kind"]))
        for u in data["units"]
    )
    tasks = tuple(TaskName(id=int(t["id"]), title=str(t["title"]), due=t.get("due"))
                  for t in data["tasks"])
    return Vocabulary(units=units, tasks=tasks)


def expected_slots(raw: Mapping[str, Any], vocab: Vocabulary, zone: ZoneInfo) -> dict[str, object]:
    """The labels of one case as slot values (anything not given is empty)."""
    unit_id = {u.name: u.id for u in vocab.units}
    task_id = {t.title: t.id for t in vocab.tasks}
    deadline = raw.get("deadline")
    states = raw.get("st", ())
    return {
        "unit_ids": tuple(sorted(unit_id[n] for n in raw.get("u", ()))),
        "task_ids": tuple(sorted(k if isinstance(k, int) else task_id[k]
                                 for k in raw.get("k", ()))),
        "submission_id": raw.get("sid"),
        "rating": raw.get("rating"),
        "date_from": raw.get("from"),
        "date_to": raw.get("to"),
        "deadline": None if deadline is None else aware(deadline, zone),
        "scope": raw.get("scope"),
        "body": raw.get("body", ""),
        "mine": bool(raw.get("my", False)),
        "clarify": bool(raw.get("clarify", False)),
        "subject": raw.get("s"),
        "form": raw.get("f"),
        "states": tuple(sorted(states)),
        "colour": raw.get("c"),
        "kinds": tuple(sorted(raw.get("kind", ()))),
        "ref": raw.get("ref", ""),
        "follow_up": bool(raw.get("fu", False)),
    }


def load(path: str | Path, tz: ZoneInfo | None = None) -> LabelledSet:
    zone = tz or ZoneInfo("Asia/Shanghai")
    with open(path, "rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    vocab = read_vocabulary(data)
    default_now = aware(data["now"], zone)
    cases = [
        Case(text=str(raw["t"]), intent=Intent(raw["i"]), slots=expected_slots(raw, vocab, zone),
             now=aware(raw["now"], zone) if "now" in raw else default_now,
             check_clarify="clarify" in raw)
        for raw in data["cases"]
    ]
    return LabelledSet(vocabulary=vocab, cases=tuple(cases), tz=zone)


def aware(value: datetime | date, tz: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def actual(p: Parse, name: str) -> object:
    """A slot's value in a parse; a question's slots come from its query frame."""
    q = p.query
    if name == "clarify":
        return p.clarify is not None
    if name == "follow_up":
        return p.follow_up
    if name == "ref" and p.intent is Intent.REMIND:
        return p.ref
    if name in ("subject", "form", "states", "colour", "kinds", "ref"):
        if q is None:
            return {"states": (), "kinds": (), "ref": ""}.get(name)
        value = getattr(q, name)
        if name == "form":
            return None if value is None else value.value
        if name in ("states", "kinds"):
            return tuple(sorted(str(v) for v in value))
        return value
    if q is not None and p.intent in (Intent.QUERY, Intent.REMIND) and name in (
            "unit_ids", "task_ids", "mine", "date_from", "date_to"):
        value = getattr(q, name)
        return tuple(sorted(value)) if name in ("unit_ids", "task_ids") else value
    if name in ("unit_ids", "task_ids"):
        ids: tuple[int, ...] = getattr(p, name)
        return tuple(sorted(ids))
    if name == "mine":
        return p.my_unit
    return getattr(p, name)


def judge(case: Case, got: Parse) -> Outcome:
    names = SLOTS_BY_INTENT.get(case.intent, ACTION_SLOTS)
    if case.check_clarify:
        names = (*names, "clarify")
    errors = []
    results = []
    for name in names:
        want, have = case.slots[name], actual(got, name)
        ok = want == have
        results.append((name, ok))
        if not ok:
            errors.append(f"{name}: expected {want!r}, got {have!r}")
    return Outcome(case=case, got=got, intent_ok=got.intent is case.intent,
                   slot_errors=tuple(errors), slot_results=tuple(results))


def run(parser: Parser, cases: Sequence[Case]) -> list[Outcome]:
    return [judge(c, parser.parse(c.text, now=c.now)) for c in cases]


def run_file(path: str | Path,
             is_workday: Callable[[date], bool] = default_is_workday) -> list[Outcome]:
    labelled = load(path)
    parser = Parser(labelled.vocabulary, is_workday=is_workday, tz=labelled.tz)
    return run(parser, labelled.cases)


def accuracy(outcomes: Sequence[Outcome]) -> tuple[float, float]:
    """(intent accuracy, frame accuracy: intent and every slot right)."""
    n = len(outcomes) or 1
    return (sum(o.intent_ok for o in outcomes) / n,
            sum(o.intent_ok and o.slots_ok for o in outcomes) / n)


def slot_accuracy(outcomes: Sequence[Outcome]) -> dict[str, tuple[int, int]]:
    """Per slot: (right, judged) over the cases whose intent was right."""
    out: dict[str, list[int]] = {}
    for o in outcomes:
        if not o.intent_ok:
            continue
        for name, ok in o.slot_results:
            r = out.setdefault(name, [0, 0])
            r[0] += ok
            r[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def micro_slot_accuracy(outcomes: Sequence[Outcome]) -> float:
    right = judged = 0
    for r, n in slot_accuracy(outcomes).values():
        right += r
        judged += n
    return right / judged if judged else 1.0


def confident_wrong_rate(outcomes: Sequence[Outcome]) -> float:
    return sum(o.confident_wrong for o in outcomes) / (len(outcomes) or 1)


def report(outcomes: Sequence[Outcome], *, title: str = "labelled phrasings",
           misses: bool = True) -> str:
    """Per-intent and per-slot accuracy, the confusions, confident wrong answers, the misses."""
    intent_acc, frame_acc = accuracy(outcomes)
    lines = [
        f"{title}: {len(outcomes)}",
        f"intent accuracy: {intent_acc:.1%}   frame accuracy (intent and all slots right): "
        f"{frame_acc:.1%}   slot accuracy (each slot, intent right): "
        f"{micro_slot_accuracy(outcomes):.1%}",
        f"confident wrong answers: {sum(o.confident_wrong for o in outcomes)} "
        f"({confident_wrong_rate(outcomes):.2%})",
        "",
        f"{'intent':<17}{'n':>5}{'intent':>9}{'frame':>9}",
    ]
    by_intent: dict[Intent, list[Outcome]] = {}
    for o in outcomes:
        by_intent.setdefault(o.case.intent, []).append(o)
    for intent in Intent:
        group = by_intent.get(intent)
        if not group:
            continue
        ia, sa = accuracy(group)
        lines.append(f"{intent.value:<17}{len(group):>5}{ia:>9.1%}{sa:>9.1%}")
    lines += ["", f"{'slot':<17}{'n':>5}{'right':>9}"]
    for name, (r, n) in sorted(slot_accuracy(outcomes).items(), key=lambda kv: ALL_SLOTS.index(kv[0])):
        lines.append(f"{name:<17}{n:>5}{r / n:>9.1%}")
    for label, key in (("intent", "intent"), ("subject", "subject"), ("form", "form")):
        confusion = _confusion(outcomes, key)
        lines += ["", f"{label} confusion (expected -> got: count):"]
        lines += [f"  {e} -> {g}: {n}" for (e, g), n in confusion.most_common()] or ["  (none)"]
    if misses:
        lines += ["", "misclassified:"]
        bad = [o for o in outcomes if not o.intent_ok]
        lines += [f"  {o.case.text!r}: expected {o.case.intent.value}, got {o.got.intent.value} "
                  f"({o.got.confidence:.2f})" for o in bad] or ["  (none)"]
        lines += ["", "slot errors (intent right):"]
        slot_misses = [o for o in outcomes if o.intent_ok and not o.slots_ok]
        lines += [f"  {o.case.text!r}: " + "; ".join(o.slot_errors) for o in slot_misses] or [
            "  (none)"]
    return "\n".join(lines)


def _confusion(outcomes: Sequence[Outcome], key: str) -> Counter[tuple[str, str]]:
    c: Counter[tuple[str, str]] = Counter()
    for o in outcomes:
        if key == "intent":
            if not o.intent_ok:
                c[(o.case.intent.value, o.got.intent.value)] += 1
            continue
        if o.case.intent is not Intent.QUERY or not o.intent_ok:
            continue
        want, have = o.case.slots[key], actual(o.got, key)
        if want != have:
            c[(str(want), str(have))] += 1
    return c
