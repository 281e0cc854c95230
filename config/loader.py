"""Loading the settings: the bundled defaults, the user's file, the environment, then checks.

Every problem found is collected and raised together as one :class:`ConfigError` whose lines
name the source and the key (``dudao.toml: [http] port: expected an integer, got "abc"``).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from config.convert import from_env, from_toml
from config.errors import ConfigError, Invalid
from config.schema import ENV_PREFIX, ENV_SECTIONS, SCHEMA, SECTIONS, env_var_name
from config.sections import Section, Settings
from config.validate import CHECKS, check_together

DEFAULT_CONFIG_PATH: Final = Path(__file__).with_name("default.toml")
USER_CONFIG_NAME: Final = "dudao.toml"


def _suggest(word: str, choices: Iterator[str] | tuple[str, ...] | list[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else ""


class _Layers:
    """The merged values and, for each, the source that set it last."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], object] = {}
        self.origin: dict[tuple[str, str], str] = {}
        self.problems: list[str] = []
        self.sources: list[str] = []

    def apply_table(self, data: Mapping[str, Any], source: str) -> None:
        for name, value in data.items():
            if name in SECTIONS:
                if not isinstance(value, dict):
                    self.problems.append(f"{source}: [{name}] must be a table, got {value!r}")
                    continue
                for key_name, item in value.items():
                    self._apply_file_value(name, key_name, item, source)
            elif name in SCHEMA[""]:
                self._apply_file_value("", name, value, source)
            elif isinstance(value, dict):
                hint = _suggest(name, list(SECTIONS))
                tip = f" (did you mean [{hint}]?)" if hint else ""
                self.problems.append(f"{source}: unknown section [{name}]{tip}")
            else:
                hint = _suggest(name, list(SCHEMA[""]))
                tip = f" (did you mean {hint}?)" if hint else ""
                self.problems.append(f"{source}: unknown key {name}{tip}")

    def _apply_file_value(self, section: str, name: str, value: object, source: str) -> None:
        keys = SCHEMA[section]
        key = keys.get(name)
        if key is None:
            hint = _suggest(name, list(keys))
            tip = f" (did you mean {hint}?)" if hint else ""
            where = f"[{section}] {name}" if section else name
            self.problems.append(f"{source}: unknown key {where}{tip}")
            return
        try:
            self.values[section, name] = from_toml(key, value)
        except Invalid as exc:
            self.problems.append(f"{source}: {key.label}: {exc}")
            return
        self.origin[section, name] = source

    def apply_environ(self, environ: Mapping[str, str]) -> None:
        used: list[str] = []
        for var in sorted(environ):
            if not var.upper().startswith(ENV_PREFIX):
                continue
            rest = var[len(ENV_PREFIX) :].upper()
            section, name = self._env_target(rest)
            if section is None:
                continue  # DUDAO_CONFIG, DUDAO_TEST_PG_URL…: not a setting, not ours to judge
            key = SCHEMA[section].get(name)
            if key is None:
                hint = _suggest(name, list(SCHEMA[section]))
                tip = f" (did you mean {env_var_name(section, hint)}?)" if hint else ""
                self.problems.append(f"{var}: unknown key [{section}] {name}{tip}")
                continue
            try:
                self.values[section, name] = from_env(key, environ[var])
            except Invalid as exc:
                self.problems.append(f"{var}: {exc}")
                continue
            self.origin[section, name] = var
            used.append(var)
        if used:
            self.sources.append("environment (" + ", ".join(used) + ")")

    @staticmethod
    def _env_target(rest: str) -> tuple[str | None, str]:
        for section in ENV_SECTIONS:
            prefix = section.upper() + "_"
            if rest.startswith(prefix) and len(rest) > len(prefix):
                return section, rest[len(prefix) :].lower()
        if rest.lower() in SCHEMA[""]:
            return "", rest.lower()
        return None, ""

    def check(self) -> None:
        for (section, name), check in CHECKS.items():
            if (section, name) not in self.values:
                continue
            try:
                self.values[section, name] = check(self.values[section, name])
            except Invalid as exc:
                self.problems.append(self._where(section, name) + f"{exc}")
        self._check_together()

    def _where(self, section: str, name: str) -> str:
        source = self.origin.get((section, name), "?")
        if source.startswith(ENV_PREFIX):
            return f"{source}: "
        return f"{source}: {SCHEMA[section][name].label}: "

    def _check_together(self) -> None:
        for section, name, message in check_together(self.values):
            self.problems.append(self._where(section, name) + message)


def _read_toml(path: Path, source: str) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text (save the file as UTF-8)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load the effective settings.

    ``path`` is the user's file (``--config``); it must exist. Without it ``./dudao.toml`` (in
    ``cwd``, default the working directory) is read if present. ``environ`` defaults to
    ``os.environ``; pass ``{}`` to ignore the environment. ``overrides`` is a TOML-shaped mapping
    applied last (``{"http": {"port": 9000}}``), for tests and embedding. A relative ``data_dir``
    is resolved against ``cwd``. Raises :class:`ConfigError` listing every problem.
    """
    base = Path.cwd() if cwd is None else cwd
    layers = _Layers()

    defaults = _read_toml(DEFAULT_CONFIG_PATH, DEFAULT_CONFIG_PATH.name)
    layers.apply_table(defaults, DEFAULT_CONFIG_PATH.name)
    layers.sources.append(str(DEFAULT_CONFIG_PATH))
    missing = [
        SCHEMA[s][k].label for s in SCHEMA for k in SCHEMA[s] if (s, k) not in layers.values
    ]
    if missing:  # a broken installation, not a user error, but say so clearly
        layers.problems.append(f"{DEFAULT_CONFIG_PATH.name}: no default for {', '.join(missing)}")

    if path is not None:
        user_path = path if path.is_absolute() else base / path
        if not user_path.is_file():
            raise ConfigError(f"{path}: config file not found")
        layers.apply_table(_read_toml(user_path, str(path)), str(path))
        layers.sources.append(str(user_path))
    elif (base / USER_CONFIG_NAME).is_file():
        layers.apply_table(_read_toml(base / USER_CONFIG_NAME, USER_CONFIG_NAME), USER_CONFIG_NAME)
        layers.sources.append(str(base / USER_CONFIG_NAME))

    layers.apply_environ(os.environ if environ is None else environ)
    if overrides:
        layers.apply_table(overrides, "overrides")
        layers.sources.append("overrides")

    layers.check()
    if layers.problems:
        raise ConfigError(layers.problems)

    values = layers.values
    data_dir = values["service", "data_dir"]
    assert isinstance(data_dir, Path)
    if not data_dir.is_absolute():
        values["service", "data_dir"] = Path(os.path.abspath(base / data_dir))
    backup_dir = values["backup", "directory"]
    assert isinstance(backup_dir, str)
    if backup_dir.strip() and not Path(backup_dir.strip()).is_absolute():
        values["backup", "directory"] = os.path.abspath(base / backup_dir.strip())

    sections: dict[str, Section] = {
        name: cls(**{key: values[name, key] for key in SCHEMA[name]})
        for name, cls in SECTIONS.items()
    }
    admins = values["", "admins"]
    assert isinstance(admins, tuple)
    return Settings(admins=admins, sources=tuple(layers.sources), **sections)  # type: ignore[arg-type]
