"""Everything stored about one member, gathered for them to see or for an admin to export.

Luật Bảo vệ dữ liệu cá nhân (91/2025/QH15) gives a person the right to know what is
kept about them and to have it handed over. `record` reads every table that holds the
member's id, identities or chat ids and returns plain JSON-ready data: the export is
this record as it is, and `/dulieucuatoi` is a short reading of it. What the erasure
changes (`models.erasure`) is exactly what is listed here, so the two stay one list.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.conversation import Conversation
from models.deeds import DeedPhoto, GoodDeed
from models.inbox import InboxUpdate
from models.members import Group, Identity, Invite, Member
from models.outbox import Broadcast, OutboxMessage, ReminderMute
from models.pledges import Pledge
from models.reports import AuditEntry, Period, Report, ReportValue

ERASED_NAME = "đã xóa"  # what an erased member is called from then on


def export_filename(member_id: int) -> str:
    """The name of a member's exported record (the chat's file, the CLI's default)."""
    return f"du-lieu-ca-nhan-{member_id}.json"


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


async def identities(session: AsyncSession, member_id: int) -> list[Identity]:
    return list(await session.scalars(
        select(Identity).where(Identity.member_id == member_id).order_by(Identity.id)))


async def record(session: AsyncSession, member_id: int) -> dict[str, Any] | None:
    """The member's whole record, or None if there is no such member."""
    member = await session.get(Member, member_id)
    if member is None:
        return None
    group = await session.get(Group, member.group_id) if member.group_id else None
    accounts = await identities(session, member_id)
    return {
        "member": {
            "id": member.id, "display_name": member.display_name, "role": str(member.role),
            "group": {"code": group.code, "name": group.name} if group else None,
            "language": member.language, "address": member.address,
            "active": member.active, "unreachable": member.unreachable,
            "channel_choice": member.channel_choice, "created_at": _when(member.created_at),
        },
        "identities": [
            {"channel": i.channel, "external_id": i.external_id, "chat_id": i.chat_id,
             "created_at": _when(i.created_at), "last_used_at": _when(i.last_used_at),
             "unreachable": i.unreachable} for i in accounts],
        "reports": await _reports(session, member_id),
        "answers": await _answers(session, member_id),
        "corrections": await _corrections(session, member_id),
        "good_deeds": await _deeds(session, member_id),
        "deeds_reviewed": int(await session.scalar(
            select(func.count()).select_from(GoodDeed)
            .where(GoodDeed.reviewed_by == member_id)) or 0),
        "broadcasts": [
            {"id": b.id, "text": b.text, "status": b.status, "audience": b.audience,
             "created_at": _when(b.created_at), "queued_at": _when(b.queued_at)}
            for b in await session.scalars(select(Broadcast).where(
                Broadcast.created_by == member_id).order_by(Broadcast.id))],
        "invites": [
            {"id": i.id, "role": str(i.role), "kind": "link" if i.link_member_id else "invite",
             "created_at": _when(i.created_at), "used_at": _when(i.used_at)}
            for i in await session.scalars(select(Invite).where(
                or_(Invite.used_by == member_id, Invite.link_member_id == member_id))
                .order_by(Invite.id))],
        "invites_created": [
            {"id": i.id, "role": str(i.role), "group_id": i.group_id,
             "created_at": _when(i.created_at), "expires_at": _when(i.expires_at),
             "used": i.used_at is not None}
            for i in await session.scalars(select(Invite).where(
                Invite.created_by == member_id).order_by(Invite.id))],
        "pledges": [
            {"year": p.year, "titles": p.titles, "households": p.households,
             "registered_at": _when(p.registered_at)}
            for p in await session.scalars(select(Pledge).where(
                Pledge.registered_by == member_id).order_by(Pledge.year))],
        "mutes": [
            {"period": m.period_key, "reason": m.reason, "created_at": _when(m.created_at)}
            for m in await session.scalars(select(ReminderMute).where(
                ReminderMute.member_id == member_id).order_by(ReminderMute.id))],
        "messages_to_them": await _outbox(session, member_id),
        "stored_updates": await _inbox_count(session, accounts),
        "conversations": [
            {"channel": c.channel, "flow": c.flow, "step": c.step,
             "updated_at": _when(c.updated_at)}
            for c in await session.scalars(select(Conversation).where(or_(*(
                (Conversation.channel == i.channel) & (Conversation.external_id == i.external_id)
                for i in accounts)))) ] if accounts else [],
    }


async def _reports(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    """Reports they started or submitted, by period."""
    rows = await session.execute(
        select(Period.key, Report.dataset, Report.started_by, Report.submitted_by,
               Report.submitted_at, Report.late)
        .join(Period, Period.id == Report.period_id)
        .where(or_(Report.started_by == member_id, Report.submitted_by == member_id))
        .order_by(Period.key, Report.dataset))
    return [{"period": key, "dataset": dataset, "started": started == member_id,
             "submitted": submitted == member_id,
             "submitted_at": _when(at) if submitted == member_id else None, "late": late}
            for key, dataset, started, submitted, at, late in rows.all()]


async def _answers(session: AsyncSession, member_id: int) -> dict[str, int]:
    """How many answers they last changed, per period (the values are the group's)."""
    rows = await session.execute(
        select(Period.key, func.count(ReportValue.id))
        .join(Report, Report.id == ReportValue.report_id)
        .join(Period, Period.id == Report.period_id)
        .where(ReportValue.updated_by == member_id).group_by(Period.key).order_by(Period.key))
    return {key: int(n) for key, n in rows.all()}


async def _corrections(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Period.key, AuditEntry)
        .join(Report, Report.id == AuditEntry.report_id)
        .join(Period, Period.id == Report.period_id)
        .where(AuditEntry.member_id == member_id).order_by(AuditEntry.id))
    return [{"period": key, "indicator": a.indicator, "old": a.old_value, "new": a.new_value,
             "reason": a.reason, "at": _when(a.at)} for key, a in rows.all()]


async def _deeds(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(GoodDeed, func.count(DeedPhoto.id))
        .outerjoin(DeedPhoto, DeedPhoto.deed_id == GoodDeed.id)
        .where(GoodDeed.reported_by == member_id).group_by(GoodDeed.id).order_by(GoodDeed.id))
    return [{"id": d.id, "status": str(d.status), "subject_kind": d.subject_kind,
             "subject_name": d.subject_name, "description": d.description,
             "category": d.category, "happened_on": _when(d.happened_on),
             "created_at": _when(d.created_at), "submitted_at": _when(d.submitted_at),
             "photos": int(n)} for d, n in rows.all()]


async def _outbox(session: AsyncSession, member_id: int) -> dict[str, int]:
    """Messages the bot sent or will send them, by kind (their texts are the bot's)."""
    kinds = await session.scalars(select(OutboxMessage.kind)
                                  .where(OutboxMessage.member_id == member_id))
    return dict(sorted(Counter(kinds).items()))


async def _inbox_count(session: AsyncSession, accounts: list[Identity]) -> int:
    """Their messages still kept as received (answered ones go after a week)."""
    if not accounts:
        return 0
    return int(await session.scalar(
        select(func.count()).select_from(InboxUpdate).where(or_(*(
            (InboxUpdate.channel == i.channel) & (InboxUpdate.chat_id == i.chat_id)
            for i in accounts)))) or 0)
