"""A picture sent to the official account is stored and counted as an attachment, like one sent
over QQ: the adapter fetches it by its MediaId (``media/get``) before the dispatcher sees it."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.services import people, tasks
from storage.models import Attachment, Submission
from tests.wechat_e2e.conftest import WeChatBot, reply_content

LIAISON = "oLIAISON_pic_0001"
PICTURE = b"\xff\xd8\xff\xe0" + b"a photo of the signed report" * 200


def image_xml(*, openid: str, msg_id: str, media_id: str, pic_url: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_dudao]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
            f"<PicUrl><![CDATA[{pic_url}]]></PicUrl><MediaId><![CDATA[{media_id}]]></MediaId>"
            f"<MsgId>{msg_id}</MsgId></xml>")


def seed(bot: WeChatBot) -> None:
    now = bot.services.env.clock.now()

    def go(conn: Any) -> None:
        people.add(conn, identity=f"mp:{LIAISON}", unit="郑州市", role="liaison", name="张三",
                   now=now)
        tasks.add(conn, title="三季度调研报告", due=datetime.fromisoformat("2030-09-30T18:00+08:00"),
                  units_spec="郑州市", system="supervision", created_by=None, now=now)

    bot.db.transaction(go)


async def post_image(bot: WeChatBot, msg_id: str, media_id: str, pic_url: str) -> str:
    status, body = await bot.post(image_xml(openid=LIAISON, msg_id=msg_id, media_id=media_id,
                                            pic_url=pic_url), LIAISON)
    assert status == 200, body
    return reply_content(body)


async def test_a_picture_is_stored_and_counted_as_an_attachment(bot: WeChatBot) -> None:
    seed(bot)
    bot.wechat.media["MEDIA-0001"] = PICTURE
    answer = await post_image(bot, "9100001", "MEDIA-0001", "http://127.0.0.1:9/never-used.jpg")
    assert answer == "已收到 #1：郑州市《三季度调研报告》，附件1个"
    assert bot.wechat.media_gets == ["MEDIA-0001"]
    [(name, sha, size, sub_id)] = bot.db.transaction(lambda c: c.execute(
        select(Attachment.name, Attachment.sha256, Attachment.size,
               Attachment.submission_id)).all())
    assert (name, sha, size) == ("图片.jpg", hashlib.sha256(PICTURE).hexdigest(), len(PICTURE))
    assert bot.db.transaction(lambda c: c.execute(select(Submission.id)).scalars().all()) == [
        sub_id]
    assert bot.services.files.open_path(sha) is not None


async def test_a_picture_that_cannot_be_fetched_is_asked_for_again(bot: WeChatBot) -> None:
    seed(bot)
    # WeChat no longer has it, and its PicUrl points at our own machine: refused, not fetched.
    answer = await post_image(bot, "9100002", "MEDIA-GONE", "http://127.0.0.1:9/p.jpg")
    assert answer == "附件“图片.jpg”没能下载下来，请重新发送"
    assert bot.db.transaction(lambda c: c.execute(select(Submission.id)).all()) == []
