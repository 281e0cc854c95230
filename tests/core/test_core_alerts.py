"""Admin alerts: the first goes out at once, a storm becomes one summary."""

from __future__ import annotations

import asyncio

from bot.core.alerts import AlertCoalescer


async def test_first_alert_at_once_then_one_summary_per_window() -> None:
    sent: list[str] = []
    alerts = AlertCoalescer(sent.append, window_s=0.05, max_lines=3)
    alerts("账号 qq:1 被风控")
    assert sent == ["账号 qq:1 被风控"]
    for i in range(64):
        alerts(f"消息 #{i} 连接中断")
    assert len(sent) == 1  # held until the window ends
    await asyncio.sleep(0.1)
    assert len(sent) == 2
    summary = sent[1]
    assert "另有 64 条" in summary and "消息 #0 连接中断" in summary
    assert "消息 #3 连接中断" not in summary and "其余 61 条" in summary


async def test_quiet_period_lets_the_next_alert_through_at_once() -> None:
    sent: list[str] = []
    alerts = AlertCoalescer(sent.append, window_s=0.02)
    alerts("一")
    await asyncio.sleep(0.04)
    alerts("二")
    assert sent == ["一", "二"]


async def test_flush_sends_what_is_held_and_a_single_held_alert_unchanged() -> None:
    sent: list[str] = []
    alerts = AlertCoalescer(sent.append, window_s=60)
    alerts("一")
    alerts("二")
    alerts.flush()
    assert sent == ["一", "二"]
    alerts.flush()
    assert sent == ["一", "二"]
