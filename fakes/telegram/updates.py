"""The pending-update queue behind ``getUpdates`` long polling.

Semantics follow Telegram because the bot's correctness depends on them: an update stays
pending until the bot calls ``getUpdates`` with an ``offset`` greater than its id (that is
how python-telegram-bot confirms what it has processed), a long poll returns as soon as an
update is queued, and a second concurrent ``getUpdates`` terminates the first with 409
Conflict, which is exactly what happens when two bot instances run with one token.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .errors import ApiError

# Telegram delivers these only when asked for explicitly in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Pulse:
    """Wake every waiter when something changes, without busy polling.

    A fresh :class:`asyncio.Event` per generation lets many waiters share one signal and
    re-check their own condition after each change.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake all current waiters."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Sleep until the next :meth:`fire` or for ``seconds``, whichever comes first.

        The event is captured synchronously when the coroutine starts, so a caller that
        checks its condition and then awaits this cannot miss a change in between.
        """
        event = self._event
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


class UpdateQueue:
    """Updates waiting to be fetched, numbered the way Telegram numbers them."""

    def __init__(self, first_update_id: int = 1) -> None:
        self._pending: list[dict[str, Any]] = []
        self._next_id = first_update_id
        self._pulse = Pulse()
        self._generation = 0
        self._allowed: frozenset[str] | None = None
        self._closed = False
        self.delivered: dict[int, int] = {}
        """How many times each update id was returned by ``getUpdates`` (re-deliveries
        happen legitimately when a poll is cut off before its offset is confirmed)."""

    @property
    def pending(self) -> list[dict[str, Any]]:
        """A copy of the updates not yet confirmed by the bot."""
        return list(self._pending)

    def put(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update such as ``("message", {...})`` and wake any long poll."""
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self._pending.append(update)
        self._pulse.fire()
        return update

    def ack(self, update_id: int) -> None:
        """A webhook push was accepted: the update is delivered."""
        self._pending = [u for u in self._pending if u["update_id"] != update_id]
        self.delivered[update_id] = self.delivered.get(update_id, 0) + 1

    async def changed(self, seconds: float) -> None:
        """Wait until an update is queued (or `seconds` pass)."""
        await self._pulse.wait(seconds)

    def drop_all(self) -> None:
        """``deleteWebhook(drop_pending_updates=True)``."""
        self._pending.clear()

    def close(self) -> None:
        """Release every waiting long poll (server shutdown)."""
        self._closed = True
        self._pulse.fire()

    def reopen(self) -> None:
        """Allow long polling again after :meth:`close` (server restarted)."""
        self._closed = False

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:  # "-N": keep only the last N updates, forget older ones
            self._pending = self._pending[offset:]

    def _allowed_now(self) -> list[dict[str, Any]]:
        def allowed(update: dict[str, Any]) -> bool:
            kind = next(key for key in update if key != "update_id")
            if self._allowed is None:
                return kind not in _OPT_IN_UPDATES
            return kind in self._allowed

        self._pending = [u for u in self._pending if allowed(u)]
        return self._pending

    async def get(self, offset: int, limit: int, poll_seconds: float,
                  allowed_updates: list[str] | None) -> list[dict[str, Any]]:
        """Serve one ``getUpdates`` call, long-polling up to ``poll_seconds``."""
        if not 1 <= limit <= 100:
            limit = 100
        self._confirm(offset)
        if allowed_updates is not None:  # remembered across calls, as on Telegram
            self._allowed = frozenset(allowed_updates) or None
        self._generation += 1
        mine = self._generation
        self._pulse.fire()  # let an older poll notice it has been superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, poll_seconds)
        while True:
            if mine != self._generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure "
                                    "that only one bot instance is running")
            batch = self._allowed_now()[:limit]
            remaining = deadline - loop.time()
            if batch or self._closed or remaining <= 0:
                for update in batch:
                    uid = update["update_id"]
                    self.delivered[uid] = self.delivered.get(uid, 0) + 1
                return batch
            await self._pulse.wait(remaining)
