"""Things an admin or a liaison asks the bot to *do*, in commands or free form: publish a task,
send a notice, urge units, review a submission, record a flag event, draft or publish a
bulletin, post a dynamic, bind, submit, acknowledge. Each reader takes the position after the
words that named the action and returns the :class:`Parse` with its slots."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from bot.domain.text import compact

from .frame import Query, State
from .message import Msg
from .model import Intent, Parse
from .slots import SEPS, Slots, strip_seps
from .timeexpr import TimeSpan, find_clock, find_time


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


ID_RE: Final = re.compile(r"#\s*(\d+)|编号\s*(\d+)|第\s*(\d+)\s*号|(?<![\d.月/])(\d+)\s*号(?!前|之前)")
RATING_RE: Final = re.compile(r"(优秀|良好|一般|合格|优|良)")
RATING: Final = {"优秀": "优", "优": "优", "良好": "良", "良": "良", "一般": "一般", "合格": "一般"}
RETURN_WORDS: Final = re.compile(
    r"退回|打回去|打回|驳回|不通过|不合格|退了|重新提交|重报|重交|退给")
ACCEPT_WORDS: Final = re.compile(r"通过|合格|同意|没问题|可以|评为|评优|评良|给个?[优良]|验收")
_CODE_RE: Final = re.compile(r"(?<![a-z0-9])[a-z0-9]{4,16}(?![a-z0-9])")
_HAN_NAME: Final = re.compile(r"[\u4e00-\u9fff]{2,12}")
# Verbs between a deadline and the scope: "月底前交，所有地市", "15号前报"
_HAND_IN: Final = re.compile(r"(提交|上报|报送|交齐|报齐|完成|交|报)+")
# Characters around a time word that make it a deadline, not part of a title.
_DEADLINE_BEFORE: Final = frozenset("止至于在到前")
_DEADLINE_AFTER: Final = frozenset("前交报截止之以为内完底")
_FLAG_NOUNS: Final = ("举措", "做法", "经验", "加分", "亮点", "记一下", "记下来", "记下", "记上",
                      "记录一下", "记一笔")
_FILLER_TAIL: Final = re.compile(r"[\s,，。!！]*(一下|吧|啊|呀|哈)+[\s,，。!！]*$")


# A verdict said before 退回: not part of the reason.
_VERDICT: Final = re.compile(r"[\s,，]*(不行|不合格|不通过|不可以|有问题|不对|不达标|不符合要求)[\s,，]*")
# Quotation marks around a whole title ("「行政处罚裁量基准执行情况」"): not part of it.
_QUOTES: Final = re.compile(r"^[「『“\"《【]|[」』”\"》】]$")


@dataclass(frozen=True)
class Actions:
    slots: Slots
    tz: ZoneInfo
    no_such_unit: Callable[[str], str]

    # -- bind -------------------------------------------------------------------------------

    def bind(self, m: Msg, rest: int, conf: float, canonical: bool) -> Parse:
        code = ""
        units = self.slots.units_from(m, rest)
        for h in _CODE_RE.finditer(m.norm, rest):
            word = h.group(0)
            if word.isdigit() and len(word) < 4:
                continue
            code = m.raw[h.start():h.end()]
            break
        clash = self._longer_name(m, rest)
        if clash:  # "绑定 郑州县": 郑州 is known, 郑州县 is not
            return Parse(Intent.BIND, 0.6, canonical, body=code, unknown_name=clash,
                         clarify=self.no_such_unit(clash))
        if not units:
            name = self._unknown_name(m, rest)
            if name:
                return Parse(Intent.BIND, 0.6, canonical, body=code, unknown_name=name,
                             clarify=self.no_such_unit(name))
            return Parse(Intent.BIND, 0.6 if canonical else 0.5, canonical, body=code,
                         clarify="请说明要绑定的单位，例如：绑定 郑州市 邀请码")
        conf = min(conf, 0.8) if m.by_sound else conf
        return Parse(Intent.BIND, conf, canonical, unit_ids=units, body=code)

    @staticmethod
    def _longer_name(m: Msg, rest: int) -> str:
        """A unit's name followed by a place suffix it does not have ("郑州县", "开封区")."""
        for s in m.spans:
            if s.mark == "U" and s.start >= rest:
                nxt = m.norm[s.end:s.end + 1]
                if nxt and nxt in "市县区厅局" and (s.end + 1 >= len(m.norm)
                                                 or not "\u4e00" <= m.norm[s.end + 1] <= "\u9fff"):
                    return m.norm[s.start:s.end + 1]
                return ""
        return ""

    def _unknown_name(self, m: Msg, rest: int) -> str:
        """The Chinese words after 绑定 that name no unit ("火星市"), or the X of "我是X的联络员"
        when it looks like a place ("我是新来的联络员" names none)."""
        who = re.search(r"我是(.{1,12}?)的?联络员", m.norm)
        if who is not None:
            word = who.group(1)
            return word if re.search(r"(示范区|市|县|区|厅|局)$", word) else ""
        tail = re.sub(r"^(到|单位|为|成)[:：]?", "", strip_seps(m.norm[rest:]))
        h = _HAN_NAME.match(tail)
        if h is None:
            return ""
        word = h.group(0)
        return "" if word in ("邀请码", "单位", "一下", "我") else word

    # -- submit -----------------------------------------------------------------------------

    def submit(self, m: Msg, rest: int, conf: float, canonical: bool) -> Parse:
        tasks = self.slots.tasks_from(m, rest)
        body_start = self.slots.task_phrase_end(m, rest) if tasks else rest
        if tasks and body_start == rest:
            body_start = self._leading_title(m, rest, tasks)
        return Parse(Intent.SUBMIT, conf, canonical, task_ids=tasks, body=self.slots.body(m, body_start))

    def _leading_title(self, m: Msg, rest: int, tasks: tuple[int, ...]) -> int:
        """"提交 自查报告 我局涉企检查自查情况": the first word names the task (the body names it
        too, and the body's mention was the one kept); the body starts after it."""
        h = re.match(r"[\s:：,，]*([^\s:：,，]{2,12})[\s:：,，]+", m.norm[rest:])
        if h is None:
            return rest
        word = h.group(1)
        lex = self.slots.lex
        named = {i for t in lex.task_mentions(word, []) + lex.document_mentions(word, [])
                 for i in t.ids}
        return rest + h.end() if named & set(tasks) else rest

    # -- publish ----------------------------------------------------------------------------

    def publish(self, m: Msg, rest: int, conf: float, canonical: bool,
                scope_before: tuple[str | None, tuple[int, ...]] = (None, ())) -> Parse:
        norm = m.norm
        sl = self.slots
        scope, ids, after_scope = sl.scope_at(m, rest, kinds=True)
        if scope is not None and ids:  # a title may begin with a unit name: only kinds lead
            scope, ids, after_scope = None, (), rest
        if scope is None and scope_before[0] is not None:
            scope, ids = scope_before
        title_start = after_scope
        while title_start < len(norm) and norm[title_start] in SEPS:
            title_start += 1
        span = self._deadline_span(m, title_start)
        deadline: datetime | None = None
        title_end = len(norm)
        unknown = ""
        if span is not None and (span.end or span.start) is not None:
            a, b = span.span
            a += title_start
            b += title_start
            day = span.end or span.start
            assert day is not None
            hh, mm = 18, 0
            clock = find_clock(norm[b:])
            if clock is not None:
                hh, mm, ln = clock
                b += ln
            deadline = datetime.combine(day, time(hh, mm), tzinfo=self.tz)
            pre = norm[title_start:a]
            cut = re.search(r"[\s,，、;；]*(截止(时间|日期)?|截至|到期|期限|deadline|完成时间|时间|于|在|要求)?"
                            r"[\s:：]*$", pre)
            title_end = title_start + (cut.start() if cut else len(pre))
            tail = b
            while tail < len(norm):
                if norm[tail] in SEPS or norm[tail] in "前之以止":
                    tail += 1
                    continue
                verb = _HAND_IN.match(norm, tail)
                if verb is not None:
                    tail = verb.end()
                    continue
                if norm.startswith(("截止", "为止"), tail):
                    tail += 2
                    continue
                break
            if scope is None:
                s2, ids2, _ = sl.scope_at(m, tail)
                if s2 is not None:
                    scope, ids = s2, ids2
                else:
                    rng = re.search(r"范围[:：]?\s*", norm[tail:])
                    if rng:
                        scope, ids, _ = sl.scope_at(m, tail + rng.end())
                    leftover = strip_seps(m.raw[tail + (rng.end() if rng else 0):])
                    if scope is None and _HAN_NAME.match(leftover):
                        unknown = leftover  # "截止 9月30日 火星市": a scope nobody knows
        else:
            rng = re.search(r"[\s,，]*范围[:：]?\s*", norm[title_start:])
            if rng:
                title_end = title_start + rng.start()
                scope, ids, _ = sl.scope_at(m, title_start + rng.end())
        title = _QUOTES.sub("", sl.body(m, title_start, title_end).rstrip(SEPS))
        if unknown:
            return Parse(Intent.PUBLISH_TASK, 0.6, canonical, body=title, deadline=deadline,
                         unknown_name=unknown, clarify=self.no_such_unit(unknown))
        if deadline is None:
            return Parse(Intent.PUBLISH_TASK, 0.7, canonical, unit_ids=ids, scope=scope, body=title,
                         clarify="请注明截止时间，例如：发布任务 三季度调研报告 截止 9月30日 各地市")
        return Parse(Intent.PUBLISH_TASK, conf, canonical, unit_ids=ids, deadline=deadline,
                     scope=scope, body=title)

    def _deadline_span(self, m: Msg, start: int) -> TimeSpan | None:
        """The deadline among the time words after ``start``: not one inside the title
        ("上半年工作总结补充材料，今年上半年报": the second)."""
        norm = m.norm
        pos = start
        while pos < len(norm):
            span = find_time(norm[pos:], m.today, self.slots.is_workday, future=True)
            if span is None:
                return None
            a, b = span.span
            before = norm[pos + a - 1] if pos + a > start else ""
            after = norm[pos + b:pos + b + 1]
            inside = (not before or (_is_han(before) and before not in _DEADLINE_BEFORE)) and \
                _is_han(after) and after not in _DEADLINE_AFTER
            if not inside:
                return TimeSpan(span.start, span.end, (pos + a - start, pos + b - start))
            pos += b
        return None

    # -- review -----------------------------------------------------------------------------

    def review(self, m: Msg, intent: Intent, rest: int, canonical: bool) -> Parse:
        norm = m.norm
        sid: int | None = None
        after = rest
        h = re.match(r"[\s,，:：]*(?:#\s*|编号\s*|第\s*)?(\d+)\s*号?", norm[rest:]) if canonical else None
        if h is None:
            h2 = ID_RE.search(norm)
            if h2 is not None:
                sid = int(next(g for g in h2.groups() if g))
                after = max(h2.end(), rest)
        else:
            sid = int(h.group(1))
            after = rest + h.end()
        rating: str | None = None
        body_start = after
        if intent is Intent.ACCEPT:
            seg = norm[after:]
            r = re.match(r"[\s,，:：]*(?:通过)?[\s,，]*(?:评为|评级|评|等级|给个|给)?[\s:：]*(优秀|良好|一般|合格|优|良)",
                         seg)
            if r is None:
                r2 = RATING_RE.search(m.c)
                rating = RATING[r2.group(1)] if r2 else None
            else:
                rating = RATING[r.group(1)]
                body_start = after + r.end()
        else:
            # a verdict before the verb ("#70 不行 退回 …", "#52 不合格 退回 …") is no reason
            verdict = _VERDICT.match(norm, after)
            lead = verdict.end() if verdict is not None else after
            rw = RETURN_WORDS.search(norm, lead)
            if rw is None or rw.start() - lead > 3:  # the verdict was the verb: "#20 不通过，…"
                lead = after
                rw = RETURN_WORDS.search(norm, lead)
            if rw is not None and rw.start() - lead <= 3:
                body_start = rw.end()
            rr = re.match(r"[\s,，:：]*(原因|理由)[\s:：]*", norm[body_start:])
            if rr:
                body_start += rr.end()
        body = self.slots.body(m, body_start)
        if intent is Intent.ACCEPT and not canonical:
            body = ""
        if sid is None:
            return Parse(intent, 0.5, canonical, rating=rating, body=body,
                         clarify="请注明提交编号，例如：通过 #12 优 或 退回 #12 原因")
        return Parse(intent, 0.97 if canonical else 0.9, canonical, submission_id=sid,
                     rating=rating, body=body)

    # -- notices ----------------------------------------------------------------------------

    def notice(self, m: Msg, rest: int, conf: float, canonical: bool) -> Parse:
        scope, ids, end = self.slots.scope_at(m, rest)
        return Parse(Intent.NOTICE, conf, canonical, unit_ids=ids, scope=scope,
                     body=self.slots.body(m, end))

    def natural_notice(self, m: Msg, start: int, end: int) -> Parse:
        norm = m.norm
        scope: str | None = None
        ids: tuple[int, ...] = ()
        g = re.search(r"(给|向|对|跟)\s*", norm[:start])
        if g is not None:
            scope, ids, _ = self.slots.scope_at(m, g.end())
        body_start = end
        if scope is None:
            to = re.match(r"\s*(给|到)?\s*", norm[end:])
            pos = end + (to.end() if to else 0)
            s2, ids2, e2 = self.slots.scope_at(m, pos)
            if s2 is not None:
                scope, ids, body_start = s2, ids2, e2
        colon = re.search(r"[:：]", norm[body_start:])
        if colon is not None and colon.start() <= 8:
            body_start += colon.end()
        return Parse(Intent.NOTICE, 0.8, False, unit_ids=ids, scope=scope,
                     body=self.slots.body(m, body_start))

    # -- urging -----------------------------------------------------------------------------

    def remind(self, m: Msg, conf: float, canonical: bool) -> Parse:
        """催一下没交的 / 提醒还没确认通知的单位: which units to urge, as a query."""
        acks = re.search(r"确认|回复|回执|收到|签收|回(?!来)|通知", m.c) is not None and not m.tasks
        ref = "notice" if acks else "task"
        query = Query(subject="units", form=None,
                      states=(State.NOT_ACKED if acks else State.OWED,),
                      unit_ids=m.units, kinds=m.kinds, task_ids=() if acks else m.tasks,
                      ref=m.notice_ref if acks else "")
        return Parse(Intent.REMIND, conf, canonical, unit_ids=m.units, task_ids=query.task_ids,
                     query=query, ref=ref)

    # -- flag events ------------------------------------------------------------------------

    def flag_event(self, m: Msg, intent: Intent, rest: int, conf: float, canonical: bool) -> Parse:
        i = rest
        r = re.match(r"\s*(举措|做法|加分)", m.norm[i:]) if intent is Intent.INNOVATION else None
        if r:
            i += r.end()
        while i < len(m.norm) and m.norm[i] in SEPS:
            i += 1
        _, ids, end = self.slots.scope_at(m, i, kinds=False)
        if not ids:
            ids = self.slots.units_from(m, i)
            end = i
        if not ids:
            return Parse(intent, 0.6, canonical, body=self.slots.body(m, i),
                         clarify="请注明单位，例如：创新 郑州市 说明 或 通报批评 郑州市 说明")
        return Parse(intent, conf, canonical, unit_ids=ids, body=self.slots.body(m, end))

    def natural_flag_event(self, m: Msg, intent: Intent, rx: re.Pattern[str]) -> Parse:
        """"给长垣记一个创新举措：…", "通报批评一下新乡 粗暴执法…": the unit before or after the
        verb phrase; the body after the verb phrase, its nouns, the unit and a colon."""
        from .requests import skip_lead

        norm = m.norm
        kw = re.search("通报批评", norm) if intent is Intent.INCIDENT else None
        if kw is None:
            kw = rx.search(norm)
        assert kw is not None
        nouns = _FLAG_NOUNS if intent is Intent.INNOVATION else ()
        after = skip_lead(norm, kw.end(), nouns)
        if norm.startswith("下", after) and any(s.start == after + 1 and s.mark == "U"
                                               for s in m.spans):
            after += 1  # "通报批评下周口": the verb's 下, then the unit
        _, _, after = self.slots.scope_at(m, after, kinds=False)
        after = skip_lead(norm, after, nouns)
        if compact(_FILLER_TAIL.sub("", norm[after:])):
            body = self.slots.body(m, after)
        else:
            lead = re.match(r"\s*(给|对|将|把)?\s*", norm)
            start = lead.end() if lead else 0
            _, _, start = self.slots.scope_at(m, start, kinds=False)
            body = self.slots.body(m, start, kw.start()).rstrip(SEPS)
        return Parse(intent, 0.8, False, unit_ids=m.units, body=body)
