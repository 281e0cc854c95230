"""Signatures and the safe-mode AES envelope of the official-account callback.

wechatpy does the AES work (``WeChatCrypto`` and its ``PrpCrypto``); we add what it lacks
(https://github.com/wechatpy/wechatpy, ``wechatpy/crypto``): signatures compared in constant
time, and the 16-byte random prefix of encrypted replies taken from ``secrets`` instead of
``random``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Callable

from wechatpy.crypto import PrpCrypto, WeChatCrypto

_ALPHABET = string.ascii_letters + string.digits


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 of the parts sorted and concatenated, as lower-case hex."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8"), usedforsecurity=False).hexdigest()


def verify(signature: str, *parts: str) -> bool:
    """``signature`` equals :func:`sign` of ``parts``, compared in constant time."""
    return hmac.compare_digest(sign(*parts).encode("ascii"),
                               signature.strip().lower().encode("utf-8", "replace"))


def random_prefix() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))


class _Prp(PrpCrypto):  # type: ignore[misc]
    """wechatpy's PrpCrypto with an injectable random prefix."""

    def __init__(self, key: bytes, prefix: Callable[[], str]) -> None:
        super().__init__(key)
        self._prefix = prefix

    def get_random_string(self) -> str:
        return self._prefix()


class MessageCrypto:
    """Decrypts and encrypts safe-mode bodies for one app.

    Raises ``ValueError`` (or ``binascii.Error``, a subclass) at construction for an
    EncodingAESKey that is not 43 base64 characters.
    """

    def __init__(self, token: str, aes_key: str, app_id: str, *,
                 prefix: Callable[[], str] = random_prefix) -> None:
        if len(aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")
        try:
            self._wc = WeChatCrypto(token, aes_key, app_id)
        except AssertionError:
            raise ValueError("EncodingAESKey does not decode to 32 bytes") from None
        self._token = token
        self._app_id = app_id
        self._prefix = prefix

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> bool:
        return verify(msg_signature, self._token, timestamp, nonce, encrypt)

    def decrypt(self, encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The plaintext of ``encrypt``. Call :meth:`verify` first (constant time).

        Raises whatever wechatpy raises on bad input: ``InvalidSignatureException``,
        ``InvalidAppIdException``, ``binascii.Error``, ``UnicodeDecodeError``, ``struct.error``,
        ``ValueError``… (https://github.com/wechatpy/wechatpy/issues/799); the caller catches them
        all.
        """
        return str(self._wc.decrypt_message({"Encrypt": encrypt}, msg_signature, timestamp, nonce))

    def encrypt(self, plaintext: str, nonce: str, timestamp: str) -> tuple[str, str]:
        """``(Encrypt, MsgSignature)`` for a passive reply."""
        raw = _Prp(self._wc.key, self._prefix).encrypt(plaintext, self._app_id)
        encrypt = raw.decode("ascii") if isinstance(raw, bytes) else str(raw)
        return encrypt, sign(self._token, timestamp, nonce, encrypt)

    def encrypt_xml(self, plaintext: str, nonce: str, timestamp: str) -> str:
        encrypt, signature = self.encrypt(plaintext, nonce, timestamp)
        return ("<xml>\n"
                f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
                f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n"
                f"<TimeStamp>{timestamp}</TimeStamp>\n"
                f"<Nonce><![CDATA[{_cdata_safe(nonce)}]]></Nonce>\n"
                "</xml>")


def _cdata_safe(text: str) -> str:
    """Text that can sit inside ``<![CDATA[…]]>``: a ``]]>`` is split across two sections."""
    return text.replace("]]>", "]]]]><![CDATA[>")
