"""Evaluate the parser on a labelled set (TOML) and format an accuracy report.

The labelled file holds its own vocabulary (``units``, ``tasks``), a fixed ``now`` and ``cases``;
see ``tests/nlu/phrasings.toml`` for the format.
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

SLOTS = ("unit_ids", "task_ids", "submission_id", "rating", "date_from", "date_to", "deadline",
         "scope", "body", "my_unit", "clarify")


@dataclass(frozen=True)
class Case:
    text: str
    intent: Intent
    slots: Mapping[str, object]
    now: datetime
    check_clarify: bool


@dataclass(frozen=True)
class Outcome:
    case: Case
    got: Parse
    intent_ok: bool
    slot_errors: tuple[str, ...]  # "slot: expected … got …"

    @property
    def slots_ok(self) -> bool:
        return not self.slot_errors


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


def load(path: str | Path, tz: ZoneInfo | None = None) -> LabelledSet:
    zone = tz or ZoneInfo("Asia/Shanghai")
    with open(path, "rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    units = tuple(
        UnitName(id=int(u["id"]), name=str(u["name"]), short_name=str(u.get("short", u["name"])),
                 aliases=tuple(str(a) for a in u.get("aliases", ())), kind=str(u["kind"]))
        for u in data["units"]
    )
    tasks = tuple(TaskName(id=int(t["id"]), title=str(t["title"]), due=t.get("due"))
                  for t in data["tasks"])
    unit_id = {u.name: u.id for u in units}
    task_id = {t.title: t.id for t in tasks}
    default_now = _aware(data["now"], zone)
    cases = []
    for raw in data["cases"]:
        deadline = raw.get("deadline")
        slots: dict[str, object] = {
            "unit_ids": tuple(sorted(unit_id[n] for n in raw.get("u", ()))),
            "task_ids": tuple(sorted(k if isinstance(k, int) else task_id[k]
                                     for k in raw.get("k", ()))),
            "submission_id": raw.get("sid"),
            "rating": raw.get("rating"),
            "date_from": raw.get("from"),
            "date_to": raw.get("to"),
            "deadline": None if deadline is None else _aware(deadline, zone),
            "scope": raw.get("scope"),
            "body": raw.get("body", ""),
            "my_unit": bool(raw.get("my", False)),
            "clarify": bool(raw.get("clarify", False)),
        }
        cases.append(Case(text=str(raw["t"]), intent=Intent(raw["i"]), slots=slots,
                          now=_aware(raw["now"], zone) if "now" in raw else default_now,
                          check_clarify="clarify" in raw))
    return LabelledSet(vocabulary=Vocabulary(units=units, tasks=tasks), cases=tuple(cases),
                       tz=zone)


def _aware(value: datetime | date, tz: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _actual(p: Parse, name: str) -> object:
    if name in ("unit_ids", "task_ids"):
        ids: tuple[int, ...] = getattr(p, name)
        return tuple(sorted(ids))
    if name == "clarify":
        return p.clarify is not None
    return getattr(p, name)


def judge(case: Case, got: Parse) -> Outcome:
    errors = []
    for name in SLOTS:
        if name == "clarify" and not case.check_clarify:
            continue
        want, have = case.slots[name], _actual(got, name)
        if isinstance(want, datetime) and isinstance(have, datetime):
            same = want == have
        else:
            same = want == have
        if not same:
            errors.append(f"{name}: expected {want!r}, got {have!r}")
    return Outcome(case=case, got=got, intent_ok=got.intent is case.intent,
                   slot_errors=tuple(errors))


def run(parser: Parser, cases: Sequence[Case]) -> list[Outcome]:
    return [judge(c, parser.parse(c.text, now=c.now)) for c in cases]


def run_file(path: str | Path,
             is_workday: Callable[[date], bool] = default_is_workday) -> list[Outcome]:
    labelled = load(path)
    parser = Parser(labelled.vocabulary, is_workday=is_workday, tz=labelled.tz)
    return run(parser, labelled.cases)


def accuracy(outcomes: Sequence[Outcome]) -> tuple[float, float]:
    n = len(outcomes) or 1
    return (sum(o.intent_ok for o in outcomes) / n,
            sum(o.intent_ok and o.slots_ok for o in outcomes) / n)


def report(outcomes: Sequence[Outcome]) -> str:
    """Per-intent accuracy, the confusion between intents, and every miss."""
    intent_acc, slot_acc = accuracy(outcomes)
    lines = [
        f"labelled phrasings: {len(outcomes)}",
        f"intent accuracy: {intent_acc:.1%}   slot accuracy (intent and all slots right): "
        f"{slot_acc:.1%}",
        "",
        f"{'intent':<17}{'n':>4}{'intent':>9}{'slots':>9}",
    ]
    by_intent: dict[Intent, list[Outcome]] = {}
    for o in outcomes:
        by_intent.setdefault(o.case.intent, []).append(o)
    for intent in Intent:
        group = by_intent.get(intent)
        if not group:
            continue
        ia, sa = accuracy(group)
        lines.append(f"{intent.value:<17}{len(group):>4}{ia:>9.1%}{sa:>9.1%}")
    confusion = Counter((o.case.intent.value, o.got.intent.value)
                        for o in outcomes if not o.intent_ok)
    lines += ["", "confusion (expected -> got: count):"]
    lines += [f"  {e} -> {g}: {n}" for (e, g), n in confusion.most_common()] or ["  (none)"]
    lines += ["", "misclassified:"]
    misses = [o for o in outcomes if not o.intent_ok]
    lines += [f"  {o.case.text!r}: expected {o.case.intent.value}, got {o.got.intent.value} "
              f"({o.got.confidence:.2f})" for o in misses] or ["  (none)"]
    lines += ["", "slot errors (intent right):"]
    slot_misses = [o for o in outcomes if o.intent_ok and not o.slots_ok]
    lines += [f"  {o.case.text!r}: " + "; ".join(o.slot_errors) for o in slot_misses] or [
        "  (none)"]
    return "\n".join(lines)
