"""The update queue behind ``getUpdates`` and the webhook pusher.

Zalo's ``getUpdates`` differs from Telegram's on purpose-relevant points, and the fake
keeps to Zalo's: one call returns **one** update object (not a list), updates carry no
``update_id`` and the call takes no ``offset``. There is no confirmation either: an update
handed out is gone, so an answer lost on the way (a dropped connection, a client crash
before it stored the update) loses the update. A long poll that sees nothing within
``timeout`` seconds answers ``error_code`` 408.

A newer ``getUpdates`` ends a waiting older one with 409, as Telegram does, so two
pollers on one token show up in tests instead of silently sharing the updates.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .errors import CONFLICT, NO_UPDATE, ZaloError


class Pulse:
    """Wake every waiter when something changes (a fresh event per generation)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake all current waiters."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Until the next :meth:`fire` or ``seconds``, whichever comes first."""
        event = self._event
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


class UpdateQueue:
    """Updates waiting for the bot, handed out once each, oldest first."""

    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._pulse = Pulse()
        self._generation = 0
        self._closed = False
        self.handed_out: list[dict[str, Any]] = []
        """Every update given to the bot by ``getUpdates``, in order."""

    @property
    def pending(self) -> list[dict[str, Any]]:
        """A copy of the updates not yet handed out."""
        return list(self._pending)

    def put(self, update: dict[str, Any]) -> None:
        """Queue an update and wake a waiting poll or the webhook pusher."""
        self._pending.append(update)
        self._pulse.fire()

    def take(self) -> dict[str, Any] | None:
        """Remove and return the oldest update (the webhook pusher's side)."""
        return self._pending.pop(0) if self._pending else None

    def push_front(self, update: dict[str, Any]) -> None:
        """Put an update back at the head (a webhook delivery that must be retried)."""
        self._pending.insert(0, update)
        self._pulse.fire()

    async def changed(self, seconds: float) -> None:
        """Wait until something is queued (or ``seconds`` pass)."""
        await self._pulse.wait(seconds)

    def close(self) -> None:
        """Release every waiting poll (server shutdown)."""
        self._closed = True
        self._pulse.fire()

    def reopen(self) -> None:
        """Serve polls again after :meth:`close`."""
        self._closed = False

    async def poll(self, seconds: float) -> dict[str, Any]:
        """Serve one ``getUpdates``: the oldest update, or 408 after ``seconds``."""
        self._generation += 1
        mine = self._generation
        self._pulse.fire()  # an older poll notices it has been superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, seconds)
        while True:
            if mine != self._generation:
                raise ZaloError(CONFLICT, "Conflict: terminated by a newer getUpdates request; "
                                          "make sure only one bot instance polls")
            if self._pending:
                update = self._pending.pop(0)
                self.handed_out.append(update)
                return update
            remaining = deadline - loop.time()
            if self._closed or remaining <= 0:
                raise ZaloError(NO_UPDATE)
            await self._pulse.wait(remaining)
