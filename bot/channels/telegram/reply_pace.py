"""The parts of one interactive reply, paced for their chat and a 429 waited out.

A reply can be several messages (the broadcast preview and its "Gửi" message, a chart
and its text, a long summary in parts). Telegram allows about one message a second to
a chat; sent back to back, the later parts drew a 429 and were lost. So within a reply
the first part goes at once and each later message an interval after the previous one
finished (an edit in place is not a message and is not paced), and a 429 is waited out
(`retry_after`) and the same part sent again, a few times at most. Pacing spans one
reply only: a person typing is never held back, and a reply that does meet the
previous one's slot is saved by the 429 retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import Message
from telegram.error import RetryAfter

from bot.channels.telegram.render import Call, retry_seconds

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# How often one part is tried on 429s before the rest of the reply is given up.
ATTEMPTS = 4
# A flood wait longer than this is not sat out in an interactive reply: the chat's
# later updates would wait behind it, and the person has long given up on the answer.
MAX_WAIT = 60.0


class ReplyPace:
    """Runs the calls of one reply to one chat (a `render` runner, reusable across the
    reply's messages so the pace spans all of them)."""

    def __init__(self, interval: float, *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._free_at: float | None = None  # None: nothing of this reply sent yet

    async def __call__(self, call: Call, first: bool = False) -> Message | bool:
        # `first` (whether this message has begun) does not matter here: unlike an
        # outbox row, a reply is never handed back to be sent again from the start.
        for attempt in range(1, ATTEMPTS + 1):
            if self._free_at is not None:
                wait = self._free_at - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            try:
                return await call()
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                if attempt == ATTEMPTS or seconds > MAX_WAIT:
                    raise
                # Telegram counts the wait from its answer: the part goes again after it.
                self._free_at = self._clock() + seconds
            finally:
                if not _edits(call):
                    self._free_at = max(self._free_at or 0.0, self._clock() + self._interval)
        raise AssertionError("unreachable")


def _edits(call: Call) -> bool:
    """Whether the call edits a message in place. Edits are not new messages, which is
    what the per-chat limit counts: the pressed message edited and the next question
    sent go together, as before."""
    func = getattr(call, "func", None)  # `render` hands over `functools.partial`s
    return getattr(func, "__name__", "").startswith("edit_message")
