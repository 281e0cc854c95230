"""Our own asyncio client for the official-account API (wechatpy's client is synchronous and
retries token errors without bound).

- Access tokens come from ``POST /cgi-bin/stable_token`` through an :class:`AccessTokenManager`
  over a shared :class:`TokenStore` (one refresh at a time across processes), refreshed
  ``refresh_ahead_s`` before expiry.
- A call answered with 40001/40014/42001 is retried exactly once, with a token refreshed under
  the store's lock (or the one another process just stored).
- Every failure raises :class:`WeChatAPIError` whose ``decision`` says what to do next.
- With a :class:`QuotaTracker`, calls WeChat would refuse (a closed customer-service window, a
  day's or month's quota used up) are refused locally with the errcode WeChat would have given
  (``local=True``). A quota is reserved *before* the call (atomically, in the database in the
  service), so processes sending at once never go over it together.

Tokens and the app secret never appear in logs or exception messages (aiohttp errors, whose text
contains the URL with the token, are reduced to their type name).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from bot.adapters.wechat_mp.errors import (
    TOKEN_ERRCODES,
    Decision,
    WeChatAPIError,
    WeChatTransportError,
    decide,
)
from bot.adapters.wechat_mp.quota import QuotaTracker
from bot.adapters.wechat_mp.tokens import AccessTokenManager
from bot.adapters.wechat_mp.util import mask
from bot.core.blobs import BlobWriter, NewBlob
from bot.core.event import StoredFile
from bot.core.ports import CachedToken, TokenStore

log = logging.getLogger("dudao.wechat_mp")

DEFAULT_API_BASE = "https://api.weixin.qq.com"

_LOCAL_REFUSALS = {
    45015: "no open customer-service window for this user (tracked)",
    45047: "customer-service messages for this window used up (tracked)",
}


class WeChatAPI:
    def __init__(self, session: aiohttp.ClientSession, *, app_id: str, app_secret: str,
                 api_base: str = DEFAULT_API_BASE, token_store: TokenStore,
                 now: Callable[[], float] = time.time, refresh_ahead_s: float = 300.0,
                 timeout_s: float = 10.0, quota: QuotaTracker | None = None) -> None:
        self._session = session
        self._app_id = app_id
        self._secret = app_secret
        self._base = api_base.rstrip("/")
        self._now = now
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.quota = quota
        self.tokens = AccessTokenManager(token_store, app_id, self._fetch_token, now=now,
                                         refresh_ahead_s=refresh_ahead_s)

    # --- public API --------------------------------------------------------------------------

    async def access_token(self) -> str:
        return await self.tokens.get()

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (``message/custom/send``), within the 48-h window."""
        now = self._now()
        refusal = self.quota.custom_refusal(openid, now) if self.quota is not None else None
        if refusal is not None:
            raise WeChatAPIError(refusal, _LOCAL_REFUSALS[refusal], api="custom", local=True)
        try:
            await self.call("/cgi-bin/message/custom/send", {
                "touser": openid, "msgtype": "text", "text": {"content": text},
            }, api="custom")
        except WeChatAPIError as e:
            if self.quota is not None and e.errcode in (45015, 45047):
                self.quota.close_custom_window(openid)
            raise
        if self.quota is not None:
            self.quota.record_custom_sent(openid, self._now())
        log.info("customer-service message sent to %s", mask(openid))

    async def send_template(self, openid: str, template_id: str, data: Mapping[str, str],
                            url: str = "") -> int:
        """A template message; returns WeChat's ``msgid`` (reported again by
        TEMPLATESENDJOBFINISH)."""
        payload: dict[str, Any] = {
            "touser": openid, "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if url:
            payload["url"] = url
        result = await self.call("/cgi-bin/message/template/send", payload, api="template")
        log.info("template message sent to %s", mask(openid))
        return int(result.get("msgid", 0))

    async def mass_send_text_by_tag(self, tag_id: int, text: str, *,
                                    clientmsgid: str = "") -> int:
        """A broadcast to the followers with ``tag_id`` (``message/mass/sendall``); returns
        ``msg_id``. errcode 0 only means the job was accepted (MASSSENDJOBFINISH reports it)."""
        payload: dict[str, Any] = {
            "filter": {"is_to_all": False, "tag_id": tag_id},
            "text": {"content": text}, "msgtype": "text",
        }
        if clientmsgid:
            payload["clientmsgid"] = clientmsgid
        result = await self.call("/cgi-bin/message/mass/sendall", payload, api="mass")
        log.info("mass send to tag %s accepted", tag_id)
        return int(result.get("msg_id", 0))

    async def download_media(self, media_id: str, new_blob: NewBlob, *,
                             max_bytes: int) -> StoredFile | None:
        """A file a user sent (``GET /cgi-bin/media/get``; WeChat keeps it three days), streamed
        into ``new_blob()``. None, with a log line, when WeChat answers with an error or the file
        is larger than ``max_bytes``.
        https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_temporary_materials.html
        """
        token = await self.tokens.get()
        for attempt in (1, 2):
            try:
                async with self._session.get(
                    f"{self._base}/cgi-bin/media/get", timeout=self._timeout,
                    params={"access_token": token, "media_id": media_id},
                ) as resp:
                    if resp.status != 200:
                        log.warning("media/get answered HTTP %s", resp.status)
                        return None
                    if resp.content_type in ("application/json", "text/plain"):
                        answer = json.loads(await resp.read() or b"{}")
                        errcode = _errcode(answer) if isinstance(answer, dict) else -1
                        if errcode in TOKEN_ERRCODES and attempt == 1:
                            token = await self.tokens.get(stale=token)
                            continue
                        log.warning("media/get refused: errcode %s", errcode)
                        return None
                    if (resp.content_length or 0) > max_bytes:
                        log.warning("media/get: file of %s bytes is over %s", resp.content_length,
                                    max_bytes)
                        return None
                    return await _stream(resp, new_blob(), max_bytes)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                # the text of aiohttp's errors contains the URL, with the access token in it
                log.warning("media/get failed: %s", type(exc).__name__)
                return None
        return None

    async def create_menu(self, menu: Mapping[str, Any]) -> None:
        await self.call("/cgi-bin/menu/create", menu, api="menu")
        log.info("menu created")

    # --- calls ---------------------------------------------------------------------------------

    async def call(self, path: str, payload: Mapping[str, Any], *, api: str = "") -> dict[str, Any]:
        """POST ``payload`` as JSON to ``path`` with the access token; the JSON answer.

        One retry after a token error; a quota of ``api`` (when tracked) is reserved first and
        stays counted whatever WeChat answers (erring on the side of never exceeding it).
        """
        quota = self.quota
        if quota is not None and api and not await quota.reserve(api, self._now()):
            raise WeChatAPIError(45009, f"{api} quota used up (tracked)", api=api, local=True)
        token = await self.tokens.get()
        result = await self._request(path, payload, token, api)
        if _errcode(result) in TOKEN_ERRCODES:
            log.warning("%s: access token rejected (errcode %s); refreshing and retrying once",
                        api or path, _errcode(result))
            token = await self.tokens.get(stale=token)
            result = await self._request(path, payload, token, api)
        errcode = _errcode(result)
        if quota is not None and api and errcode == 45009:
            await quota.mark_exhausted(api, self._now())
        if errcode != 0:
            error = WeChatAPIError(errcode, str(result.get("errmsg", "")), api=api)
            log.warning("WeChat %s failed: errcode=%s (%s)", api or path, errcode,
                        error.decision.value)
            raise error
        return result

    async def _request(self, path: str, payload: Mapping[str, Any], token: str,
                       api: str) -> dict[str, Any]:
        return await self._post_json(f"{self._base}{path}", payload,
                                     params={"access_token": token}, api=api)

    async def _post_json(self, url: str, payload: Mapping[str, Any], *,
                         params: Mapping[str, str] | None = None, api: str) -> dict[str, Any]:
        # WeChat wants raw UTF-8, not \\u escapes (as wechatpy sends it).
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            async with self._session.post(
                url, params=params, data=body, timeout=self._timeout,
                headers={"Content-Type": "application/json; charset=utf-8"},
            ) as resp:
                status = resp.status
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # the text of aiohttp's errors contains the URL, with the access token in it
            raise WeChatTransportError(f"{type(exc).__name__}", api=api) from None
        if status != 200:
            raise WeChatTransportError(f"HTTP {status}", api=api)
        try:
            data = json.loads(raw)
        except ValueError:
            raise WeChatTransportError("answer is not JSON", api=api) from None
        if not isinstance(data, dict):
            raise WeChatTransportError("answer is not a JSON object", api=api)
        return data

    async def _fetch_token(self, force_refresh: bool) -> CachedToken:
        data = await self._post_json(f"{self._base}/cgi-bin/stable_token", {
            "grant_type": "client_credential", "appid": self._app_id,
            "secret": self._secret, "force_refresh": force_refresh,
        }, api="token")
        errcode = _errcode(data)
        token = data.get("access_token")
        if errcode != 0 or not isinstance(token, str) or not token:
            # 40001/40125 here mean a wrong AppSecret, 40013 a wrong app id, 40164 an IP that
            # is not whitelisted: nothing a retry fixes.
            decision = decide(errcode)
            if decision in (Decision.RETRY_AFTER_REFRESH, Decision.FAIL):
                decision = Decision.ALERT_ADMIN
            raise WeChatAPIError(errcode, str(data.get("errmsg", "no access_token")),
                                 api="token", decision=decision)
        try:
            expires_in = float(data.get("expires_in", 7200))
        except (TypeError, ValueError):
            expires_in = 7200.0
        return CachedToken(token, self._now() + expires_in)


async def _stream(resp: aiohttp.ClientResponse, blob: BlobWriter, max_bytes: int
                  ) -> StoredFile | None:
    """The response body into ``blob`` (a BlobWriter), refused past ``max_bytes``."""
    size = 0
    try:
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                log.warning("media/get: file over %s bytes; left out", max_bytes)
                await blob.discard()
                return None
            await blob.write(chunk)
        stored: StoredFile = await blob.commit()
        return stored
    except BaseException:
        await blob.discard()
        raise


def _errcode(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("errcode", 0) or 0)
    except (TypeError, ValueError):
        return -1
