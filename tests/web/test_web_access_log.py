"""What the access log makes of request targets and Referers (bot/web/access_log.py); the real
server's log is checked end to end in tests/cli/test_cli_access_log.py."""

from __future__ import annotations

import pytest

from bot.web.access_log import redact_target, redact_url


@pytest.mark.parametrize(("target", "logged"), [
    ("/v/12.1790000000.AbC_d-e", "/v/***"),
    ("/%76/12.1790000000.AbC", "/v/***"),  # percent-encoded: routed the same, logged the same
    ("/x/v/12.1.abc", "/x/v/***"),
    ("http://dudao.example/v/1.2.mac?access_token=t", "http://dudao.example/v/***?access_token=***"),
    ("/onebot/v11/ws?access_token=s3cret", "/onebot/v11/ws?access_token=***"),
    ("/wechat/mp?signature=abc&timestamp=17&nonce=n&openid=o&echostr=e",
     "/wechat/mp?signature=***&timestamp=17&nonce=***&openid=***&echostr=***"),
    ("/?kind=city&system=guidance&period=2026H1", "/?kind=city&system=guidance&period=2026H1"),
    ("/units/2?msg=%E5%8F%AA%E8%AF%BB%E9%93%BE%E6%8E%A5%EF%BC%9A%2Fv%2F2.1.m", "/units/2?msg=***"),
    ("/audit?before=1%0AFAKE LINE", "/audit?before=1%0AFAKE%20LINE"),  # no forged log lines
    ("/a%0Ab/v/x", "/a%0Ab/v/***"),
    ("/api/v1/board?new_secret_param=x", "/api/v1/board?new_secret_param=***"),  # safe default
    ("/x?%00weird=1", "/x?***=***"),
    ("/healthz", "/healthz"),
    ("/d/3.1790000000.mac", "/d/***"),  # a document's download link
    ("/%64/3.1790000000.mac", "/d/***"),
    ("/documents/3/file", "/documents/3/file"),
    ("*", "***"),
])
def test_web_access_log_redacts_targets(target: str, logged: str) -> None:
    assert redact_target(target) == logged


def test_web_access_log_redacts_referers() -> None:
    assert redact_url("https://dudao.example.cn/v/3.1790000000.mac") == \
        "https://dudao.example.cn/v/***"
    assert redact_url("http://127.0.0.1:8080/units/3?msg=x&kind=city") == \
        "http://127.0.0.1:8080/units/3?msg=***&kind=city"
    assert redact_url("-") == "-" and redact_url("") == "-" and redact_url("garbage") == "***"
