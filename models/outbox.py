"""The transactional outbox: every proactive message is a row before it is a send.

A reminder, digest, broadcast or notice is written here in the same transaction as
the change that caused it; a sender drains the table within the channel's limits.
`dedupe_key` is unique, so enqueueing the same message twice (a job re-run, a second
instance) inserts nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; retried if it stays here past a timeout
    SENT = "sent"
    FAILED = "failed"  # permanent (blocked, chat not found) or out of attempts


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # reminder, digest, broadcast, notice…
    dedupe_key: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    # A serialised `reporting.messages.Outgoing` (text, options, edit target, attachments)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    status: Mapped[OutboxStatus] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    permanent: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Broadcast(Base):
    """A campaign message from an admin to an audience, tracked per recipient."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str | None] = mapped_column(Text)  # the admin's own words (escaped on render)
    photo: Mapped[str | None] = mapped_column(String(255))  # channel file id
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft, queued, done
    created_at: Mapped[datetime]
    queued_at: Mapped[datetime | None]
    # The admin's progress message, edited as delivery goes on.
    progress_channel: Mapped[str | None] = mapped_column(String(16))
    progress_chat_id: Mapped[str | None] = mapped_column(String(64))
    progress_message_id: Mapped[str | None] = mapped_column(String(64))
    progress_at: Mapped[datetime | None]


class JobRun(Base):
    """One scheduled job for one period key: the unique row is the claim."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(32))  # e.g. "2022-03", "2022-03:-2", "2022-W14"
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None]


class ReminderMute(Base):
    """A leader will not report this period (e.g. on leave): no reminders, reason shown."""

    __tablename__ = "reminder_mutes"
    __table_args__ = (UniqueConstraint("group_id", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    period_key: Mapped[str] = mapped_column(String(7))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
