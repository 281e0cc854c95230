"""Regenerate bot/domain/data/pinyin.txt: toneless readings of the 6,763 GB2312 characters.

The table is data taken from the pinyin-data project through pypinyin (MIT licence); pypinyin is
not a dependency of dudao (importing it costs ~57 MB for its phrase dictionary), so the readings
are kept as a 60 KB text file instead. Run once by hand when the table should change:

    pip install pypinyin && python tests/support/make_pinyin_table.py
"""

from __future__ import annotations

from pathlib import Path

from pypinyin import Style, pinyin  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[2] / "bot" / "domain" / "data" / "pinyin.txt"


def gb2312_hanzi() -> list[str]:
    chars = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def main() -> None:
    lines = ["# char<TAB>toneless readings (most common first); from pinyin-data via pypinyin 0.55"]
    for ch in gb2312_hanzi():
        readings = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
        clean = list(dict.fromkeys(r.replace("ü", "v") for r in readings if r.isalpha()))
        if clean:
            lines.append(f"{ch}\t{','.join(clean)}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 1} characters -> {OUT}")


if __name__ == "__main__":
    main()
