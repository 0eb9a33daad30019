"""The inbox: every update a messenger sends us is a row before it is acknowledged.

A channel stores the raw update (Telegram's JSON, later Zalo's) and only then confirms
it: the webhook answers 200 after the commit, polling asks for the next offset after it.
`(channel, update_key)` is unique, so an update delivered twice is stored once; the
dispatcher (`bot.inbox`) marks a row done in the same transaction as the handler's
changes, with the reply it produced, and marks it replied once the reply is out.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class InboxState(StrEnum):
    NEW = "new"  # stored, not handled yet (or its handling was rolled back)
    DONE = "done"  # handled: the handler's changes and `reply` committed together


class InboxUpdate(Base):
    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "update_key"),
        Index("ix_inbox_pending", "state", "channel", "chat_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # arrival order: the order per chat
    channel: Mapped[str] = mapped_column(String(16))
    # Telegram: the update_id; Zalo: event name and message id. A string for both.
    update_key: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the update as the messenger sent it (JSON)
    received_at: Mapped[datetime]
    state: Mapped[InboxState] = mapped_column(String(8), default=InboxState.NEW)
    # A soft claim: who is handling the row; others leave it alone for a short lease.
    # Correctness does not rest on it (marking done is a compare-and-set), only effort.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)  # handlings rolled back by the database
    processed_at: Mapped[datetime | None]
    # The serialised reply (`bot.inbox.reply_json`), delivered after the commit.
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    replied_at: Mapped[datetime | None]
