"""The year's sign-up, scheduled: the window opens, reminders to groups not signed up.

Like `scheduler.jobs`, each job runs inside the transaction that claimed its occurrence
(`signup_open` per year, `signup_reminder` per year and offset) and only writes outbox
rows with dedupe keys `job:key:member`. Mutes are not read: they excuse a month's
report, not the year's sign-up. A run caught up after the window has closed sends
nothing, since what it would announce can no longer be done.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.outbox_ops import enqueue_to_members
from reporting.buttons import command
from reporting.messages import payload
from reporting.services import Services
from reporting.signup import signed_groups, window
from scheduler.audience import Leader, leaders
from scheduler.calendar import Occurrence, local_day
from scheduler.jobs import reads_on

SIGN_UP_NOW = command("dangky")  # the button runs /dangky


async def _send(services: Services, session: AsyncSession, occ: Occurrence,
                people: list[Leader], now: datetime, key: str, **ctx: object) -> int:
    channel = await reads_on(session, people)
    sent = 0
    for leader in people:
        text = services.t(key, leader.language, read_on=channel.get(leader.member_id),
                          group=leader.group_name, **ctx)
        button = [[(str(services.t("sched_btn_signup", leader.language)), SIGN_UP_NOW)]]
        sent += await enqueue_to_members(
            session, kind=occ.job, key=f"{occ.job}:{occ.key}", member_ids=[leader.member_id],
            body=payload(str(text), button), now=now)
    return sent


async def signup_open(services: Services, session: AsyncSession, occ: Occurrence,
                      now: datetime) -> int:
    """Tell every leader the sign-up is open, with a button to start."""
    win = window(services.settings.signup, occ.year)
    if win.state(local_day(services.settings, now)) != "open":
        return 0
    return await _send(services, session, occ, await leaders(session), now,
                       "sched_signup_open", year=win.year, closes=win.closes)


async def signup_reminder(services: Services, session: AsyncSession, occ: Occurrence,
                          now: datetime) -> int:
    """Remind the leaders of groups without a pledge for the year, while it is open."""
    win = window(services.settings.signup, occ.year)
    today = local_day(services.settings, now)
    if win.state(today) != "open":
        return 0
    everyone = await leaders(session)
    signed = await signed_groups(session, win.year, {p.group_id for p in everyone})
    return await _send(services, session, occ,
                       [p for p in everyone if p.group_id not in signed], now,
                       "sched_signup_reminder", year=win.year, closes=win.closes,
                       days_left=(win.closes - today).days)
