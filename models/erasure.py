"""Erasing one member's personal data, and good-deed photos past their retention.

An erasure keeps the ward's record and removes the person: the group's reports, values,
audit trail and good deeds stay, still pointing at the member's id, but the member is
renamed "đã xóa", made inactive, and every trace that says who they are or how to reach
them goes — their channel accounts, the chats and updates they sent, the messages queued
to them, their open conversations and menus, invite and link codes, wrong-code records
under their account ids, and the photos they sent (rows, bytes, files).

Free text typed by them (report notes, deed descriptions) is the group's record and
stays, with their own name in it replaced; so is their name in every stored copy of a
message, anyone's (a group chat quoting them, a notice to the Council naming them).
Text other people wrote keeps its words: a story about someone of the same name stays.

The guarantee is about what the database holds after the commit; files under the media
folder are returned to the caller, who deletes them after the commit
(a rollback must not leave rows pointing at deleted files). Copies already delivered to
Telegram or Zalo are on the messenger's side and out of reach.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from models.allowance import ChatSlot
from models.channel_menus import ChannelMenu
from models.conversation import Conversation
from models.deeds import DeedPhoto, GoodDeed
from models.inbox import InboxState, InboxUpdate
from models.media import Media, MediaFileId
from models.members import CodeAttempt, Identity, Invite, Member
from models.outbox import Broadcast, OutboxMessage, ReminderMute
from models.personal import ERASED_NAME, export_filename
from models.reports import AuditEntry, ReportValue


@dataclass
class Erased:
    """What an erasure removed; `files` are paths under the media folder to delete."""

    member_id: int
    identities: int = 0
    photos: int = 0
    updates: int = 0
    messages: int = 0
    files: list[str] = field(default_factory=list)


async def drop_photos(session: AsyncSession, photos: Sequence[DeedPhoto]) -> list[str]:
    """Delete these photo rows and their copies in the database; return their file
    names (photos kept before the copies moved to the database live under the media
    folder by that name, and exports write them there)."""
    if not photos:
        return []
    media_ids = [p.media_id for p in photos if p.media_id is not None]
    files = sorted({p.local_path for p in photos if p.local_path})
    await session.execute(delete(DeedPhoto).where(DeedPhoto.id.in_([p.id for p in photos])))
    if media_ids:
        await session.execute(delete(MediaFileId).where(MediaFileId.media_id.in_(media_ids)))
        await session.execute(delete(Media).where(Media.id.in_(media_ids)))
    return files


async def expire_photos(session: AsyncSession, before: datetime) -> tuple[int, list[str]]:
    """Delete good-deed photos stored before `before` (the deed's text stays); return
    how many, and the file names to remove from the media folder. A photo's age is its
    copy's, or for a photo with no copy in the database, its deed's."""
    stored_at = func.coalesce(Media.created_at, GoodDeed.created_at)
    photos = list(await session.scalars(
        select(DeedPhoto).join(GoodDeed, GoodDeed.id == DeedPhoto.deed_id)
        .outerjoin(Media, Media.id == DeedPhoto.media_id).where(stored_at < before)))
    return len(photos), await drop_photos(session, photos)


def _pattern(name: str) -> re.Pattern[str]:
    # Whole words only: "Lan" must not turn "Lang" into "đã xóag".
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


def _scrub(value: Any, name: re.Pattern[str]) -> Any:
    """`value` (a JSON structure or text) with the name replaced in every string."""
    if isinstance(value, str):
        return name.sub(ERASED_NAME, value)
    if isinstance(value, list):
        return [_scrub(v, name) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, name) for k, v in value.items()}
    return value


def _mentions(column: Any, needles: Iterable[str], *, as_json: bool) -> ColumnElement[bool]:
    """SQL: the column's text contains one of `needles`. JSON is stored with non-ASCII
    letters escaped (\\u1ec5), so a JSON column is also searched for the escaped form."""
    forms: set[str] = set()
    for needle in needles:
        forms.add(needle)
        if as_json:
            forms.add(json.dumps(needle)[1:-1])
    text = cast(column, Text) if as_json else column
    return or_(*(text.contains(form, autoescape=True) for form in sorted(forms)))


async def _scrub_column(session: AsyncSession, column: InstrumentedAttribute[Any],
                        name: str, owner: ColumnElement[bool] | None, *,
                        as_json: bool = False) -> None:
    """Replace the name in one column of every row that mentions it (and `owner` holds:
    the rows the member wrote)."""
    model = column.class_
    pattern = _pattern(name)
    query = select(model.id, column).where(_mentions(column, [name], as_json=as_json))
    if owner is not None:
        query = query.where(owner)
    for row_id, value in (await session.execute(query)).all():
        cleaned = _scrub(value, pattern)
        if cleaned != value:
            await session.execute(update(model).where(model.id == row_id)
                                  .values({column.key: cleaned}))


async def erase_member(session: AsyncSession, member_id: int) -> Erased | None:
    """Erase the member's personal data (see the module's docstring); None if unknown."""
    member = await session.get(Member, member_id)
    if member is None:
        return None
    done = Erased(member_id)
    accounts = list(await session.scalars(select(Identity).where(
        Identity.member_id == member_id)))
    name = member.display_name if member.display_name != ERASED_NAME else ""
    chats = [(i.channel, i.chat_id) for i in accounts]
    users = [(i.channel, i.external_id) for i in accounts]

    photos = list(await session.scalars(
        select(DeedPhoto).join(GoodDeed, GoodDeed.id == DeedPhoto.deed_id)
        .where(GoodDeed.reported_by == member_id)))
    done.photos = len(photos)
    done.files = await drop_photos(session, photos)

    done.updates = await _inbox(session, chats, users, name)
    await _drop_exports(session, member_id)
    outbox_mine = or_(OutboxMessage.member_id == member_id,
                      *((OutboxMessage.channel == c) & (OutboxMessage.chat_id == chat)
                        for c, chat in chats))
    done.messages = _count(await session.execute(delete(OutboxMessage).where(outbox_mine)))
    for channel, chat_id in chats:
        await session.execute(delete(ChannelMenu).where(
            ChannelMenu.channel == channel, ChannelMenu.chat_id == chat_id))
        await session.execute(delete(ChatSlot).where(
            ChatSlot.channel == channel, ChatSlot.chat_id == chat_id))
    for channel, external_id in users:
        await session.execute(delete(Conversation).where(
            Conversation.channel == channel, Conversation.external_id == external_id))
        await session.execute(delete(CodeAttempt).where(
            CodeAttempt.channel == channel, CodeAttempt.external_id == external_id))
    await session.execute(delete(Invite).where(
        or_(Invite.link_member_id == member_id, Invite.used_by == member_id)))
    # Their broadcasts stay (the ward's campaigns); where their progress message was, not.
    await session.execute(update(Broadcast).where(Broadcast.created_by == member_id).values(
        progress_channel=None, progress_chat_id=None, progress_message_id=None))
    done.identities = _count(await session.execute(
        delete(Identity).where(Identity.member_id == member_id)))

    if name:
        for column, author in _WRITTEN:
            await _scrub_column(session, column, name, author == member_id)
        for column in _MESSAGES:
            await _scrub_column(session, column, name, None, as_json=True)
    member.display_name, member.address, member.channel_choice = ERASED_NAME, None, None
    member.active, member.unreachable = False, False
    await session.flush()
    return done


# Free text the member typed, by the column saying who wrote it: the words stay (the
# group's record), their name in them does not. Text others wrote keeps its words: a
# story about another person of the same name must not change.
_WRITTEN: list[tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]]] = [
    (GoodDeed.subject_name, GoodDeed.reported_by), (GoodDeed.description, GoodDeed.reported_by),
    (ReportValue.value, ReportValue.updated_by), (AuditEntry.old_value, AuditEntry.member_id),
    (AuditEntry.new_value, AuditEntry.member_id), (ReminderMute.reason, ReminderMute.member_id),
    (Broadcast.text, Broadcast.created_by),
]
# Copies of messages (JSON), anyone's: a notice to the Council naming them, a flow's
# saved text. Raw updates (`inbox.payload`) are handled in `_inbox`.
_MESSAGES: list[InstrumentedAttribute[Any]] = [
    Conversation.data, OutboxMessage.payload, InboxUpdate.reply]


async def _inbox(session: AsyncSession, chats: list[tuple[str, str]],
                 users: list[tuple[str, str]], name: str) -> int:
    """Delete the updates from their chats, and the answered ones that carry their
    account id elsewhere (a group chat); scrub their name from the rest. Returns how
    many rows went."""
    gone = 0
    for channel, chat_id in chats:
        gone += _count(await session.execute(delete(InboxUpdate).where(
            InboxUpdate.channel == channel, InboxUpdate.chat_id == chat_id)))
    for channel, external_id in users:
        gone += _count(await session.execute(delete(InboxUpdate).where(
            InboxUpdate.channel == channel, InboxUpdate.state == InboxState.DONE,
            _mentions(InboxUpdate.payload, [external_id], as_json=False))))
    if name:
        pattern = _pattern(name)
        rows = await session.execute(select(InboxUpdate.id, InboxUpdate.payload).where(
            _mentions(InboxUpdate.payload, [name], as_json=True)))
        for row_id, payload in rows.all():
            await session.execute(update(InboxUpdate).where(InboxUpdate.id == row_id)
                                  .values(payload=_scrub_payload(payload, pattern)))
    return gone


async def _drop_exports(session: AsyncSession, member_id: int) -> None:
    """An admin's answered `/dulieu xuat` keeps the exported file on its inbox row (as
    base64, until the row is pruned): the record it holds goes with the member."""
    filename = export_filename(member_id)
    rows = await session.execute(select(InboxUpdate.id, InboxUpdate.reply).where(
        _mentions(InboxUpdate.reply, [filename], as_json=True)))
    for row_id, reply in rows.all():
        for message in reply.get("messages") or []:
            for attachment in message.get("attachments") or []:
                if attachment.get("filename") == filename:
                    attachment["data"] = None
        await session.execute(update(InboxUpdate).where(InboxUpdate.id == row_id)
                              .values(reply=reply))


def _scrub_payload(payload: str, name: re.Pattern[str]) -> str:
    """A raw update with the name replaced, still the JSON the channel parses."""
    try:
        return json.dumps(_scrub(json.loads(payload), name), ensure_ascii=False)
    except ValueError:
        return name.sub(ERASED_NAME, payload)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
