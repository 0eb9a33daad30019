"""Admin commands: /moi (/invite) creates an invitation, /mokhoa (/reopen) reopens a period."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from handlers.context import Ctx
from handlers.members import member_id
from handlers.notices import tell
from models import Group, Member, Role
from models.invites import create_invite
from models.queries import ensure_period, group_by_code
from models.roster import handover_target
from reporting.messages import Reply
from reporting.periods import parse_month, period_dates

MAX_REOPEN_DAYS = 30
REPLACE_WORDS = {"thay", "replaces", "replace"}


def _is_admin(ctx: Ctx) -> bool:
    return ctx.member is not None and ctx.member.role == Role.ADMIN


async def invite(ctx: Ctx) -> Reply:
    """`/moi to-3 [leader|council|admin]`: a one-time code and link, like `thidua invite`;
    `/moi to-3 thay #12`: a handover, the new leader replaces member 12 on registering."""
    if not _is_admin(ctx):
        return Reply().add(ctx.t("admin_only"))
    args = list(ctx.inc.args)
    if len(args) > 1 and args[1].lower() in REPLACE_WORDS:
        return await _handover(ctx, args)
    role = args[1].lower() if len(args) > 1 else "leader"
    group = await group_by_code(ctx.session, args[0].lower()) if args else None
    if not args or role not in {r.value for r in Role} or (group is None and role == "leader"):
        codes = ", ".join(g.code for g in ctx.app.settings.groups)
        return Reply().add(ctx.t("invite_usage", codes=codes))
    ttl = timedelta(days=ctx.app.settings.bot.invite_ttl_days)
    code, inv = await create_invite(ctx.session, group, Role(role), ctx.now, ttl,
                                    key=ctx.app.invites)
    inv.created_by = ctx.member.id if ctx.member is not None else None
    username = ctx.app.bot_username
    return Reply().add(ctx.t(
        "invite_created", code=code, role=role, group=group.name if group else None,
        link=f"https://t.me/{username}?start={code}" if username else None,
        expires=inv.expires_at.astimezone(ctx.app.settings.ward.tz)))


async def _handover(ctx: Ctx, args: list[str]) -> Reply:
    """`/moi to-1 thay #12`: checked now, so a code is never made that cannot work."""
    group = await group_by_code(ctx.session, args[0].lower())
    mid = member_id(args[2]) if len(args) == 3 else None
    if group is None or mid is None:
        codes = ", ".join(g.code for g in ctx.app.settings.groups)
        return Reply().add(ctx.t("invite_usage", codes=codes))
    old = await handover_target(ctx.session, mid, group)
    if isinstance(old, str):
        return Reply().add(ctx.t(old, id=mid, group=group.name))
    ttl = timedelta(days=ctx.app.settings.bot.invite_ttl_days)
    code, inv = await create_invite(ctx.session, group, Role.LEADER, ctx.now, ttl,
                                    key=ctx.app.invites, replaces=old)
    username = ctx.app.bot_username
    return Reply().add(ctx.t(
        "invite_created", code=code, role=Role.LEADER.value, group=group.name,
        link=f"https://t.me/{username}?start={code}" if username else None,
        expires=inv.expires_at.astimezone(ctx.app.settings.ward.tz),
        replaces=old.display_name, replaces_id=old.id))


def _month_and_days(args: list[str], today: date) -> tuple[tuple[int, int], int] | None:
    """The month in the leading words and the number of days after it (default 3)."""
    for cut in range(len(args), 0, -1):
        rest = args[cut:]
        if len(rest) > 1 or (rest and not rest[0].isdigit()):
            continue
        try:
            month = parse_month(" ".join(args[:cut]), today)
        except ValueError:
            continue
        return month, int(rest[0]) if rest else 3
    return None


async def reopen(ctx: Ctx) -> Reply:
    """`/mokhoa 3/2022 [days]`: leaders may correct a locked period for a few days.

    The month is any form `parse_month` reads ("2022-03", "T3/2022", "tháng 3"), the
    days a number after it: `/mokhoa tháng 3 5`.
    """
    if not _is_admin(ctx):
        return Reply().add(ctx.t("admin_only"))
    args = list(ctx.inc.args)
    if not args:
        return Reply().add(ctx.t("reopen_usage", max=MAX_REOPEN_DAYS))
    parsed = _month_and_days(args, ctx.today)
    if parsed is None:
        days_given = len(args) > 1 and args[-1].isdigit()
        text = " ".join(args[:-1] if days_given else args)
        return Reply().add(ctx.t("bad_period", text=text)) \
            .add(ctx.t("reopen_usage", max=MAX_REOPEN_DAYS))
    (year, month), days = parsed
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
