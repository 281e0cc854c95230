"""The language layer's second round, below the evaluation sets: how tasks are named (slips,
fragments that fit several, names joined by 和), what a question back carries, when 收到 is an
acknowledgement, @ as a verb, requests as verb × target × scope × body, and the two correction
intents (extend, cancel_task) the chat handlers for 延期 / 撤销任务 read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.nlu import Form, Intent, Parser, State, TaskName, UnitName, Vocabulary
from bot.core.nlu.lexicon import Lexicon, near_sound

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 8, 10, 0, tzinfo=SH)

VOCAB = Vocabulary(
    units=(UnitName(1, "郑州市", "郑州", (), "city"), UnitName(2, "开封市", "开封", (), "city"),
           UnitName(20, "兰考县", "兰考", (), "county"), UnitName(22, "滑县", "滑县", (), "county")),
    tasks=(TaskName(1, "第三季度调研报告", date(2026, 9, 30)),
           TaskName(2, "年度培训总结", date(2026, 12, 20)),
           TaskName(3, "执法案例汇编", date(2026, 7, 15)),
           TaskName(5, "半年工作总结", date(2026, 7, 10)),
           TaskName(9, "7月份工作月报", date(2026, 7, 31))),
)


@pytest.fixture(scope="module")
def p(workday: Callable[[date], bool]) -> Parser:
    return Parser(VOCAB, is_workday=workday)


def test_a_slip_is_a_similar_sound_not_any_character() -> None:
    assert near_sound("言", "研") and near_sound("列", "例") and near_sound("方", "访")
    assert not near_sound("查", "研") and not near_sound("a", "研")


def test_a_slip_in_a_task_name_is_found_above_the_threshold(p: Parser) -> None:
    q = p.parse("调言报告哪些单位交了", now=NOW)
    assert q.intent is Intent.QUERY and q.task_ids == (1,)
    assert q.confidence <= 0.8  # found by its sound: acted on, but never as sure as a name
    assert p.parse("执法安例汇编谁没交", now=NOW).task_ids == (3,)  # a fragment grown by a slip
    # one character off but not by sound, or too short to tell: no task
    assert Lexicon(VOCAB).task_slips("调查报告", []) == []
    assert Lexicon(VOCAB).task_slips("还差报告", []) == []


def test_a_fragment_that_fits_several_tasks_asks_which(p: Parser) -> None:
    r = p.parse("总结交了没", now=NOW)
    assert r.intent is Intent.QUERY and r.task_ids == () and r.choices == (2, 5)
    assert r.clarify == "您说的是哪一项任务：《年度培训总结》、《半年工作总结》？请回复任务名称"
    assert r.query is not None and r.query.states == (State.SUBMITTED,)
    # one task of that kind: no question
    assert p.parse("汇编还有谁没报", now=NOW).task_ids == (3,)


def test_names_joined_by_he_are_asked_about_together(p: Parser) -> None:
    assert p.parse("开封的月报和调研报告都交了没", now=NOW).task_ids == (9, 1)
    assert p.parse("月报、半年总结谁没交", now=NOW).task_ids == (9, 5)


def test_a_question_back_names_what_is_meant_and_can_be_confirmed(p: Parser) -> None:
    bare = p.parse("郑州", now=NOW)
    assert bare.intent is Intent.QUERY and bare.confirm and bare.confidence < 0.5
    assert bare.clarify == "您是想查询郑州市的进度吗？"
    assert bare.query is not None and bare.query.form is Form.DETAIL
    urge = p.parse("催一下开封的月报 领导下午要听汇报", now=NOW)
    assert urge.intent is Intent.REMIND and urge.confirm and urge.confidence < 0.5
    assert urge.clarify == "您是想催办开封市的《7月份工作月报》吗？"
    assert urge.unit_ids == (2,) and urge.task_ids == (9,)


def test_confirmations_with_pointing_words(p: Parser) -> None:
    for text in ("没错 就是它", "对 就查这个", "是的 查吧", "嗯嗯 没错"):
        assert p.parse(text, now=NOW).intent is Intent.CONFIRM, text
    yes_and_name = p.parse("对，开封", now=NOW)
    assert yes_and_name.intent is Intent.CONFIRM and yes_and_name.unit_ids == (2,)
    for text in ("不是这个意思", "算了", "不用了"):
        assert p.parse(text, now=NOW).intent is Intent.DENY, text
    assert p.parse("好的谢谢", now=NOW).intent is not Intent.CONFIRM


def test_shou_dao_acknowledges_only_alone_or_with_a_promise(p: Parser) -> None:
    for text in ("收到", "收到了谢谢", "已收到，马上安排落实", "收到马上转发", "收到通知了"):
        assert p.parse(text, now=NOW).intent is Intent.ACK, text
    for text in ("收到红包啦谢谢领导", "收到礼物了好开心", "收到文件请回复"):
        assert p.parse(text, now=NOW).intent is not Intent.ACK, text


def test_at_as_a_verb_keeps_what_follows(p: Parser) -> None:
    r = p.parse("帮忙@一下兰考和滑县 让他们抓紧报月报", now=NOW)
    assert r.intent is Intent.REMIND and r.unit_ids == (20, 22) and r.task_ids == (9,)
    # a real mention is still blanked
    assert p.parse("@督导小助手 兰考月报交了没", now=NOW).unit_ids == (20,)


def test_requests_as_verb_target_scope_body(p: Parser) -> None:
    pub = p.parse("发个任务给兰考和滑县：乡镇综合执法调研，下周三前", now=NOW)
    assert (pub.intent, pub.scope, pub.body) == (Intent.PUBLISH_TASK, "兰考县,滑县", "乡镇综合执法调研")
    assert pub.deadline == datetime(2026, 7, 15, 18, tzinfo=SH)
    assert p.parse("逾期的都催一遍", now=NOW).intent is Intent.REMIND
    told = p.parse("领导又在催了", now=NOW)
    assert told.intent is not Intent.REMIND
    flag = p.parse("给郑州记一个创新举措：非现场执法全覆盖", now=NOW)
    assert (flag.intent, flag.body) == (Intent.INNOVATION, "非现场执法全覆盖")


def test_extend_and_cancel_task(p: Parser) -> None:
    canon = p.parse("延期 调研报告 至10月15日", now=NOW)
    assert (canon.intent, canon.canonical, canon.task_ids) == (Intent.EXTEND, True, (1,))
    assert canon.deadline == datetime(2026, 10, 15, 18, tzinfo=SH)
    free = p.parse("案例汇编的截止时间改成7月22号下午5点", now=NOW)
    assert (free.intent, free.task_ids) == (Intent.EXTEND, (3,))
    assert free.deadline == datetime(2026, 7, 22, 17, tzinfo=SH) and free.clarify is None
    # counted from the present deadline: asked back with the date it comes to
    week = p.parse("案例汇编延期一周", now=NOW)
    assert week.deadline == datetime(2026, 7, 22, 18, tzinfo=SH) and week.confirm
    assert p.parse("月报延期", now=NOW).clarify is not None  # no date: asks for it
    assert p.parse("月报能不能延期几天", now=NOW).intent is Intent.UNKNOWN  # a plea
    cancel = p.parse("撤销任务 3 标题写错了", now=NOW)
    assert (cancel.intent, cancel.task_ids, cancel.body) == (Intent.CANCEL_TASK, (3,), "标题写错了")
    natural = p.parse("把年度培训总结这个任务撤销 原因是重复发布", now=NOW)
    assert (natural.task_ids, natural.body) == ((2,), "重复发布")
    assert p.parse("撤销任务 3", now=NOW).clarify is not None  # the reason is required


def test_commands_stay_exact_without_the_language_model(workday: Callable[[date], bool]) -> None:
    full = Parser(VOCAB, is_workday=workday)
    bare = Parser(VOCAB, is_workday=workday, language=False)
    for text in ("延期 调研报告 至10月15日", "撤销任务 3 标题写错了", "催办 月报 兰考"):
        assert bare.parse(text, now=NOW) == full.parse(text, now=NOW), text
