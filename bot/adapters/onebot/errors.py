"""Errors raised by the OneBot adapter when it calls an action on an implementation.

The outbox decides from these whether a send may be retried: a ``NotConnected`` send never left
us, an ``ActionTimeout`` may or may not have been delivered, and an ``ActionFailed`` with
``risk_control`` set must not be retried blindly: retrying under QQ risk control makes it worse
(https://github.com/NapNeko/NapCatQQ/issues/788), and go-cqhttp sometimes reports failure for a
message it did deliver (https://github.com/Mrs4s/go-cqhttp/issues/382).
"""

from __future__ import annotations

# NapCat/LLOneBot answer 1200 for any handler error, including the send timeout
# ("NTEvent serviceAndMethod:NodeIKernelMsgService/sendMsg") typical of risk control.
_NAPCAT_HANDLER_ERROR = 1200
# go-cqhttp answers 100 for most failures and names the reason in ``msg``.
_GOCQ_FAILED = 100
_GOCQ_SEND_FAILED = "SEND_MSG_API_ERROR"


class OneBotError(Exception):
    """Base class of everything this adapter raises on purpose."""


class NotConnected(OneBotError):
    """No live socket for the account, or it died before the response came."""


class ConnectionLost(NotConnected):
    """The socket died after the request was written and before its answer came: the
    implementation may have read and executed it (a send may have been posted)."""


class ActionTimeout(OneBotError):
    """The implementation did not answer in time; the action may still have taken effect."""


class ActionFailed(OneBotError):
    """The implementation answered with a status other than ``ok``/``async``."""

    def __init__(self, retcode: int | None, message: str = "", wording: str = "", msg: str = "",
                 *, action: str = "", status: str = "failed") -> None:
        self.retcode = retcode
        self.message = message
        self.wording = wording
        self.msg = msg
        self.action = action
        self.status = status
        detail = message or wording or msg or status
        super().__init__(f"{action or 'action'} failed: retcode={retcode} {detail}")

    @property
    def risk_control(self) -> bool:
        """True when the failure looks like QQ risk control (风控): back off, do not retry.

        go-cqhttp's 100 is also used for plain errors (``GROUP_NOT_FOUND``...); when it names such
        a code we trust it, otherwise a bare 100 is treated as a refused send.
        """
        if self.msg == _GOCQ_SEND_FAILED or self.retcode == _NAPCAT_HANDLER_ERROR:
            return True
        return self.retcode == _GOCQ_FAILED and self.msg in ("", _GOCQ_SEND_FAILED)

    @classmethod
    def from_response(cls, action: str, frame: dict[str, object]) -> ActionFailed:
        raw = frame.get("retcode")
        retcode: int | None
        try:
            retcode = int(raw) if isinstance(raw, int | str) else None
        except ValueError:
            retcode = None

        def text(key: str) -> str:
            value = frame.get(key)
            return value if isinstance(value, str) else ""

        status = frame.get("status")
        return cls(retcode, text("message"), text("wording"), text("msg"), action=action,
                   status=status if isinstance(status, str) else "failed")
