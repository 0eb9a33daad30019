"""The last numbered menu each chat was shown, on channels without buttons (Zalo).

A leader answers a numbered menu by typing "1" or the label; which option that means
depends on the last menu the bot sent to the chat. It lives here, not in memory, so a
restart or another instance (webhook mode behind a load balancer) reads the same menu.
One row per (channel, chat): the newest menu replaces the previous one; a reply
without options clears it, so a stale "1" is read as text, not as an old choice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, dialect_insert


class ChannelMenu(Base):
    __tablename__ = "channel_menus"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # [[label, data], ...] in the order they were numbered
    options: Mapped[list[Any]] = mapped_column(JSON)
    expects: Mapped[str | None] = mapped_column(String(16))  # "number": labels only
    shown_at: Mapped[datetime]


async def save_menu(session: AsyncSession, channel: str, chat_id: str,
                    options: list[tuple[str, str]], expects: str | None,
                    now: datetime) -> None:
    """Make `options` the chat's menu (an insert-or-update), or clear it when empty."""
    if not options:
        await session.execute(delete(ChannelMenu).where(
            ChannelMenu.channel == channel, ChannelMenu.chat_id == chat_id))
        return
    insert = dialect_insert(session.get_bind().dialect.name)
    values = {"options": [list(o) for o in options], "expects": expects, "shown_at": now}
    stmt = insert(ChannelMenu).values(channel=channel, chat_id=chat_id, **values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[ChannelMenu.channel, ChannelMenu.chat_id], set_=values))


async def load_menu(session: AsyncSession, channel: str,
                    chat_id: str) -> tuple[list[tuple[str, str]], str | None]:
    """The chat's menu as (label, data) pairs, and what it expects; ([], None) if none."""
    row = await session.scalar(select(ChannelMenu).where(
        ChannelMenu.channel == channel, ChannelMenu.chat_id == chat_id))
    if row is None:
        return [], None
    return [(str(label), str(data)) for label, data in row.options], row.expects
