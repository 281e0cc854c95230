"""The outbox's view of the OneBot adapter: sending, and which accounts are connected here."""

from __future__ import annotations

from bot.adapters.onebot.adapter import OneBotAdapter
from bot.adapters.onebot.errors import ActionFailed, ActionTimeout, ConnectionLost, NotConnected
from bot.core.adapter import Envelope, SendError


class OneBotSender:
    def __init__(self, adapter: OneBotAdapter, platform: str) -> None:
        self.adapter = adapter
        self.platform = platform

    def available_accounts(self, platform: str) -> list[str]:
        return [sid for sid, acc in self.adapter.accounts().items()
                if acc.connected and acc.platform == platform]

    async def send(self, envelope: Envelope) -> str:
        account = envelope.account
        if not account:
            accounts = self.available_accounts(self.platform)
            if not accounts:
                raise SendError(f"no {self.platform} account connected", unavailable=True)
            account = accounts[0]
        try:
            return await self.adapter.send(account, envelope.message)
        except ConnectionLost as exc:
            raise SendError(str(exc), unconfirmed=True) from exc
        except NotConnected as exc:
            raise SendError(str(exc), unavailable=True) from exc
        except ActionTimeout as exc:
            # A timed-out send may have gone out (go-cqhttp, onebot.md §7.1): treat like risk
            # control rather than resending at once.
            raise SendError(f"timeout: {exc}", risk_control=True) from exc
        except ActionFailed as exc:
            raise SendError(str(exc), risk_control=exc.risk_control) from exc
