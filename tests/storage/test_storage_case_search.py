"""Case search on SQLite (FTS5) and PostgreSQL (GIN over tsvector): the same matches in the same
order on both — every query word held, a title hit before a body-only hit, then newest first —
and the index follows the table (insert, update, delete) with no step of the caller's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, delete, update

from bot.app import make_env
from bot.core.env import ServiceEnv
from bot.domain.clock import FixedClock
from bot.services import case_search, units
from bot.services import cases as cases_svc
from config.settings import load_settings
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Case
from tests.support.pg import pg_url

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (f"sqlite:///{tmp_path}/s.db" if request.param == "sqlite"
           else pg_url("dudao_test_case_search"))
    database = Database(url)
    upgrade(database)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def env(tmp_path: Path) -> ServiceEnv:
    settings = load_settings(None, {}, cwd=tmp_path,
                             overrides={"service": {"data_dir": str(tmp_path), "roster": ""}})
    return make_env(settings, FixedClock(NOW))


def _seed(db: Database, env: ServiceEnv) -> dict[str, int]:
    def write(conn: Connection) -> dict[str, int]:
        units.import_rows(conn, [units.RosterRow("4101", "郑州市", "郑州", "city"),
                                 units.RosterRow("4102", "开封市", "开封", "city")], now=NOW)
        ids = {u.name: u.id for u in units.list_units(conn)}

        def add(unit: str, title: str, kind: str, text: str) -> int:
            return cases_svc.submit(conn, env, cases_svc.Draft(title, kind, text),
                                    unit_id=ids[unit], person_id=None, now=NOW).id

        return {
            "title": add("郑州市", "物业纠纷调解", "行政调解", "街道组织双方当面协商"),
            "body": add("开封市", "社区治理经验", "行政指导", "指导社区化解物业纠纷，建立台账"),
            "half": add("开封市", "物业服务指导", "行政指导", "规范物业收费行为"),
            "both": add("郑州市", "物业纠纷多元化解", "行政调解", "物业纠纷由调解委员会受理"),
            "other": add("郑州市", "行政协议履约", "行政契约", "跟踪征地补偿协议履约"),
            "phrase": add("开封市", "轻微违法", "行政指导", "对初次轻微违法推行首违不罚"),
            "apart": add("开封市", "罚没物资", "其他", "首次清点，违规不多，罚没物资入库"),
        }

    return db.transaction(write)


def _ids(res: cases_svc.SearchResult) -> list[int]:
    return [c.id for c in res.hits]


def test_same_matches_and_order(db: Database, env: ServiceEnv) -> None:
    ids = _seed(db, env)
    res = db.transaction(lambda c: cases_svc.search(c, "物业纠纷"))
    assert res.words == ("物业", "纠纷")
    # Every word held ("half" has 物业 only); title and body hit first, title hit, body hit.
    assert _ids(res) == [ids["both"], ids["title"], ids["body"]] and res.total == 3
    one = db.transaction(lambda c: cases_svc.search(c, "物业纠纷", limit=1))
    assert _ids(one) == [ids["both"]] and one.total == 3
    # Unit and kind words are indexed; filler words are dropped.
    kaifeng = db.transaction(lambda c: cases_svc.search(c, "开封 物业"))
    assert sorted(_ids(kaifeng)) == sorted([ids["body"], ids["half"]])
    mediation = db.transaction(lambda c: cases_svc.search(c, "有没有关于行政调解的案例"))
    assert mediation.words == ("行政调解",)
    assert _ids(mediation) == [ids["both"], ids["title"]]  # equal relevance: newest first
    assert db.transaction(lambda c: cases_svc.search(c, "防汛")).hits == ()
    # A word the dictionary does not know is cut into characters that must stand together.
    unknown = db.transaction(lambda c: cases_svc.search(c, "首违不罚"))
    assert unknown.words == ("首 违 不 罚",) and _ids(unknown) == [ids["phrase"]]
    assert db.transaction(lambda c: cases_svc.search(c, "   ")).total == 0
    # Filters and who may see what apply to search as to lists.
    only_kf = db.transaction(lambda c: cases_svc.search(c, "物业", unit_id=units.require(
        c, "开封市").id))
    assert sorted(_ids(only_kf)) == sorted([ids["body"], ids["half"]])
    assert db.transaction(lambda c: cases_svc.search(c, "物业", kind="行政调解")).total == 2
    assert db.transaction(lambda c: cases_svc.search(c, "物业", visible_units=set())).total == 0


def test_index_follows_updates_and_deletes(db: Database, env: ServiceEnv) -> None:
    ids = _seed(db, env)

    def rewrite(conn: Connection) -> None:
        conn.execute(update(Case).where(Case.id == ids["other"]).values(
            search_body=case_search.index_words("物业纠纷 调处")))
        conn.execute(delete(Case).where(Case.id == ids["both"]))

    db.transaction(rewrite)
    res = db.transaction(lambda c: cases_svc.search(c, "物业纠纷"))
    assert sorted(_ids(res)) == sorted([ids["title"], ids["body"], ids["other"]])


def test_words_are_cut_as_the_language_layer_cuts_them() -> None:
    words = case_search.index_words("郑州市行政调解案件").split()
    assert {"郑州市", "郑州", "行政调解", "行政", "调解"} <= set(words)
    assert case_search.query_words("查找 物业纠纷 案例") == ["物业", "纠纷"]
    assert case_search.query_words("案例") == ["案例"]  # nothing else left: kept
    assert case_search.query_words("首违不罚 企业") == ["首 违 不 罚", "企业"]
    assert case_search.query_words("\"; DROP TABLE cases; --") == ["drop", "table", "cases"]
