"""The real bot against the fake Bot API: shared by `thidua demo` and end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

from telegram.ext import Application

from bot.channels.telegram.application import polling
from fakes.telegram import FakeBotApi
from reporting.services import Services


@dataclass
class BotStack:
    """A fake Telegram and the real PTB application polling it; restartable."""

    fake: FakeBotApi
    services: Services
    app: Application | None = None  # type: ignore[type-arg]
    _exit: AsyncExitStack = field(default_factory=AsyncExitStack)

    background: bool = False  # also run the outbox sender (not the scheduler)
    idle_sleep: float = 0.1  # the sender's: how long it waits when it finds nothing to do

    async def start(self) -> None:
        self._exit = AsyncExitStack()
        self.app = await self._exit.enter_async_context(
            polling(self.services, self.fake.token, self.fake.base_url, poll_timeout=1))
        if self.background:
            from bot.assembly import background

            await self._exit.enter_async_context(
                background(self.services, self.app.bot, scheduler=False,
                           idle_sleep=self.idle_sleep))

    async def stop(self) -> None:
        await self._exit.aclose()
        self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@asynccontextmanager
async def bot_stack(services: Services, fake: FakeBotApi, background: bool = False,
                    idle_sleep: float = 0.1) -> AsyncIterator[BotStack]:
    stack = BotStack(fake, services, background=background, idle_sleep=idle_sleep)
    await stack.start()
    try:
        yield stack
    finally:
        await stack.stop()
