"""Secrets the installation makes for itself, kept in the database (`app_secrets`).

The invite key is the first: when THIDUA_SECRET_KEY is not set, one random key is
made by whichever instance starts first and read by every other, so codes created by
`thidua invite` on one host are recognised by the bot on another. The value is never
in a repr; the caller keeps it out of logs (bot.redact) before it is written or read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, dialect_insert

INVITE_KEY = "invite_hmac"


class AppSecret(Base):
    """One named secret of this installation (hex text)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"AppSecret(name={self.name!r}, value='**********')"


async def stored_secret(session: AsyncSession, name: str, candidate: str,
                        now: datetime) -> str:
    """The secret called `name`; `candidate` becomes it if there is none yet.

    Insert-or-ignore then read: two instances starting together agree on one value.
    """
    insert = dialect_insert(session.get_bind().dialect.name)
    await session.execute(insert(AppSecret)
                          .values(name=name, value=candidate, created_at=now)
                          .on_conflict_do_nothing(index_elements=[AppSecret.name]))
    value = await session.scalar(select(AppSecret.value).where(AppSecret.name == name))
    assert value is not None
    return value
