"""How a `thidua` subcommand opens the services: the environment read once, then
`bot.assembly.open_services` with its values.

Its own module so that the commands writing files (`bot.file_commands`, members,
personal data) reach it without loading `bot.subcommands`, which runs the bot: its
imports (the HTTP server, the error reports and their metrics) are no part of
`thidua export`'s few seconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from bot.assembly import open_services
from bot.settings import Environment
from reporting.config import Settings
from reporting.services import Services


def environment(env: Environment | None) -> Environment:
    return env if env is not None else Environment.load()


@asynccontextmanager
async def cli_services(settings: Settings, env: Environment) -> AsyncIterator[Services]:
    secret_key = env.secret_key.get_secret_value() if env.secret_key else None
    async with open_services(settings, env.database_url, media_dir=env.media_dir,
                             secret_key=secret_key, public_url=env.public_url,
                             link_ttl=timedelta(days=env.link_days)) as services:
        yield services
