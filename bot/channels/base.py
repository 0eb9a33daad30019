"""What a messenger implements to carry the bot: limits as data, a transport, errors.

A channel folder (telegram/, later zalo/) turns its updates into `Incoming`, hands them
to `handlers.router.handle`, and renders the `Outgoing` messages it gets back; the
outbox sender reaches members through the channel's `Transport`. Nothing outside a
channel folder talks to a messenger. See docs/adding-a-channel.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

__all__ = ["Channel", "ChannelAuthError", "ChannelLimits", "ChannelUnreachable",
           "DeliveryError", "Pace", "Transport"]

from reporting.messages import ChannelLimits, Outgoing
from reporting.services import Services

# Called before *each* API call of a send: a long text split in parts, or a photo
# followed by its text, is several calls as far as the messenger's limits go.
Pace = Callable[[], Awaitable[None]]


class DeliveryError(Exception):
    """A send failed. `permanent`: retrying cannot help (blocked, bad content);
    `unreachable`: the recipient cannot be reached at all (flag the member);
    `retry_after`: the channel asked us to slow down (seconds)."""

    def __init__(self, message: str, *, permanent: bool = False, unreachable: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent or unreachable
        self.unreachable = unreachable
        self.retry_after = retry_after


class ChannelAuthError(Exception):
    """The messenger refused to start the bot: a wrong or revoked token, or a setting
    it rejects (e.g. the webhook URL). Retrying cannot help.

    Its text never contains the token: callers print it as it is.
    """


class ChannelUnreachable(Exception):
    """The messenger could not be reached at start (network down, timeout, 5xx).

    Worth retrying (`bot.startup.keep_trying`); its text never contains the token.
    """


class Transport(Protocol):
    """How the outbox sender delivers one stored message on a channel."""

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        """Deliver `out` (or edit the message `out.edit`); return the last message id.

        Call `await pace()` before each API call.
        """
        ...


class Channel(Protocol):
    """A messenger as the composition root runs it (see `bot.channels.telegram`)."""

    name: str  # also `identities.channel` and `outbox.channel` of its members' rows
    limits: ChannelLimits

    def serve(self, services: Services) -> AbstractAsyncContextManager[Transport]:
        """Receive updates and answer them for the block; yield the outbox's transport."""
        ...
