"""The year's sign-up (đăng ký thi đua): what each group commits to for the year."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Pledge(Base):
    """One group's commitments for one year, as its leader registered them.

    `titles` are the codes of the yes/no indicators the group aims to reach (config
    `signup.titles`: "cultured_group", "safe_area", "drug_free"); `households` the
    number of households registering for "Gia đình văn hóa". Registering again in the
    window replaces both (`updated_at` moves, `registered_at` stays).
    """

    __tablename__ = "pledges"
    __table_args__ = (UniqueConstraint("group_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    year: Mapped[int]
    titles: Mapped[list[str]] = mapped_column(JSON, default=list)
    households: Mapped[int | None]
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    registered_at: Mapped[datetime]
    updated_at: Mapped[datetime]
