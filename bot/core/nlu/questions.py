"""A question's skeleton read into a query frame: states, form, subject, and how sure we are.

The skeleton ("U那边T交了没有啊") is cut into cue words (:mod:`.cues`). States come from the words
themselves (逾期, 退回) or from a verb and what surrounds it: 没交 (owed), 交了 / 已交 / 交没交 /
有没有交 (submitted), 没确认 (not acknowledged). The form is the strongest form word (when >
rank > count > list > yes/no > detail). The subject is the highest-ranked subject whose words
appear, else follows from what was named: a unit or "we" → their tasks; a kind of units or a task
→ the units. What no cue explains lowers the confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from .cues import CUES, MAX_CUE, Cue
from .frame import Form, Query, State
from .message import KIND, MINE, NOTICE_REF, REF, TASK, TIME, UNIT, Msg
from .subjects import BY_NAME, SUBJECTS

MARKS: Final = frozenset({UNIT, KIND, MINE, TASK, TIME, REF, NOTICE_REF})
_FORM_ORDER: Final = (Form.WHEN, Form.RANK, Form.COUNT, Form.LIST, Form.YESNO, Form.DETAIL)
_NEUTRAL: Final = frozenset({"filler", "function", "all", "particle"})
# What a remark after a finished question may hold ("…交没交啊 着急用", "…交了没有啊我看群里没
# 动静"): no names and nothing that asks.
_REMARK: Final = frozenset({"residue", "neg", "perf", "already", "why", "act", "material"})
# A first word that continues the last question ("还有许昌", "再看看开封").
_OPENS_FOLLOW_UP: Final = ("还有", "再看看", "再看", "再查", "另外", "以及")
# States that are a review's outcome: said of handed-in material, they ask about submissions.
_REVIEWED: Final = frozenset({State.ACCEPTED, State.PENDING})
# Question words that name a subject only by asking ("谁", "啥", "哪家"): alone, with nothing of
# ours around them ("中午吃啥", "哪家店好吃"), they are no subject the bot answers about.
_BARE_ASK: Final = frozenset({
    "谁", "都有谁", "都是谁", "啥", "什么", "哪家", "哪几家", "几家", "多少家", "啥事", "什么事",
    "啥东西", "什么东西", "哪些东西", "哪些活", "哪些事", "啥活", "什么活"})
# Form words that are about our records by themselves ("进度咋样", "排名呢"); the others
# ("怎么样", "什么时候", "几个") ask about anything.
_OUR_FORMS: Final = frozenset({
    "进度", "进展", "啥进度", "什么进度", "啥进展", "排名", "排行", "排第几", "第几名", "排在第几",
    "名单", "完成率", "占比", "倒数", "前三", "前十", "前几名", "点名", "点个名", "点下名", "点一下名",
    "情况", "啥情况", "什么情况", "到哪一步", "到哪步", "哪一步", "详情", "明细", "状态", "啥状态",
    "什么状态", "好了没", "弄得咋样"})


# Names that ordinary talk uses too (a place, "we", a day); a task or a number is ours.
_PLACES: Final = frozenset({("mark", UNIT), ("mark", KIND), ("mark", MINE), ("mark", TIME)})


def _substantive(t: Token) -> bool:
    """Whether a word is one of ours (a name, a state, a flag, a subject noun, handing in or
    acknowledging), not only a way of asking."""
    if t.kind in ("mark", "state", "colour", "verb", "ack", "due", "soon", "deadline", "review",
                  "received", "material", "neg", "already"):
        return True
    if t.kind == "subject":
        return t.word not in _BARE_ASK
    return t.kind == "form" and t.word in _OUR_FORMS


@dataclass(frozen=True)
class Token:
    word: str
    cue: Cue | None  # None: residue (no cue explains it)
    clause: int = 0  # which clause of the message (spaces and punctuation separate clauses)

    @property
    def kind(self) -> str:
        return self.cue[0] if self.cue else "residue"


def tokens(skeleton: str, breaks: frozenset[int] = frozenset()) -> list[Token]:
    out: list[Token] = []
    i = 0
    n = len(skeleton)
    clause = 0
    while i < n:
        if i in breaks:
            clause += 1
        ch = skeleton[i]
        if ch in MARKS:
            out.append(Token(ch, ("mark", ch), clause))
            i += 1
            continue
        if ch.isdigit():  # "18个地市": a number alone changes nothing asked (#12 is a name)
            j = i
            while j < n and skeleton[j].isdigit():
                j += 1
            out.append(Token(skeleton[i:j], ("function",), clause))
            i = j
            continue
        for ln in range(min(MAX_CUE, n - i), 0, -1):
            if any(b in breaks for b in range(i + 1, i + ln)):
                continue  # a cue word does not run across a break
            cue = CUES.get(skeleton[i:i + ln])
            if cue is not None:
                out.append(Token(skeleton[i:i + ln], cue, clause))
                i += ln
                break
        else:
            if out and out[-1].cue is None and out[-1].clause == clause:
                out[-1] = Token(out[-1].word + ch, None, clause)
            else:
                out.append(Token(ch, None, clause))
            i += 1
    return out


@dataclass(frozen=True)
class Reading:
    query: Query
    confidence: float
    content: bool  # it asks something the bot answers (a state, a flag, a progress word…)
    follow_up: bool
    residue: int  # characters no cue explains
    question: bool
    choices: tuple[int, ...] = ()  # a task fragment that fits several tasks: ask which


def _preamble(core: list[Token], asks: bool) -> list[Token]:
    """Words before the first word we know are a preamble ("哪位知道…", "不好意思打扰下") when
    what follows asks something (a question mark, particle or word), or when they are a clause
    of their own; before a statement they may be a verb we do not know ("盯一下直管县的案例汇
    编"), and they count."""
    k = 0
    while k < len(core) and core[k].cue is None:
        k += 1
    if not any(_substantive(t) for t in core[k:]):
        return core  # "中午吃啥": only a question word after them; they are what is asked
    if 0 < k < len(core) and (asks or core[k].clause > core[k - 1].clause):
        return core[k:]
    return core


def _remark_start(core: list[Token]) -> int:
    """Where a remark run on after a finished question begins (voice input has no punctuation:
    "濮阳的月报到底交没交着急用", "…交了没有啊我看群里没动静"), or ``len(core)``. The question
    ends with 吗 / 没有, a final 没 after a verb, or 交没交; the remark names nothing and asks
    nothing."""
    n = len(core)
    k = n - 1
    named = any(t.cue in (("mark", UNIT), ("mark", KIND)) for t in core)
    while k >= 0 and (core[k].kind in _REMARK or (named and core[k].cue == ("mark", MINE))):
        k -= 1
    if k < 0 or k == n - 1:
        return n
    first = k + 1
    while first < n and core[first].kind in ("neg", "perf"):
        first += 1
    if first == n:
        return n
    between = core[k + 1:first]
    closes = core[k].kind == "q" or (core[k].kind in ("verb", "ack") and (
        any(t.kind == "neg" and t.word in ("没", "没有", "木有", "没呢") for t in between)
        or (k >= 2 and core[k - 1].kind == "neg" and core[k - 2].kind in ("verb", "ack"))))
    return first if closes else n


def read(m: Msg) -> Reading:
    toks = tokens(m.skeleton, m.breaks)
    core = _preamble([t for t in toks if t.kind not in _NEUTRAL], m.question)
    cut = _remark_start(core)
    remark = core[cut:]
    core = core[:cut]
    residue = sum(len(t.word) for t in core if t.cue is None or t.kind in ("noise", "act"))
    words = {t.word for t in toks}
    kinds = {t.kind for t in core}
    notice_context = (any(t.cue == ("subject", "notices") for t in core)
                      or NOTICE_REF in words)
    states: list[State] = []
    forms: set[Form] = set()
    subjects: list[str] = []
    said_subjects: list[str] = []  # named by a subject word, not inferred from a state
    colour: str | None = None
    question = m.question
    why = False
    due = soon = review = every = received = weak_rank = False

    def add_state(s: State) -> None:
        if s not in states:
            states.append(s)

    last = len(core) - 1
    for k, t in enumerate(core):
        cue = t.cue
        if cue is None:
            continue
        kind = cue[0]
        if kind == "state":
            add_state(State(cue[1]))
        elif kind == "colour":
            colour = cue[1]
            subjects.append("flags")
        elif kind == "subject":
            subjects.append(cue[1])
            said_subjects.append(cue[1])
            if len(cue) > 2:
                forms.add(Form(cue[2]))
        elif kind == "form":
            forms.add(Form(cue[1]))
        elif kind == "rankweak":
            weak_rank = True
        elif kind == "q":
            question = True
            forms.add(Form.YESNO)
        elif kind == "why":
            why = True
        elif kind == "due":
            due = True
        elif kind == "soon":
            soon = True
        elif kind == "every":
            every = True
        elif kind == "received":
            received = True
        elif kind == "deadline":
            if m.time is None:
                forms.add(Form.WHEN)
            else:
                due = True
        elif kind == "review":
            review = True
        elif kind == "neg" and _is_final(core, k):
            question = True
            forms.add(Form.YESNO)
        elif kind in ("verb", "ack"):
            ack = kind == "ack" or (t.word == "收到" and notice_context)
            if ack:
                subjects.append("notices")
            elif t.word == "收到" and _asks_what_came(core, k):
                received = True  # 本周收到了哪些材料: what came in, not who handed it in
                continue
            polarity = _polarity(core, k)
            if polarity is None and _relative(toks, t):
                polarity = "+"  # 确认通知的有几家, 交上来的有哪几个单位: those who did
            if polarity is None:
                continue
            if polarity == "+" and k + 1 <= last and core[k + 1].kind == "neg" and (
                    _is_final(core, k + 1) or (k + 2 <= last and core[k + 2].kind == "verb")):
                forms.add(Form.YESNO)
                question = True
            if ack:
                add_state(State.ACKED if polarity == "+" else State.NOT_ACKED)
            else:
                add_state(State.SUBMITTED if polarity == "+" else State.OWED)
    if states and not forms and toks and toks[-1].kind != "particle" and (
            toks[-1].word in ("吧", "了吧") or m.norm.rstrip().endswith("?")):
        forms.add(Form.YESNO)  # "…还没交吧", "#48被退回了？": a state put to be confirmed
        question = True
    if due and not forms and m.time is None and core and core[-1].kind == "due" and \
            core[-1].word in ("截止", "截至", "到期"):
        forms.add(Form.WHEN)  # "调解案例 截止": when it is due
    if weak_rank and ("units" in said_subjects or m.kinds or len(m.units) > 1):
        forms.add(Form.RANK)  # 多 / 少 compare only among several: "谁红旗多", not "任务好多啊"
    elif weak_rank:
        residue += sum(len(t.word) for t in core if t.kind == "rankweak")
    if why and State.OWED in states:
        forms.add(Form.YESNO)  # 咋还没交: has it been handed in
    elif why:
        forms.add(Form.DETAIL)  # 咋被插了黄旗: the reasons
    if NOTICE_REF in words or any(s in states for s in (State.ACKED, State.NOT_ACKED)):
        subjects.append("notices")
    if State.PENDING in states or review:
        subjects.append("submissions")
    if review:
        forms.add(Form.YESNO)
    if _about_submissions(m, kinds, states, received, notice_context, words):
        subjects.append("submissions")
    if every and not forms:
        forms.add(Form.LIST)  # 所有任务: a list, unless another form was asked ("所有任务情况")
    form = next((f for f in _FORM_ORDER if f in forms), None)
    subject = _subject(subjects, m, form, states, has_task=TASK in words or bool(m.task_choices))
    content = bool(states or colour or due or soon or review or received or any(
        s != "units" for s in subjects) or (form in (Form.DETAIL, Form.WHEN, Form.RANK))
        or TASK in words or NOTICE_REF in words)
    said_form = form is not None
    if form is None:
        form = Form.LIST if subject in ("tasks", "submissions") and (due or soon or received) \
            else BY_NAME[subject].default_form
        if subject in ("units", "tasks") and (TASK in words or m.units or m.kinds):
            form = Form.DETAIL
    follow_up = _follow_up(toks, core, m, said_form, said_subjects, due or soon or review,
                           bool(states))
    d1, d2 = m.dates()
    if subject == "tasks" and soon and d1 is None and d2 is None:
        d1, d2 = m.today, m.today + timedelta(days=7)
    said = set()
    if m.units or m.kinds or m.mine:
        said |= {"unit_ids", "kinds", "mine"}
    if m.tasks or m.task_choices:
        said.add("task_ids")
    if d1 is not None or d2 is not None:
        said |= {"date_from", "date_to"}
    if states:
        said.add("states")
    if colour:
        said.add("colour")
    if not follow_up:
        said |= {"subject", "form"}
    ref = m.notice_ref or (m.refs[0] if m.refs else "")
    if ref:
        said.add("ref")
    mine = m.mine and any(t.cue == ("mark", MINE) for t in core)
    query = Query(
        subject=None if follow_up else subject, form=None if follow_up else form,
        states=tuple(states), colour=colour, unit_ids=m.units, kinds=m.kinds, mine=mine,
        task_ids=m.tasks, date_from=d1, date_to=d2, ref=ref, said=frozenset(said))
    confidence = _confidence(core, residue, m, content, question, said_form, subjects)
    if remark:
        confidence = min(confidence, 0.8)
    if "act" in kinds:
        confidence = min(confidence, 0.45)  # "月报能不能延期几天": a request, not a question
    if not (m.has_entities or any(_substantive(t) for t in core)):
        confidence = min(confidence, 0.45)  # only ways of asking: "下午吃点啥", "哪家好"
    elif residue and not any(_substantive(t) and t.cue not in _PLACES for t in core):
        # a name and a way of asking, with a verb of someone else's ("开封有啥好吃的",
        # "郑州的同志啥时候到"): nothing says it is about the programme's work
        confidence = min(confidence, 0.45)
    return Reading(query, confidence, content, follow_up, residue, question, m.task_choices)


def _asks_what_came(core: list[Token], k: int) -> bool:
    """收到 followed by what (哪些, 几份, 材料) rather than by 了吗 / 没."""
    j = k + 1
    while j < len(core) and core[j].kind == "perf":
        j += 1
    if j >= len(core):
        return False
    cue = core[j].cue or ()
    asks_which = ("form", Form.LIST.value), ("form", Form.COUNT.value)
    return core[j].kind == "material" or cue in asks_which or (
        cue[:1] == ("subject",) and len(cue) > 2 and ("form", cue[2]) in asks_which)


def _about_submissions(m: Msg, kinds: set[str], states: list[State], received: bool,
                       notice_context: bool, words: set[str]) -> bool:
    """Submission records are asked about when one is named by number ("#27 通过了吗"), or
    handed-in material is said to be received or reviewed ("本周收到的材料", "通过的材料");
    returned material of a named unit is rather that unit's tasks ("洛阳被退回的材料有啥")."""
    if notice_context:
        return False
    if REF in words:
        return True
    if received:
        return True
    if "material" not in kinds:
        return False
    if any(s in _REVIEWED for s in states):
        return True
    return State.RETURNED in states and not (m.units or m.mine)


def _relative(toks: list[Token], verb: Token) -> bool:
    """The verb (with its object) in a relative clause ("V(+通知)的") that the question then
    counts or lists ("…的有几家", "…的是哪些单位"): those who have done it."""
    i = next((j for j, t in enumerate(toks) if t is verb), -1)
    j = i + 1
    while j < len(toks) and (toks[j].kind in ("perf", "material", "ack") or toks[j].cue == (
            "subject", "notices")):
        j += 1
    if j >= len(toks) or not (toks[j].word == "的" or (  # "回复收到的": 收到的 holds the 的
            toks[j].kind == "received" and verb.kind == "ack")):
        return False
    for t in toks[j + 1:]:
        cue = t.cue or ()
        if cue[:1] == ("form",) and cue[1] in (Form.COUNT.value, Form.LIST.value):
            return True
        if cue[:1] == ("subject",) and len(cue) > 2 and cue[2] in (Form.COUNT.value,
                                                                  Form.LIST.value):
            return True
        if t.kind not in ("function", "filler", "mark"):
            return False
    return False


def _is_final(core: list[Token], k: int) -> bool:
    """A negation at the end ("交了没", "有啥要报的不") asks; it does not negate."""
    return all(t.kind in ("q", "perf") for t in core[k + 1:])


def _polarity(core: list[Token], k: int) -> str | None:
    """'+' for done (交了, 已交, 交没交, 有没有交), '-' for not done (没交), None for neither
    (要交的, 交啥)."""
    prev = core[k - 1] if k > 0 else None
    if prev is not None and prev.kind == "neg" and not (
            k >= 2 and core[k - 2].kind in ("verb", "ack")):  # 交没交: the second verb
        return "-"
    if prev is not None and (prev.kind == "already" or prev.word == "有没有"):
        return "+"
    if prev is not None and prev.kind == "neg":
        return "+"
    for j in range(k + 1, min(k + 3, len(core))):
        t = core[j]
        if t.kind in ("perf", "q"):
            return "+"
        if t.kind == "neg":
            return "+" if j == k + 1 or _is_final(core, j) else None
        if t.kind not in ("form", "subject", "material"):
            break
    return None


def _subject(subjects: list[str], m: Msg, form: Form | None, states: list[State], *,
             has_task: bool) -> str:
    if form is Form.RANK and set(subjects) <= {"units"}:
        return "flags"  # "排名倒数的是谁": a ranking of units is the flags' ranking
    if subjects:
        return max(subjects, key=lambda s: BY_NAME[s].rank)
    implied = next((s.name for s in SUBJECTS if form is not None and form in s.implied_by), None)
    if implied is not None:
        return implied
    if m.units or m.mine:
        return "tasks"
    if m.kinds or has_task:
        return "units"
    if states and form in (Form.LIST, Form.COUNT):
        return "units"
    return "tasks"


def _follow_up(toks: list[Token], core: list[Token], m: Msg, said_form: bool,
               said_subjects: list[str], asks: bool, has_states: bool) -> bool:
    """A fragment with no verb and no subject of its own after a question: only names, states
    or a colour, marked as elliptic by 那… / 要是… / 换成… or a final 呢 / 嘞 / 咧 ("那开封呢",
    "退回的嘞", "要是看直管县的呢"): the rest comes from the previous question."""
    if said_form or asks or not core:
        return False
    opens = m.skeleton.startswith(_OPENS_FOLLOW_UP) and all(t.kind == "mark" for t in core)
    if not (_elliptic(toks) or opens):
        return False
    if any(s != "flags" for s in said_subjects):
        return False
    stated = ("neg", "verb", "ack") if has_states else ()  # 没交的呢, 没确认的呢
    for t in core:
        if t.kind in ("mark", "state", "colour", "perf", "follow", "already") or t.kind in stated:
            continue
        if t.kind == "subject" and t.cue == ("subject", "flags"):
            continue
        return False
    return has_states or any(t.kind in ("mark", "colour") or t.cue == ("subject", "flags")
                             for t in core)


def _elliptic(toks: list[Token]) -> bool:
    """Starts with 那 / 要是 / 换成…, or ends with a particle like 呢, once fillers are set
    aside."""
    words = [t for t in toks if t.kind != "filler" and t.word not in ("?", "吗")]
    if not words:
        return False
    return words[0].word.startswith("那") or words[-1].kind == "particle" or any(
        t.kind == "follow" for t in words)


def _confidence(core: list[Token], residue: int, m: Msg, content: bool, question: bool,
                said_form: bool, subjects: list[str]) -> float:
    if not content:
        return 0.2
    conf = 0.92
    total = sum(len(t.word) for t in core) or 1
    if residue > 1:
        conf -= 0.15 * (residue - 1)
    if residue and residue / total > 0.34:
        conf = min(conf, 0.45)
    if not (m.has_entities or subjects or said_form or question):
        conf = min(conf, 0.45)
    if not (question or said_form) and residue:
        conf = min(conf, 0.3)  # a statement that mentions our words: talk, not a question
    if m.by_sound:
        conf = min(conf, 0.8)
    return max(conf, 0.1)
