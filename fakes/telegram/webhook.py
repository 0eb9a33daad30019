"""Webhook delivery for the fake Bot API: after ``setWebhook``, updates are POSTed.

Like Telegram, it sends each pending update to the URL as JSON with the
``X-Telegram-Bot-Api-Secret-Token`` header, in order, and keeps an update pending (and
retries it) until the bot answers 2xx. ``getUpdates`` is refused while a webhook is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp

from .updates import UpdateQueue

log = logging.getLogger(__name__)


class WebhookPusher:
    def __init__(self, updates: UpdateQueue) -> None:
        self._updates = updates
        self.url: str | None = None
        self.secret: str | None = None
        self.responses: list[int] = []  # HTTP status of every push, for tests
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def active(self) -> bool:
        return self.url is not None

    def set(self, url: str, secret: str | None) -> None:
        self.url, self.secret = url, secret
        self._stopping = False
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def delete(self) -> None:
        self.url = None
        await self.stop()

    async def stop(self) -> None:
        self._stopping = True  # asyncio.wait_for in 3.11 can swallow a cancel: ask twice
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            while self.url is not None and not self._stopping:
                pending = self._updates.pending
                if not pending:
                    await self._updates.changed(1.0)
                    continue
                update = pending[0]
                if await self._push(http, update):
                    self._updates.ack(update["update_id"])
                else:
                    await asyncio.sleep(0.2)  # Telegram retries too, with a growing delay

    async def _push(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> bool:
        assert self.url is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret} if self.secret else {}
        try:
            async with http.post(self.url, json=update, headers=headers) as response:
                self.responses.append(response.status)
                return 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("webhook push failed: %s", exc)
            self.responses.append(0)
            return False
