"""``python -m bot.core.nlu.report PATH``: print the parser's accuracy on a labelled set."""

from __future__ import annotations

import sys

from .evaluate import accuracy, report, run_file


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bot.core.nlu.report PATH  (a labelled phrasings TOML file)",
              file=sys.stderr)
        return 2
    try:
        outcomes = run_file(args[0])
    except (OSError, ValueError, KeyError) as exc:
        print(f"cannot evaluate {args[0]}: {exc}", file=sys.stderr)
        return 2
    print(report(outcomes))
    intent_acc, slot_acc = accuracy(outcomes)
    return 0 if intent_acc >= 0.95 and slot_acc >= 0.90 else 1


if __name__ == "__main__":
    raise SystemExit(main())
