"""The environment, read once into `bot.settings.Environment`: defaults, empty values,
the alias, secrets that never show, a clear error for a bad value, and where
config.yaml is read from."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import yaml

from bot.channels.telegram.application import DEFAULT_API
from bot.cli import main
from bot.settings import Environment, InvalidEnvironment
from reporting.config_file import load_settings

ROOT = Path(__file__).parent.parent
CONFIG = ROOT / "config.yaml"
VARIABLES = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "THIDUA_DATABASE_URL",
             "THIDUA_CONFIG", "THIDUA_MEDIA_DIR", "THIDUA_WEBHOOK_URL", "THIDUA_WEBHOOK_SECRET",
             "THIDUA_WEBHOOK_LISTEN", "THIDUA_HTTP_LISTEN")
TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ"


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No variable of ours set, whatever the machine running the tests has."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean: pytest.MonkeyPatch) -> None:
    env = Environment.load()
    assert env.telegram_bot_token is None and env.token is None
    assert env.telegram_api_base_url == "https://api.telegram.org/bot" == DEFAULT_API
    assert env.database_url == "sqlite+aiosqlite:///thidua.db"
    assert env.config is None and env.config_path() == Path("config.yaml")
    assert env.media_dir is None
    assert env.webhook_url is None and env.webhook_secret is None
    assert env.http_listen == "0.0.0.0:8080"


def test_values_are_read_and_typed(clean: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot")
    clean.setenv("THIDUA_DATABASE_URL", "postgresql+asyncpg://thidua@db/thidua")
    clean.setenv("THIDUA_CONFIG", str(tmp_path / "ward.yaml"))
    clean.setenv("THIDUA_MEDIA_DIR", str(tmp_path / "media"))
    clean.setenv("THIDUA_WEBHOOK_URL", "https://bot.example.vn/tg")
    clean.setenv("THIDUA_WEBHOOK_SECRET", "s3cret")
    env = Environment.load()
    assert env.token == TOKEN
    assert env.telegram_api_base_url == "http://127.0.0.1:8081/bot"
    assert env.database_url == "postgresql+asyncpg://thidua@db/thidua"
    assert env.config_path() == tmp_path / "ward.yaml"
    assert env.media_dir == tmp_path / "media"
    assert env.webhook_url == "https://bot.example.vn/tg"
    assert env.webhook_secret is not None and env.webhook_secret.get_secret_value() == "s3cret"


def test_names_are_exact(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("thidua_database_url", "postgresql+asyncpg://x@y/z")  # as os.environ.get
    assert Environment.load().database_url == "sqlite+aiosqlite:///thidua.db"


def test_an_empty_value_counts_as_unset(clean: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        clean.setenv(name, "")
    env = Environment.load()
    assert env.token is None and env.database_url == "sqlite+aiosqlite:///thidua.db"
    assert env.http_listen == "0.0.0.0:8080" and env.config_path() == Path("config.yaml")


def test_http_listen_and_its_older_name(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("THIDUA_WEBHOOK_LISTEN", "127.0.0.1:9000")
    assert Environment.load().http_listen == "127.0.0.1:9000"
    clean.setenv("THIDUA_HTTP_LISTEN", "127.0.0.1:9100")  # the name in DESIGN.md wins
    assert Environment.load().http_listen == "127.0.0.1:9100"


def test_secrets_never_show(clean: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    clean.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean.setenv("THIDUA_WEBHOOK_SECRET", "hook-secret-42")
    clean.setenv("THIDUA_DATABASE_URL", "postgresql+asyncpg://thidua:db-pass-7@db/thidua")
    env = Environment.load()
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("starting with %s / %r", env, env)
        logging.getLogger("test").info("token %s", env.telegram_bot_token)
    shown = [repr(env), str(env), f"{env}", str(env.telegram_bot_token),
             repr(env.webhook_secret), env.model_dump_json(), caplog.text]
    for text in shown:
        assert TOKEN not in text and TOKEN.split(":")[1] not in text
        assert "hook-secret-42" not in text
    assert "**********" in repr(env)
    assert "db-pass-7" not in repr(env) and "thidua:***@db" in repr(env)
    assert "db-pass-7" not in caplog.text


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("THIDUA_DATABASE_URL", "postgresql://thidua:pw-in-url@db/thidua",
     "THIDUA_DATABASE_URL: needs an async driver: sqlite+aiosqlite or postgresql+asyncpg, "
     "got 'postgresql'"),
    ("THIDUA_DATABASE_URL", "not a url pw-in-url", "THIDUA_DATABASE_URL: not a database URL"),
    ("TELEGRAM_API_BASE_URL", "api.telegram.org/bot",
     "TELEGRAM_API_BASE_URL: should start with https:// or http://, got 'api.telegram.org/bot'"),
])
def test_a_bad_value_names_the_variable(clean: pytest.MonkeyPatch, name: str, value: str,
                                        problem: str) -> None:
    clean.setenv(name, value)
    with pytest.raises(InvalidEnvironment) as info:
        Environment.load()
    assert str(info.value).startswith(problem)
    assert "pw-in-url" not in str(info.value)  # a URL may hold a password: never echoed


def test_the_cli_stops_on_a_bad_value(clean: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    clean.setenv("THIDUA_DATABASE_URL", "sqlite:///thidua.db")
    assert main(["--config", str(CONFIG), "db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Invalid environment:\nTHIDUA_DATABASE_URL: needs an async driver")


def test_only_bot_settings_reads_the_environment() -> None:
    """The runtime gets its values passed down; no module reads the environment itself."""
    readers = [path.relative_to(ROOT).as_posix()
               for package in ("bot", "handlers", "scheduler", "reporting", "models")
               for path in (ROOT / package).rglob("*.py")
               if re.search(r"\bos\.environ\b|\bgetenv\(|from os import", path.read_text("utf-8"))]
    assert readers == []


# --- where the config is read from -----------------------------------------------------


def test_config_path_explicit_beats_environment(clean: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    clean.setenv("THIDUA_CONFIG", str(tmp_path / "env.yaml"))
    env = Environment.load()
    assert env.config_path(tmp_path / "explicit.yaml") == tmp_path / "explicit.yaml"
    assert env.config_path(str(tmp_path / "explicit.yaml")) == tmp_path / "explicit.yaml"


def test_config_path_environment_beats_default(clean: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    clean.setenv("THIDUA_CONFIG", str(tmp_path / "env.yaml"))
    assert Environment.load().config_path() == tmp_path / "env.yaml"
    assert Environment.load().config_path(None) == tmp_path / "env.yaml"


def test_config_path_defaults_to_config_yaml_in_working_directory(
        clean: pytest.MonkeyPatch) -> None:
    assert Environment.load().config_path() == Path("config.yaml")
    clean.setenv("THIDUA_CONFIG", "")  # set but empty: as if unset
    assert Environment.load().config_path() == Path("config.yaml")


def test_load_settings_follows_the_same_precedence(clean: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    def ward_named(name: str) -> Path:
        raw = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
        raw["ward"]["name"] = name
        (tmp_path / name).mkdir()
        path = tmp_path / name / "config.yaml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        return path

    cwd_file, env_file, explicit_file = ward_named("cwd"), ward_named("env"), ward_named("x")
    clean.chdir(cwd_file.parent)

    def ward(explicit: Path | None = None) -> str:
        return load_settings(Environment.load().config_path(explicit)).ward.name

    assert ward() == "cwd"
    clean.setenv("THIDUA_CONFIG", str(env_file))
    assert ward() == "env"
    assert ward(explicit_file) == "x"
