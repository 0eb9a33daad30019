"""The services every handler and job shares: settings, sessions, clock, texts, files.

It sits below `handlers/` and `scheduler/` (both use it, neither owns it); each running
channel registers how to fetch the files its users send.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from models.db import Sessions
from models.invites import InviteKey
from reporting.config import Settings
from reporting.messages import DEFAULT_LIMITS, ChannelLimits

if TYPE_CHECKING:
    # The templates (Jinja2) are loaded by the first text asked for (`t`): a command that
    # only opens the services to write a file (`thidua export`) says nothing.
    from reporting.texts import Texts


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
    # Set by each running channel: what it accepts (text length, captions, buttons).
    limits: dict[str, ChannelLimits] = field(default_factory=dict)
    # Set by the composition root (bot.assembly.open_services): THIDUA_SECRET_KEY or
    # the database's own key. None only where no invite is ever made or checked.
    invite_key: InviteKey | None = field(default=None, repr=False)
    # THIDUA_PUBLIC_URL: the https address of our HTTP server as users reach it; None
    # when files cannot be offered as links (`bot.media_links`). Links live `link_ttl`.
    public_url: str | None = None
    link_ttl: timedelta = timedelta(days=7)
    # The runtime's heartbeats and metrics (`bot.telemetry.Telemetry`, reached through
    # `bot.telemetry.of`): carried here because every channel and loop gets `Services`,
    # typed loosely because what is measured is the runtime's business, not this layer's.
    telemetry: object | None = field(default=None, repr=False)

    def strictest_limits(self) -> ChannelLimits:
        """What every running channel accepts: a broadcast must fit all of them."""
        if not self.limits:
            return DEFAULT_LIMITS
        return ChannelLimits(
            max_text=min(lim.max_text for lim in self.limits.values()),
            max_caption=min(lim.max_caption for lim in self.limits.values()),
            buttons=all(lim.buttons for lim in self.limits.values()),
            edits=all(lim.edits for lim in self.limits.values()),
            files=all(lim.files for lim in self.limits.values()))

    @property
    def invites(self) -> InviteKey:
        """The invite key; a services object without one cannot handle codes."""
        if self.invite_key is None:
            raise RuntimeError("no invite key: open services with bot.assembly.open_services")
        return self.invite_key

    @property
    def media(self) -> Path:
        return self.media_dir or Path(self.settings.good_deeds.media_dir)

    def t(self, key: str, lang: str, *, read_on: str | None = None, **ctx: Any) -> str:
        """`read_on`: the channel the text is read on (a proactive message's route),
        so it speaks of buttons only where there are some; None: Telegram's wording."""
        if read_on is not None:
            limits = self.limits.get(read_on, DEFAULT_LIMITS)
            ctx.setdefault("buttons", limits.buttons)
            ctx.setdefault("edits", limits.edits)
        if self.texts is not None:
            return self.texts(key, lang, **ctx)
        from reporting.texts import texts

        return texts()(key, lang, **ctx)
