"""Files the bot makes or keeps (digest charts, good-deed photos), stored in the database.

An outbox row may be sent by any sender on any host, so the files it refers to cannot
live on the disk of the instance that enqueued it: a chart is written here in the same
transaction as the outbox rows that send it, and the sender reads the bytes just before
sending (never when claiming: a batch of rows must not pull a batch of blobs).

A channel that keeps uploaded files (Telegram's `file_id`) lets the second recipient
get the file by reference: `media_file_ids` remembers one id per channel. Any sender may
record it; whichever insert comes first wins, and every recorded id is as good as another.

Rows that nothing refers to any more are pruned after a while (`prune`): a good-deed
photo is referred to by its `good_deed_photos` row, a chart by the outbox rows still
waiting to send it.

A medium may also be offered as a link (`bot.media_links`, for channels that cannot
take files): a link never outlives `RETENTION` from the medium's creation, which is
as long as `prune` is ever asked to keep an unreferenced medium, so a link that still
works always finds its file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, dialect_insert
from models.deeds import DeedPhoto
from models.outbox import OutboxMessage, OutboxStatus


class Media(Base):
    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # chart, photo…: for operators
    content_type: Mapped[str] = mapped_column(String(255))  # 0011: an xlsx type is 65
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    # Deferred: listing or pruning media never loads the bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(index=True)


class MediaFileId(Base):
    """A channel's own reference to a medium it has already received from us."""

    __tablename__ = "media_file_ids"
    __table_args__ = (UniqueConstraint("media_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(255))


# How long an unreferenced medium is kept (the scheduler prunes with this), and so
# the longest a link to it may work.
RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class Content:
    """What a sender needs of a medium: its bytes and name, or the channel's reference."""

    filename: str
    data: bytes | None = None
    file_id: str | None = None


async def store(session: AsyncSession, *, kind: str, filename: str, content_type: str,
                data: bytes, now: datetime) -> int:
    """Keep `data`; return the id to refer to it by (in the caller's transaction)."""
    medium = Media(kind=kind, filename=filename, content_type=content_type, size=len(data),
                   data=data, created_at=now)
    session.add(medium)
    await session.flush()
    return medium.id


async def content(session: AsyncSession, media_id: int, channel: str) -> Content | None:
    """The channel's file id when it has one, else the bytes; None if the row is gone."""
    row = (await session.execute(
        select(Media.filename, MediaFileId.file_id)
        .outerjoin(MediaFileId, (MediaFileId.media_id == Media.id)
                   & (MediaFileId.channel == channel))
        .where(Media.id == media_id))).first()
    if row is None:
        return None
    filename, file_id = row
    if file_id is not None:
        return Content(filename, file_id=file_id)
    data = await session.scalar(select(Media.data).where(Media.id == media_id))
    if data is None:  # pruned between the two reads
        return None
    return Content(filename, data=bytes(data))


@dataclass(frozen=True)
class Served:
    """A medium as the HTTP server sends it."""

    filename: str
    content_type: str
    data: bytes


async def created_at(session: AsyncSession, media_id: int) -> datetime | None:
    """When the medium was stored; None if it is gone (no bytes are read)."""
    return await session.scalar(select(Media.created_at).where(Media.id == media_id))


async def served(session: AsyncSession, media_id: int) -> Served | None:
    """The medium's bytes, name and type, or None if it is gone."""
    row = (await session.execute(
        select(Media.filename, Media.content_type, Media.data)
        .where(Media.id == media_id))).first()
    if row is None:
        return None
    return Served(row.filename, row.content_type, bytes(row.data))


async def remember_file_id(session: AsyncSession, media_id: int, channel: str,
                           file_id: str) -> None:
    """Record the channel's reference to an uploaded medium (the first one recorded stays)."""
    insert = dialect_insert(session.get_bind().dialect.name)
    await session.execute(insert(MediaFileId).values(
        media_id=media_id, channel=channel, file_id=file_id[:255])
        .on_conflict_do_nothing(index_elements=["media_id", "channel"]))


def referenced_ids(payload: dict[str, Any]) -> set[int]:
    """The media an outbox payload refers to."""
    found = set()
    for att in payload.get("attachments") or ():
        if isinstance(att, dict) and isinstance(att.get("media_id"), int):
            found.add(att["media_id"])
    return found


async def prune(session: AsyncSession, created_before: datetime) -> int:
    """Delete media made before `created_before` that no deed photo and no unfinished
    outbox row refers to. Returns how many went.

    Unfinished rows are few (the outbox drains in minutes), so their payloads are read
    here rather than indexing every reference: rows already sent or failed keep nothing.
    """
    waiting: set[int] = set()
    payloads = await session.scalars(select(OutboxMessage.payload).where(
        OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])))
    for body in payloads:
        waiting |= referenced_ids(body)
    candidates = set(await session.scalars(
        select(Media.id).where(Media.created_at < created_before)
        .where(~select(DeedPhoto.id).where(DeedPhoto.media_id == Media.id).exists())))
    gone = sorted(candidates - waiting)
    for chunk in _chunks(gone, 500):
        await session.execute(delete(MediaFileId).where(MediaFileId.media_id.in_(chunk)))
        await session.execute(delete(Media).where(Media.id.in_(chunk)))
    return len(gone)


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
