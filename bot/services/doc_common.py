"""What the official documents say alike: the completion and flag sentences, the per-unit table,
the lists of late assignments and returns, the parts every document has (issuer, 版记).

Every figure comes from ``bot/services/stats.py`` (the board's and the export's counting); the
sentences only word them. Figures are written without spaces ("黄旗3面"), as in print.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from bot.core.env import ServiceEnv
from bot.domain.gongwen import Table, cn_month_day, lateness
from bot.services.stats import (
    Completion,
    FlagCounts,
    LateAssignment,
    ReturnedVersion,
    ScoreLine,
    UnitCount,
    UnitYearStats,
)
from bot.services.units import KIND_NAMES

UNIT_TABLE_COLUMNS = ("单位", "应报", "到期", "按时", "逾期", "未完成", "按时率", "红旗", "蓝旗",
                      "黄旗", "得分")
UNIT_TABLE_WIDTHS = (3.0, 0.9, 0.9, 0.9, 0.9, 1.1, 1.5, 0.9, 0.9, 0.9, 1.0)
UNIT_TABLE_NOTE = ("应报：截止时间在统计范围内的单位任务数；到期：其中截止时间已过的；按时、逾期：首次报送在截止时间"
                   "之前、之后的；未完成：未报送或被退回尚未重新报送的；按时率＝到期任务中按时报送的÷到期；"
                   "得分按旗帜计分并计入加减分。")
TOTAL_LABEL = "合计"


def today(env: ServiceEnv, now: datetime) -> date:
    return env.local(now).date()


def md(env: ServiceEnv, moment: datetime) -> str:
    """7月15日 (local)."""
    return cn_month_day(env.local(moment).date())


def rate(r: float | None) -> str:
    """An on-time rate as printed: 87.5%; — before any deadline."""
    return "—" if r is None else f"{r * 100:.1f}%"


def points(p: float) -> str:
    return f"{abs(p):g}"


TOP = 10  # units named in a summary sentence


def named(units: Sequence[UnitCount], unit: str, top: int = TOP) -> str:
    """郑州市（红旗3面）、… 等N个单位: the first ``top`` of a list, then how many in all."""
    shown = counted(units[:top], unit)
    return shown + (f"等{len(units)}个单位" if len(units) > top else "")


def units_by_count(items: Iterable[LateAssignment]) -> list[UnitCount]:
    """Units by how many of ``items`` they have, most first."""
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for a in items:
        counts[a.unit_id, a.unit] += 1
    return sorted((UnitCount(uid, name, n) for (uid, name), n in counts.items()),
                  key=lambda u: (-u.count, u.name))


def counted(units: Sequence[UnitCount], unit: str) -> str:
    """郑州市（红旗3面）、洛阳市（红旗1面）."""
    return "、".join(f"{u.name}（{unit}{u.count}面）" for u in units)


def completion_sentence(c: Completion, tasks: int) -> str:
    """The completion figures of ``stats`` in one sentence; ``not_submitted`` (passed deadline,
    nothing in) is ``due − on time − late``: a late first version is always past its deadline."""
    not_in = c.due - c.on_time_due - c.late
    return (f"共部署督导任务{tasks}项，涉及各单位任务{c.assigned}项，其中已到截止时间{c.due}项。"
            f"各单位已报送{c.submitted}项，其中按时报送{c.on_time}项、逾期报送{c.late}项；"
            f"已到截止时间仍未报送{not_in}项；审核通过{c.accepted}项，退回待修改{c.returned}项；"
            f"按时报送率{rate(c.on_time_rate)}。")


def flags_sentence(f: FlagCounts) -> str:
    return f"督导平台共标注红旗{f.red}面、蓝旗{f.blue}面、黄旗{f.yellow}面。"


def score_lines(lines: Sequence[ScoreLine], env: ServiceEnv, *, bonus: bool) -> list[str]:
    """郑州市：首创“执法体检”（5月10日，加2分）; 开封市（趋利执法）：违规罚款（…，扣1.5分）.

    A score entry's reason starts with its kind (创新举措：…, 趋利执法：…, bot.domain.flags):
    the kind of an innovation is the section's heading already; an incident's is kept."""
    out = []
    for x in lines:
        label, sep, text = x.reason.partition("：")
        if not sep:
            label, text = "", x.reason
        head = x.unit if bonus or not label else f"{x.unit}（{label}）"
        verb = "加" if bonus else "扣"
        out.append(f"{head}：{text.strip().rstrip('。')}（{md(env, x.at)}，{verb}"
                   f"{points(x.points)}分）")
    return out


def late_text(env: ServiceEnv, a: LateAssignment, now: datetime) -> str:
    """《一季度报告》（3月31日截止）逾期2天5小时报送 / 至今未报送，已逾期12天."""
    head = f"《{a.title}》（{md(env, a.due)}截止）"
    if a.first_at is not None:
        return f"{head}逾期{lateness(a.late_by(now))}报送"
    return f"{head}至{md(env, now)}仍未报送，已逾期{lateness(a.late_by(now))}"


def return_text(env: ServiceEnv, r: ReturnedVersion) -> str:
    """《一季度报告》第1版（3月28日报送）被退回，原因：缺少盖章."""
    reason = r.reason.strip().rstrip("。") or "未说明"
    return (f"《{r.title}》第{r.version}版（{md(env, r.submitted_at)}报送）被退回，"
            f"原因：{reason}")


def by_unit(env: ServiceEnv, late: Sequence[LateAssignment], returns: Sequence[ReturnedVersion],
            now: datetime) -> list[tuple[str, list[str]]]:
    """Per unit (in the order first met), its late assignments then its returns, as phrases."""
    out: dict[str, list[str]] = defaultdict(list)
    for a in late:
        out[a.unit].append(late_text(env, a, now))
    for r in returns:
        out[r.unit].append(return_text(env, r))
    return list(out.items())


def unit_table(units: Sequence[UnitYearStats]) -> Table:
    """The per-unit figures of a period (stats.unit_stats), with a total line."""
    rows = []
    for u in units:
        c, f = u.completion, u.flags
        rows.append((u.name, str(c.assigned), str(c.due), str(c.on_time), str(c.late),
                     str(c.outstanding), rate(c.on_time_rate), str(f.red), str(f.blue),
                     str(f.yellow), f"{u.score.total:g}"))
    c = sum((u.completion for u in units), start=Completion())
    f = sum((u.flags for u in units), start=FlagCounts())
    rows.append((TOTAL_LABEL, str(c.assigned), str(c.due), str(c.on_time), str(c.late),
                 str(c.outstanding), rate(c.on_time_rate), str(f.red), str(f.blue),
                 str(f.yellow), ""))
    return Table(UNIT_TABLE_COLUMNS, tuple(rows), UNIT_TABLE_WIDTHS, total=True)


def kind_summary(units: Sequence[UnitYearStats]) -> list[str]:
    """On-time rate per kind of unit (地市、省直部门…), in the order of the tables."""
    by_kind: dict[str, Completion] = defaultdict(Completion)
    for u in units:
        by_kind[u.kind] += u.completion
    return [f"{KIND_NAMES.get(k, k)}按时报送率{rate(c.on_time_rate)}"
            for k, c in by_kind.items() if c.due]


def two_line_title(subject: str, kind: str) -> str:
    """A title split by meaning when it would not fit one line of 2号 characters (20 a line):
    the subject, then what the document is (…的通报)."""
    full = subject + kind
    return full if len(full) <= 20 else f"{subject}\n{kind}"
