"""How a person's platform identity is written, and which forms an admin may type.

An identity is ``platform:id`` with the platform in lower case (``qq:10001``, ``wx:wxid_x``,
``mp:<openid>``, ``wecom:<userid>``). What an admin types is normalised here, once, so that
``QQ:10001`` and ``qq:10001`` are one person and ``qq:abc`` is refused instead of registering
someone no message can ever come from.
"""

from __future__ import annotations

import re
from collections.abc import Collection

# The platforms our adapters produce identities for, with the shape of an id on each.
_ID_SHAPES: dict[str, re.Pattern[str]] = {
    "qq": re.compile(r"[1-9][0-9]{4,11}"),          # QQ numbers: 5-12 digits, no leading 0
    "wx": re.compile(r"[A-Za-z0-9_@.\-]{2,64}"),     # wxid_… or a WeChat id
    "mp": re.compile(r"[A-Za-z0-9_\-]{6,64}"),       # an official-account openid
    "wecom": re.compile(r"[A-Za-z0-9_@.\-]{1,64}"),  # a WeCom userid
}
PLATFORMS = tuple(_ID_SHAPES)
"""The built-in adapters' platforms. A platform added by an adapter of one's own
(docs/architecture.md, "Adding a platform") is known to the configuration, not here."""
_PLATFORM_NAME = re.compile(r"[a-z][a-z0-9_]{0,15}")
_ANY_ID = re.compile(r"[^\s:]{1,128}")
_EXAMPLES = {"qq": "qq:10001", "wx": "wx:wxid_abc", "mp": "mp:oABC123…", "wecom": "wecom:zhangsan"}


class IdentityError(ValueError):
    """``message`` is the Chinese sentence for the person who typed it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalise(text: str, platforms: Collection[str] | None = PLATFORMS) -> str:
    """The canonical ``platform:id`` of what an admin typed, or IdentityError saying why not.

    ``platforms``: the platforms an identity may be on (None: any well-formed platform name,
    when an adapter of one's own may bring its platform); a built-in platform's ids are always
    checked against its shape.
    """
    raw = text.strip()
    platform, sep, ident = raw.partition(":")
    platform, ident = platform.strip().lower(), ident.strip()
    if not sep or not platform or not ident:
        raise IdentityError(f"身份格式不对：{text!r}，应写作 平台:号码，例如 qq:10001")
    known = PLATFORMS if platforms is None else tuple(platforms)
    if (platforms is not None and platform not in known) or not _PLATFORM_NAME.fullmatch(platform):
        raise IdentityError(f"不认识的平台“{platform}”：身份应以 {'、'.join(known)} 开头，"
                            "例如 qq:10001")
    shape = _ID_SHAPES.get(platform, _ANY_ID)
    if not shape.fullmatch(ident):
        hint = "QQ 号只能是数字" if platform == "qq" else "号码含有不允许的字符"
        raise IdentityError(f"身份格式不对：{text!r}，{hint}，例如 "
                            f"{_EXAMPLES.get(platform, 'qq:10001')}")
    return f"{platform}:{ident}"
