"""Entry point for every incoming event: find who is talking, then dispatch.

Commands go to their handler; a button is decoded (`reporting.buttons`) and goes to the
flow registered for it; any other message goes to the flow the user is in (`FLOWS`,
looked up by the conversation row loaded with the member).

Each event runs in one transaction. If a handler fails, that transaction is rolled
back (answers given earlier were committed with their own events, so nothing already
answered is lost) and the user gets an apology in their language. A caller may add its
own statement to that transaction (`within`: the inbox marks its row done there, so an
update is applied exactly once); with one, a database outage or `AlreadyHandled` is
raised to the caller, who keeps the update for later, instead of being apologised for.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import (
    admin,
    broadcast,
    council,
    deed_review,
    deeds,
    language,
    mute,
    registration,
    report,
    status,
)
from handlers import help as help_
from handlers.context import Ctx
from handlers.flow import Flows, FlowSpec, end
from models import Role
from models.db import is_outage
from models.inbox_ops import AlreadyHandled
from models.queries import who_is
from reporting.buttons import Button, Expired, Flow, decode
from reporting.messages import Incoming, Reply
from reporting.services import Services

log = logging.getLogger(__name__)

Handler = Callable[[Ctx], Awaitable[Reply]]
# Run in the handler's transaction with its reply, just before the commit.
Within = Callable[[AsyncSession, Reply], Awaitable[None]]

# Vietnamese commands with their English aliases (DESIGN.md section 5).
COMMANDS: dict[str, Handler] = {
    "baocao": report.start,
    "report": report.start,
    "trangthai": status.show,
    "status": status.show,
    "trogiup": help_.show,
    "help": help_.show,
    "guongtot": deeds.start,
    "gooddeed": deeds.start,
    "tonghop": council.digest,
    "digest": council.digest,
    "xuat": council.export,
    "export": council.export,
    "ngonngu": language.choose,
    "lang": language.choose,
    "xungho": language.address,
    "address": language.address,
    "nghi": mute.mute,
    "mute": mute.mute,
    "moi": admin.invite,
    "invite": admin.invite,
    "mokhoa": admin.reopen,
    "reopen": admin.reopen,
    "phatdong": broadcast.start,
    "broadcast": broadcast.start,
}
CANCEL = {"huy", "cancel"}


async def _run_command(ctx: Ctx, b: Button) -> Reply:
    """A button in a proactive message (e.g. "Báo cáo ngay") runs a command."""
    handler = COMMANDS.get(b.arg)
    return await handler(ctx) if handler else await _expired(ctx)


FLOWS = Flows([
    report.FLOW, deeds.FLOW, deed_review.FLOW, broadcast.FLOW, registration.FLOW,
    FlowSpec(None, Flow.COMMAND, on_button=_run_command),
])


async def handle(app: Services, inc: Incoming, within: Within | None = None) -> Reply:
    try:
        return await _handle(app, inc, within)
    except Exception as exc:
        if within is not None and (isinstance(exc, AlreadyHandled) or is_outage(exc)):
            raise
        log.exception("handler failed for %s user %s", inc.channel, inc.user_id)
        return Reply().add(app.t("error_generic", app.settings.ward.language))


async def _handle(app: Services, inc: Incoming, within: Within | None) -> Reply:
    async with app.sessions() as session, session.begin():
        member, group, conv = await who_is(session, inc.channel, inc.user_id)
        ctx = Ctx(app, session, inc, member, group, app.clock(), conv)
        if member is not None and member.unreachable:
            member.unreachable = False  # they wrote to us, so we can reach them again
        reply = await _dispatch(ctx)
        if within is not None:
            await session.flush()  # the handler's own errors surface as the handler's
            await within(session, reply)
        return reply


# What makes sense in a group chat (e.g. the Council's): reading, not conversations.
GROUP_COMMANDS = {"tonghop", "digest", "xuat", "export", "trangthai", "status", "trogiup",
                  "help"}


async def _dispatch(ctx: Ctx) -> Reply:
    inc = ctx.inc
    if not inc.private:
        button = decode(inc.callback) if inc.callback is not None else None
        if (isinstance(button, Button) and button.flow is Flow.COMMAND
                and button.arg in GROUP_COMMANDS and ctx.member is not None):
            # A reading button (the digest's "Xem chi tiết") works where its command does.
            return await _run_command(ctx, button)
        if inc.command is None:
            return Reply()  # people talking among themselves in a group: stay quiet
        if inc.command not in GROUP_COMMANDS or ctx.member is None:
            # Registering here would send this member's private messages to the group.
            return Reply().add(ctx.t("private_only"))
    if inc.command == "start":
        return await registration.start(ctx)
    if ctx.member is None:
        reply = await _in_flow(ctx, members=False)
        return reply or Reply().add(ctx.t("unregistered"))
    if inc.command in CANCEL:
        return await _cancel(ctx)
    if inc.command is not None:
        handler = COMMANDS.get(inc.command)
        if handler is None:
            return Reply().add(ctx.t("unknown_command", command=inc.command))
        return await handler(ctx)
    if inc.callback is not None:
        button = decode(inc.callback)
        spec = FLOWS.for_button(button.flow) if isinstance(button, Button) else None
        if isinstance(button, Expired) or spec is None or spec.on_button is None:
            return await _expired(ctx)
        return await spec.on_button(ctx, button)
    reply = await _in_flow(ctx, members=True)
    if reply is not None:
        return reply
    if inc.photos:
        return Reply().add(ctx.t("photo_not_expected"))
    return Reply().add(ctx.t("idle_hint", is_leader=ctx.member.role == Role.LEADER))


async def _in_flow(ctx: Ctx, members: bool) -> Reply | None:
    """A message to the flow the user is in; None when there is none for it."""
    spec = FLOWS.of(ctx.conv)
    if ctx.conv is not None and spec is None:
        await end(ctx)  # a flow this release does not know (a rollback): let it go
    if ctx.conv is None or spec is None or spec.on_text is None or spec.for_members != members:
        return None
    return await spec.on_text(ctx, ctx.conv)


async def _cancel(ctx: Ctx) -> Reply:
    """`/huy`: the flow the user is in says what was stopped; with none, say so by role."""
    spec, conv = FLOWS.of(ctx.conv), ctx.conv
    text = None
    if conv is not None and spec is not None:
        text = await spec.on_cancel(ctx, conv) if spec.on_cancel else ctx.t("cancelled")
    await end(ctx)
    if text is None:
        assert ctx.member is not None
        text = ctx.t("cancel_nothing", role=str(ctx.member.role))
    return Reply().add(text)


async def _expired(ctx: Ctx) -> Reply:
    """A button this release did not make (an old message, or garbage): never act on it;
    say so, and show where the user stands now."""
    spec = FLOWS.of(ctx.conv)
    if ctx.conv is not None and spec is not None and spec.resume is not None \
            and spec.for_members:
        reply = await spec.resume(ctx, ctx.conv)
    else:
        assert ctx.member is not None
        reply = Reply().add(ctx.t("idle_hint", is_leader=ctx.member.role == Role.LEADER))
    reply.toast = ctx.t("button_expired")
    return reply
