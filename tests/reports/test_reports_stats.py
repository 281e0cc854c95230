"""The statistics service against a year worked out by hand (and the raw-row count)."""

from __future__ import annotations

import pytest

from bot.services import stats
from tests.reports.conftest import NOW, Seeded, at, expected


def _by_name(rows: list[stats.UnitYearStats]) -> dict[str, stats.UnitYearStats]:
    return {u.name: u for u in rows}


def test_reports_unit_year_stats_by_hand(seeded: Seeded) -> None:
    rows = seeded.tx(lambda c: stats.unit_year_stats(c, seeded.env, 2026))
    u = _by_name(rows)
    # Units with no work, flags or score entries in the year are not listed; the central unit
    # has only an innovation and is.
    assert set(u) == {"郑州市", "开封市", "洛阳市", "省司法厅", "省公安厅", "中央驻豫甲单位"}

    zz = u["郑州市"]
    assert zz.completion == stats.Completion(assigned=5, due=4, submitted=4, on_time=4, late=0,
                                             accepted=3, returned=0, outstanding=1, on_time_due=3)
    assert zz.completion.on_time_rate == 0.75
    assert (zz.flags.red, zz.flags.blue, zz.flags.yellow) == (4, 0, 1)  # 3 tasks + innovation
    assert (zz.score.flag_points, zz.score.bonus, zz.score.deduction, zz.score.total) == (
        11.0, 2.0, 0.0, 13.0)
    assert zz.score.on_time_rate == 0.75

    kf = u["开封市"]
    assert kf.completion == stats.Completion(assigned=4, due=4, submitted=4, on_time=3, late=1,
                                             accepted=3, returned=0, outstanding=0, on_time_due=3)
    assert (kf.flags.red, kf.flags.blue, kf.flags.yellow) == (1, 2, 1)  # yellow: the incident
    assert (kf.score.bonus, kf.score.deduction, kf.score.total) == (0.0, 1.5, 2.5)

    ly = u["洛阳市"]
    assert ly.completion == stats.Completion(assigned=4, due=3, submitted=1, on_time=1, late=0,
                                             accepted=1, returned=0, outstanding=3, on_time_due=1)
    assert (ly.flags.red, ly.flags.blue, ly.flags.yellow) == (1, 1, 2)
    assert ly.score.total == 2.5

    sft = u["省司法厅"]
    assert sft.completion == stats.Completion(assigned=3, due=3, submitted=3, on_time=1, late=2,
                                              accepted=0, returned=1, outstanding=1,
                                              on_time_due=1)
    assert (sft.flags.red, sft.flags.blue, sft.flags.yellow) == (0, 1, 2)

    gat = u["省公安厅"]  # the override counts; last year's innovation does not
    assert (gat.flags.red, gat.flags.blue, gat.flags.yellow) == (0, 1, 2)
    assert (gat.score.bonus, gat.score.total) == (0.0, -1.0)
    assert gat.completion.on_time_rate == 0.0

    central = u["中央驻豫甲单位"]
    assert central.completion == stats.Completion()
    assert central.completion.on_time_rate is None
    assert (central.flags.red, central.score.total) == (1, 4.0)

    # Ranks: equal scores share a rank, the next rank skips.
    assert {n: r.rank for n, r in u.items()} == {
        "郑州市": 1, "中央驻豫甲单位": 2, "开封市": 3, "洛阳市": 3, "省司法厅": 5, "省公安厅": 5}
    # Listed by kind (cities, departments, central units), then code.
    assert [r.name for r in rows] == ["郑州市", "开封市", "洛阳市", "省公安厅", "省司法厅",
                                      "中央驻豫甲单位"]


