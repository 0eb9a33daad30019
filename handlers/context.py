"""The services a handler may use, and the per-message context it is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.texts import Texts, texts
from handlers.types import Incoming
from models.db import Sessions
from models.members import Group, Member
from reporting.config import Settings


def system_clock() -> datetime:
    return datetime.now(UTC)


class FileFetcher(Protocol):
    """Downloads a file a user sent on a channel (e.g. Telegram's getFile)."""

    async def __call__(self, file_id: str, max_bytes: int) -> bytes: ...


class FileTooLarge(Exception):
    pass


@dataclass
class Services:
    settings: Settings
    sessions: Sessions
    clock: Callable[[], datetime] = system_clock
    bot_username: str | None = None
    texts: Texts | None = None
    # Set by each running channel, so handlers can keep copies of users' photos.
    fetchers: dict[str, FileFetcher] = field(default_factory=dict)
    media_dir: Path | None = None  # default: config's good_deeds.media_dir

    @property
    def media(self) -> Path:
        return self.media_dir or Path(self.settings.good_deeds.media_dir)

    def t(self, key: str, lang: str, **ctx: Any) -> str:
        return (self.texts or texts())(key, lang, **ctx)


@dataclass
class Ctx:
    """One incoming event being handled inside one database transaction."""

    app: Services
    session: AsyncSession
    inc: Incoming
    member: Member | None
    group: Group | None
    now: datetime

    @property
    def lang(self) -> str:
        if self.member is not None:
            return self.member.language
        return self.app.settings.ward.language

    @property
    def today(self) -> date:
        return self.now.astimezone(self.app.settings.ward.tz).date()

    def t(self, key: str, **ctx: Any) -> str:
        return self.app.t(key, self.lang, **ctx)
