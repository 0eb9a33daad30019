"""Good-deed examples (gương người tốt, việc tốt) and the Council's review of them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class DeedStatus(StrEnum):
    DRAFT = "draft"  # still being told by the leader
    NEW = "new"  # submitted, not reviewed
    FEATURED = "featured"  # to appear in the digest
    PROPOSED = "proposed"  # proposed for commendation
    NOT_NOW = "not_now"


class GoodDeed(Base):
    __tablename__ = "good_deeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    reported_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    subject_kind: Mapped[str | None] = mapped_column(String(16))  # person | collective
    subject_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    happened_on: Mapped[date | None]
    category: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[DeedStatus] = mapped_column(String(16), default=DeedStatus.DRAFT, index=True)
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    reviewed_at: Mapped[datetime | None]


class DeedPhoto(Base):
    __tablename__ = "good_deed_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    deed_id: Mapped[int] = mapped_column(ForeignKey("good_deeds.id", ondelete="CASCADE"),
                                         index=True)
    channel: Mapped[str] = mapped_column(String(16))
    # Telegram file ids are short; a Zalo photo ref is its CDN URL, often long.
    file_id: Mapped[str] = mapped_column(String(2048))
    # The copy's name (good-deeds/<deed>/<n>.jpg); None when the download failed. Photos
    # kept before the copies moved to the database have their file under the media folder.
    local_path: Mapped[str | None] = mapped_column(String(255))
    # The copy in the database (`models.media`), readable by every instance; None when
    # the download failed, or for photos kept before the copies moved there.
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    size: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(default=0)
