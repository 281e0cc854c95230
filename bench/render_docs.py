#!/usr/bin/env python3
"""Render check and generation time of the official documents (公文, issue 17).

1. Seeds a scratch SQLite database (bulk inserts): ``--units`` units (300), the first half of
   2027 with ``--tasks`` tasks (1,000: half of ``bench_export.py``'s year) each assigned to every
   unit (300,000 assignments), submissions on time, late, returned or missing, the flags the
   rules leave for them, innovations and incidents; a weekly bulletin draft.
2. Times, as ``dudao doc`` runs them (content from the records, layout, .docx written): the
   300-unit half-year report and a ``--cases``-case compilation (200); median of ``--repeats``.
   Target: < 3 s each.
3. Generates one document of each kind (通报, 督导建议书 issued, 半年报告, 案例汇编, 年度报告部分),
   converts them to PDF with LibreOffice and to PNG pages (pdftoppm), and measures from the PDF
   (``pdftotext -bbox``): body lines per page, the line pitch, characters per full body line,
   where the text area's edges fall, and whether the 版记 sits at the foot of the last page.

LibreOffice renders with the fonts it has: the office's fonts (仿宋_GB2312, 方正小标宋简体…) are on
its Windows machines. A fontconfig file maps them for this run to Noto CJK faces with the same
metrics that matter (仿宋_GB2312 → Noto Sans Mono CJK SC, whose Latin digits are half-width like
the GB2312 fonts'); judge layout here, not glyphs.

Missing tools are installed with apt-get (Debian: libreoffice-writer-nogui, fonts-noto-cjk,
poppler-utils) when running as root, else the script says what to install.

    .venv/bin/python bench/render_docs.py [--out DIR] [--units 300] [--tasks 1000]
                                          [--cases 200] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.app import make_env  # noqa: E402
from bot.domain.clock import FixedClock  # noqa: E402
from bot.domain.flags import (  # noqa: E402
    REASON_BLUE_RATED,
    REASON_BLUE_RETURNED,
    REASON_CORRECTED,
    REASON_RED,
    REASON_YELLOW,
)
from bot.reports.gongwen import A4  # noqa: E402
from bot.services import bulletins  # noqa: E402
from bot.services import drafting as docs  # noqa: E402
from bot.services.doc_cases import CASE_KINDS, CaseRecord  # noqa: E402
from bot.services.documents import Actor  # noqa: E402
from config.settings import load_settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Flag, ScoreEntry, Submission, Task, TaskUnit, Unit  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 7, 2, 10, 0, tzinfo=TZ)  # the half-year report is written in early July
H1 = datetime(2027, 1, 1, tzinfo=TZ)
ACTOR = Actor("bench:render_docs")
PACKAGES = {"soffice": "libreoffice-writer-nogui", "pdftoppm": "poppler-utils",
            "pdftotext": "poppler-utils"}
FONT_MAP = {"仿宋_GB2312": "Noto Sans Mono CJK SC", "楷体_GB2312": "Noto Serif CJK SC",
            "黑体": "Noto Sans CJK SC", "方正小标宋简体": "Noto Serif CJK SC",
            "宋体": "Noto Serif CJK SC"}
PT_PER_MM = 72 / 25.4
CITIES = ("郑州市", "开封市", "洛阳市", "平顶山市", "安阳市", "鹤壁市", "新乡市", "焦作市", "濮阳市",
          "许昌市", "漯河市", "三门峡市", "南阳市", "商丘市", "信阳市", "周口市", "驻马店市", "济源示范区")


# ---------------------------------------------------------------------------------- tools


def ensure_tools() -> None:
    missing = {pkg for tool, pkg in PACKAGES.items() if shutil.which(tool) is None}
    if not Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc").exists():
        missing.add("fonts-noto-cjk")
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"missing: {' '.join(sorted(missing))} — install them with "
                 f"apt-get install --no-install-recommends {' '.join(sorted(missing))}")
    print(f"installing {' '.join(sorted(missing))} …", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *sorted(missing)],
                   check=True, env=env)


def font_config(folder: Path) -> Path:
    rules = "\n".join(
        f'  <match target="pattern"><test name="family"><string>{k}</string></test>'
        f'<edit name="family" mode="assign" binding="strong"><string>{v}</string></edit>'
        + ('<edit name="weight" mode="assign" binding="strong"><const>bold</const></edit>'
           if k == "方正小标宋简体" else "") + "</match>"
        for k, v in FONT_MAP.items())
    path = folder / "fonts.conf"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                    '<fontconfig>\n  <include ignore_missing="yes">/etc/fonts/fonts.conf'
                    f"</include>\n{rules}\n</fontconfig>\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- data


def seed(db: Database, n_units: int, n_tasks: int) -> None:
    rng = random.Random(17)
    created = H1 - timedelta(days=30)
    names = [*CITIES, *(f"省直部门{i:03d}" for i in range(1, n_units - len(CITIES) + 1))]
    names = names[:n_units]

    def base(conn: Any) -> None:
        conn.execute(insert(Unit), [
            {"id": i, "code": f"U{i:04d}", "name": name, "short_name": name,
             "kind": "city" if i <= len(CITIES) else "department", "active": True,
             "created_at": created} for i, name in enumerate(names, 1)])
        conn.execute(insert(Task), [
            {"id": t, "title": f"2027年第{t}项督导任务材料报送", "system": "supervision",
             "status": "open", "due": H1 + timedelta(days=4 + t * 176 // n_tasks, hours=18),
             "reminder_policy": "", "created_at": created}
            for t in range(1, n_tasks + 1)])
        entries = []
        for k in range(n_units // 3):
            good = k % 4 != 0
            entries.append({"unit_id": rng.randint(1, n_units), "period": "2027H1",
                            "points": (1.0 if good else -2.0), "kind": "other",
                            "reason": ("创新举措：推行“首违不罚”清单和柔性执法" if good
                                       else "趋利执法：超范围收取罚没款项"),
                            "evidence": "", "created_at": H1 + timedelta(days=rng.randint(0, 170))})
        conn.execute(insert(ScoreEntry), entries)

    db.transaction(base)
    sid, fid = 0, 0
    for first in range(1, n_tasks + 1, 20):  # 20 tasks (6,000 assignments) per transaction
        tus: list[dict[str, Any]] = []
        subs: list[dict[str, Any]] = []
        flags: list[dict[str, Any]] = []
        for t in range(first, min(first + 20, n_tasks + 1)):
            due = H1 + timedelta(days=4 + t * 176 // n_tasks, hours=18)
            for u in range(1, n_units + 1):
                r = rng.random()
                state, last, color, reason = "owed", None, "yellow", REASON_YELLOW
                if r > 0.06:
                    late = r < 0.12
                    at = due + timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 20)) \
                        if late else due - timedelta(days=rng.randint(0, 5), hours=rng.randint(1, 8))
                    returned = 0.12 <= r < 0.16
                    rating = None if returned else ("优" if r > 0.55 else "一般")
                    sid += 1
                    subs.append({"id": sid, "task_id": t, "unit_id": u, "version": 1,
                                 "text": "材料", "submitted_at": at, "late": late,
                                 "status": "returned" if returned else "accepted",
                                 "rating": rating,
                                 "review_reason": rng.choice(("缺少盖章", "内容不全", "未附佐证材料"))
                                 if returned else None, "reviewed_at": at + timedelta(days=1),
                                 "channel": "chat"})
                    state, last = ("returned" if returned else "accepted"), sid
                    # The flag rules (bot/domain/flags.py) for these cases.
                    if late:
                        color, reason = "blue", REASON_CORRECTED
                    elif returned:
                        color, reason = "blue", REASON_BLUE_RETURNED
                    elif rating == "优":
                        color, reason = "red", REASON_RED
                    else:
                        color, reason = "blue", REASON_BLUE_RATED
                tus.append({"task_id": t, "unit_id": u, "state": state,
                            "last_submission_id": last})
                fid += 1
                flags.append({"id": fid, "unit_id": u, "task_id": t, "period": None,
                              "color": color, "reason": reason, "source": "rule",
                              "current": True, "set_at": due + timedelta(minutes=1)})

        def write(conn: Any, tus: list[dict[str, Any]] = tus, subs: list[dict[str, Any]] = subs,
                  flags: list[dict[str, Any]] = flags) -> None:
            if subs:
                conn.execute(insert(Submission), subs)
            conn.execute(insert(TaskUnit), tus)
            conn.execute(insert(Flag), flags)

        db.transaction(write)


def cases(n: int) -> list[CaseRecord]:
    rng = random.Random(5)
    para = ("某市市场监管局在执法检查中发现，辖区一家小微企业因对新规理解不到位，存在轻微违法行为。"
            "执法人员没有简单处罚了之，而是上门宣讲政策，制发行政指导书，帮助企业限期整改。")
    return [CaseRecord(f"以行政指导护航小微企业发展的典型案例（第{i}号）",
                       CITIES[i % len(CITIES)], CASE_KINDS[i % len(CASE_KINDS)],
                       "\n".join(para * rng.randint(2, 5) for _ in range(rng.randint(3, 6))))
            for i in range(1, n + 1)]


# ---------------------------------------------------------------------------------- timing


def timed(fn: Any, repeats: int) -> tuple[float, Any]:
    runs, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), result


# ---------------------------------------------------------------------------------- measuring

_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>")
_PAGE = re.compile(r"<page [^>]*>(.*?)</page>", re.S)
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’《》]")


def measure(pdf: Path) -> dict[str, Any]:
    """Lines and characters from the PDF's word boxes (pdftotext -bbox)."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    left, right = A4.left_mm * PT_PER_MM, (A4.width_mm - A4.right_mm) * PT_PER_MM
    top = A4.top_mm * PT_PER_MM
    bottom = (A4.height_mm - A4.bottom_mm) * PT_PER_MM
    lines_per_page, pitches, full_line_chars, widest = [], [], [], 0.0
    extents = {"left": 1e9, "right": 0.0, "top": 1e9, "bottom": 0.0}
    last_page_bottom_rule = None
    pages = _PAGE.findall(xml)
    for page in pages:
        rows: dict[float, list[tuple[float, float, str]]] = defaultdict(list)
        for x0, y0, x1, y1, word in _WORD.findall(page):
            x0f, y0f, x1f, y1f = float(x0), float(y0), float(x1), float(y1)
            if y0f > bottom:  # the page number, under the text area
                continue
            extents["left"] = min(extents["left"], x0f)
            extents["right"] = max(extents["right"], x1f)
            extents["top"] = min(extents["top"], y0f)
            extents["bottom"] = max(extents["bottom"], y1f)
            if 19.5 <= y1f - y0f <= 22.5:  # a 3号 (16 pt) line box
                rows[round(y0f, 0)].append((x0f, x1f, word))
        ys = sorted(rows)
        lines_per_page.append(len(ys))
        pitches += [round(b - a, 2) for a, b in itertools.pairwise(ys) if b - a < 31]
        for y in ys:
            words = sorted(rows[y])
            x0, x1 = words[0][0], words[-1][1]
            text = "".join(w for _, _, w in words)
            widest = max(widest, x1 - x0)
            # A full line: from the left edge to the right edge, all full-width characters
            # (so that its count is not a matter of how digits are measured).
            if x0 - left < 2 and right - x1 < 3 and all(_CJK.match(c) for c in text):
                full_line_chars.append(len(text))
        last_page_bottom_rule = max((float(m[3]) for m in _WORD.findall(page)
                                     if "印发" in m[4]), default=last_page_bottom_rule)
    body_pages = lines_per_page[1:]  # the first page carries the 版头
    return {
        "pages": len(pages),
        "lines_per_page": lines_per_page,
        "full_pages_lines": Counter(n for n in body_pages if n >= 20).most_common(3),
        "line_pitch_pt": Counter(pitches).most_common(2),
        "chars_per_full_line": Counter(full_line_chars).most_common(3),
        "widest_line_pt": round(widest, 1),
        "text_extents_pt": {k: round(v, 1) for k, v in extents.items()},
        "text_area_pt": {"left": round(left, 1), "right": round(right, 1), "top": round(top, 1),
                         "bottom": round(bottom, 1)},
        "banji_last_line_bottom_pt": last_page_bottom_rule,
    }


