"""The Council's scheduled digests: weekly, and the final one when a period locks.

It is the digest of /tonghop (`build_digest` + `render_digest`). Each recipient gets
two outbox rows, enqueued in this order: the chart photo with its short caption, then
the full text. The text does not go in the photo's caption because Telegram cuts
captions at 1,024 characters and the digest is longer; the chart PNG is written to
the media folder and referenced as `media:<path>`, since an outbox row holds no bytes.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.outbox_ops import enqueue, enqueue_to_members
from reporting.digest_load import build_digest, muted_codes
from reporting.digest_text import render_digest
from reporting.media import save
from reporting.messages import payload
from reporting.periods import PeriodDates, open_period, recent_periods
from reporting.services import Services
from scheduler.audience import Recipient, council
from scheduler.calendar import Occurrence, local_day

COUNCIL_CHAT_CHANNEL = "telegram"  # config's council_chats are Telegram group ids


def current_period(services: Services, today: date) -> PeriodDates:
    """What /tonghop shows by default: the period being reported, else the latest opened."""
    cal = services.settings.calendar
    return open_period(cal, today) or next(
        p for p in recent_periods(cal, today) if p.opens_on <= today)


async def _enqueue(session: AsyncSession, occ: Occurrence, part: str, to: Recipient,
                   body: dict[str, Any], now: datetime) -> int:
    key = f"{occ.job}:{occ.key}:{part}"
    if to.member_id is not None:
        return await enqueue_to_members(session, kind=occ.job, key=key,
                                        member_ids=[to.member_id], body=body, now=now)
    assert to.chat_id is not None
    added = await enqueue(session, kind=occ.job, channel=COUNCIL_CHAT_CHANNEL,
                          dedupe_key=f"{key}:chat:{COUNCIL_CHAT_CHANNEL}:{to.chat_id}",
                          chat_id=str(to.chat_id), body=body, now=now)
    return int(added)


async def send_digest(services: Services, session: AsyncSession, occ: Occurrence,
                      now: datetime, period: PeriodDates, title: str | None = None) -> int:
    """Build the digest of `period` once, render it per language, queue it for the Council."""
    settings = services.settings
    recipients = await council(session, settings.schedule.council_chats,
                               settings.ward.language)
    if not recipients:
        return 0  # nobody to tell: skip the chart
    built = await build_digest(session, settings, period, local_day(settings, now))
    muted = await muted_codes(session, period.key)  # excused groups, with their reason
    sent = 0
    for lang in sorted({r.language for r in recipients}):
        # Drawing the chart takes a while; the event loop keeps serving chats meanwhile.
        out = await asyncio.to_thread(render_digest, services, lang, built, muted)
        chart = out.attachments[0]
        relative = f"digests/{occ.job}/{occ.key}-{lang}.png"
        await asyncio.to_thread(save, services.media, relative, chart.data)
        photo = payload(str(chart.caption or ""), photo=f"media:{relative}")
        heading = services.t(title, lang, period=period.label,
                             locks_on=period.locks_on) if title else None
        # With its "Xem chi tiết" button: the full table is one press away.
        buttons = [[(o.label, o.data) for o in row] for row in out.options]
        text = payload(f"{heading}\n\n{out.text}" if heading else str(out.text), buttons)
        for to in (r for r in recipients if r.language == lang):
            sent += await _enqueue(session, occ, "photo", to, photo, now)
            sent += await _enqueue(session, occ, "text", to, text, now)
    return sent


async def weekly_digest(services: Services, session: AsyncSession, occ: Occurrence,
                        now: datetime) -> int:
    """The digest of the period being reported (once per ISO week, caught up once)."""
    period = current_period(services, local_day(services.settings, now))
    return await send_digest(services, session, occ, now, period)


async def monthly_summary(services: Services, session: AsyncSession, occ: Occurrence,
                          now: datetime) -> int:
    """The final digest of the period that has just locked."""
    period = occ.period(services.settings)
    return await send_digest(services, session, occ, now, period, "sched_summary_title")
