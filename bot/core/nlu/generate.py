"""A generated evaluation set: phrasing templates × lexical variants, with the expected frames.

A template file (``tests/nlu/generated/*.toml``) gives lexical variants (units, kinds, tasks, time
expressions, colours, fillers, verbs…) and templates such as ``"{unit}{task}{sub}没有{end}"``
with the frame they mean (``s = "tasks"``, ``f = "yesno"``, ``u = ["{unit}"]`` …). Each template
is expanded ``per_template`` times with variants drawn by a seeded random generator, so a set is
the same on every run. ``train.toml`` is what the rules were tuned on; ``heldout.toml`` was
written before the rules and is only measured (tests/nlu/README.md).

    python -m bot.core.nlu.report --generated tests/nlu/generated/heldout.toml
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .evaluate import Case, LabelledSet, aware, expected_slots, read_vocabulary
from .model import Intent

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Fields whose placeholders stand for the expected value; the others take the words as typed.
_VALUE_FIELDS = ("u", "kind", "k", "c", "from", "to", "scope", "deadline")


@dataclass(frozen=True)
class Variant:
    surface: str
    values: tuple[str, ...]  # what it means: a unit or task name, a kind, dates, a colour


def _variants(raw: Mapping[str, Any]) -> dict[str, list[Variant]]:
    out: dict[str, list[Variant]] = {}
    for name, items in raw.items():
        out[name] = [Variant(str(i), ()) if isinstance(i, str)
                     else Variant(str(i[0]), tuple(str(x) for x in i[1:])) for i in items]
    return out


def load(path: str | Path, tz: ZoneInfo | None = None) -> LabelledSet:
    zone = tz or ZoneInfo("Asia/Shanghai")
    path = Path(path)
    with open(path, "rb") as fh:
        data: dict[str, Any] = tomllib.load(fh)
    named = Path(data["vocabulary"])  # relative to the repository (or any folder above)
    places = [named] if named.is_absolute() else [Path.cwd() / named,
                                                  *(d / named for d in path.resolve().parents)]
    vocab_path = next((p for p in places if p.exists()), named)
    with open(vocab_path, "rb") as fh:
        vocab = read_vocabulary(tomllib.load(fh))
    now = aware(data["now"], zone)
    variants = _variants(data["variants"])
    cases: list[Case] = []
    seen: set[str] = set()
    per = int(data.get("per_template", 5))
    for n, template in enumerate(data["templates"]):
        rng = random.Random(f"{data.get('seed', 0)}:{n}")
        for _ in range(per * 3):
            if sum(1 for c in cases if c.source == template["t"]) >= per:
                break
            case = _expand(template, variants, rng, vocab_units={u.name for u in vocab.units})
            if case is None or case["t"] in seen:
                continue
            seen.add(case["t"])
            cases.append(Case(text=case["t"], intent=Intent(case["i"]),
                              slots=expected_slots(case, vocab, zone), now=now,
                              check_clarify="clarify" in case, source=template["t"]))
    return LabelledSet(vocabulary=vocab, cases=tuple(cases), tz=zone)


def _expand(template: Mapping[str, Any], variants: Mapping[str, Sequence[Variant]],
            rng: random.Random, vocab_units: set[str]) -> dict[str, Any] | None:
    chosen: dict[str, Variant] = {}
    for name in _PLACEHOLDER.findall(template["t"]):
        pool = variants["unit" if name == "unit2" else name]
        for _ in range(10):
            v = rng.choice(list(pool))
            if name == "unit2" and "unit" in chosen and v.values == chosen["unit"].values:
                continue
            break
        chosen[name] = v

    def surface(text: str) -> str:
        return _PLACEHOLDER.sub(lambda h: chosen[h.group(1)].surface, text)

    def value(text: str, field: str) -> Any:
        h = _PLACEHOLDER.fullmatch(text)
        if h is None:
            return surface(text)
        v = chosen[h.group(1)]
        if field == "from":
            return date.fromisoformat(v.values[0])
        if field == "to":
            return date.fromisoformat(v.values[-1])
        if field == "deadline":
            return date.fromisoformat(v.values[-1]).isoformat() + "T18:00:00"
        if field == "scope":
            return v.values[0] if v.values[0] in vocab_units else f"kind:{v.values[0]}"
        return v.values[0]

    out: dict[str, Any] = {"t": surface(template["t"]).strip()}
    for key, raw in template.items():
        if key == "t":
            continue
        if key in _VALUE_FIELDS:
            if isinstance(raw, list):
                out[key] = [value(str(x), key) for x in raw]
            else:
                out[key] = value(str(raw), key)
        elif isinstance(raw, str):
            out[key] = surface(raw)
        else:
            out[key] = raw
    if "deadline" in out and isinstance(out["deadline"], str):
        from datetime import datetime

        out["deadline"] = datetime.fromisoformat(out["deadline"])
    return out
