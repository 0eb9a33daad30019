"""Entry point for every incoming event: find who is talking, then dispatch.

Commands go to their handler; a button is decoded (`reporting.buttons`) and goes to the
flow registered for it; any other message goes to the flow the user is in (`FLOWS`,
looked up by the conversation row loaded with the member).

Each event runs in one transaction. If a handler fails, that transaction is rolled
back (answers given earlier were committed with their own events, so nothing already
answered is lost) and the user gets an apology in their language.

If the database connection dies before the commit (a failover, an idle kill), nothing
was written, so the event is run once more on a fresh connection and the member never
notices. If the database stays unreachable, or the connection dies during the commit
itself (the outcome is unknown, so running the event again could apply an answer twice),
the member is told the system is briefly interrupted, and the reply is flagged
`retry_later`.

A caller may add its own statement to the transaction (`within`: the inbox marks its row
done there, so an update is applied exactly once); with one, a database outage or
`AlreadyHandled` is raised to the caller, who keeps the update for later, instead of
being answered here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import (
    admin,
    broadcast,
    channels,
    council,
    deed_review,
    deeds,
    documents,
    fix,
    language,
    members,
    mute,
    personal,
    registration,
    report,
    review,
    signup,
    status,
)
from handlers import help as help_
from handlers.context import Ctx
from handlers.flow import FlowName, Flows, FlowSpec, end
from models import Role
from models.db import is_disconnect, is_outage
from models.inbox_ops import AlreadyHandled
from models.queries import note_use, speaker_and_draft
from models.roster import is_deactivated
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
    "vanban": documents.report,
    "document": documents.report,
    "binhxet": review.review,
    "review": review.review,
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
    "lienket": channels.link,
    "link": channels.link,
    "kenh": channels.choose,
    "channel": channels.choose,
    "dangky": signup.start,
    "signup": signup.start,
    "thanhvien": members.members,
    "members": members.members,
    "suaso": fix.correct,
    "fix": fix.correct,
    "dulieucuatoi": personal.mine,
    "mydata": personal.mine,
    "dulieu": personal.manage,
    "personal": personal.manage,
}
CANCEL = {"huy", "cancel"}


async def _run_command(ctx: Ctx, b: Button) -> Reply:
    """A button in a proactive message (e.g. "Báo cáo ngay") runs a command."""
    handler = COMMANDS.get(b.arg)
    return await handler(ctx) if handler else await _expired(ctx)


FLOWS = Flows([
    report.FLOW, deeds.FLOW, deed_review.FLOW, broadcast.FLOW, registration.FLOW, signup.FLOW,
    members.FLOW,
    FlowSpec(None, Flow.COMMAND, on_button=_run_command),
])


RETRY_PAUSE = 0.2  # seconds before the second try: a failover needs a moment


class _CommitFailed(Exception):
    """The handler finished but its COMMIT raised: whether it was applied is unknown."""


async def handle(app: Services, inc: Incoming, within: Within | None = None) -> Reply:
    for attempt in (1, 2):
        try:
            return await _handle(app, inc, within)
        except AlreadyHandled:
            raise  # raised only by `within`: the caller's row was handled elsewhere
        except _CommitFailed as exc:
            cause = exc.__cause__ or exc
            if within is not None:
                # The caller's row was marked in this very commit: the caller decides
                # (after an outage the next try finds the row done if it went through).
                raise cause from None
            if not is_disconnect(exc):
                log.exception("commit failed for %s user %s", inc.channel, inc.user_id)
                return _apology(app)
            log.warning("database connection lost during commit for %s user %s: %s",
                        inc.channel, inc.user_id, exc.__cause__)
            return _unavailable(app)
        except Exception as exc:
            if not is_disconnect(exc):
                if within is not None and is_outage(exc):
                    raise
                log.exception("handler failed for %s user %s", inc.channel, inc.user_id)
                return _apology(app)
            if attempt == 1:
                log.warning("database connection lost for %s user %s, trying again: %s",
                            inc.channel, inc.user_id, exc)
                await asyncio.sleep(RETRY_PAUSE)
                continue
            if within is not None:
                raise
            log.warning("database unreachable for %s user %s: %s",
                        inc.channel, inc.user_id, exc)
    return _unavailable(app)


def _apology(app: Services) -> Reply:
    return Reply().add(app.t("error_generic", app.settings.ward.language))


def _unavailable(app: Services) -> Reply:
    # The member's language is in the database we cannot reach: the ward's it is.
    return Reply(retry_later=True).add(app.t("db_unavailable", app.settings.ward.language))


async def _handle(app: Services, inc: Incoming, within: Within | None) -> Reply:
    # Closing the session without a commit rolls the transaction back.
    async with app.sessions() as session:
        # With the member, the report their conversation is at (a typed answer's draft).
        member, group, conv, identity, loaded = await speaker_and_draft(
            session, inc.channel, inc.user_id, FlowName.REPORT.value)
        ctx = Ctx(app, session, inc, member, group, app.clock(), conv, loaded)
        if member is not None and member.unreachable:
            member.unreachable = False  # they wrote to us, so we can reach them again
        if identity is not None and inc.private:
            # Only a private chat is where proactive messages go ("auto" follows it).
            note_use(identity, ctx.now)
        reply = await _dispatch(ctx)
        await session.flush()  # a write that fails here fails before the commit: retryable
        if within is not None:
            await within(session, reply)
        try:
            await session.commit()
        except Exception as exc:
            raise _CommitFailed(str(exc)) from exc
    return reply


# What makes sense in a group chat (e.g. the Council's): reading, not conversations.
GROUP_COMMANDS = {"tonghop", "digest", "xuat", "export", "trangthai", "status", "trogiup",
                  "help", "dangky", "signup", "vanban", "document", "binhxet", "review"}
# Reading commands that show groups' names and figures: only in a private chat or in one
# of `schedule.council_chats`, never in whatever group a Council member happens to be in.
COUNCIL_READ = {"tonghop", "digest", "xuat", "export", "trangthai", "status", "dangky",
                "signup", "vanban", "document", "binhxet", "review"}


async def _dispatch(ctx: Ctx) -> Reply:
    inc = ctx.inc
    if inc.edited:
        return _edited(ctx)
    if ctx.member is None and (inc.private or inc.command is not None or inc.callback) \
            and await is_deactivated(ctx.session, inc.channel, inc.user_id):
        # Not a stranger: someone the ward office let go. Say so, whatever they send
        # (their history stays; an admin can turn the account back on).
        return Reply().add(ctx.t("account_deactivated"))
    if not inc.private:
        button = decode(inc.callback) if inc.callback is not None else None
        if (isinstance(button, Button) and button.flow is Flow.COMMAND
                and button.arg in GROUP_COMMANDS and ctx.member is not None):
            # A reading button (the digest's "Xem chi tiết") works where its command does.
            if button.arg in COUNCIL_READ and not _council_chat(ctx):
                return Reply().add(ctx.t("council_chat_only"))
            return await _run_command(ctx, button)
        if inc.command is None:
            return Reply()  # people talking among themselves in a group: stay quiet
        if inc.command not in GROUP_COMMANDS or ctx.member is None:
            # Registering here would send this member's private messages to the group.
            return Reply().add(ctx.t("private_only"))
        if inc.command in COUNCIL_READ and not _council_chat(ctx):
            return Reply().add(ctx.t("council_chat_only"))
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


def _council_chat(ctx: Ctx) -> bool:
    return ctx.app.settings.schedule.is_council_chat(ctx.inc.channel, ctx.inc.chat_id)


def _edited(ctx: Ctx) -> Reply:
    """An edited message is not an answer (the answer it replaced may be long past): in a
    private chat, say how to correct one; in a group, people edit their own talk."""
    if not ctx.inc.private or ctx.member is None:
        return Reply()
    return Reply().add(ctx.t("edited_hint"))


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
