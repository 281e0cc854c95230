"""A question read as a query: what it is about (subject), which records (filters), which answer.

"郑州交了没" and "哪几家报了月报" are the same kind of thing: a subject (the unit's tasks; units),
filters (unit 郑州市; task 月报; state 交了) and an answer form (yes/no; a list). The parser reads
every question into a :class:`Query`; the query service answers any combination from the
database; a handler renders it. A new state, colour or form therefore works for every subject.

Subjects are data: see :mod:`bot.core.nlu.subjects` for the registry and how to add one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from enum import StrEnum
from typing import Any


class Form(StrEnum):
    """The shape of the answer asked for."""

    LIST = "list"  # 哪些 / 谁 / 都有啥
    COUNT = "count"  # 几家 / 多少
    YESNO = "yesno"  # 交了没 / 有没有 / 吗
    WHEN = "when"  # 什么时候截止 / 还剩几天
    DETAIL = "detail"  # 进度 / 情况怎么样
    RANK = "rank"  # 排名 / 红旗榜 / 谁最多


class State(StrEnum):
    """A state of a (task, unit) assignment, a submission or a notice's acknowledgement."""

    OWED = "owed"  # 没交 (not submitted, or returned and not submitted again)
    SUBMITTED = "submitted"  # 交了 (received or accepted)
    OVERDUE = "overdue"  # 逾期 (owed past the deadline)
    RETURNED = "returned"  # 退回
    ACCEPTED = "accepted"  # 通过
    PENDING = "pending"  # 待审 (received, not reviewed yet)
    ACKED = "acked"  # 确认了 / 回复收到
    NOT_ACKED = "not_acked"  # 没确认
    # The programme's records (issue 16): a case 入选; a rectification item open / closed (销号).
    SELECTED = "selected"  # 入选 (a case)
    OPEN = "open"  # 没完成 / 未整改 (a rectification item not closed)
    CLOSED = "closed"  # 完成 / 到位 / 销号 (a rectification item)


COLOURS = ("red", "blue", "yellow")


@dataclass(frozen=True)
class Query:
    """A question as filters over one subject. Empty filters mean "not said"."""

    subject: str | None = None  # a registered subject's name; None: not said (a follow-up)
    form: Form | None = None
    states: tuple[State, ...] = ()
    colour: str | None = None  # red | blue | yellow
    unit_ids: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()  # unit kinds: city, county, department, central
    mine: bool = False  # 我们 / 本单位 / 咱
    task_ids: tuple[int, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    ref: str = ""  # a notice or submission named by words or number ("防汛通知", "#5")
    # Which fields the message itself said (a follow-up inherits the others).
    said: frozenset[str] = field(default=frozenset(), compare=False)

    def follow(self, previous: Query) -> Query:
        """This follow-up ("那开封呢", "退回的呢") completed from the previous question."""
        changes = {f.name: getattr(self, f.name) for f in fields(self)
                   if f.name in self.said and f.name != "said"}
        # Naming units replaces the previous units, kinds and "mine" together (and vice versa).
        if {"unit_ids", "kinds", "mine"} & self.said:
            for name in ("unit_ids", "kinds", "mine"):
                changes.setdefault(name, getattr(self, name))
        if {"date_from", "date_to"} & self.said:
            changes.setdefault("date_from", self.date_from)
            changes.setdefault("date_to", self.date_to)
        return replace(previous, **changes, said=previous.said | self.said)


QUERY_FIELDS = tuple(f.name for f in fields(Query) if f.name != "said")


def to_json(q: Query) -> dict[str, Any]:
    """A query as plain JSON values (for the conversation store)."""
    return {
        "subject": q.subject, "form": q.form.value if q.form else None,
        "states": [s.value for s in q.states], "colour": q.colour,
        "unit_ids": list(q.unit_ids), "kinds": list(q.kinds), "mine": q.mine,
        "task_ids": list(q.task_ids),
        "date_from": q.date_from.isoformat() if q.date_from else None,
        "date_to": q.date_to.isoformat() if q.date_to else None,
        "ref": q.ref, "said": sorted(q.said),
    }


def from_json(d: Mapping[str, Any]) -> Query:
    """The inverse of :func:`to_json`; unknown states or forms (an older build) are dropped."""
    states = tuple(State(s) for s in d.get("states", ()) if s in State.__members__.values())
    form = d.get("form")
    return Query(
        subject=d.get("subject"),
        form=Form(str(form)) if form in Form.__members__.values() else None,
        states=states, colour=d.get("colour"), unit_ids=tuple(int(u) for u in d.get("unit_ids", ())),
        kinds=tuple(str(k) for k in d.get("kinds", ())), mine=bool(d.get("mine")),
        task_ids=tuple(int(t) for t in d.get("task_ids", ())),
        date_from=date.fromisoformat(d["date_from"]) if d.get("date_from") else None,
        date_to=date.fromisoformat(d["date_to"]) if d.get("date_to") else None,
        ref=str(d.get("ref", "")), said=frozenset(d.get("said", ())))
