"""``python -m bot.core.nlu.report [--brief] PATH...``: the parser's accuracy on evaluation sets.

Each PATH is a labelled set (``cases``, e.g. tests/nlu/phrasings.toml) or a template set
(``templates``, e.g. tests/nlu/generated/heldout.toml, expanded by :mod:`.generate`). Prints,
per set, accuracy per intent and per slot, the confusions and every miss (``--brief``: only the
summary), then a summary table. Exits 1 unless every set meets the targets: intent ≥ 97 %,
frame (intent and every slot) ≥ 95 %, confident wrong answers < 1 %.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from . import generate
from .evaluate import (
    LabelledSet,
    accuracy,
    confident_wrong_rate,
    default_is_workday,
    load,
    micro_slot_accuracy,
    report,
    run,
)
from .parser import Parser

TARGETS = (0.97, 0.95, 0.01)


def load_any(path: Path) -> LabelledSet:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return generate.load(path) if "templates" in data else load(path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    brief = "--brief" in args
    paths = [Path(a) for a in args if a != "--brief"]
    if not paths:
        print("usage: python -m bot.core.nlu.report [--brief] PATH...  (labelled or template sets)",
              file=sys.stderr)
        return 2
    rows = []
    ok = True
    for path in paths:
        try:
            labelled = load_any(path)
        except (OSError, ValueError, KeyError) as exc:
            print(f"cannot evaluate {path}: {exc}", file=sys.stderr)
            return 2
        parser = Parser(labelled.vocabulary, is_workday=default_is_workday, tz=labelled.tz)
        outcomes = run(parser, labelled.cases)
        if not brief:
            print(report(outcomes, title=str(path)))
            print()
        intent_acc, frame_acc = accuracy(outcomes)
        wrong = confident_wrong_rate(outcomes)
        ok = ok and intent_acc >= TARGETS[0] and frame_acc >= TARGETS[1] and wrong < TARGETS[2]
        rows.append((str(path), len(outcomes), intent_acc, frame_acc,
                     micro_slot_accuracy(outcomes), wrong))
    width = max(len(r[0]) for r in rows)
    print(f"{'set':<{width}}  {'n':>5}  {'intent':>7}  {'frame':>7}  {'slots':>7}  "
          f"{'conf. wrong':>11}")
    for name, n, ia, fa, sa, cw in rows:
        print(f"{name:<{width}}  {n:>5}  {ia:>7.1%}  {fa:>7.1%}  {sa:>7.1%}  {cw:>11.2%}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
