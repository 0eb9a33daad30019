"""The leaders' scheduled messages: the window opens, reminders, the lock.

Each job runs inside the transaction that claimed its occurrence and only writes
outbox rows. Dedupe keys are `job:key:member`, so even a double run inserts
nothing twice. Each job also decides whether it is still useful at `now`: a run
caught up after a restart must not remind anyone of a period that has locked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Period, ReportStatus
from models.mutes import muted_groups
from models.outbox_ops import enqueue_to_members, running_channels
from models.outbox_route import routes
from reporting.buttons import command
from reporting.messages import payload
from reporting.periods import PeriodDates, is_open
from reporting.services import Services
from scheduler.audience import Leader, leaders, report_states
from scheduler.calendar import Occurrence, local_day

REPORT_NOW = command("baocao")  # the button runs /baocao


def _report_button(services: Services, lang: str) -> list[list[tuple[str, str]]]:
    return [[(str(services.t("sched_btn_report", lang)), REPORT_NOW)]]


async def _send(session: AsyncSession, occ: Occurrence, leader: Leader, text: str,
                options: list[list[tuple[str, str]]] | None, now: datetime) -> int:
    return await enqueue_to_members(
        session, kind=occ.job, key=f"{occ.job}:{occ.key}", member_ids=[leader.member_id],
        body=payload(str(text), options), now=now)


async def reads_on(session: AsyncSession, people: list[Leader]) -> dict[int, str]:
    """The channel each leader's message will go to, so its text speaks of buttons only
    where there are some (a leader without an account keeps Telegram's wording)."""
    best = await routes(session, [p.member_id for p in people], running_channels(session))
    return {member_id: ident.channel for member_id, ident in best.items()}


async def _unreported(session: AsyncSession, p: PeriodDates) -> list[tuple[Leader, bool]]:
    """Leaders of groups that have not submitted `p` and did not mute it; True if a draft."""
    states = await report_states(session, p.key)
    muted = await muted_groups(session, p.key)
    return [(leader, states.get(leader.group_id) is ReportStatus.DRAFT)
            for leader in await leaders(session, p.key)
            if states.get(leader.group_id) is not ReportStatus.SUBMITTED
            and leader.group_id not in muted]


async def period_open(services: Services, session: AsyncSession, occ: Occurrence,
                      now: datetime) -> int:
    """Tell every leader the window is open, with a button to start."""
    p = occ.period(services.settings)
    if local_day(services.settings, now) >= p.locks_on:
        return 0  # caught up too late: the window it announces has closed
    sent = 0
    everyone = await leaders(session, p.key)
    channel = await reads_on(session, everyone)
    for leader in everyone:
        text = services.t("sched_period_open", leader.language,
                          read_on=channel.get(leader.member_id), period=p.label,
                          group=leader.group_name, due=p.due_on)
        sent += await _send(session, occ, leader, text,
                            _report_button(services, leader.language), now)
    return sent


async def reminder(services: Services, session: AsyncSession, occ: Occurrence,
                   now: datetime) -> int:
    """Remind leaders whose group has not submitted (nor muted) while the period is open."""
    p = occ.period(services.settings)
    today = local_day(services.settings, now)
    # The configured lock, not an admin's reopening: that is for one group's correction,
    # not a reason to remind every group again.
    if today >= p.locks_on:
        return 0
    sent = 0
    unreported = await _unreported(session, p)
    channel = await reads_on(session, [leader for leader, _ in unreported])
    for leader, draft in unreported:
        text = services.t("sched_reminder", leader.language,
                          read_on=channel.get(leader.member_id), period=p.label,
                          group=leader.group_name, due=p.due_on, locks_on=p.locks_on,
                          days_left=(p.due_on - today).days, draft=draft)
        sent += await _send(session, occ, leader, text,
                            _report_button(services, leader.language), now)
    return sent


async def lock(services: Services, session: AsyncSession, occ: Occurrence,
               now: datetime) -> int:
    """Tell leaders of groups that never submitted that the period has locked."""
    p = occ.period(services.settings)
    reopened = await session.scalar(select(Period.reopened_until).where(Period.key == p.key))
    if is_open(p, local_day(services.settings, now), reopened):
        return 0  # an admin reopened it before the lock ran: it has not locked
    sent = 0
    for leader, _draft in await _unreported(session, p):
        text = services.t("sched_lock_notice", leader.language, period=p.label,
                          group=leader.group_name)
        sent += await _send(session, occ, leader, text, None, now)
    return sent
