#!/usr/bin/env python3
"""Typical-case search (``查案例 关键词``, issue 16 §2: p95 < 50 ms on 5,000 cases), on SQLite and
PostgreSQL.

Generates 5,000 cases (18 cities, the four kinds, titles and texts of 150–400 characters drawn
from the vocabulary of enforcement work: 物业纠纷, 首违不罚, 征地补偿…; seeded, so every run has the
same cases) through ``bot.services.cases.submit`` — jieba-segmented and indexed as chat does it
— into a database made by ``storage.migrate.upgrade`` (the FTS5 table and its triggers on
SQLite, the GIN index on PostgreSQL). Then it times ``cases.search`` (segmenting the query,
matching, scoring, reading the 5 hits shown in chat), each call in its own transaction as a chat
message is, over a mix of queries: one common word (a third of the cases match), two words, a
rare word, a unit and a word, a natural question's words, nothing found. Reported: p50/p95/max
per database and per query, this process's CPU time per query (on SQLite, all of the work; on
PostgreSQL, the client's share) — the wall time on a shared machine grows with its load, which
is printed — and the plan of the match (the index must be used).

    .venv/bin/python bench/bench_case_search.py [--cases 5000] [--repeats 30]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres | --no-pg]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pg_scratch  # noqa: E402
from sqlalchemy import Connection, text  # noqa: E402

from bot.app import make_env  # noqa: E402
from bot.core.env import ServiceEnv  # noqa: E402
from bot.domain.clock import FixedClock  # noqa: E402
from bot.services import case_search, units  # noqa: E402
from bot.services import cases as cases_svc  # noqa: E402
from config.settings import load_settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

NOW = datetime(2027, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CITIES = ["郑州市", "开封市", "洛阳市", "平顶山市", "安阳市", "鹤壁市", "新乡市", "焦作市", "濮阳市", "许昌市", "漯河市", "三门峡市", "南阳市", "商丘市", "信阳市", "周口市", "驻马店市", "济源市"]
KINDS = ("行政指导", "行政调解", "行政契约", "其他")
TOPICS = ["物业纠纷", "消费纠纷", "劳动争议", "征地补偿", "食品安全", "安全生产", "环境保护", "交通运输", "市场监管", "包容审慎", "首违不罚", "行政协议", "土地承包", "邻里纠纷", "医疗纠纷", "校园安全", "农民工工资", "网络交易", "广告宣传", "价格欺诈", "知识产权", "特种设备", "药品经营", "城市管理", "违法建设", "噪声污染", "渣土运输", "燃气安全", "电动车充电", "预付卡退费"]
PLACES = ["街道", "社区", "乡镇", "园区", "企业", "商户", "学校", "医院", "市场", "工地", "小区", "村委会"]
ACTS = ["组织双方当面协商", "上门开展政策宣讲", "约谈企业负责人", "发出行政指导建议书", "签订行政协议", "跟踪回访整改情况", "建立工作台账", "开展联合执法检查", "引导当事人达成和解", "依法从轻处理", "出具提示告知书", "召开听证会", "委托第三方评估", "建立信用修复机制", "推行说理式执法"]
ENDS = ["纠纷得到妥善化解", "企业主动整改到位", "群众满意度明显提升", "未发生复议诉讼", "形成可复制的经验", "当事人签订和解协议", "节约执法成本", "营商环境持续优化"]
QUERIES = (
    ("one common word", "物业纠纷"),
    ("two words", "首违不罚 企业"),
    ("rare word", "预付卡退费"),
    ("unit and word", "洛阳 消费纠纷"),
    ("question words", "有没有关于行政调解的案例"),
    ("kind word", "行政契约"),
    ("three words", "社区 物业纠纷 和解"),
    ("nothing found", "量子计算"),
)


def _case(rng: random.Random) -> tuple[str, str, str, str]:
    topic = rng.choice(TOPICS)
    place = rng.choice(PLACES)
    title = f"{rng.choice(PLACES)}{topic}{rng.choice(('调解', '指导', '处置', '化解', '规范'))}案"
    sentences = []
    for _ in range(rng.randint(4, 9)):
        sentences.append(f"针对{rng.choice(PLACES)}{rng.choice(TOPICS)}问题，执法人员"
                         f"{rng.choice(ACTS)}，{rng.choice(ENDS)}。")
    return rng.choice(CITIES), title, rng.choice(KINDS), f"{place}{topic}：" + "".join(sentences)


def seed(db: Database, env: ServiceEnv, n: int) -> float:
    rng = random.Random(16)
    started = time.perf_counter()

    def write(conn: Connection) -> None:
        units.import_rows(conn, [units.RosterRow(f"41{i:02d}", c, c[:-1], "city")
                                 for i, c in enumerate(CITIES)], now=NOW)
        ids = {u.name: u.id for u in units.list_units(conn)}
        for _ in range(n):
            unit, title, kind, body = _case(rng)
            cases_svc.submit(conn, env, cases_svc.Draft(title, kind, body), unit_id=ids[unit],
                             person_id=None, now=NOW, channel="bench")

    db.transaction(write)
    return time.perf_counter() - started


def _plan(db: Database, words: list[str]) -> str:
    def explain(conn: Connection) -> str:
        found = (case_search._postgres(words) if conn.dialect.name == "postgresql"
                 else case_search._sqlite(words))
        from sqlalchemy import select

        from storage.models import Case
        q = select(Case.id).where(found)
        sql = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        return "\n".join(" ".join(str(x) for x in r) for r in conn.execute(text(prefix + sql)))

    return db.transaction(explain)


def measure(label: str, url: str, n: int, repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, {}, cwd=Path(tmp), overrides={
            "service": {"data_dir": tmp, "roster": ""}, "database": {"url": url}})
        env = make_env(settings, FixedClock(NOW))
        db = Database(url)
        try:
            upgrade(db)
            took = seed(db, env, n)
            print(f"\n{label}: {n} cases seeded in {took:.1f} s")
            for _, q in QUERIES:  # warm up: the segmenter's dictionary, the caches
                db.transaction(lambda c, q=q: cases_svc.search(c, q, limit=5))
            every: list[float] = []
            cpu0 = time.process_time()
            print(f"  {'query':<18} {'matches':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
            for name, q in QUERIES:
                times: list[float] = []
                total = 0
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    res = db.transaction(lambda c, q=q: cases_svc.search(c, q, limit=5))
                    times.append((time.perf_counter() - t0) * 1000)
                    total = res.total
                every += times
                print(f"  {name:<18} {total:>7} {statistics.median(times):>7.1f} "
                      f"{_p95(times):>7.1f} {max(times):>7.1f}")
            cpu = (time.process_time() - cpu0) * 1000 / len(every)
            out = {"p50": statistics.median(every), "p95": _p95(every), "max": max(every),
                   "cpu": cpu}
            print(f"  {'all queries':<18} {'':>7} {out['p50']:>7.1f} {out['p95']:>7.1f} "
                  f"{out['max']:>7.1f}   (this process's CPU: {cpu:.1f} ms a query)")
            print("  plan of the match:\n    " + _plan(db, ["物业", "纠纷"]).replace("\n", "\n    "))
            return out
        finally:
            db.close()


def _p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure("SQLite (FTS5)", f"sqlite:///{tmp}/cases.db", args.cases,
                                    args.repeats)
    if not args.no_pg:
        name = "dudao_bench_case_search"
        url = pg_scratch.create(args.pg, name)
        try:
            results["postgresql"] = measure("PostgreSQL (GIN tsvector)", url, args.cases,
                                            args.repeats)
        finally:
            pg_scratch.drop(args.pg, name)
    load = os.getloadavg()[0]
    print(f"\nsummary (target p95 < 50 ms; load average {load:.1f} on {os.cpu_count()} CPUs):")
    ok = True
    for k, r in results.items():
        good = r["p95"] < 50
        ok &= good
        print(f"  {k:<11} p50 {r['p50']:.1f} ms  p95 {r['p95']:.1f} ms  max {r['max']:.1f} ms"
              f"  client CPU {r['cpu']:.1f} ms/query"
              f"  {'ok' if good else 'OVER TARGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
