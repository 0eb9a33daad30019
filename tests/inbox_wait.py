"""Waiting for the bot's answer to one stored update, in tests of the inbox's channels.

The dispatcher notes a delivered reply (`replied_at`) late, with the next row it closes
or on its idle tick (one statement saved per answer, `bot.inbox`), so a test that waited
for `replied_at` waited a second or two per message. The row turning DONE is committed
just before the reply goes out, and it stores the reply: the test then waits for that
reply's first message to arrive (a channel may join or split its messages).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from models.inbox import InboxState, InboxUpdate
from reporting.services import Services


async def handled(services: Services, key: str, tries: int = 800) -> int:
    """Wait until the update stored under `key` is handled; how many messages its
    stored reply has (a channel may send them joined or in parts)."""
    for _ in range(tries):
        async with services.sessions() as s:
            row = (await s.execute(select(InboxUpdate.state, InboxUpdate.reply)
                                   .where(InboxUpdate.update_key == key))).first()
        if row is not None and row.state == InboxState.DONE:
            return len((row.reply or {}).get("messages") or [])
        await asyncio.sleep(0.025)
    raise AssertionError(f"update {key!r} was not handled")
