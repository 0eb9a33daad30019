"""The Council's scheduled digests: weekly, and the final one when a period locks.

It is the digest of /tonghop (`build_digest` + `render_digest`). Each recipient gets
two outbox rows, enqueued in this order: the chart photo with its short caption, then
the full text. The text does not go in the photo's caption because Telegram cuts
captions at 1,024 characters and the digest is longer. An outbox row holds no bytes:
the chart PNG is kept in the database (`models.media`) in the transaction that queues
its rows, so a sender on any host can send it; charts of past digests that nothing
waits for any more are pruned here, the one place that makes them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import media
from models.outbox_ops import enqueue, enqueue_to_members, running_channels
from models.outbox_route import routes
from reporting.digest_load import build_digest, muted_codes
from reporting.digest_text import digest_text, render_digest
from reporting.messages import DEFAULT_LIMITS, Attachment, Outgoing, payload
from reporting.periods import PeriodDates, open_period, recent_periods
from reporting.services import Services
from scheduler.audience import Recipient, council
from scheduler.calendar import Occurrence, local_day

log = logging.getLogger(__name__)

COUNCIL_CHAT_CHANNEL = "telegram"  # config's council_chats are Telegram group ids
# A chart is sent within minutes; one still unsent after this long is waiting for
# nothing (its rows failed), and a digest is rebuilt on demand with /tonghop anyway.
# Also the life of a link to it (`models.media.RETENTION`).
KEEP_CHARTS = media.RETENTION


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
    pruned = await media.prune(session, now - KEEP_CHARTS)
    if pruned:
        log.info("pruned %d media rows older than %s that nothing refers to", pruned,
                 KEEP_CHARTS)
    built = await build_digest(session, settings, period, local_day(settings, now))
    muted = await muted_codes(session, period.key)  # excused groups, with their reason
    members = [r.member_id for r in recipients if r.member_id is not None]
    channel = {m: i.channel for m, i in
               (await routes(session, members, running_channels(session))).items()}
    no_buttons = {c for c in set(channel.values())
                  if not services.limits.get(c, DEFAULT_LIMITS).buttons}
    sent = 0
    for lang in sorted({r.language for r in recipients}):
        # Drawing the chart takes a while; the event loop keeps serving chats meanwhile.
        out = await asyncio.to_thread(render_digest, services, lang, built, muted)
        chart = out.attachments[0]
        filename = f"{occ.job}-{occ.key}-{lang}.png"
        media_id = await media.store(session, kind="chart", filename=filename,
                                     content_type="image/png", data=chart.data, now=now)
        photo = Outgoing(str(chart.caption or ""), attachments=[
            Attachment("photo", b"", filename, media_id=media_id)]).to_payload()
        heading = services.t(title, lang, period=period.label,
                             locks_on=period.locks_on) if title else None
        # With its "Xem chi tiết" button: the full table is one press away.
        buttons = [[(o.label, o.data) for o in row] for row in out.options]
        texts = {True: str(out.text),
                 False: str(digest_text(services, lang, built, muted, buttons=False))}
        for to in (r for r in recipients if r.language == lang):
            # A member on a messenger without buttons reads "chọn", not "bấm".
            reads_on = channel.get(to.member_id) if to.member_id is not None else None
            body = texts[reads_on not in no_buttons]
            text = payload(f"{heading}\n\n{body}" if heading else body, buttons)
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
