"""Reaching a messenger at start: retry while it cannot be reached, then give up clearly.

A server that boots before its network (or during a Bot API outage) should not crash
into a restart loop with a traceback: each attempt that fails with
`ChannelUnreachable` is logged as one line and tried again after 1, 2, 4, 8… seconds,
until `total` seconds (config `bot.start_retry_seconds`) have passed, or SIGTERM sets
`stop`; then the last error goes up for the CLI to print as one line (exit 3). A refused token
(`ChannelAuthError`) is never retried: trying again cannot fix it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.channels.base import ChannelUnreachable

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY = 1.0


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def keep_trying(attempt: Callable[[], Awaitable[T]], *, total: float, what: str,
                      stop: asyncio.Event | None = None,
                      clock: Callable[[], float] = time.monotonic,
                      pause: Callable[[asyncio.Event, float], Awaitable[None]] = _pause) -> T:
    """`await attempt()`, again with backoff while it raises `ChannelUnreachable`."""
    stop = stop or asyncio.Event()
    deadline = clock() + total
    delay = FIRST_DELAY
    tries = 1
    while True:
        try:
            return await attempt()
        except ChannelUnreachable as exc:
            left = deadline - clock()
            if left <= 0 or stop.is_set():
                raise ChannelUnreachable(f"{exc} (gave up after {tries} tries)") from None
            wait = min(delay, left)
            log.warning("%s: %s; trying again in %g s", what, exc, wait)
            await pause(stop, wait)
            delay *= 2
            tries += 1
