"""Admin commands: /moi (/invite) creates an invitation, /mokhoa (/reopen) reopens a period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.context import Ctx
from handlers.notices import tell
from models import Group, Member, Role
from models.invites import create_invite
from models.queries import ensure_period, group_by_code
from reporting.messages import Reply
from reporting.periods import parse_key, period_dates

MAX_REOPEN_DAYS = 30


def _is_admin(ctx: Ctx) -> bool:
    return ctx.member is not None and ctx.member.role == Role.ADMIN


async def invite(ctx: Ctx) -> Reply:
    """`/moi to-3 [leader|council|admin]`: a one-time code and link, like `thidua invite`."""
    if not _is_admin(ctx):
        return Reply().add(ctx.t("admin_only"))
    args = list(ctx.inc.args)
    role = args[1].lower() if len(args) > 1 else "leader"
    group = await group_by_code(ctx.session, args[0].lower()) if args else None
    if not args or role not in {r.value for r in Role} or (group is None and role == "leader"):
        codes = ", ".join(g.code for g in ctx.app.settings.groups)
        return Reply().add(ctx.t("invite_usage", codes=codes))
    ttl = timedelta(days=ctx.app.settings.bot.invite_ttl_days)
    code, inv = await create_invite(ctx.session, group, Role(role), ctx.now, ttl)
    username = ctx.app.bot_username
    return Reply().add(ctx.t(
        "invite_created", code=code, role=role, group=group.name if group else None,
        link=f"https://t.me/{username}?start={code}" if username else None,
        expires=inv.expires_at.astimezone(ctx.app.settings.ward.tz)))


async def reopen(ctx: Ctx) -> Reply:
    """`/mokhoa 2022-03 [days]`: leaders may correct a locked period for a few days."""
    if not _is_admin(ctx):
        return Reply().add(ctx.t("admin_only"))
    args = list(ctx.inc.args)
    try:
        year, month = parse_key(args[0])
        days = int(args[1]) if len(args) > 1 else 3
    except (IndexError, ValueError):
        return Reply().add(ctx.t("reopen_usage", max=MAX_REOPEN_DAYS))
    if not 1 <= days <= MAX_REOPEN_DAYS:
        return Reply().add(ctx.t("reopen_usage", max=MAX_REOPEN_DAYS))
    dates = period_dates(ctx.app.settings.calendar, year, month)
    if dates.opens_on > ctx.today:
        return Reply().add(ctx.t("reopen_not_yet", period=dates.label, opens_on=dates.opens_on))
    period = await ensure_period(ctx.session, *dates.row)
    period.reopened_until = ctx.today + timedelta(days=days - 1)
    leaders = (await ctx.session.execute(
        select(Member, Group.name).join(Group, Group.id == Member.group_id)
        .where(Member.role == Role.LEADER, Member.active.is_(True)))).all()
    for leader, group in leaders:  # each leader hears of it, about their own group
        await tell(ctx, [leader], kind="reopened",
                   key=f"reopened:{dates.key}:{period.reopened_until.isoformat()}",
                   text="reopened_notice", period=dates.label, period_key=dates.key,
                   until=period.reopened_until, group=group)
    return Reply().add(ctx.t("reopened", period=dates.label, period_key=dates.key,
                             until=period.reopened_until))
