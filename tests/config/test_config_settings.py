"""Settings: defaults from config/default.toml, the user's file, environment overrides, errors."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.settings import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    Settings,
    env_var_name,
    load_settings,
    mask_secret,
    secret_keys,
    settings_keys,
)

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, like an EncodingAESKey


def load(tmp_path: Path, toml: str | None = None, env: dict[str, str] | None = None) -> Settings:
    """Settings from a dudao.toml in a fresh directory (if given) and an explicit environment."""
    if toml is not None:
        (tmp_path / "dudao.toml").write_text(toml, encoding="utf-8")
    return load_settings(environ=env or {}, cwd=tmp_path)


def problems(tmp_path: Path, toml: str | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, toml, env)
    return str(info.value)


# --------------------------------------------------------------------------- defaults


def test_defaults_come_from_the_bundled_file(tmp_path: Path) -> None:
    s = load(tmp_path)
    assert s.admins == ()
    assert s.service.timezone == "Asia/Shanghai"
    assert s.service.tz == ZoneInfo("Asia/Shanghai")
    assert s.service.data_dir == tmp_path / "data"
    assert s.service.log_level == "INFO"
    assert s.service.roster == "henan"
    assert (s.http.host, s.http.port, s.http.public_url) == ("127.0.0.1", 8080, "")
    assert s.http.base_url == "http://127.0.0.1:8080"
    assert s.database.url == ""
    assert s.database_url == f"sqlite:///{(tmp_path / 'data' / 'dudao.db').as_posix()}"
    assert (s.database.busy_timeout_ms, s.database.pool_size, s.database.batch_max) == (5000, 5, 64)
    assert s.onebot.access_token == ""
    assert s.onebot.secret == ""
    assert s.onebot.max_frame_mb == 16
    assert s.onebot.download_max_mb == 50
    assert s.onebot.action_timeout_s == 30.0
    assert s.onebot.forward_urls == ()
    assert s.wechat_mp.mode == ""
    assert s.wechat_mp.effective_mode == "plain"
    assert s.wechat_mp.replay_window_s == 600
    assert s.wechat_mp.reply_deadline_s == 4.0
    assert s.wechat_mp.api_base == "https://api.weixin.qq.com"
    assert (s.wecom.api_base, s.wecom.per_minute) == ("https://qyapi.weixin.qq.com", 20)
    assert s.outbox.account_interval_ms == 1000
    assert s.outbox.group_interval_ms == 1500
    assert s.outbox.jitter_ms == 500
    assert s.outbox.broadcast_per_minute == 20
    assert s.outbox.max_attempts == 5
    assert s.outbox.split_chars == 1500
    assert s.outbox.coalesce_acks is True
    assert s.outbox.poll_interval_s == 2.0
    assert (s.outbox.retry_backoff_s, s.outbox.risk_backoff_s) == (30.0, 600.0)
    assert s.schedule.enabled is True
    assert (s.schedule.work_start, s.schedule.work_end) == (time(9, 0), time(18, 0))
    assert s.schedule.reminders == "7,3,1;due;overdue=2x3;escalate"
    assert s.schedule.bulletin_weekday == "fri"
    assert s.schedule.bulletin_weekday_index == 4
    assert (s.schedule.bulletin_time, s.schedule.digest_time) == (time(16, 0), time(17, 30))
    assert (s.scoring.red, s.scoring.blue, s.scoring.yellow) == (3.0, 1.0, -1.0)
    assert s.web.secret_key == ""
    assert s.web.api_token == ""
    assert (s.web.session_hours, s.web.login_attempts_per_minute) == (12, 5)
    assert s.nlu.enabled is True
    assert s.sources == (str(DEFAULT_CONFIG_PATH),)


def test_settings_are_frozen_and_slotted(tmp_path: Path) -> None:
    s = load(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.http.port = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.admins = ("qq:1",)  # type: ignore[misc]
    assert not hasattr(s.http, "__dict__")
    assert not hasattr(s, "__dict__")
    assert s == load(tmp_path)
    assert hash(s) == hash(load(tmp_path))


def _documented_keys() -> dict[tuple[str, str], list[str]]:
    """Every ``key = value`` line of default.toml with the comment block just above it."""
    out: dict[tuple[str, str], list[str]] = {}
    section = ""
    comments: list[str] = []
    for line in DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if header := re.fullmatch(r"\[(\w+)\]", stripped):
            section, comments = header.group(1), []
        elif stripped.startswith("#"):
            comments.append(stripped)
        elif key := re.match(r"(\w+)\s*=", stripped):
            out[section, key.group(1)] = comments
            comments = []
        else:
            comments = []
    return out


def test_default_toml_documents_every_key_and_only_known_keys() -> None:
    documented = _documented_keys()
    known = {(section, key) for section, keys in settings_keys().items() for key in keys}
    assert set(documented) == known
    for (section, key), comments in documented.items():
        assert comments, f"[{section}] {key} has no comment above it"
        text = " ".join(comments)
        assert env_var_name(section, key) in text, f"[{section}] {key}: env var not documented"
    for section, key in secret_keys():
        assert "(secret)" in " ".join(documented[section, key]), (section, key)
    # The file parses to exactly the same keys.
    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    parsed = {("", k) for k, v in data.items() if not isinstance(v, dict)}
    parsed |= {(s, k) for s, v in data.items() if isinstance(v, dict) for k in v}
    assert parsed == known


def test_env_var_names() -> None:
    assert env_var_name("http", "port") == "DUDAO_HTTP_PORT"
    assert env_var_name("wechat_mp", "aes_key") == "DUDAO_WECHAT_MP_AES_KEY"
    assert env_var_name("", "admins") == "DUDAO_ADMINS"


# --------------------------------------------------------------------------- files


def test_user_file_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "mine.toml"
    path.parent.mkdir()
    path.write_text(
        'admins = ["qq:10001", "QQ:10002", "qq:10001"]\n'
        "[http]\nport = 9000\n"
        '[database]\nurl = "postgresql://dudao:pw@127.0.0.1:5432/dudao"\n'
        f'[wechat_mp]\naes_key = "{AES_KEY}"\n'
        '[schedule]\nwork_start = "08:30"\nbulletin_weekday = "Monday"\n'
        '[service]\nlog_level = "debug"\ndata_dir = "/srv/dudao"\n'
        "[scoring]\nred = 5\n",
        encoding="utf-8",
    )
    s = load_settings(path, environ={}, cwd=tmp_path)
    assert s.http.port == 9000
    assert s.http.host == "127.0.0.1"  # untouched keys keep their default
    assert s.admins == ("qq:10001", "qq:10002")
    assert s.database_url == "postgresql://dudao:pw@127.0.0.1:5432/dudao"
    assert s.wechat_mp.effective_mode == "safe"
    assert s.schedule.work_start == time(8, 30)
    assert s.schedule.bulletin_weekday == "mon"
    assert s.service.log_level == "DEBUG"
    assert s.service.data_dir == Path("/srv/dudao")
    assert s.database_url.startswith("postgresql://")
    assert s.scoring.red == 5.0
    assert isinstance(s.scoring.red, float)
    assert s.sources == (str(DEFAULT_CONFIG_PATH), str(path))


def test_dudao_toml_in_cwd_is_discovered(tmp_path: Path) -> None:
    s = load(tmp_path, "[http]\nport = 8181\n")
    assert s.http.port == 8181
    assert s.sources[-1] == str(tmp_path / "dudao.toml")


def test_explicit_path_wins_over_discovery(tmp_path: Path) -> None:
    (tmp_path / "dudao.toml").write_text("[http]\nport = 8181\n", encoding="utf-8")
    other = tmp_path / "other.toml"
    other.write_text("[http]\nport = 8282\n", encoding="utf-8")
    assert load_settings(other, environ={}, cwd=tmp_path).http.port == 8282
    # A relative path is taken relative to cwd.
    assert load_settings(Path("other.toml"), environ={}, cwd=tmp_path).http.port == 8282


def test_missing_explicit_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml: config file not found"):
        load_settings(tmp_path / "nowhere.toml", environ={}, cwd=tmp_path)


def test_no_user_file_is_fine(tmp_path: Path) -> None:
    assert load_settings(None, environ={}, cwd=tmp_path).http.port == 8080


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    text = problems(tmp_path, "[http\nport = 1\n")
    assert text.startswith("dudao.toml: not valid TOML")


def test_utf8_bom_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "dudao.toml").write_bytes("\ufeff[http]\nport = 8383\n".encode())
    assert load_settings(environ={}, cwd=tmp_path).http.port == 8383


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize(
    ("var", "value", "section", "key", "expected"),
    [
        ("DUDAO_HTTP_PORT", "9001", "http", "port", 9001),
        ("DUDAO_HTTP_HOST", "0.0.0.0", "http", "host", "0.0.0.0"),
        ("DUDAO_ONEBOT_ACTION_TIMEOUT_S", "12.5", "onebot", "action_timeout_s", 12.5),
        ("DUDAO_ONEBOT_ACTION_TIMEOUT_S", "7", "onebot", "action_timeout_s", 7.0),
        ("DUDAO_SCORING_YELLOW", "-2", "scoring", "yellow", -2.0),
        ("DUDAO_SCHEDULE_ENABLED", "false", "schedule", "enabled", False),
        ("DUDAO_SCHEDULE_ENABLED", "0", "schedule", "enabled", False),
        ("DUDAO_SCHEDULE_ENABLED", "No", "schedule", "enabled", False),
        ("DUDAO_NLU_ENABLED", "yes", "nlu", "enabled", True),
        ("DUDAO_NLU_ENABLED", "1", "nlu", "enabled", True),
        ("DUDAO_NLU_ENABLED", "TRUE", "nlu", "enabled", True),
        ("DUDAO_OUTBOX_COALESCE_ACKS", "false", "outbox", "coalesce_acks", False),
        (
            "DUDAO_ONEBOT_FORWARD_URLS",
            "ws://127.0.0.1:3001, wss://qq.example.com/ws",
            "onebot",
            "forward_urls",
            ("ws://127.0.0.1:3001", "wss://qq.example.com/ws"),
        ),
        ("DUDAO_ONEBOT_FORWARD_URLS", "", "onebot", "forward_urls", ()),
        ("DUDAO_ADMINS", "qq:10001,qq:10002", "", "admins", ("qq:10001", "qq:10002")),
        ("DUDAO_SCHEDULE_WORK_END", "17:45", "schedule", "work_end", time(17, 45)),
        ("DUDAO_SERVICE_DATA_DIR", "/var/lib/dudao", "service", "data_dir", Path("/var/lib/dudao")),
        ("DUDAO_WECHAT_MP_APP_ID", "wx1234567890", "wechat_mp", "app_id", "wx1234567890"),
        ("DUDAO_WECHAT_MP_MODE", "compatible", "wechat_mp", "mode", "compatible"),
        ("DUDAO_DATABASE_URL", "sqlite:///x.db", "database", "url", "sqlite:///x.db"),
        ("DUDAO_WEB_API_TOKEN", "t0ken-value", "web", "api_token", "t0ken-value"),
        ("DUDAO_SERVICE_ROSTER", "", "service", "roster", ""),
    ],
)
def test_environment_overrides_each_type(
    tmp_path: Path, var: str, value: str, section: str, key: str, expected: object
) -> None:
    env = {var: value}
    if key == "mode":
        env["DUDAO_WECHAT_MP_AES_KEY"] = AES_KEY
    s = load(tmp_path, env=env)
    actual = getattr(getattr(s, section), key) if section else getattr(s, key)
    assert actual == expected
    assert type(actual) is type(expected)
    assert var in s.sources[-1]


def test_environment_wins_over_file(tmp_path: Path) -> None:
    s = load(tmp_path, "[http]\nport = 8181\n", {"DUDAO_HTTP_PORT": "8282"})
    assert s.http.port == 8282


def test_wechat_mode_follows_aes_key_unless_set(tmp_path: Path) -> None:
    assert load(tmp_path, env={"DUDAO_WECHAT_MP_AES_KEY": AES_KEY}).wechat_mp.effective_mode == (
        "safe"
    )
    s = load(tmp_path, env={"DUDAO_WECHAT_MP_AES_KEY": AES_KEY, "DUDAO_WECHAT_MP_MODE": "plain"})
    assert s.wechat_mp.effective_mode == "plain"


def test_unrelated_dudao_variables_are_ignored(tmp_path: Path) -> None:
    s = load(tmp_path, env={"DUDAO_TEST_PG_URL": "postgresql://x", "DUDAO_CONFIG": "x.toml"})
    assert s.http.port == 8080


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("DUDAO_HTTP_PORT", "abc", 'DUDAO_HTTP_PORT: expected an integer, got "abc"'),
        ("DUDAO_HTTP_PORT", "80.5", "DUDAO_HTTP_PORT: expected an integer"),
        ("DUDAO_SCHEDULE_ENABLED", "maybe", "DUDAO_SCHEDULE_ENABLED: expected a boolean"),
        ("DUDAO_SCORING_RED", "lots", "DUDAO_SCORING_RED: expected a number"),
        ("DUDAO_SCORING_RED", "nan", "DUDAO_SCORING_RED: expected a number"),
        ("DUDAO_SCHEDULE_WORK_START", "9am", 'DUDAO_SCHEDULE_WORK_START: expected a time "HH:MM"'),
        ("DUDAO_HTTP_PORT", "0", "DUDAO_HTTP_PORT: must be between 1 and 65535, got 0"),
        ("DUDAO_HTTP_PROT", "1", "DUDAO_HTTP_PROT: unknown key [http] prot (did you mean "),
        ("DUDAO_ADMINS", "10001", "DUDAO_ADMINS: expected identities written platform:id"),
    ],
)
def test_bad_environment_values_name_the_variable(
    tmp_path: Path, var: str, value: str, message: str
) -> None:
    assert message in problems(tmp_path, env={var: value})


# --------------------------------------------------------------------------- errors


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    assert problems(tmp_path, "[http]\nprot = 1\n") == (
        "dudao.toml: unknown key [http] prot (did you mean port?)"
    )


def test_unknown_section_and_top_level_key(tmp_path: Path) -> None:
    text = problems(tmp_path, 'admin = ["qq:1"]\n[htp]\nport = 1\n[nothing_like_it]\nx = 1\n')
    assert "dudao.toml: unknown key admin (did you mean admins?)" in text
    assert "dudao.toml: unknown section [htp] (did you mean [http]?)" in text
    assert "dudao.toml: unknown section [nothing_like_it]\n" in text + "\n"


def test_wrong_type_names_the_key_and_source(tmp_path: Path) -> None:
    assert problems(tmp_path, '[http]\nport = "abc"\n') == (
        'dudao.toml: [http] port: expected an integer, got "abc"'
    )
    assert 'dudao.toml: [schedule] enabled: expected true or false, got "yes"' in problems(
        tmp_path, '[schedule]\nenabled = "yes"\n'
    )
    assert "dudao.toml: admins: expected an array of strings" in problems(
        tmp_path, 'admins = "qq:10001"\n'
    )
    assert "dudao.toml: [http] port: expected an integer, got 8080.5" in problems(
        tmp_path, "[http]\nport = 8080.5\n"
    )
    assert "dudao.toml: [http] must be a table" in problems(tmp_path, "http = 1\n")


def test_explicit_path_is_named_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "prod.toml"
    path.write_text("[http]\nport = true\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={}, cwd=tmp_path)
    assert str(info.value) == f"{path}: [http] port: expected an integer, got true"


@pytest.mark.parametrize("port", [0, -1, 65536, 70000])
def test_bad_port(tmp_path: Path, port: int) -> None:
    assert problems(tmp_path, f"[http]\nport = {port}\n") == (
        f"dudao.toml: [http] port: must be between 1 and 65535, got {port}"
    )


@pytest.mark.parametrize("port", [1, 65535])
def test_port_bounds_are_allowed(tmp_path: Path, port: int) -> None:
    assert load(tmp_path, f"[http]\nport = {port}\n").http.port == port


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "Asia", "", "../etc/passwd"])
def test_bad_timezone(tmp_path: Path, tz: str) -> None:
    text = problems(tmp_path, f'[service]\ntimezone = "{tz}"\n')
    assert text.startswith("dudao.toml: [service] timezone: unknown time zone")


def test_other_timezone(tmp_path: Path) -> None:
    assert load(tmp_path, '[service]\ntimezone = "UTC"\n').service.tz == ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[schedule]\nwork_start = "9:00am"', '[schedule] work_start: expected a time "HH:MM"'),
        ('[schedule]\nwork_end = "24:00"', '[schedule] work_end: expected a time "HH:MM"'),
        ('[schedule]\nwork_end = "08:00"', "[schedule] work_end: must be later than"),
        ('[schedule]\nbulletin_weekday = "someday"', "[schedule] bulletin_weekday: expected a"),
        ('[schedule]\nreminders = "7,3,1;later"', '[schedule] reminders: cannot read "later"'),
        ('[schedule]\nreminders = "due;due"', '"due" appears twice'),
        ('[schedule]\nreminders = "0,3"', "must be distinct and >= 1"),
        ('[wechat_mp]\nmode = "secure"', '[wechat_mp] mode: must be one of "", "plain"'),
        ('[wechat_mp]\nmode = "safe"', '[wechat_mp] mode: "safe" needs [wechat_mp] aes_key'),
        ('[wechat_mp]\naes_key = "short"', "[wechat_mp] aes_key: the EncodingAESKey must be 43"),
        ("[wechat_mp]\nreply_deadline_s = 5.0", "[wechat_mp] reply_deadline_s: must be between"),
        ('[service]\nlog_level = "LOUD"', "[service] log_level: must be one of"),
        ('[service]\nroster = "atlantis"', '[service] roster: unknown bundled roster "atlantis"'),
        ('[http]\npublic_url = "dudao.example.com"', "[http] public_url: expected a URL"),
        ('[onebot]\nforward_urls = ["http://x"]', "[onebot] forward_urls: expected a URL"),
        ('[database]\nurl = "dudao.db"', "[database] url: expected a database URL"),
        ("[database]\npool_size = 0", "[database] pool_size: must be at least 1, got 0"),
        ("[outbox]\npoll_interval_s = 0", "[outbox] poll_interval_s: must be greater than 0"),
        ('admins = ["qq 10001"]', "admins: expected identities written platform:id"),
        ('[onebot]\nforward_urls = ["ws://a", 3]', "[onebot] forward_urls: expected an array"),
    ],
)
def test_validation(tmp_path: Path, toml: str, message: str) -> None:
    text = problems(tmp_path, toml + "\n")
    assert text.startswith("dudao.toml: ")
    assert message in text


def test_reminder_policy_keywords_are_allowed(tmp_path: Path) -> None:
    assert load(tmp_path, '[schedule]\nreminders = "none"\n').schedule.reminders == "none"
    assert load(tmp_path, '[schedule]\nreminders = "5；due"\n').schedule.reminders == "5；due"


def test_roster_may_be_a_path(tmp_path: Path) -> None:
    assert load(tmp_path, '[service]\nroster = "units.csv"\n').service.roster == "units.csv"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, '[http]\nport = "x"\nprot = 1\n[service]\ntimezone = "Nowhere/City"\n')
    assert len(info.value.problems) == 3
    assert str(info.value) == "\n".join(info.value.problems)


def test_public_url(tmp_path: Path) -> None:
    s = load(tmp_path, '[http]\npublic_url = "https://dudao.example.gov.cn/"\n')
    assert s.http.base_url == "https://dudao.example.gov.cn"
    assert load(tmp_path, '[http]\nhost = "0.0.0.0"\nport = 80\n').http.base_url == (
        "http://127.0.0.1:80"
    )


def test_overrides_for_tests_and_embedding(tmp_path: Path) -> None:
    s = load_settings(
        environ={"DUDAO_HTTP_PORT": "9000"},
        cwd=tmp_path,
        overrides={"http": {"port": 9100}, "database": {"url": "sqlite://"}},
    )
    assert s.http.port == 9100
    assert s.database_url == "sqlite://"
    with pytest.raises(ConfigError, match=r"overrides: \[http\] port: expected an integer"):
        load_settings(environ={}, cwd=tmp_path, overrides={"http": {"port": "x"}})


# --------------------------------------------------------------------------- secrets


SECRETS = {
    "DUDAO_ONEBOT_ACCESS_TOKEN": "onebot-access-token-1",
    "DUDAO_ONEBOT_SECRET": "hmac-secret-22",
    "DUDAO_WECHAT_MP_APP_SECRET": "0123456789abcdef0123456789abcd33",
    "DUDAO_WECHAT_MP_TOKEN": "wxtok",
    "DUDAO_WECHAT_MP_AES_KEY": AES_KEY,
    "DUDAO_WEB_SECRET_KEY": "session-signing-key-44",
    "DUDAO_WEB_API_TOKEN": "api-token-55",
    "DUDAO_DATABASE_URL": "postgresql://dudao:db-password-66@db.local:5432/dudao",
    "DUDAO_ONEBOT_FORWARD_URLS": "ws://127.0.0.1:3001/?access_token=fwd-token-77",
}
SECRET_VALUES = [
    "onebot-access-token-1",
    "hmac-secret-22",
    "0123456789abcdef0123456789abcd33",
    "wxtok",
    AES_KEY,
    "session-signing-key-44",
    "api-token-55",
    "db-password-66",
    "fwd-token-77",
]


def test_mask_secret() -> None:
    assert mask_secret("") == ""
    assert mask_secret("short") == "***"
    assert mask_secret("1234567") == "***"
    assert mask_secret("12345678") == "***78"
    assert mask_secret("a-much-longer-secret-value") == "***ue"


def test_secrets_are_masked_in_describe(tmp_path: Path) -> None:
    s = load(tmp_path, env=SECRETS)
    d = s.describe()
    assert d["onebot"]["access_token"] == "***-1"
    assert d["onebot"]["secret"] == "***22"
    assert d["wechat_mp"]["app_secret"] == "***33"
    assert d["wechat_mp"]["token"] == "***"
    assert d["wechat_mp"]["aes_key"] == "***FG"
    assert d["web"]["secret_key"] == "***44"
    assert d["web"]["api_token"] == "***55"
    assert d["database"]["url"] == "postgresql://dudao:***@db.local:5432/dudao"
    assert d["onebot"]["forward_urls"] == ["ws://127.0.0.1:3001/?access_token=***"]
    # The real values are still there for the code that needs them.
    assert s.wechat_mp.aes_key == AES_KEY
    assert s.database_url == SECRETS["DUDAO_DATABASE_URL"]
    rendered = repr(d) + s.to_toml()
    for value in SECRET_VALUES:
        assert value not in rendered


def test_secrets_are_not_in_repr(tmp_path: Path) -> None:
    s = load(tmp_path, env=SECRETS)
    for text in (repr(s), str(s), repr(s.onebot), repr(s.wechat_mp), repr(s.web), repr(s.database)):
        for value in SECRET_VALUES:
            assert value not in text
    assert "access_token='***-1'" in repr(s.onebot)


def test_empty_secrets_stay_empty_in_describe(tmp_path: Path) -> None:
    d = load(tmp_path).describe()
    assert d["onebot"]["access_token"] == ""
    assert d["web"]["secret_key"] == ""


def test_wrongly_typed_secret_is_not_echoed(tmp_path: Path) -> None:
    text = problems(tmp_path, "[onebot]\naccess_token = 123456789\n")
    assert text == "dudao.toml: [onebot] access_token: expected a string, got an integer"
    assert "123456789" not in text


def test_describe_shape_and_toml_round_trip(tmp_path: Path) -> None:
    s = load(tmp_path, '[http]\nport = 9000\n[schedule]\nwork_start = "08:00"\n')
    d = s.describe()
    assert d[""] == {"admins": []}
    assert list(d) == ["", *[k for k in settings_keys() if k]]
    assert d["schedule"]["work_start"] == "08:00"
    assert d["service"]["data_dir"] == str(tmp_path / "data")
    # The rendered TOML is a valid config that loads back to the same settings.
    (tmp_path / "again.toml").write_text(s.to_toml(), encoding="utf-8")
    again = load_settings(tmp_path / "again.toml", environ={}, cwd=tmp_path)
    assert again == s