def test_reports_unit_stats_match_raw_rows(seeded: Seeded) -> None:
    w = seeded.env.settings.scoring
    want = seeded.tx(lambda c: expected(c, 2026, NOW, (w.red, w.blue, w.yellow)))
    got = _by_name(seeded.tx(lambda c: stats.unit_year_stats(c, seeded.env, 2026)))
    names = seeded.unit
    assert {names[n] for n in got} == set(want)
    for name, u in got.items():
        e = want[names[name]]
        c = u.completion
        assert (c.assigned, c.due, c.submitted, c.on_time, c.late, c.accepted, c.returned,
                c.outstanding) == tuple(int(e.get(k, 0)) for k in (
                    "应报任务", "已到期", "已报送", "按时报送", "逾期报送", "已通过", "退回待改", "未完成"))
        assert (u.flags.red, u.flags.blue, u.flags.yellow) == (
            e.get("红旗", 0), e.get("蓝旗", 0), e.get("黄旗", 0))
        assert u.score.total == pytest.approx(e["总分"])
        assert c.on_time_rate == (pytest.approx(e["按时率"]) if e["按时率"] is not None else None)


def test_reports_unit_ids_narrow_to_a_subtree(seeded: Seeded) -> None:
    ids = {seeded.unit["郑州市"], seeded.unit["开封市"]}
    rows = seeded.tx(lambda c: stats.unit_year_stats(c, seeded.env, 2026, unit_ids=ids))
    assert {r.name for r in rows} == {"郑州市", "开封市"}
    assert _by_name(rows)["郑州市"].score.total == 13.0


def test_reports_task_completion(seeded: Seeded) -> None:
    window = stats.year_window(seeded.env, 2026)
    rows = {t.title: t for t in seeded.tx(lambda c: stats.task_completion(c, window, NOW))}
    assert list(rows) == ["年初部署", "一季度报告", "半年自查", "三季度调研", "年底总结"]
    q1 = rows["一季度报告"]
    assert q1.completion == stats.Completion(assigned=5, due=5, submitted=4, on_time=4, late=0,
                                             accepted=3, returned=1, outstanding=2, on_time_due=4)
    assert (q1.flags.red, q1.flags.blue, q1.flags.yellow) == (1, 3, 1)
    end = rows["年底总结"]
    assert (end.completion.assigned, end.completion.due, end.completion.on_time) == (2, 0, 1)
    assert end.completion.on_time_rate is None


def test_reports_half_year_report(seeded: Seeded) -> None:
    h1 = seeded.tx(lambda c: stats.half_year_report(c, seeded.env, 2026, 1))
    assert h1.label == "2026年上半年"
    assert h1.tasks == 3
    assert (h1.completion.assigned, h1.completion.on_time, h1.completion.late) == (13, 7, 2)
    assert [(u.name, u.count) for u in h1.repeated_yellow] == [("洛阳市", 2), ("省公安厅", 2)]
    assert [(u.name, u.count) for u in h1.commended] == [("郑州市", 4)]
    assert [s.unit for s in h1.innovations] == ["郑州市"]
    assert h1.incidents == []

    h2 = seeded.tx(lambda c: stats.half_year_report(c, seeded.env, 2026, 2))
    assert h2.tasks == 2
    assert h2.repeated_yellow == []
    assert {u.name for u in h2.commended} == {"开封市", "洛阳市", "中央驻豫甲单位"}
    assert [(s.unit, s.points) for s in h2.incidents] == [("开封市", -1.5)]
    # The halves add up to the year.
    year = seeded.tx(lambda c: stats.year_stats(c, seeded.env, 2026))
    comp, flags, bonus, deduction = year.unit_totals
    assert h1.completion + h2.completion == comp
    assert h1.flags + h2.flags == flags
    assert sum(s.points for s in h1.innovations + h2.innovations) == bonus
    assert -sum(s.points for s in h1.incidents + h2.incidents) == deduction


def test_reports_windows_are_local_time(seeded: Seeded) -> None:
    w = stats.year_window(seeded.env, 2026)
    assert (w.start, w.end) == (at("2026-01-01 00:00"), at("2027-01-01 00:00"))
    h2 = stats.half_window(seeded.env, 2026, 2)
    assert (h2.start, h2.end, h2.label) == (at("2026-07-01 00:00"), at("2027-01-01 00:00"),
                                            "2026年下半年")
