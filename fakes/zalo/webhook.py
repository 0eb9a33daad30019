"""Webhook delivery for the fake Zalo Bot API: after ``setWebhook``, updates are POSTed.

Each update is POSTed as JSON to the URL with the header ``X-Bot-Api-Secret-Token``, one
at a time, oldest first. Zalo has been seen to send two body shapes, so the fake can send
either or alternate between them (per POST):

* ``"wrapped"``: ``{"ok": true, "result": {"event_name": ..., "message": {...}}}``
* ``"bare"``: ``{"event_name": ..., "message": {...}}``

A non-2xx answer (or a failed connection) is retried after ``retry_delay`` seconds, up
to ``max_attempts`` POSTs in all; then the update is given up and listed in
:attr:`WebhookPusher.dropped`. :meth:`WebhookPusher.repeat_next` makes the next update
arrive again after it was accepted, as a real push sometimes does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from .updates import UpdateQueue

log = logging.getLogger(__name__)

Shape = Literal["wrapped", "bare", "alternate"]
SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


@dataclass
class Delivery:
    """One POST to the webhook; ``status`` 0 means the connection failed."""

    update: dict[str, Any]
    shape: Literal["wrapped", "bare"]
    status: int
    attempt: int
    repeat: bool


class WebhookPusher:
    """The webhook's settings and its delivery loop; reach it as ``FakeZaloApi.webhook``."""

    def __init__(self, updates: UpdateQueue, on_change: Callable[[], None]) -> None:
        self._updates = updates
        self._on_change = on_change
        self.url: str | None = None
        self.secret: str | None = None
        self.updated_at = 0
        """Milliseconds since the epoch of the last setWebhook/deleteWebhook."""
        self.shape: Shape = "wrapped"
        self.max_attempts = 4
        self.retry_delay = 0.2
        self.timeout = 10.0
        self.deliveries: list[Delivery] = []
        """Every POST, in order, with the bot's HTTP status."""
        self.dropped: list[dict[str, Any]] = []
        """Updates given up after ``max_attempts`` failed POSTs."""
        self._repeats = 0
        self._posts = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def active(self) -> bool:
        """Whether a webhook is set (``getUpdates`` is refused meanwhile)."""
        return self.url is not None

    @property
    def responses(self) -> list[int]:
        """The HTTP status of every POST (0: connection failed)."""
        return [delivery.status for delivery in self.deliveries]

    def repeat_next(self, times: int = 1) -> None:
        """Push the next accepted update ``times`` more times."""
        self._repeats += times

    def set(self, url: str, secret: str, now_ms: int) -> None:
        """Start (or retarget) delivery."""
        self.url, self.secret, self.updated_at = url, secret, now_ms
        self.resume()

    def resume(self) -> None:
        """(Re)start the delivery loop if a webhook is set (after the server restarts)."""
        self._stopping = False
        if self.url is not None and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def delete(self, now_ms: int) -> None:
        """Stop delivery; queued updates wait for ``getUpdates``."""
        self.url, self.secret, self.updated_at = None, None, now_ms
        await self.stop()

    async def stop(self) -> None:
        """Cancel the delivery loop (an update in flight goes back to the queue)."""
        # asyncio.wait_for in 3.11 can swallow a cancel, so the loop also checks a flag.
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as http:
            while self.url is not None and not self._stopping:
                update = self._updates.take()
                if update is None:
                    await self._updates.changed(1.0)
                    continue
                try:
                    delivered = await self._deliver(http, update, repeat=False)
                except asyncio.CancelledError:
                    self._updates.push_front(update)
                    raise
                if not delivered:
                    self.dropped.append(update)
                    continue
                while self._repeats > 0:
                    self._repeats -= 1
                    await self._deliver(http, update, repeat=True)

    async def _deliver(self, http: aiohttp.ClientSession, update: dict[str, Any],
                       repeat: bool) -> bool:
        for attempt in range(1, self.max_attempts + 1):
            if await self._post(http, update, attempt, repeat):
                return True
            if attempt < self.max_attempts:
                await asyncio.sleep(self.retry_delay)
        return False

    async def _post(self, http: aiohttp.ClientSession, update: dict[str, Any], attempt: int,
                    repeat: bool) -> bool:
        url, secret = self.url, self.secret
        if url is None or secret is None:
            raise asyncio.CancelledError  # deleted meanwhile: back to the queue
        shape = self._next_shape()
        body: dict[str, Any] = {"ok": True, "result": update} if shape == "wrapped" else update
        status = 0
        try:
            async with http.post(url, json=body, headers={SECRET_HEADER: secret}) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("webhook push failed: %s", exc)
        self.deliveries.append(Delivery(update, shape, status, attempt, repeat))
        self._on_change()
        return 200 <= status < 300

    def _next_shape(self) -> Literal["wrapped", "bare"]:
        self._posts += 1
        if self.shape == "alternate":
            return "wrapped" if self._posts % 2 == 1 else "bare"
        return self.shape
