"""Typed, frozen settings for dudao: the names the rest of the code imports.

Values come from three layers, later ones winning:

1. ``config/default.toml`` (bundled): the single source of defaults, every key documented there;
2. the user's file: ``--config PATH``, or ``./dudao.toml`` when present;
3. environment variables ``DUDAO_<SECTION>_<KEY>`` (``DUDAO_HTTP_PORT``,
   ``DUDAO_WECHAT_MP_AES_KEY``) and ``DUDAO_<KEY>`` for top-level keys
   (``DUDAO_ADMINS=qq:10001,qq:10002``).

The work is split along its seams: the sections (config/sections.py), the key schema and
environment names (config/schema.py), reading values of a type (config/convert.py), the checks
(config/validate.py), masking secrets (config/masking.py) and the loading (config/loader.py).
Secrets are never shown: :meth:`Settings.describe`, ``repr()`` and error messages mask them.
"""

from __future__ import annotations

from config.errors import ConfigError
from config.loader import DEFAULT_CONFIG_PATH, load_settings
from config.masking import mask_secret
from config.schema import ENV_PREFIX, env_var_name, secret_keys, settings_keys
from config.sections import (
    WECHAT_TEMPLATE_SOURCES,
    BackupSettings,
    DatabaseSettings,
    DocumentsSettings,
    HttpSettings,
    NluSettings,
    OneBotSettings,
    OutboxSettings,
    PlanSettings,
    ScheduleSettings,
    ScoringSettings,
    ServiceSettings,
    Settings,
    WebSettings,
    WechatMpSettings,
    WecomSettings,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENV_PREFIX",
    "WECHAT_TEMPLATE_SOURCES",
    "BackupSettings",
    "ConfigError",
    "DatabaseSettings",
    "DocumentsSettings",
    "HttpSettings",
    "NluSettings",
    "OneBotSettings",
    "OutboxSettings",
    "PlanSettings",
    "ScheduleSettings",
    "ScoringSettings",
    "ServiceSettings",
    "Settings",
    "WebSettings",
    "WechatMpSettings",
    "WecomSettings",
    "env_var_name",
    "load_settings",
    "mask_secret",
    "secret_keys",
    "settings_keys",
]
