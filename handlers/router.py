"""Entry point for every incoming event: find who is talking, then dispatch.

Each event runs in one transaction. If a handler fails, that transaction is rolled
back (answers given earlier were committed with their own events, so nothing already
answered is lost) and the user gets an apology in their language.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

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
from models import Group, Role
from models.queries import clear_conversation, get_conversation, member_for
from reporting.messages import COMMAND_BUTTON, Incoming, Reply
from reporting.services import Services

log = logging.getLogger(__name__)

Handler = Callable[[Ctx], Awaitable[Reply]]

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
    "nghi": mute.mute,
    "mute": mute.mute,
    "moi": admin.invite,
    "invite": admin.invite,
    "mokhoa": admin.reopen,
    "reopen": admin.reopen,
    "phatdong": broadcast.start,
    "broadcast": broadcast.start,
}
CALLBACKS: dict[str, Callable[[Ctx, str], Awaitable[Reply]]] = {
    report.PREFIX: report.on_callback,
    deeds.PREFIX: deeds.on_callback,
    deed_review.PREFIX: deed_review.on_callback,
    broadcast.PREFIX: broadcast.on_callback,
}
CANCEL = {"huy", "cancel"}


async def handle(app: Services, inc: Incoming) -> Reply:
    try:
        return await _handle(app, inc)
    except Exception:
        log.exception("handler failed for %s user %s", inc.channel, inc.user_id)
        return Reply().add(app.t("error_generic", app.settings.ward.language))


async def _handle(app: Services, inc: Incoming) -> Reply:
    async with app.sessions() as session, session.begin():
        member = await member_for(session, inc.channel, inc.user_id)
        group = await session.get(Group, member.group_id) if member and member.group_id else None
        ctx = Ctx(app, session, inc, member, group, app.clock())
        if member is not None and member.unreachable:
            member.unreachable = False  # they wrote to us, so we can reach them again
        return await _dispatch(ctx)


# What makes sense in a group chat (e.g. the Council's): reading, not conversations.
GROUP_COMMANDS = {"tonghop", "digest", "xuat", "export", "trangthai", "status", "trogiup",
                  "help"}


async def _dispatch(ctx: Ctx) -> Reply:
    inc = ctx.inc
    if not inc.private:
        if inc.command is None:
            return Reply()  # people talking among themselves in a group: stay quiet
        if inc.command not in GROUP_COMMANDS or ctx.member is None:
            # Registering here would send this member's private messages to the group.
            return Reply().add(ctx.t("private_only"))
    if inc.command == "start":
        return await registration.start(ctx)
    if ctx.member is None:
        conv = await get_conversation(ctx.session, inc.channel, inc.user_id)
        if conv is not None and conv.flow == "register" and inc.text and not inc.command:
            return await registration.code_entered(ctx, inc.text)
        return Reply().add(ctx.t("unregistered"))
    if inc.command in CANCEL:
        await clear_conversation(ctx.session, inc.channel, inc.user_id)
        return Reply().add(ctx.t("cancelled"))
    if inc.command is not None:
        handler = COMMANDS.get(inc.command)
        if handler is None:
            return Reply().add(ctx.t("unknown_command", command=inc.command))
        return await handler(ctx)
    if inc.callback is not None:
        if inc.callback.startswith(COMMAND_BUTTON):
            # A button in a proactive message (e.g. "Báo cáo ngay") runs a command.
            handler = COMMANDS.get(inc.callback.removeprefix(COMMAND_BUTTON))
            return await handler(ctx) if handler else Reply(toast=ctx.t("button_expired"))
        for prefix, on_callback in CALLBACKS.items():
            if inc.callback.startswith(prefix):
                return await on_callback(ctx, inc.callback)
        return Reply(toast=ctx.t("button_expired"))
    conv = await get_conversation(ctx.session, inc.channel, inc.user_id)
    if conv is not None and conv.flow == "deed":
        return await deeds.on_message(ctx, conv)
    if conv is not None and conv.flow == "broadcast":
        return await broadcast.on_message(ctx, conv)
    if conv is not None and conv.flow == "report" and inc.text is not None:
        return await report.on_text(ctx, conv, inc.text)
    if inc.photos:
        return Reply().add(ctx.t("photo_not_expected"))
    return Reply().add(ctx.t("idle_hint", is_leader=ctx.member.role == Role.LEADER))
