"""WeChat official-account API errors and what to do about each errcode.

Every outbound call that fails raises :class:`WeChatAPIError`. Its ``decision`` tells the caller
(the outbox, the broadcast job) what to do next. The errcodes and their meanings are WeChat's
(https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html) unless
noted.
"""

from __future__ import annotations

import enum


class Decision(enum.Enum):
    """What the caller should do after an error."""

    RETRY_AFTER_REFRESH = "retry_after_refresh"
    """The access token was rejected: refresh it centrally and retry once (the API does this)."""
    BACK_OFF = "back_off"
    """Transient (system busy, network): retry later with backoff."""
    BINDING_DEAD = "binding_dead"
    """The recipient cannot be reached by this openid any more: mark the binding dead."""
    FALLBACK_CHANNEL = "fallback_channel"
    """This kind of message cannot reach the user now: use another channel (template, group)."""
    QUOTA_EXCEEDED = "quota_exceeded"
    """A quota is used up: stop this kind of call until it resets; tell an admin."""
    ALERT_ADMIN = "alert_admin"
    """Configuration problem (permissions, IP whitelist, app id, secret): tell an admin."""
    FAIL = "fail"
    """An errcode we do not know: do not retry; log it."""


# errcode -> decision. Comments cite the source of each mapping.
ERRCODE_DECISIONS: dict[int, Decision] = {
    # -1 "system busy" -> retry with backoff.
    -1: Decision.BACK_OFF,
    # 40001 "AppSecret wrong, or access_token invalid / not latest"
    # -> refresh the token once (central), then alert.
    40001: Decision.RETRY_AFTER_REFRESH,
    # 40014 "invalid access_token" -> same as 40001.
    40014: Decision.RETRY_AFTER_REFRESH,
    # 42001 "access_token expired" -> same as 40001.
    42001: Decision.RETRY_AFTER_REFRESH,
    # 40003 "invalid openid (not a follower, or another account's openid)"
    # -> mark the binding bad.
    40003: Decision.BINDING_DEAD,
    # 40130 "openid list too short (mass send needs at least 2)"
    # -> pad the list or use another channel.
    40130: Decision.FALLBACK_CHANNEL,
    # 43004 "require subscribe" -> flag the official as unsubscribed.
    43004: Decision.BINDING_DEAD,
    # 45009 "reach max api daily quota limit" -> back off; alert.
    45009: Decision.QUOTA_EXCEEDED,
    # 45015 "response out of time limit or subscription is canceled"
    # (outside the 48-h customer-service window) -> fall back to template / subscription msg.
    45015: Decision.FALLBACK_CHANNEL,
    # 45047 "out of response count limit" (customer-service quota used
    # up). The brief files it under QUOTA_EXCEEDED; the quota is per user, so the caller should
    # also fall back to a template message for that user.
    45047: Decision.QUOTA_EXCEEDED,
    # 48001 "API not authorized for this account type or verification status"
    # -> configuration issue.
    48001: Decision.ALERT_ADMIN,
    # 48006 "clear_quota monthly limit reached" -> nothing to retry; tell an admin.
    48006: Decision.ALERT_ADMIN,
    # 60020 (WeCom) "not allow to access from your ip" -> configure the trusted IP.
    60020: Decision.ALERT_ADMIN,
    # 93000 (WeCom robot) "invalid webhook URL / robot removed" -> disable that
    # robot (bot.adapters.wecom_robot raises RobotDisabled for it).
    93000: Decision.ALERT_ADMIN,
    # A community report: 43101 "user refused" the subscription message
    # -> use another channel.
    43101: Decision.FALLBACK_CHANNEL,
    # Not in the list above: 40164 "invalid ip, not in whitelist"
    # and 40013 "invalid appid" are configuration problems.
    40164: Decision.ALERT_ADMIN,
    40013: Decision.ALERT_ADMIN,
    # Not in the list above: 40125 "invalid appsecret" (stable_token) is a configuration problem.
    40125: Decision.ALERT_ADMIN,
}

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
"""errcodes after which the token is refreshed (once) and the call retried (once)."""

TRANSPORT_ERRCODE = -999
"""Our own errcode for failures before WeChat answered (network, timeout, non-JSON body)."""


def decide(errcode: int) -> Decision:
    if errcode == TRANSPORT_ERRCODE:
        return Decision.BACK_OFF
    return ERRCODE_DECISIONS.get(errcode, Decision.FAIL)


class WeChatAPIError(Exception):
    """A WeChat API call failed with ``errcode``.

    ``api`` names the call (``custom``, ``template``, ``mass``, ``menu``, ``token``); ``local`` is
    True when we refused the call ourselves (a tracked quota said WeChat would refuse it) and
    nothing was sent.
    """

    def __init__(self, errcode: int, errmsg: str, *, api: str = "", local: bool = False,
                 decision: Decision | None = None) -> None:
        super().__init__(f"WeChat API {api or 'call'} failed: errcode={errcode} errmsg={errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.api = api
        self.local = local
        self.decision = decision if decision is not None else decide(errcode)


class WeChatTransportError(WeChatAPIError):
    """The request did not get a WeChat answer (network error, timeout, HTTP error, bad JSON)."""

    def __init__(self, errmsg: str, *, api: str = "") -> None:
        super().__init__(TRANSPORT_ERRCODE, errmsg, api=api, decision=Decision.BACK_OFF)
