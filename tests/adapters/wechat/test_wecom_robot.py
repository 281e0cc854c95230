"""WeComRobot against a fake webhook on 127.0.0.1: splitting, the rate limit, errcodes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest

from bot.adapters.wecom_robot import (
    RobotDisabled,
    RobotRateLimited,
    WeComError,
    WeComRobot,
    robot_id,
    split_by_bytes,
)

from .conftest import FakeWeCom

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


class FakeTime:
    """A monotonic clock that only moves when the robot sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


def robot(session: aiohttp.ClientSession, base: str, ft: FakeTime | None = None,
          **kw: Any) -> WeComRobot:
    ft = ft or FakeTime()
    return WeComRobot(session, api_base=base, now=ft.now, sleep=ft.sleep, **kw)


def test_split_by_bytes_keeps_characters_whole() -> None:
    assert split_by_bytes("a\nb", 2048) == ["a\nb"]
    assert split_by_bytes("", 2048) == []
    assert split_by_bytes("甲乙丙丁", 7) == ["甲乙", "丙丁"]  # 3 bytes each: never 7 = 2⅓ chars
    assert split_by_bytes("一二\n三四\n五", 10) == ["一二", "三四\n五"]
    with pytest.raises(ValueError):
        split_by_bytes("x", 3)


async def test_long_chinese_text_is_split_in_order_with_mentions_first(
        session: aiohttp.ClientSession, fake_wecom: tuple[FakeWeCom, str]) -> None:
    fake, base = fake_wecom
    lines = [f"{i:03d} 郑州市第{i}项任务：三季度调研报告尚未提交，请于本周五前报送。"
             for i in range(120)]
    lines.insert(50, "超长行" * 800)  # one line of 7,200 bytes must be cut between characters
    text = "\n".join(lines)
    assert len(text.encode()) > 10_000
    n = await robot(session, base).send_text(KEY, text, mentioned_list=["zhangsan", "@all"],
                                             mentioned_mobile_list=["13800001111"])
    assert n == len(fake.received) >= 6
    contents = []
    for i, (key, body, _) in enumerate(fake.received):
        assert key == KEY
        assert body["msgtype"] == "text"
        content = body["text"]["content"]
        assert 0 < len(content.encode("utf-8")) <= 2048
        contents.append(content)
        if i == 0:
            assert body["text"]["mentioned_list"] == ["zhangsan", "@all"]
            assert body["text"]["mentioned_mobile_list"] == ["13800001111"]
        else:
            assert set(body["text"]) == {"content"}
    # order kept, nothing lost: joining the parts gives the text back (cuts drop only newlines)
    assert "".join(contents).replace("\n", "") == text.replace("\n", "")
    # whole lines stay whole except the over-long one
    whole = [c for c in contents if "超长行" not in c]
    for c in whole:
        for line in c.split("\n"):
            assert line in lines


async def test_markdown_limit_is_4096(
        session: aiohttp.ClientSession, fake_wecom: tuple[FakeWeCom, str]) -> None:
    fake, base = fake_wecom
    text = "\n".join(f"> **{i}** <font color=\"warning\">逾期</font> 开封市" for i in range(300))
    n = await robot(session, base).send_markdown(KEY, text)
    assert n == len(fake.received) > 1
    for _, body, _ in fake.received:
        assert body["msgtype"] == "markdown"
        assert len(body["markdown"]["content"].encode()) <= 4096
        assert set(body) == {"msgtype", "markdown"}


