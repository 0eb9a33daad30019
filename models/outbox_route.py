"""Which of a member's accounts a proactive message goes to, and where it goes instead.

A member may have an identity on several channels (Telegram and Zalo). Each message is
one outbox row per member, addressed to one identity (`route`): the member's chosen
channel (`Member.channel_choice`), else the one they last wrote from ("auto"), among
identities on a running channel that are not known to be unreachable. If the channel
then reports the account unreachable, the sender moves the row to the member's next
identity (`reroute`) instead of failing it, so the row names the channel it was
finally sent on, and the member is flagged unreachable only when no account is left.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.members import Identity, Member
from models.outbox import OutboxMessage, OutboxStatus
from models.outbox_claim import MAX_ERROR, _guarded, mark_failed

# The terminal (`thidua chat`) only answers the person typing: no sender delivers to
# it, so proactive messages addressed there would wait forever.
NOT_DELIVERABLE = frozenset({"console"})


class Account(Protocol):
    """What `route` ranks an identity by (an `Identity`, or a `Destination`)."""

    @property
    def id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def unreachable(self) -> bool: ...
    @property
    def last_used_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Destination:
    """An identity's columns that routing needs: `routes` reads these for a whole
    audience instead of building 1,000 ORM objects (a third of a second of a
    1,000-recipient broadcast, before its first message could go)."""

    id: int
    member_id: int
    channel: str
    chat_id: str
    unreachable: bool
    last_used_at: datetime | None


A = TypeVar("A", bound=Account)


def route(identities: Sequence[A], choice: str | None,
          running: Collection[str] | None) -> list[A]:
    """The member's identities, best first. `running`: the channels this instance
    serves (None: not known, all count). Unusable ones (a channel not running, an
    account found unreachable) come last, so a member is never left out: a row for a
    channel served elsewhere waits for that sender, one for a blocked account fails
    visibly in the delivery report."""
    def rank(i: A) -> tuple[bool, bool, float, int]:
        usable = not i.unreachable and (running is None or i.channel in running)
        used = i.last_used_at.timestamp() if i.last_used_at else float("-inf")
        # On a tie (an account linked this minute), the newer account is the one in use.
        return (not usable, i.channel != choice, -used, -i.id)

    return sorted((i for i in identities if i.channel not in NOT_DELIVERABLE), key=rank)


async def routes(session: AsyncSession, member_ids: Iterable[int],
                 running: Collection[str] | None) -> dict[int, Destination]:
    """Each active member's best identity (see `route`), for the members that have one."""
    ids = list(member_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(Identity.id, Identity.member_id, Identity.channel, Identity.chat_id,
               Identity.unreachable, Identity.last_used_at, Member.channel_choice)
        .join(Member, Member.id == Identity.member_id)
        .where(Identity.member_id.in_(ids), Member.active.is_(True)).order_by(Identity.id))
    by_member: dict[int, list[Destination]] = {}
    choices: dict[int, str | None] = {}
    for ident_id, member_id, channel, chat_id, unreachable, used, choice in rows:
        by_member.setdefault(member_id, []).append(
            Destination(ident_id, member_id, channel, chat_id, bool(unreachable), used))
        choices[member_id] = choice
    out: dict[int, Destination] = {}
    for member_id, identities in by_member.items():
        best = route(identities, choices[member_id], running)
        if best:
            out[member_id] = best[0]
    return out


async def reroute(session: AsyncSession, row: OutboxMessage, worker: str, error: str,
                  running: Collection[str], now: datetime) -> bool:
    """The account `row` went to cannot be reached: flag that identity, and send the row
    to the member's next account on a running channel; with none, fail the row (and
    flag the member). False if our claim on the row was lost."""
    if row.member_id is None:
        return await mark_failed(session, row, worker, error, permanent=True,
                                 unreachable=True)
    # Flagged first, so that this account ranks last from now on (and here).
    await session.execute(
        update(Identity).where(Identity.member_id == row.member_id,
                               Identity.channel == row.channel,
                               Identity.chat_id == row.chat_id)
        .values(unreachable=True).execution_options(synchronize_session=False))
    identities = list(await session.scalars(
        select(Identity).where(Identity.member_id == row.member_id)
        .execution_options(populate_existing=True)))
    choice = await session.scalar(select(Member.channel_choice)
                                  .where(Member.id == row.member_id))
    nxt = next((i for i in route(identities, choice, running)
                if i.channel in running and not i.unreachable
                and (i.channel, i.chat_id) != (row.channel, row.chat_id)), None)
    if nxt is None:
        return await mark_failed(session, row, worker, error, permanent=True,
                                 unreachable=True)
    # A fresh start on the other channel: its own attempts, its own limits.
    return await _guarded(session, row, worker, status=OutboxStatus.PENDING,
                          channel=nxt.channel, chat_id=nxt.chat_id, attempts=0,
                          next_attempt_at=now, claimed_at=None, claimed_by=None,
                          last_error=f"{row.channel}: {error}"[:MAX_ERROR])
