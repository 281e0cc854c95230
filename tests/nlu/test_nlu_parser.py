"""Parser behaviour beyond the labelled set: segmenter isolation, refresh, canonical forms,
query frames, bodies cut from the original text, time zones and speed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import jieba
import pytest

from bot.core.nlu import Form, Intent, Parse, Parser, State, TaskName, UnitName, Vocabulary
from bot.core.nlu.evaluate import LabelledSet

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 8, 10, 0, tzinfo=SH)

SMALL = Vocabulary(
    units=(
        UnitName(1, "郑州市", "郑州", (), "city"),
        UnitName(2, "开封市", "开封", (), "city"),
    ),
    tasks=(TaskName(1, "第三季度调研报告", date(2026, 9, 30)),),
)


@pytest.fixture(scope="module")
def fresh(workday: Callable[[date], bool]) -> tuple[Parser, dict[str, object]]:
    """A parser of its own (refresh() changes it), plus the global jieba state before it."""
    before = {
        "initialized": jieba.dt.initialized,
        "freq": len(jieba.dt.FREQ),
        "user_words": dict(jieba.dt.user_word_tag_tab),
    }
    return Parser(SMALL, is_workday=workday), before


def test_the_global_jieba_is_not_touched(fresh: tuple[Parser, dict[str, object]]) -> None:
    parser, before = fresh
    assert parser.parse("郑州还有哪些没交", now=NOW).unit_ids == (1,)
    assert jieba.dt.initialized == before["initialized"]
    assert len(jieba.dt.FREQ) == before["freq"]
    assert jieba.dt.user_word_tag_tab == before["user_words"]
    assert "第三季度调研报告" not in jieba.dt.FREQ


def test_two_parsers_do_not_share_vocabulary(
        parser: Parser, fresh: tuple[Parser, dict[str, object]]) -> None:
    small, _ = fresh
    assert parser.parse("进度 洛阳", now=NOW).unit_ids == (3,)
    assert small.parse("进度 洛阳", now=NOW).unit_ids == ()


def test_init_logs_nothing_from_jieba(
        workday: Callable[[date], bool], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    Parser(SMALL, is_workday=workday)
    assert not [r for r in caplog.records if r.name.startswith("jieba")]


def test_refresh_adds_and_removes_units_and_tasks(
        fresh: tuple[Parser, dict[str, object]]) -> None:
    parser, _ = fresh
    assert parser.parse("进度 新郑市", now=NOW).unit_ids == ()
    bigger = Vocabulary(
        units=(*SMALL.units[:1], UnitName(99, "新郑市", "新郑", ("新郑那边",), "county")),
        tasks=(*SMALL.tasks, TaskName(7, "防汛专项检查报告")),
    )
    started = time.perf_counter()
    parser.refresh(bigger)
    assert time.perf_counter() - started < 0.5
    assert parser.parse("进度 新郑", now=NOW).unit_ids == (99,)
    assert parser.parse("新郑交了没", now=NOW).unit_ids == (99,)
    p = parser.parse("谁没交防汛检查报告", now=NOW)
    assert p.intent is Intent.QUERY and p.task_ids == (7,)
    assert p.query is not None and p.query.subject == "units" and p.query.states == (State.OWED,)
    # 开封市 was removed from the roster: it is no longer recognised
    assert parser.parse("进度 开封", now=NOW).unit_ids == ()


@pytest.mark.parametrize(
    ("text", "intent", "canonical"),
    [
        ("进度 郑州", Intent.QUERY, True),
        ("/进度 郑州", Intent.QUERY, True),
        ("#进度 郑州", Intent.QUERY, True),
        ("＃进度 郑州", Intent.QUERY, True),
        ("  / 谁没交", Intent.QUERY, True),
        ("郑州还有哪些没交？", Intent.QUERY, False),
        ("@督导助手 通过 #12 优", Intent.ACCEPT, True),
        ("#12 通过 优", Intent.ACCEPT, False),
        ("提交了吗", Intent.QUERY, False),  # a question, not the submit command
        ("通过率怎么算", Intent.UNKNOWN, False),
        ("通知已经转发到各县区了", Intent.UNKNOWN, False),
        ("进度条卡住了", Intent.UNKNOWN, False),
    ],
)
def test_canonical_flag(parser: Parser, text: str, intent: Intent, canonical: bool) -> None:
    p = parser.parse(text, now=NOW)
    assert (p.intent, p.canonical) == (intent, canonical)


def test_bodies_keep_what_the_user_typed(parser: Parser) -> None:
    p = parser.parse("動態：新鄉市舉辦執法技能比武，參賽１２０人", now=NOW)
    assert p.intent is Intent.DYNAMIC
    assert p.body == "新鄉市舉辦執法技能比武，參賽１２０人"
    b = parser.parse("绑定 郑州市 AbC9xZ", now=NOW)
    assert b.body == "AbC9xZ"


def test_deadline_is_local_and_defaults_to_18h(parser: Parser) -> None:
    utc_now = datetime(2026, 7, 8, 2, 0, tzinfo=ZoneInfo("UTC"))
    p = parser.parse("发布任务 执法证清理 截止 7月15日 各地市", now=utc_now)
    assert p.deadline == datetime(2026, 7, 15, 18, 0, tzinfo=SH)
    assert p.deadline is not None and p.deadline.tzinfo is not None


def test_quarter_without_a_task_becomes_a_date_range(parser: Parser) -> None:
    p = parser.parse("四季度有什么要交的", now=NOW)
    assert p.intent is Intent.QUERY and p.query is not None and p.query.subject == "tasks"
    assert (p.date_from, p.date_to) == (date(2026, 10, 1), date(2026, 12, 31))


def test_a_bare_unit_asks_back(parser: Parser) -> None:
    p = parser.parse("开封市", now=NOW)
    assert p.intent is Intent.QUERY and p.confidence < 0.5 and p.confirm
    assert p.clarify == "您是想查询开封市的进度吗？"
    assert p.query is not None and p.query.unit_ids == (2,) and p.query.form is Form.DETAIL
    # talk that mentions a unit among other words gets no question back
    assert parser.parse("下周去开封出差", now=NOW).clarify is None
    assert parser.parse("郑州的王主任电话多少", now=NOW).clarify is None


def test_a_follow_up_says_only_what_changes(parser: Parser) -> None:
    p = parser.parse("那开封呢？", now=NOW)
    assert p.intent is Intent.QUERY and p.follow_up
    assert p.query is not None and p.query.subject is None and p.query.unit_ids == (2,)
    previous = parser.parse("郑州有逾期的吗", now=NOW).query
    assert previous is not None
    merged = p.query.follow(previous)
    assert (merged.subject, merged.form, merged.states, merged.unit_ids) == (
        "tasks", Form.YESNO, (State.OVERDUE,), (2,))
    returned = parser.parse("退回的呢", now=NOW).query
    assert returned is not None
    assert returned.follow(previous).states == (State.RETURNED,)
    assert returned.follow(previous).unit_ids == (1,)


def test_questions_combine_subject_filters_and_form(parser: Parser) -> None:
    cases = {
        "开封有逾期的吗": ("tasks", Form.YESNO, (State.OVERDUE,), (2,), ()),
        "哪些单位还没交执法案例汇编": ("units", Form.LIST, (State.OWED,), (), (3,)),
        "三季度调研报告交了几家": ("units", Form.COUNT, (State.SUBMITTED,), (), (1,)),
        "哪个单位红旗最多": ("flags", Form.RANK, (), (), ()),
        "示范点建设方案什么时候截止": ("tasks", Form.WHEN, (), (), (4,)),
        "谁没确认": ("notices", Form.LIST, (State.NOT_ACKED,), (), ()),
    }
    for text, (subject, form, states, units, tasks) in cases.items():
        q = parser.parse(text, now=NOW).query
        assert q is not None, text
        assert (q.subject, q.form, q.states, q.unit_ids, q.task_ids) == (
            subject, form, states, units, tasks), text


def test_answers_to_a_question_back(parser: Parser) -> None:
    for text in ("是", "对", "嗯", "对的", "是的"):
        assert parser.parse(text, now=NOW).intent is Intent.CONFIRM, text
    no = parser.parse("不是，是开封", now=NOW)
    assert no.intent is Intent.DENY and no.unit_ids == (2,)
    assert parser.parse("不是", now=NOW).intent is Intent.DENY


def test_a_unit_nobody_knows_is_named(parser: Parser) -> None:
    p = parser.parse("绑定 郑州县", now=NOW)
    assert p.intent is Intent.BIND and p.unknown_name == "郑州县"
    assert p.clarify == "找不到单位：郑州县"  # the handler adds the closest names
    assert parser.parse("绑定 火星市 AB12CD", now=NOW).unknown_name == "火星市"
    assert parser.parse("我是新来的联络员", now=NOW).unknown_name == ""


def test_a_pinyin_slip_in_a_unit_name(parser: Parser) -> None:
    p = parser.parse("洛杨交了没", now=NOW)
    assert p.intent is Intent.QUERY and p.unit_ids == (3,)
    # an ordinary word that sounds like a unit is not one (公益 / 巩义)
    assert parser.parse("公益活动交了没", now=NOW).unit_ids == ()


def test_commands_need_no_language_model(
        labelled: LabelledSet, workday: Callable[[date], bool]) -> None:
    """Without the segmenter only commands are understood, the same way."""
    full = Parser(labelled.vocabulary, is_workday=workday)
    bare = Parser(labelled.vocabulary, is_workday=workday, language=False)
    for text in ("进度 郑州", "谁没交 三季度调研报告", "发布任务 年报 截止 9月30日 各地市和省直部门",
                 "通知 直管县 下午开会", "红旗榜 今年", "绑定 郑州 AB12CD"):
        assert bare.parse(text, now=NOW) == full.parse(text, now=NOW), text
    assert bare.parse("郑州还有哪些没交", now=NOW).intent is Intent.UNKNOWN


def test_review_without_number_asks_for_it(parser: Parser) -> None:
    p = parser.parse("通过", now=NOW)
    assert p.submission_id is None and p.clarify and p.confidence <= 0.5


def test_empty_and_odd_input(parser: Parser) -> None:
    for text in ("", "   ", "。。。", "@张三", "\u3000", "🙂" * 50, "x" * 5000):
        p = parser.parse(text, now=NOW)
        assert isinstance(p, Parse) and p.intent is Intent.UNKNOWN


def test_parse_is_fast(parser: Parser, labelled: LabelledSet) -> None:
    """The benchmark (bench/nlu_bench.py) measures this properly; here only a loose bound."""
    texts = [c.text for c in labelled.cases]
    started = time.perf_counter()
    for text in texts:
        parser.parse(text, now=NOW)
    per_message = (time.perf_counter() - started) / len(texts)
    assert per_message < 0.005


SERIES = Vocabulary(
    units=(UnitName(1, "郑州市", "郑州", (), "city"), UnitName(2, "开封市", "开封", (), "city")),
    tasks=(*(TaskName(10 + q, f"2026年第{'一二三四'[q - 1]}季度调研指导记录", date(2026, 3 * q, 28))
             for q in range(1, 5)),
           TaskName(20, "2025年第三季度调研指导记录", date(2025, 9, 30)),
           TaskName(21, "2026年度业务培训", date(2026, 12, 31))),
)


@pytest.mark.parametrize(("text", "tasks"), [
    ("郑州三季度的调研指导记录交了没", (13,)),
    ("郑州第三季度调研指导记录交了没", (13,)),
    ("谁没交二季度调研指导记录", (12,)),
    ("开封培训交了吗", (21,)),
])
def test_a_quarter_picks_a_series_instance(workday: Callable[[date], bool], text: str,
                                           tasks: tuple[int, ...]) -> None:
    """A series has one task per period with the same words in its title: the quarter said
    picks this year's instance of that quarter."""
    p = Parser(SERIES, is_workday=workday).parse(text, now=NOW)
    assert p.intent is Intent.QUERY and p.query is not None
    assert sorted(p.query.task_ids) == sorted(tasks)
    assert p.query.date_from is None  # the quarter named the task; it is no date filter


def test_a_series_named_without_its_quarter_is_asked_about(
        workday: Callable[[date], bool]) -> None:
    """Without a quarter the words fit every instance: the bot asks which (it does not guess
    one, nor hide the others)."""
    p = Parser(SERIES, is_workday=workday).parse("郑州的调研指导记录交了没", now=NOW)
    assert p.intent is Intent.QUERY and p.clarify and p.confidence < 0.6
    assert sorted(p.choices) == [11, 12, 13, 14, 20]
