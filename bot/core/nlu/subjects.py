"""The subjects a question can be about: a registry, so that new ones need no new phrasing rules.

A subject declares the words that name it, the states and forms it answers, its default form,
and how strongly its words claim a question (a flag word outranks "谁": "谁的红旗最多" is about
flags). The parser reads every question into a :class:`~bot.core.nlu.frame.Query` whose
``subject`` is one of these names; the query service answers it and a handler renders it.

Adding a subject (the programme's 案例 cases, 整改 rectifications, 示范点 sites; ``plan``, the
year's recurring work, was added this way):

1. add a :class:`Subject` to :data:`SUBJECTS` below (its words, states, forms);
2. add an answerer for its name in :mod:`bot.services.query` (``ANSWERERS``): it gets the
   resolved filters and returns the records;
3. add a renderer for its name in :mod:`handlers.ask` (``RENDERERS``).

Nothing in the parser changes: "郑州交了几个案例", "哪些单位的整改逾期了", "开封有示范点吗" are
read by the same rules as "郑州交了几个材料" (units, state and form words are shared).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from .frame import Form, State


@dataclass(frozen=True)
class Subject:
    name: str
    words: tuple[str, ...]  # nouns that name it in a question
    states: frozenset[State]  # the states it can be filtered by
    forms: frozenset[Form]  # the answers it gives
    default_form: Form
    rank: int  # when words of several subjects appear, the highest rank wins
    implied_by: frozenset[Form]  # forms that mean this subject when no subject word is said
    describe: str  # how a clarifying question names it ("的进度", "的旗帜")


_ALL_FORMS: Final = frozenset(Form)
_TASK_STATES: Final = frozenset({State.OWED, State.SUBMITTED, State.OVERDUE, State.RETURNED,
                                 State.ACCEPTED, State.PENDING})

SUBJECTS: Final[tuple[Subject, ...]] = (
    Subject("flags", ("红旗榜", "旗帜榜", "排行榜", "红旗", "黄旗", "蓝旗", "旗帜", "旗子", "面旗", "旗",
                      "得分", "积分", "评分", "分数", "扣分", "加分", "多少分", "几分"),
            frozenset(), _ALL_FORMS, Form.DETAIL, 50, frozenset({Form.RANK}), "的旗帜"),
    # The year's recurring work (series: 四个一, the plan's 周期 rows) per unit and period.
    Subject("plan", ("四个一", "年度计划", "工作计划", "年度工作计划", "周期性工作", "周期性任务"),
            _TASK_STATES, _ALL_FORMS - {Form.RANK, Form.WHEN}, Form.DETAIL, 45, frozenset(),
            "的年度计划完成情况"),
    Subject("notices", ("通知",), frozenset({State.ACKED, State.NOT_ACKED}),
            _ALL_FORMS - {Form.RANK, Form.WHEN}, Form.DETAIL, 40, frozenset(), "的通知回执"),
    Subject("submissions", ("提交记录", "报送记录", "几份材料", "份材料", "第几版", "哪一版"),
            _TASK_STATES, _ALL_FORMS - {Form.RANK}, Form.LIST, 30, frozenset(), "的提交"),
    Subject("units", ("哪些单位", "哪个单位", "哪几个单位", "哪几家单位", "哪家单位", "几个单位",
                      "多少个单位", "多少单位", "哪几家", "哪家", "几家", "多少家", "单位", "谁"),
            _TASK_STATES, _ALL_FORMS - {Form.WHEN}, Form.LIST, 20, frozenset(), "的完成情况"),
    Subject("tasks", ("任务", "啥任务", "什么任务", "几项", "几个任务", "多少任务", "待办", "东西",
                      "啥活", "活儿", "事儿", "几样", "材料"),
            _TASK_STATES, _ALL_FORMS - {Form.RANK}, Form.LIST, 10, frozenset({Form.WHEN}),
            "的进度"),
)

BY_NAME: Final = MappingProxyType({s.name: s for s in SUBJECTS})


def subject(name: str) -> Subject:
    return BY_NAME[name]