def toc_accuracy(docx_path: Path, pdf: Path) -> dict[str, int]:
    """How many contents entries show the page their case is on (the page shown in Word
    until its fields are updated is ours: ``render.estimate_pages``)."""
    import docx

    d = docx.Document(str(docx_path))
    shown = {}  # "title+unit" (a case page has the unit under the title) -> page shown
    for p in d.paragraphs:
        m = re.match(r"^\d+\. (.*)（(.*?)）\t(\d+)$", p.text)
        if p.style.style_id == "GwToc" and m:
            shown[m.group(1) + m.group(2)] = int(m.group(3))
    pages = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout.split("\f")
    actual: dict[str, int] = {}
    for number, page in enumerate(pages, 1):
        flat = re.sub(r"\s+", "", page)
        for key in shown:
            if key not in actual and key in flat:
                actual[key] = number
    diffs = [abs(shown[k] - actual[k]) for k in shown if k in actual]
    return {"entries": len(shown), "found": len(diffs), "exact": sum(1 for x in diffs if x == 0),
            "max_off": max(diffs, default=0)}


def render_pdf(files: list[Path], out: Path, fonts: Path) -> None:
    env = dict(os.environ, FONTCONFIG_FILE=str(fonts), HOME=str(out / ".lo-home"))
    subprocess.run(["soffice", "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
                    str(out), *map(str, files)], check=True, env=env, capture_output=True,
                   timeout=600)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "docs.tmp"))
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-render", action="store_true", help="only time the generation")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if not args.no_render:
        ensure_tools()
    report: dict[str, Any] = {"units": args.units, "tasks": args.tasks, "cases": args.cases}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        db = Database(url)
        upgrade(db)
        t0 = time.perf_counter()
        seed(db, args.units, args.tasks)
        report["seed_s"] = round(time.perf_counter() - t0, 2)
        settings = load_settings(None, {}, overrides={"service": {"data_dir": tmp, "roster": ""}})
        env = make_env(settings, FixedClock(NOW))
        # Units with a returned version still waiting, or a late one, for the letter.
        slow = "省直部门001" if args.units > len(CITIES) else CITIES[0]
        bid = db.transaction(lambda c: bulletins.draft_weekly(c, env, NOW, notify_admins=False))

        def half() -> Any:
            return db.transaction(lambda c: docs.draft_halfyear(
                c, env, "2027H1", actor=ACTOR, now=NOW, out=out / "halfyear.docx"))

        def compilation() -> Any:
            return db.transaction(lambda c: docs.draft_cases(
                c, env, 2027, cases(args.cases), actor=ACTOR, now=NOW, out=out / "cases.docx"))

        report["halfyear_s"], made_half = timed(half, args.repeats)
        report["cases_s"], made_cases = timed(compilation, args.repeats)
        report["halfyear_bytes"] = made_half.path.stat().st_size
        report["cases_bytes"] = made_cases.path.stat().st_size

        def others(conn: Any) -> list[Path]:
            b = docs.draft_bulletin(conn, env, bid, actor=ACTOR, now=NOW,
                                    out=out / "bulletin.docx")
            letter = docs.draft_letter(conn, env, slow, actor=ACTOR, now=NOW,
                                       out=out / "letter-draft.docx")
            issued = docs.issue(conn, env, letter.info.id, actor=ACTOR, now=NOW,
                                out=out / "letter.docx")
            y = docs.draft_yearly(conn, env, 2027, actor=ACTOR, now=NOW, out=out / "yearly.docx")
            return [b.path, issued.path, y.path]

        files = [*db.transaction(others), made_half.path, made_cases.path]
        db.close()
    if not args.no_render:
        fonts = font_config(out)
        t0 = time.perf_counter()
        render_pdf(files, out, fonts)
        report["libreoffice_s"] = round(time.perf_counter() - t0, 1)
        report["documents"] = {}
        for f in files:
            pdf = f.with_suffix(".pdf")
            subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(out / f.stem)],
                           check=True)
            report["documents"][f.stem] = measure(pdf)
        report["toc"] = toc_accuracy(made_cases.path, made_cases.path.with_suffix(".pdf"))
        report["page_images"] = str(out)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        print(f"seed {report['seed_s']} s; {args.units}-unit half-year report "
              f"{report['halfyear_s']:.2f} s ({report['halfyear_bytes']:,} bytes); "
              f"{args.cases}-case compilation {report['cases_s']:.2f} s "
              f"({report['cases_bytes']:,} bytes)")
        for name, m in report.get("documents", {}).items():
            print(f"{name}: {m['pages']} pages; lines on full pages {m['full_pages_lines']}; "
                  f"line pitch {m['line_pitch_pt']}; characters per full line "
                  f"{m['chars_per_full_line']}; text extents {m['text_extents_pt']} "
                  f"(text area {m['text_area_pt']}); 版记 bottom {m['banji_last_line_bottom_pt']}")
        if "toc" in report:
            t = report["toc"]
            print(f"contents of the compilation: {t['exact']} of {t['entries']} entries show "
                  f"the page their case is on (largest difference {t['max_off']})")
        if "page_images" in report:
            print(f"PDFs and page images (PNG): {report['page_images']}")
    ok = report["halfyear_s"] < 3 and report["cases_s"] < 3
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
