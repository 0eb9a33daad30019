"""Groups, members, their identities on each channel, and invitations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Role(StrEnum):
    LEADER = "leader"
    COUNCIL = "council"
    ADMIN = "admin"


# Who reads the ward's figures and gets the digest: the Council and the admins.
COUNCIL_ROLES = (Role.COUNCIL, Role.ADMIN)


class Group(Base):
    """A residential group (tổ dân phố or bản); mirrors config, keyed by its code."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # In config's `groups:` today. A group ended by a merge or split (`group_changes:`)
    # is not, but still owns the months in [valid_from, valid_until): see
    # `models.group_history`.
    active: Mapped[bool] = mapped_column(default=True)
    # Period keys ("2022-07"): the first month the group reports, and the first it no
    # longer does. None: since always, until further notice.
    valid_from: Mapped[str | None] = mapped_column(String(7), default=None)
    valid_until: Mapped[str | None] = mapped_column(String(7), default=None)


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(16))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="vi")
    # Their own form of address ("bác"), instead of their role's from config.
    address: Mapped[str | None] = mapped_column(String(30), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    # Why and since when an admin deactivated the member (`models.roster`); their
    # reports, answers and deeds keep pointing at this row.
    inactive_since: Mapped[datetime | None] = mapped_column(default=None)
    inactive_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    # Set when a channel reports the member blocked the bot; cleared when they write again.
    unreachable: Mapped[bool] = mapped_column(default=False)
    # Where proactive messages go when the member has identities on several channels:
    # a channel name, or None for "auto" (the channel they last wrote on).
    channel_choice: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime]


class Identity(Base):
    """A member's account on one channel (Telegram now, Zalo and console too)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"),
                                           index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    # Where proactive messages go (for Telegram, the private chat id).
    chat_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # When the member last wrote from this identity (to the minute or so: see
    # `models.queries.LAST_USED_GRAIN`); "auto" routing picks the latest.
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    # The channel said this account cannot be reached (blocked, deleted): messages go
    # to the member's other identity, if any. Cleared when they write from it again.
    unreachable: Mapped[bool] = mapped_column(default=False)


class HashScheme(StrEnum):
    """How an invite's `code_hash` was made (see models.invites)."""

    SHA256 = "sha256"  # rows made before keyed hashes: accepted until used or expired
    HMAC = "hmac"  # HMAC-SHA256 under the installation's invite key


class Invite(Base):
    """A one-time registration code. Only a hash of it is stored, never the code."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Rows older than migration 0008 have no scheme written: they are plain SHA-256.
    hash_scheme: Mapped[HashScheme] = mapped_column(String(16), server_default="sha256")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    role: Mapped[Role] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # A link code (`/lienket`): redeeming it adds the redeemer's identity to this
    # existing member instead of registering a new one.
    link_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), default=None)
    # A handover (`/moi to-1 thay #12`): registering with this code deactivates that
    # member in the same transaction, so the group never has two leaders or none.
    replaces_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None)
    # The admin who made the code in chat (`/moi`); None for `thidua invite` and for
    # codes made before 0016. Part of that admin's personal-data record.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"), default=None)


class CodeAttempt(Base):
    """A wrong registration code, for the per-user and the overall limit on guesses."""

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_who", "channel", "external_id", "at"),
                      Index("ix_code_attempts_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