async def test_21st_message_in_a_minute_waits(
        session: aiohttp.ClientSession, fake_wecom: tuple[FakeWeCom, str]) -> None:
    fake, base = fake_wecom
    ft = FakeTime()
    r = robot(session, base, ft)
    for i in range(20):
        await r.send_text(KEY, f"m{i}")
        ft.t += 1  # one a second
    assert ft.sleeps == []
    await r.send_text(KEY, "m20")
    # the first went at t=1000, now is 1020: wait until 1060
    assert ft.sleeps == [pytest.approx(40.0)]
    assert len(fake.received) == 21
    # another robot is not held back
    await r.send_text("other-key", "x")
    assert len(ft.sleeps) == 1
    # in any 60 s window never more than 20
    await asyncio.gather(*[r.send_text(KEY, f"burst{i}") for i in range(25)])
    assert len(fake.received) == 47
    stamps: list[float] = []
    # re-derive send times from the robot's own window record
    stamps = list(r._sent[KEY])
    for i in range(len(stamps) - 20):
        assert stamps[i + 20] - stamps[i] >= 60


async def test_parts_of_one_text_count_against_the_limit(
        session: aiohttp.ClientSession, fake_wecom: tuple[FakeWeCom, str]) -> None:
    fake, base = fake_wecom
    ft = FakeTime()
    r = robot(session, base, ft, per_minute=3)
    n = await r.send_text(KEY, "\n".join(["字" * 600] * 5))  # 5 parts of 1,800 bytes
    assert n == 5
    assert len(ft.sleeps) == 1
    assert ft.sleeps[0] == pytest.approx(60.0)
    assert [b["text"]["content"] for _, b, _ in fake.received] == ["字" * 600] * 5


async def test_93000_disables_the_robot(
        session: aiohttp.ClientSession, fake_wecom: tuple[FakeWeCom, str],
        caplog: pytest.LogCaptureFixture) -> None:
    fake, base = fake_wecom
    fake.script = [{"errcode": 93000, "errmsg": "invalid webhook url, hint: [x]"}]
    r = robot(session, base)
    with caplog.at_level(logging.DEBUG, logger="dudao.wecom"), \
            pytest.raises(RobotDisabled) as info:
        await r.send_text(KEY, "hello")
    assert info.value.errcode == 93000
    assert info.value.robot == robot_id(KEY)
    assert r.is_disabled(KEY)
    with pytest.raises(RobotDisabled):  # not sent again
        await r.send_text(KEY, "again")
    assert len(fake.received) == 1
    r.enable(KEY)
    await r.send_text(KEY, "fixed")
    assert len(fake.received) == 2
    assert KEY not in caplog.text
    assert KEY not in str(info.value)
    assert robot_id(KEY) in caplog.text


async def test_45009_blocks_for_ten_minutes(
        session: aiohttp.ClientSession, fake_wecom: tuple[FakeWeCom, str]) -> None:
    fake, base = fake_wecom
    fake.script = [{"errcode": 45009, "errmsg": "api freq out of limit"}]
    ft = FakeTime()
    r = robot(session, base, ft)
    with pytest.raises(RobotRateLimited) as info:
        await r.send_text(KEY, "x")
    assert info.value.retry_after == 600
    ft.t += 599
    with pytest.raises(RobotRateLimited) as info:
        await r.send_text(KEY, "y")
    assert info.value.retry_after == pytest.approx(1)
    assert len(fake.received) == 1
    ft.t += 1
    await r.send_text(KEY, "z")
    assert len(fake.received) == 2


async def test_other_errcodes_and_transport_errors(
        session: aiohttp.ClientSession, fake_wecom: tuple[FakeWeCom, str]) -> None:
    fake, base = fake_wecom
    fake.script = [{"errcode": 40008, "errmsg": f"invalid message type, key {KEY}"}]
    r = robot(session, base)
    with pytest.raises(WeComError) as info:
        await r.send_text(KEY, "x")
    assert type(info.value) is WeComError
    assert info.value.errcode == 40008
    assert KEY not in str(info.value)
    dead = robot(session, "http://127.0.0.1:9")
    with pytest.raises(WeComError) as info:
        await dead.send_text(KEY, "x")
    assert KEY not in str(info.value)
    assert info.value.__cause__ is None
    with pytest.raises(ValueError):
        await r.send_text(KEY, "  \n ")
