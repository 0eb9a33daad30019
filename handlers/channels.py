"""Members on several messengers: `/lienket` links another account, `/kenh` chooses
where the bot's own messages go.

Linking is registration again, for an existing member: `/lienket` on the messenger the
member already uses gives a short-lived code (an invite row bound to the member, hashed
and guess-limited like every invite); `/start <code>` typed on the other messenger adds
that account to the member (`models.invites.redeem`). Proactive messages then go to one
of the member's accounts (`models.outbox_route`): the chosen channel, or the one last
written from ("auto").
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.context import Ctx
from models.invites import create_link_code
from models.members import Identity
from reporting.messages import Reply

# Long enough to open the other app and type it; short, since it grants the account.
LINK_TTL = timedelta(minutes=15)
AUTO_WORDS = {"auto", "tudong", "tựđộng", "tự động"}


async def _accounts(ctx: Ctx) -> list[str]:
    assert ctx.member is not None
    return list(await ctx.session.scalars(
        select(Identity.channel).where(Identity.member_id == ctx.member.id)
        .order_by(Identity.id)))


async def link(ctx: Ctx) -> Reply:
    """`/lienket`: a code to type on the other messenger."""
    assert ctx.member is not None
    code, invite = await create_link_code(ctx.session, ctx.member, ctx.now, LINK_TTL,
                                          key=ctx.app.invites)
    username = ctx.app.bot_username
    return Reply().add(ctx.t(
        "link_code", code=code, minutes=int(LINK_TTL.total_seconds() // 60),
        here=ctx.inc.channel, linked=await _accounts(ctx),
        link=f"https://t.me/{username}?start={code}"
        if username and ctx.inc.channel != "telegram" else None,
        expires=invite.expires_at.astimezone(ctx.app.settings.ward.tz)))


async def choose(ctx: Ctx) -> Reply:
    """`/kenh telegram|zalo|auto`: where reminders, digests and broadcasts go."""
    assert ctx.member is not None
    linked = await _accounts(ctx)
    wanted = " ".join(ctx.inc.args).strip().lower()
    if not wanted:
        return Reply().add(ctx.t("channel_usage", choice=ctx.member.channel_choice,
                                 linked=linked))
    if wanted in AUTO_WORDS:
        ctx.member.channel_choice = None
        return Reply().add(ctx.t("channel_chosen", choice=None, linked=linked))
    if wanted not in linked:
        return Reply().add(ctx.t("channel_not_linked", wanted=wanted, linked=linked))
    ctx.member.channel_choice = wanted
    return Reply().add(ctx.t("channel_chosen", choice=wanted, linked=linked))
