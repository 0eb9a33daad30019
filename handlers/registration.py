"""/start [code]: bind a chat user to a group and role with a one-time invite code."""

from __future__ import annotations

from enum import StrEnum

from handlers.context import Ctx
from handlers.flow import FlowName, FlowSpec, end, goto
from models import Conversation
from models.invites import Redeem, redeem
from reporting.messages import Reply


class Step(StrEnum):
    CODE = "code"  # waiting for the invite code


async def start(ctx: Ctx) -> Reply:
    """`/start` greets a member, or redeems a code, or asks for one."""
    if ctx.member is not None:
        return Reply().add(ctx.t("welcome_back", name=ctx.member.display_name,
                                 role=ctx.member.role, group=_group_name(ctx)))
    if ctx.inc.args:
        return await code_entered(ctx, " ".join(ctx.inc.args))
    await goto(ctx, FlowName.REGISTER, Step.CODE, {})
    return Reply().add(ctx.t("ask_code", ward=ctx.app.settings.ward.name))


async def code_entered(ctx: Ctx, code: str) -> Reply:
    inc = ctx.inc
    settings = ctx.app.settings
    result = await redeem(
        ctx.session, code, channel=inc.channel, external_id=inc.user_id, chat_id=inc.chat_id,
        display_name=inc.display_name, language=inc.language if inc.language == "en"
        else settings.ward.language, now=ctx.now, key=ctx.app.invites,
        max_wrong_per_hour=settings.bot.max_wrong_codes_per_hour,
        max_wrong_overall=settings.bot.max_wrong_codes_per_10_minutes)
    if result.outcome not in (Redeem.OK, Redeem.LINKED) or result.member is None:
        if result.outcome is not Redeem.TOO_MANY:
            # Keep listening for the next try without another /start (after a pause
            # too: the code typed again later is still taken as a code).
            await goto(ctx, FlowName.REGISTER, Step.CODE, {})
        return Reply().add(ctx.t(f"code_{result.outcome.value}"))
    ctx.member, ctx.group = result.member, result.group
    await end(ctx)
    if result.outcome is Redeem.LINKED:
        return Reply().add(ctx.t("linked", name=result.member.display_name,
                                 here=inc.channel, choice=result.member.channel_choice))
    reply = Reply().add(ctx.t("registered", name=result.member.display_name,
                              role=result.member.role, group=_group_name(ctx),
                              ward=settings.ward.name))
    if result.replaced is not None:
        # A handover: the group's draft (if any) is theirs now; /baocao continues it.
        reply.add(ctx.t("handover_registered", old=result.replaced.display_name,
                        group=_group_name(ctx)))
    return reply


def _group_name(ctx: Ctx) -> str | None:
    return ctx.group.name if ctx.group else None


async def on_text(ctx: Ctx, _conv: Conversation) -> Reply | None:
    """A stranger who was asked for a code types it (a command is not a code)."""
    if not ctx.inc.text or ctx.inc.command:
        return None
    return await code_entered(ctx, ctx.inc.text)


FLOW = FlowSpec(FlowName.REGISTER, on_text=on_text, for_members=False)
