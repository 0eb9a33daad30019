"""One sending allowance for every instance: Telegram's limits are per bot, not per process.

Each instance's in-memory `bot.limits.RateLimiter` keeps *its own* sends at 30/s; two
instances together would send 60/s and draw 429s. On PostgreSQL the pace is kept in two
small tables that every sender takes from, each in one atomic statement:

* `send_allowance`, a row per channel: `next_slot` is the earliest free send slot. Taking
  one is `next_slot = GREATEST(next_slot, now) + interval … RETURNING` — slots evenly
  spaced, like the in-memory limiter, booked by whichever instance asks, never twice.
  A 429 moves `next_slot` (and `paused_until`) past its `retry_after`: every instance waits.
* `send_chat_slots`, a row per chat: held by the sender that is sending to the chat, then
  free again a chat interval after that send *finished* (what Telegram measures). Two
  instances that claimed rows of one chat (two progress edits, say) take turns.

Time is the database's `clock_timestamp()`: instances whose clocks disagree still agree
on the slots. Only the waits (seconds) travel back to the callers. SQLite serves one
process, whose in-memory limiter is enough: these functions are PostgreSQL only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SendAllowance(Base):
    """The shared overall pace of one channel (PostgreSQL, several instances)."""

    __tablename__ = "send_allowance"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_slot: Mapped[datetime]  # the next free send slot, for whichever sender asks
    paused_until: Mapped[datetime | None]  # after a 429: nobody sends before this


class ChatSlot(Base):
    """When a chat may get its next message, across instances."""

    __tablename__ = "send_chat_slots"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # While a sender holds the chat: the end of its hold; then the chat's next free moment.
    free_at: Mapped[datetime] = mapped_column(index=True)


# Plain SQL: PostgreSQL's upsert with RETURNING and `clock_timestamp()` say it shortest.
# Every value is a bound parameter; seconds only ever go into `make_interval(secs => …)`,
# so asyncpg deduces one type (double precision) for a parameter used twice.
RETRY_SOON = 0.01  # seconds: a concurrent taker just changed the chat's row

_TAKE = text("""
INSERT INTO send_allowance AS a (channel, next_slot)
VALUES (:channel, clock_timestamp() + make_interval(secs => :interval))
ON CONFLICT (channel) DO UPDATE
SET next_slot = GREATEST(a.next_slot, clock_timestamp())
                + make_interval(secs => :interval)
RETURNING CAST(EXTRACT(EPOCH FROM a.next_slot - make_interval(secs => :interval)
                               - clock_timestamp()) AS double precision)
""")


async def take_slot(session: AsyncSession, channel: str, interval: float) -> float:
    """Book the next send slot on `channel` (slots `interval` seconds apart). Returns the
    seconds until it starts (≤ 0: now)."""
    return float((await session.execute(_TAKE, {"channel": channel,
                                                "interval": interval})).scalar_one())


_PAUSED = text("""
SELECT CAST(EXTRACT(EPOCH FROM paused_until - clock_timestamp()) AS double precision)
FROM send_allowance WHERE channel = :channel
""")


async def paused_for(session: AsyncSession, channel: str) -> float:
    """Seconds left of a pause every sender on `channel` obeys (≤ 0: none)."""
    left = (await session.execute(_PAUSED, {"channel": channel})).scalar_one_or_none()
    return 0.0 if left is None else float(left)


_PAUSE = text("""
INSERT INTO send_allowance AS a (channel, next_slot, paused_until)
VALUES (:channel, clock_timestamp() + make_interval(secs => :seconds),
        clock_timestamp() + make_interval(secs => :seconds))
ON CONFLICT (channel) DO UPDATE
SET next_slot = GREATEST(a.next_slot, EXCLUDED.next_slot),
    paused_until = GREATEST(a.paused_until, EXCLUDED.paused_until)
""")


async def pause(session: AsyncSession, channel: str, seconds: float) -> None:
    """No sender sends on `channel` for `seconds` (a 429's `retry_after`); slots booked
    before are void (`paused_for` tells their holders to book again)."""
    await session.execute(_PAUSE, {"channel": channel, "seconds": seconds})


# The outer SELECT reads the statement's snapshot, so it sees the row as it was before
# the CTE's upsert: when the hold was not taken, how long the chat is still busy.
_HOLD = text("""
WITH took AS (
  INSERT INTO send_chat_slots AS c (channel, chat_id, free_at)
  VALUES (:channel, :chat_id, clock_timestamp() + make_interval(secs => :hold))
  ON CONFLICT (channel, chat_id) DO UPDATE SET free_at = EXCLUDED.free_at
  WHERE c.free_at <= clock_timestamp()
  RETURNING 1
)
SELECT true, CAST(0 AS double precision) FROM took
UNION ALL
SELECT false, CAST(EXTRACT(EPOCH FROM free_at - clock_timestamp()) AS double precision)
FROM send_chat_slots
WHERE channel = :channel AND chat_id = :chat_id AND NOT EXISTS (SELECT 1 FROM took)
""")


async def hold_chat(session: AsyncSession, channel: str, chat_id: str,
                    hold: float) -> float:
    """Take the chat for one send (for at most `hold` seconds, should we die). Returns 0
    when taken, else how many seconds to wait before asking again."""
    row = (await session.execute(_HOLD, {"channel": channel, "chat_id": chat_id,
                                         "hold": hold})).first()
    if row is not None and row[0]:
        return 0.0
    # Busy; or freed, or first taken, by a concurrent statement our snapshot missed.
    return max(RETRY_SOON, float(row[1])) if row is not None else RETRY_SOON


_FREE = text("""
UPDATE send_chat_slots SET free_at = clock_timestamp() + make_interval(secs => :gap)
WHERE channel = :channel AND chat_id = :chat_id
""")


async def free_chat(session: AsyncSession, channel: str, chat_id: str, gap: float) -> None:
    """The send finished: the chat is free again `gap` seconds from now."""
    await session.execute(_FREE, {"channel": channel, "chat_id": chat_id, "gap": gap})


_PRUNE = text("""
DELETE FROM send_chat_slots
WHERE free_at < clock_timestamp() - make_interval(secs => :age)
""")


async def prune_chats(session: AsyncSession, age: float) -> None:
    """Forget chats free for over `age` seconds: a row in the past constrains nothing."""
    await session.execute(_PRUNE, {"age": age})
