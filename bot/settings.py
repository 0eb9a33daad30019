"""The process environment, read once and typed: the only module that knows the variables.

The CLI (`bot.cli`) reads an `Environment` at start and hands it down; the composition
root (`bot.assembly`, `bot.subcommands`) turns it into plain parameters (a database URL,
a media directory, a token). Nothing below `bot/` reads the environment itself, so a
test or a second entry point can run any part with explicit values.

Rules kept from the scattered reads this replaces:
- a variable set to the empty string counts as unset (`X=` in a unit file or a compose
  file must not mean "an empty token" or "a database called ''");
- names are exact (case-sensitive), as they were;
- no `.env` file is read: the environment is what the service manager gives us.
Secrets (the bot token, the webhook secret, the invite key) are `SecretStr`: their repr and str show
`**********`, and a mistake in them is reported without their value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///thidua.db"
# Kept equal to bot.channels.telegram.application.DEFAULT_API (a test checks it); not
# imported from there so that reading the settings does not import PTB.
DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
# Kept equal to bot.channels.zalo.client.DEFAULT_API (a test checks it).
DEFAULT_ZALO_API = "https://bot-api.zapps.me/bot"
DEFAULT_LISTEN = "0.0.0.0:8080"  # the HTTP server must listen beyond loopback
# The engine is async: a URL without an async driver fails late and obscurely.
ASYNC_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class InvalidEnvironment(Exception):
    """An environment variable has a value the bot cannot use, one `NAME: reason` a line."""


class Environment(BaseSettings):
    """Every environment variable the bot reads (README, "Environment")."""

    model_config = SettingsConfigDict(
        case_sensitive=True,
        env_ignore_empty=True,
        frozen=True,
        # Tests and callers may build one by field name: Environment(database_url=...).
        populate_by_name=True,
        # A validation error must never echo a value: it may be a token or a password.
        hide_input_in_errors=True,
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(
        default=DEFAULT_TELEGRAM_API, validation_alias="TELEGRAM_API_BASE_URL")
    # Zalo: `<bot_id>:<secret>`; the channel runs when it is set (with or without Telegram).
    zalo_bot_token: SecretStr | None = Field(default=None, validation_alias="ZALO_BOT_TOKEN")
    zalo_api_base_url: str = Field(default=DEFAULT_ZALO_API, validation_alias="ZALO_API_BASE_URL")
    # With `run --webhook`: Zalo's own push URL and secret (8–256 characters).
    zalo_webhook_url: str | None = Field(default=None, validation_alias="ZALO_WEBHOOK_URL")
    zalo_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="ZALO_WEBHOOK_SECRET")
    # Until one HTTP server carries every channel's route: where Zalo's listens when
    # Telegram's webhook already holds THIDUA_HTTP_LISTEN (else that one is used).
    zalo_webhook_listen: str | None = Field(
        default=None, validation_alias="ZALO_WEBHOOK_LISTEN")
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, validation_alias="THIDUA_DATABASE_URL")
    # config.yaml's path when no --config is given (else ./config.yaml).
    config: Path | None = Field(default=None, validation_alias="THIDUA_CONFIG")
    # Where good-deed photos are copied (else config's good_deeds.media_dir).
    media_dir: Path | None = Field(default=None, validation_alias="THIDUA_MEDIA_DIR")
    # With `run --webhook` (checked there, with messages naming the variable):
    webhook_url: str | None = Field(default=None, validation_alias="THIDUA_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="THIDUA_WEBHOOK_SECRET")
    # The key of invite codes' HMAC (models.invites). Unset: a random key is made once
    # and kept in the database. Changing it invalidates the codes not yet used.
    secret_key: SecretStr | None = Field(
        default=None, validation_alias="THIDUA_SECRET_KEY", min_length=16)
    # host:port of the bot's HTTP server. THIDUA_HTTP_LISTEN is the name in DESIGN §5;
    # THIDUA_WEBHOOK_LISTEN, the older name, stays an alias (the first one set wins).
    http_listen: str = Field(
        default=DEFAULT_LISTEN,
        validation_alias=AliasChoices("THIDUA_HTTP_LISTEN", "THIDUA_WEBHOOK_LISTEN"))

    # The https address users' links point to (files by link: `bot.media_links`), e.g.
    # https://thidua.example.vn; with it the HTTP server runs in polling mode too.
    public_url: str | None = Field(default=None, validation_alias="THIDUA_PUBLIC_URL")
    # How long a file link works. At most 30 days: media are kept that long
    # (`models.media.RETENTION`), and a link must not outlive its file.
    link_days: int = Field(default=7, ge=1, le=30, validation_alias="THIDUA_LINK_DAYS")
    # `json`: one JSON object per log line (time, level, logger, message, exception) for
    # a log collector; `text` (default): the usual readable lines.
    log_format: Literal["text", "json"] = Field(default="text",
                                                validation_alias="THIDUA_LOG_FORMAT")
    # Errors also go to Sentry when set (needs the `sentry` extra: sentry-sdk).
    sentry_dsn: SecretStr | None = Field(default=None, validation_alias="SENTRY_DSN")

    @classmethod
    def load(cls) -> Environment:
        """Read the process environment, or say in one line per variable what is wrong."""
        try:
            return cls()
        except ValidationError as exc:
            raise InvalidEnvironment("\n".join(_describe(err) for err in exc.errors())) from None

    @field_validator("database_url")
    @classmethod
    def _async_database(cls, value: str) -> str:
        # The value is not repeated in the message: the URL may hold a password.
        example = f"e.g. {DEFAULT_DATABASE_URL} or postgresql+asyncpg://user@host/db"
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL ({example})") from None
        if url.drivername not in ASYNC_DRIVERS:
            raise ValueError(f"needs an async driver: {' or '.join(ASYNC_DRIVERS)}, "
                             f"got {url.drivername!r} ({example})")
        return value

    @field_validator("telegram_api_base_url", "zalo_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"should start with https:// or http://, got {value!r} "
                             f"(default {DEFAULT_TELEGRAM_API})")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Plain http only on this machine (tests, a demo): links carry users' files.
        local = value.startswith(("http://127.", "http://localhost"))
        if not value.startswith("https://") and not local:
            raise ValueError(f"should be the public https:// address, got {value!r}")
        return value.rstrip("/")

    @property
    def http_listen_given(self) -> bool:
        """THIDUA_HTTP_LISTEN (or its older name) was set: the HTTP server runs, with
        /healthz and /metrics, in polling mode too."""
        return "http_listen" in self.model_fields_set

    @property
    def token(self) -> str | None:
        """The bot token in clear, for handing to the messenger's client; never log it."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None

    @property
    def zalo_token(self) -> str | None:
        """The Zalo bot token in clear, for the Zalo client only; never log it."""
        return self.zalo_bot_token.get_secret_value() if self.zalo_bot_token else None

    @property
    def secret_values(self) -> list[str]:
        """Every secret in clear, for bot.redact to keep out of logs."""
        found = (self.telegram_bot_token, self.webhook_secret, self.secret_key,
                 self.zalo_bot_token, self.zalo_webhook_secret, self.sentry_dsn)
        return [s.get_secret_value() for s in found if s is not None]

    def config_path(self, explicit: str | Path | None = None) -> Path:
        """`--config PATH`, else THIDUA_CONFIG, else ./config.yaml."""
        return Path(explicit) if explicit else self.config or Path("config.yaml")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # A PostgreSQL URL may carry a password: show it masked, like SecretStr does.
        for name, value in super().__repr_args__():
            if name == "database_url":
                value = make_url(value).render_as_string(hide_password=True)
            yield name, value


def _describe(err: ErrorDetails) -> str:
    """`THIDUA_DATABASE_URL: needs an async driver: ...`, never the value itself."""
    name = ".".join(str(part) for part in err["loc"]) or "environment"
    return f"{name}: {str(err['msg']).removeprefix('Value error, ')}"
