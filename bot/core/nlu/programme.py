"""Questions about the programme's records (issue 16) read as frames: typical cases (案例),
demonstration sites (示范点) and rectification items (整改).

"今年入选了几个案例", "郑州报了哪些案例", "开封还有哪些整改没完成" are one structure: a subject ×
an answer form × states × units × a year (× a keyword or kind, for cases). A subject is data
(:data:`SUBJECTS`: its nouns and the words of each of its states); units, "we" and the year are
read by :mod:`.message` as for every question; the form is read by :func:`form_of`, shared by
every subject. Adding a state or a subject is a row here, not a rule per phrasing.

The words that name a subject are kept from being read as slips or fragments of task titles
(:data:`.lexicon.SUBJECT_NOUNS`, used by :mod:`.message`): "几个案例" is no slip of "典型案例", and
"示范点" alone is no name of the task 示范点建设方案.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from .frame import Form, Query, State
from .model import Intent

_NEG: Final = r"(?:没|未|没有|还没|还未|尚未)"


@dataclass(frozen=True)
class ProgrammeSubject:
    name: str  # the query's subject (and the intent's value)
    intent: Intent
    topic: re.Pattern[str]  # the noun in a question
    # (state, words): the first state whose words are found is the filter; a state listed
    # earlier wins over a later one ("没完成" is open, not closed).
    states: tuple[tuple[State, re.Pattern[str]], ...]
    default_form: Form


def _w(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_DONE: Final = r"(?:完成|弄完|做完|办完|整改完|到位|销号|落实)"

SUBJECTS: Final[tuple[ProgrammeSubject, ...]] = (
    # Rectifications first: "整改" also appears in the title of a case ("整改类案例" is rare).
    ProgrammeSubject("rectifications", Intent.RECTIFICATIONS, _w("整改"), (
        (State.OVERDUE, _w(r"逾期|超期|过期|超时|拖期")),
        (State.OPEN, _w(_NEG + r"[^，。,]{0,3}?" + _DONE + r"|" + _NEG + r"[弄做改]|还剩|还差"
                        r"|还有哪些|还有几|还有多少|在办")),
        (State.CLOSED, _w(_DONE)),
    ), Form.DETAIL),
    ProgrammeSubject("sites", Intent.SITES, _w("示范点"), (
        (State.ACCEPTED, _w(r"验收通过|通过验收|验收合格|验收了|通过了验收|验收过了")),
    ), Form.LIST),
    ProgrammeSubject("cases", Intent.CASES, _w("案例"), (
        (State.SELECTED, _w(r"入选|评上|选上|选中|评为")),
        (State.RETURNED, _w(r"退回|打回|被退|退了")),
    ), Form.LIST),
)
BY_NAME: Final = {s.name: s for s in SUBJECTS}

# The answer's form, the same words for every subject (checked in this order).
_FORMS: Final = (
    (Form.COUNT, _w(r"几[个项家条件]|多少")),
    (Form.LIST, _w(r"哪些|哪几|有啥|有什么|都有|名单|清单|列表|发一下|发下|啥|什么|找找|查查|搜搜"
                   r"|找一下|查一下|搜一下")),
    (Form.DETAIL, _w(r"情况|进度|进展|咋样|怎么样|怎样|如何")),
    (Form.YESNO, _w(r"有没有|是否|是不是|[吗么嘛][啊呀吧哈]*$|没有?[啊呀吧哈]*$|了没|没呢|\?$")),
)

# Case kinds (DESIGN §3) by their short or full name.
CASE_KINDS: Final = {"指导": "行政指导", "调解": "行政调解", "契约": "行政契约"}
_KIND: Final = _w(r"(?:行政)?(指导|调解|契约)")
# A keyword the cases are about: 关于X的 / 有关X的 / X方面的 / X类的 案例.
_ABOUT: Final = _w(r"(?:有?关于|有关)([^，。,？?]{2,12}?)(?:方面|类|类型)?的?(?:典型)?案例")
_ABOUT_KIND: Final = _w(r"([^，。,？?的有关]{2,8}?)(?:方面|类|类型)的?(?:典型)?案例")

# A question about cases rather than about the task of handing them in: a state of a case,
# a quantity or list of cases, a keyword or kind, or what a unit reported.
_CASE_CUE: Final = _w(r"(?:几个?|多少个?|哪些|哪几个?|啥|什么)(?:典型)?案例|案例[^，。,]{0,4}?"
                      r"(?:哪些|几个|多少|有啥|有什么)|关于|有关|方面|类|搜|找")
# Words of the task of handing cases in ("案例交了没", "案例谁没交", "案例逾期了几家"): the
# question is about the task, as before.
_TASK_CUE: Final = _w(r"交|谁|几家|多少家|哪家|哪些单位|逾期|截止|延期|催|汇编|没报|未报")

# Doing, not asking: reporting or confirming an item, nominating a site.
_ACTS: Final = _w(r"申报|推荐|确认整改|退回整改|报送整改|^整改\s*[#＃Rr\d]")
# Asking for something without a question mark ("示范点名单发一下", "找找关于物业纠纷的案例").
_ASKING: Final = _w(r"哪些|几[个项家条]|多少|情况|进展|进度|名单|清单|有什么|有啥|列表"
                    r"|查看|看看|看下|发一下|找找|查查|搜")


def _about_cases(s: ProgrammeSubject, c: str) -> bool:
    """Cases, not the task of handing them in: a case cue and no word of the task."""
    if _TASK_CUE.search(c):
        return False
    return bool(_CASE_CUE.search(c) or states_of(s, c) or _KIND.search(c))


def subject_of(c: str, norm: str) -> ProgrammeSubject | None:
    """Which programme subject a message is about, or None (a task, talk, or a request)."""
    if _ACTS.search(norm.strip()):
        return None
    for s in SUBJECTS:
        if not s.topic.search(c):
            continue
        if s.name == "cases" and not _about_cases(s, c):
            return None
        return s
    return None


_KIND_ONLY: Final = _w(r"^(?:行政)?(?:指导|调解|契约)?的?(?:典型)?(?:案例)?$")


def names_kind_only(task_text: str, c: str) -> bool:
    """Whether words read as a task's name are only a case kind and the noun ("调解…案例",
    "典型案例") in a question that is about cases by its own cues (a quantity, 关于, 方面, a case's
    state): then they are the kind, not the task 行政调解典型案例 ("鹤壁的调解案例上报了吗" is
    still the task)."""
    cases = BY_NAME["cases"]
    return _KIND_ONLY.match(task_text) is not None and (
        _CASE_CUE.search(c) is not None or bool(states_of(cases, c)))


def asks(c: str, question: bool) -> bool:
    return question or _ASKING.search(c) is not None


def form_of(c: str, default: Form) -> Form:
    for form, words in _FORMS:
        if words.search(c):
            return form
    return default


def states_of(s: ProgrammeSubject, c: str) -> tuple[State, ...]:
    c = c.replace("有没有", "有无")  # "整改有没有完成" asks whether it is done: no negation
    for state, words in s.states:
        if words.search(c):
            return (state,)
    return ()


def case_ref(c: str) -> str:
    """The kind (its full name) or the keyword a question about cases names, else ""."""
    about = _ABOUT.search(c)
    word = about.group(1) if about else ""
    if not word:
        typed = _ABOUT_KIND.search(c)
        word = typed.group(1) if typed else ""
    kind = _KIND.search(word or c)
    if kind is not None and (not word or kind.group(0) in word):
        return CASE_KINDS[kind.group(1)]
    return word


def frame(s: ProgrammeSubject, c: str, *, unit_ids: tuple[int, ...], kinds: tuple[str, ...],
          mine: bool, date_from: date | None, date_to: date | None) -> Query:
    """The question as a frame over ``s``."""
    ref = case_ref(c) if s.name == "cases" else ""
    form = form_of(c, s.default_form)
    said = {"subject", "form", "states", "unit_ids", "kinds", "mine", "date_from", "date_to",
            "ref"}
    return Query(subject=s.name, form=form, states=states_of(s, c), unit_ids=unit_ids,
                 kinds=tuple(k for k in kinds if k != "all"),
                 mine=mine, date_from=date_from, date_to=date_to, ref=ref, said=frozenset(said))
