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
_NEUTRAL: Final = frozenset({"filler", "function", "all"})


@dataclass(frozen=True)
class Token:
    word: str
    cue: Cue | None  # None: residue (no cue explains it)

    @property
    def kind(self) -> str:
        return self.cue[0] if self.cue else "residue"


def tokens(skeleton: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    n = len(skeleton)
    while i < n:
        ch = skeleton[i]
        if ch in MARKS:
            out.append(Token(ch, ("mark", ch)))
            i += 1
            continue
        if ch.isdigit():  # "18个地市": a number alone changes nothing asked (#12 is a name)
            j = i
            while j < n and skeleton[j].isdigit():
                j += 1
            out.append(Token(skeleton[i:j], ("function",)))
            i = j
            continue
        for ln in range(min(MAX_CUE, n - i), 0, -1):
            cue = CUES.get(skeleton[i:i + ln])
            if cue is not None:
                out.append(Token(skeleton[i:i + ln], cue))
                i += ln
                break
        else:
            if out and out[-1].cue is None:
                out[-1] = Token(out[-1].word + ch, None)
            else:
                out.append(Token(ch, None))
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


def read(m: Msg) -> Reading:
    toks = tokens(m.skeleton)
    core = [t for t in toks if t.kind not in _NEUTRAL]
    # Words before the first word we know are a preamble ("不好意思打扰下，", "您好"), not
    # part of the question; what no cue explains after it is residue.
    while core and core[0].cue is None:
        core = core[1:]
    residue = sum(len(t.word) for t in core if t.cue is None or t.kind == "noise")
    words = {t.word for t in toks}
    notice_context = (any(t.cue == ("subject", "notices") for t in core)
                      or NOTICE_REF in words)
    states: list[State] = []
    forms: set[Form] = set()
    subjects: list[str] = []
    colour: str | None = None
    question = m.question
    why = False
    due = soon = review = every = False

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
            if len(cue) > 2:
                forms.add(Form(cue[2]))
        elif kind == "form":
            forms.add(Form(cue[1]))
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
            polarity = _polarity(core, k)
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
    if every and not forms:
        forms.add(Form.LIST)  # 所有任务: a list, unless another form was asked ("所有任务情况")
    form = next((f for f in _FORM_ORDER if f in forms), None)
    subject = _subject(subjects, m, form, states, has_task=TASK in words)
    content = bool(states or colour or due or soon or review or any(
        s != "units" for s in subjects) or (form in (Form.DETAIL, Form.WHEN, Form.RANK))
        or TASK in words or NOTICE_REF in words)
    said_form = form is not None
    if form is None:
        form = Form.LIST if subject == "tasks" and (due or soon) else BY_NAME[subject].default_form
        if subject in ("units", "tasks") and (TASK in words or m.units or m.kinds):
            form = Form.DETAIL
    follow_up = _follow_up(core, m, said_form, subjects, due or soon or review)
    d1, d2 = m.dates()
    if subject == "tasks" and soon and d1 is None and d2 is None:
        d1, d2 = m.today, m.today + timedelta(days=7)
    said = set()
    if m.units or m.kinds or m.mine:
        said |= {"unit_ids", "kinds", "mine"}
    if m.tasks:
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
    query = Query(
        subject=None if follow_up else subject, form=None if follow_up else form,
        states=tuple(states), colour=colour, unit_ids=m.units, kinds=m.kinds, mine=m.mine,
        task_ids=m.tasks, date_from=d1, date_to=d2, ref=ref, said=frozenset(said))
    confidence = _confidence(core, residue, m, content, question, said_form, subjects)
    return Reading(query, confidence, content, follow_up, residue, question)


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
        if t.kind not in ("form", "subject"):
            break
    return None


def _subject(subjects: list[str], m: Msg, form: Form | None, states: list[State], *,
             has_task: bool) -> str:
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


def _follow_up(core: list[Token], m: Msg, said_form: bool, subjects: list[str],
               asks: bool) -> bool:
    """Only names, states or a colour, with 那… or …呢 ("那开封呢", "退回的呢", "黄旗呢"): the
    rest comes from the previous question."""
    if said_form or asks or not core:
        return False
    if not _elliptic(m.skeleton):
        return False
    if any(s not in ("flags",) for s in subjects):
        return False
    for t in core:
        if t.kind in ("mark", "state", "colour", "perf", "follow"):
            continue
        if t.kind == "subject" and t.cue == ("subject", "flags"):
            continue
        return False
    return True


def _elliptic(skeleton: str) -> bool:
    """Starts with 那 or ends with 呢 once fillers and trailing particles are set aside."""
    toks = [t for t in tokens(skeleton) if t.kind != "filler" and t.word not in ("?", "吗")]
    words = "".join(t.word for t in toks)
    return words.startswith("那") or words.endswith("呢") or any(t.kind == "follow" for t in toks)


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
