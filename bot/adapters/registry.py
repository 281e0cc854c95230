"""Which adapters a service runs.

An adapter is named by a built-in name (``onebot``, ``wechat_mp``, ``wecom_robot``) or by the
dotted path of any importable module with a ``create(settings, host)`` function (a platform
added without touching the rest of the service); a factory function may be given directly.
Each factory returns its adapter, or None when the platform is not configured. Two adapters
may not speak for one chat platform: the outbox must know who sends a message.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.adapters import onebot, wechat_mp, wecom_robot
from bot.core.adapter import Adapter, AdapterFactory, Host

if TYPE_CHECKING:
    from config.settings import Settings

BUILTIN: dict[str, AdapterFactory] = {
    "onebot": onebot.create,
    "wechat_mp": wechat_mp.create,
    "wecom_robot": wecom_robot.create,
}
DEFAULT: tuple[str, ...] = ("onebot", "wechat_mp", "wecom_robot")

AdapterSpec = str | AdapterFactory


class AdapterConfigError(ValueError):
    """An adapter that cannot be found, or two adapters for one platform."""


def factory_of(spec: AdapterSpec) -> AdapterFactory:
    if not isinstance(spec, str):
        return spec
    if spec in BUILTIN:
        return BUILTIN[spec]
    try:
        module = importlib.import_module(spec)
    except ImportError as exc:
        raise AdapterConfigError(f"adapter {spec!r}: no such module ({exc})") from exc
    create = getattr(module, "create", None)
    if not callable(create):
        raise AdapterConfigError(f"adapter {spec!r}: the module has no create(settings, host)")
    factory: AdapterFactory = create
    return factory


def create_adapters(specs: Iterable[AdapterSpec], settings: Settings, host: Host
                    ) -> list[Adapter]:
    """The configured adapters, in order; those that say they are not configured are left out."""
    adapters: list[Adapter] = []
    serving: dict[str, str] = {}
    for spec in specs:
        adapter = factory_of(spec)(settings, host)
        if adapter is None:
            continue
        for platform in adapter.platforms:
            if platform in serving:
                raise AdapterConfigError(f"adapters {serving[platform]!r} and {adapter.name!r} "
                                         f"both send for platform {platform!r}")
            serving[platform] = adapter.name
        adapters.append(adapter)
    return adapters


