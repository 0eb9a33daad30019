"""/phatdong (/broadcast): an admin sends a campaign message to chosen members.

compose (text, or a photo with a caption) → audience (all leaders, chosen groups, the
Council, everyone) → preview exactly as recipients will see it → confirm → one outbox
row per recipient. The admin's progress message is an outbox row too; the sender edits
it as delivery goes on. Buttons carry the broadcast id, the action and its argument
(an audience, a group code).
"""

from __future__ import annotations

import html
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select

from handlers.context import Ctx
from handlers.flow import FlowName, FlowSpec, end, goto, parse_step
from models import Broadcast, Conversation, Group, Member, Role
from models.outbox_ops import enqueue, enqueue_to_members
from reporting.buttons import BroadcastAction, Button, Flow, encode
from reporting.html_text import html_length
from reporting.messages import Attachment, Option, Outgoing, Reply, payload
from reporting.numbers import format_number
from reporting.services import Services

AUDIENCES = ("leaders", "groups", "council", "everyone")
SEND_WORDS = {"gửi", "gui", "gửi đi", "gui di", "send"}
HISTORY_WORDS = {"lichsu", "lịch sử", "lịchsử", "history"}


class Step(StrEnum):
    COMPOSE = "compose"
    AUDIENCE = "audience"
    GROUPS = "groups"  # choosing groups, when the audience is "chosen groups"
    PREVIEW = "preview"


def _data(b: Broadcast, action: BroadcastAction, arg: str = "") -> str:
    return encode(Button(Flow.BROADCAST, action, (b.id,), arg))


def message_text(app: Services, lang: str, b: Broadcast) -> str:
    """The broadcast as every recipient sees it (the preview uses the same function)."""
    return app.t("broadcast_message", lang, ward=app.settings.ward.name, text=b.text or "")


async def start(ctx: Ctx) -> Reply:
    if ctx.member is None or ctx.member.role != Role.ADMIN:
        return Reply().add(ctx.t("admin_only"))
    if " ".join(ctx.inc.args).strip().lower() in HISTORY_WORDS:
        from handlers.broadcast_history import history

        return await history(ctx)
    b = Broadcast(created_by=ctx.member.id, status="draft", audience={}, created_at=ctx.now)
    ctx.session.add(b)
    await ctx.session.flush()
    await _goto(ctx, b, Step.COMPOSE)
    return Reply(messages=[_compose(ctx, b)])


async def start_from_text(ctx: Ctx, text: str) -> Reply:
    """A broadcast pre-filled with a text (e.g. a featured good deed), at the audience step."""
    assert ctx.member is not None
    b = Broadcast(created_by=ctx.member.id, status="draft", audience={}, text=text,
                  created_at=ctx.now)
    ctx.session.add(b)
    await ctx.session.flush()
    await _goto(ctx, b, Step.AUDIENCE)
    return Reply(messages=[_audience(ctx, b)])


async def resume(ctx: Ctx, conv: Conversation) -> Reply:
    """Show the step the admin is at (after a button that is out of date)."""
    b = await _own_draft(ctx, conv.data.get("broadcast_id"))
    if b is None:
        await end(ctx)
        return Reply().add(ctx.t("broadcast_gone"))
    step = _step(conv)
    if step is Step.GROUPS:
        return Reply(messages=[await _groups(ctx, b)])
    if step is Step.PREVIEW:
        return await _preview(ctx, b)
    return Reply(messages=[_render(ctx, b, step)])


async def on_text(ctx: Ctx, conv: Conversation) -> Reply:
    b = await _own_draft(ctx, conv.data.get("broadcast_id"))
    if b is None:
        await end(ctx)
        return Reply().add(ctx.t("broadcast_gone"))
    # Whatever the step, a new text or photo replaces the content: an admin who types a
    # correction at the preview must not be left with the old text behind the button.
    # Only "gửi" typed at the preview is no new text: it does what the Send button does.
    text = (ctx.inc.text or "").strip()
    if _step(conv) is Step.PREVIEW and not ctx.inc.photos and text.lower() in SEND_WORDS:
        return await _queue(ctx, b)
    if not text and not ctx.inc.photos:
        return Reply(messages=[_compose(ctx, b, error=ctx.t("broadcast_err_empty"))])
    b.text = text or None
    b.photo = ctx.inc.photos[0] if ctx.inc.photos else None
    rendered = message_text(ctx.app, ctx.app.settings.ward.language, b)
    # The limits apply to what the messengers receive (escaped HTML), not to what was
    # typed, and to every running channel: recipients may be on any of them.
    limits = ctx.app.strictest_limits()
    size = html_length(rendered)
    if size > limits.max_text or (b.photo and size > limits.max_caption):
        b.text, b.photo = None, None
        error = ctx.t("broadcast_err_long",  # "4.096" in Vietnamese, "4,096" in English
                      max_text=format_number(Decimal(limits.max_text), ctx.lang),
                      max_caption=format_number(Decimal(limits.max_caption), ctx.lang))
        return Reply(messages=[_compose(ctx, b, error=error)])
    await _goto(ctx, b, Step.AUDIENCE)
    return Reply(messages=[_audience(ctx, b)])


async def on_button(ctx: Ctx, button: Button) -> Reply:
    if ctx.member is None or ctx.member.role != Role.ADMIN:
        return Reply(toast=ctx.t("admin_only")).add(ctx.t("admin_only"))
    b = await _own_draft(ctx, button.id(0))
    conv = ctx.conv
    if b is None or conv is None or conv.data.get("broadcast_id") != b.id:
        return Reply(toast=ctx.t("button_expired")).add(ctx.t("broadcast_gone"))
    action, arg, step = button.action, button.arg, _step(conv)
    if action is BroadcastAction.DISCARD:
        b.status = "cancelled"
        await end(ctx)
        return Reply().add(ctx.t("broadcast_cancelled"), edit=ctx.inc.message_id)
    if action is BroadcastAction.BACK:
        back = Step.COMPOSE if step in (Step.AUDIENCE, Step.PREVIEW) else Step.AUDIENCE
        await _goto(ctx, b, back)
        return Reply(messages=[_render(ctx, b, back)])
    # An audience button still on screen at the preview changes the audience: the admin
    # changed their mind, and the draft is as alive as it was.
    if action is BroadcastAction.AUDIENCE and arg in AUDIENCES \
            and step in (Step.AUDIENCE, Step.PREVIEW):
        b.audience = {"kind": arg, "groups": list(b.audience.get("groups", []))}
        if arg == "groups":
            await _goto(ctx, b, Step.GROUPS)
            return Reply(messages=[await _groups(ctx, b)])
        return await _preview(ctx, b)
    if action is BroadcastAction.TOGGLE and step is Step.GROUPS:
        chosen = set(b.audience.get("groups", []))
        chosen ^= {arg}
        b.audience = {"kind": "groups", "groups": sorted(chosen)}
        return Reply(messages=[await _groups(ctx, b, edit=ctx.inc.message_id)])
    if action is BroadcastAction.GROUPS_DONE and step is Step.GROUPS:
        if not b.audience.get("groups"):
            return Reply(toast=ctx.t("broadcast_err_no_group"))
        return await _preview(ctx, b)
    if action is BroadcastAction.SEND and step is Step.PREVIEW:
        return await _queue(ctx, b)
    reply = await resume(ctx, conv)  # where the draft stands, the preview included
    reply.toast = ctx.t("button_expired")
    return reply


async def on_cancel(ctx: Ctx, conv: Conversation) -> str:
    """`/huy` while composing: the draft is dropped, nothing was sent."""
    b = await _own_draft(ctx, conv.data.get("broadcast_id"))
    if b is not None:
        b.status = "cancelled"
    return ctx.t("broadcast_stopped")


FLOW = FlowSpec(FlowName.BROADCAST, Flow.BROADCAST, on_text=on_text, on_button=on_button,
                resume=resume, on_cancel=on_cancel)


# --- steps --------------------------------------------------------------------------

def _compose(ctx: Ctx, b: Broadcast, error: str | None = None) -> Outgoing:
    return Outgoing(ctx.t("broadcast_compose", error=error),
                    [[Option(ctx.t("broadcast_discard"), _data(b, BroadcastAction.DISCARD))]])


def _audience(ctx: Ctx, b: Broadcast) -> Outgoing:
    rows = [[Option(ctx.t(f"broadcast_to_{a}"), _data(b, BroadcastAction.AUDIENCE, a))]
            for a in AUDIENCES]
    rows.append([Option(ctx.t("btn_back"), _data(b, BroadcastAction.BACK)),
                 Option(ctx.t("broadcast_discard"), _data(b, BroadcastAction.DISCARD))])
    return Outgoing(ctx.t("broadcast_audience"), rows)


async def _groups(ctx: Ctx, b: Broadcast, edit: str | None = None) -> Outgoing:
    chosen = set(b.audience.get("groups", []))
    groups = (await ctx.session.scalars(
        select(Group).where(Group.active.is_(True)).order_by(Group.id))).all()
    buttons = [Option(("✅ " if g.code in chosen else "▫️ ") + g.name,
                      _data(b, BroadcastAction.TOGGLE, g.code))
               for g in groups]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    rows.append([Option(ctx.t("broadcast_groups_done"), _data(b, BroadcastAction.GROUPS_DONE)),
                 Option(ctx.t("btn_back"), _data(b, BroadcastAction.BACK))])
    return Outgoing(ctx.t("broadcast_groups", count=len(chosen)), rows, edit=edit)


async def _preview(ctx: Ctx, b: Broadcast) -> Reply:
    members = await recipients(ctx, b)
    await _goto(ctx, b, Step.PREVIEW)
    text = message_text(ctx.app, ctx.app.settings.ward.language, b)
    shown = Outgoing(text)
    if b.photo:  # recipients get the photo with the text as its caption
        shown = Outgoing("", attachments=[Attachment("photo", b"", "photo.jpg", caption=text,
                                                     file_id=b.photo)])
    summary = ctx.t("broadcast_preview", count=len(members), audience=_audience_label(ctx, b),
                    names=[m.display_name for m in members[:30]], more=max(len(members) - 30, 0))
    rows = [[Option(ctx.t("broadcast_send", count=len(members)),
                    _data(b, BroadcastAction.SEND))],
            [Option(ctx.t("btn_back"), _data(b, BroadcastAction.BACK)),
             Option(ctx.t("broadcast_discard"), _data(b, BroadcastAction.DISCARD))]]
    return Reply(messages=[shown, Outgoing(summary, rows)])


async def _queue(ctx: Ctx, b: Broadcast) -> Reply:
    members = await recipients(ctx, b)
    if not members:
        return Reply(toast=ctx.t("broadcast_err_nobody"))
    b.status, b.queued_at = "queued", ctx.now
    b.progress_channel, b.progress_chat_id = ctx.inc.channel, ctx.inc.chat_id
    limits = ctx.app.limits.get(ctx.inc.channel)
    # Where messages can be edited, the preview itself becomes the progress message,
    # edited by the paced sender: no reply of ours lands in the admin's chat in the same
    # second as the sender's first message (Telegram allows about one a second per chat).
    in_place = limits is not None and limits.edits and ctx.inc.message_id is not None
    progress = Outgoing(ctx.t("broadcast_progress", sent=0, failed=0, pending=len(members),
                              total=len(members), done=False, failures=[]),
                        edit=ctx.inc.message_id if in_place else None)
    # The progress message goes first, so the sender can edit it while it works.
    await enqueue(ctx.session, kind="broadcast_progress", dedupe_key=f"broadcast:{b.id}:progress",
                  channel=ctx.inc.channel, chat_id=ctx.inc.chat_id, body=progress.to_payload(),
                  now=ctx.now, member_id=ctx.member.id if ctx.member else None,
                  broadcast_id=b.id)
    body = payload(message_text(ctx.app, ctx.app.settings.ward.language, b), photo=b.photo)
    queued = await enqueue_to_members(ctx.session, kind="broadcast", key=f"broadcast:{b.id}",
                                      member_ids=[m.id for m in members], body=body,
                                      now=ctx.now, broadcast_id=b.id)
    await end(ctx)
    if in_place:  # the pressed button's notice; the preview turns into the progress
        return Reply(toast=html.unescape(str(ctx.t("broadcast_queued", count=queued))))
    return Reply().add(ctx.t("broadcast_queued", count=queued), edit=ctx.inc.message_id)


# --- helpers ------------------------------------------------------------------------

async def recipients(ctx: Ctx, b: Broadcast) -> list[Member]:
    kind = b.audience.get("kind")
    query = select(Member).where(Member.active.is_(True)).order_by(Member.id)
    if kind == "leaders":
        query = query.where(Member.role == Role.LEADER)
    elif kind == "council":
        query = query.where(Member.role == Role.COUNCIL)
    elif kind == "groups":
        codes = list(b.audience.get("groups", []))
        query = (query.join(Group, Group.id == Member.group_id)
                 .where(Member.role == Role.LEADER, Group.code.in_(codes)))
    elif kind != "everyone":
        return []
    return list(await ctx.session.scalars(query))


def _audience_label(ctx: Ctx, b: Broadcast) -> str:
    kind = str(b.audience.get("kind", ""))
    label = ctx.t(f"broadcast_to_{kind}") if kind in AUDIENCES else ""
    if kind == "groups":
        codes = b.audience.get("groups", [])
        names = [g.name for g in ctx.app.settings.groups if g.code in codes]
        label = f"{label}: {', '.join(names)}"
    return label


def _render(ctx: Ctx, b: Broadcast, step: Step | None) -> Outgoing:
    if step is Step.AUDIENCE:
        return _audience(ctx, b)
    return _compose(ctx, b)


def _step(conv: Conversation) -> Step | None:
    at = parse_step(Step, conv.step)
    return at.step if at is not None and at.index is None else None


async def _own_draft(ctx: Ctx, broadcast_id: object) -> Broadcast | None:
    if not isinstance(broadcast_id, int) or ctx.member is None:
        return None
    b = await ctx.session.get(Broadcast, broadcast_id)
    if b is None or b.created_by != ctx.member.id or b.status != "draft":
        return None
    return b


async def _goto(ctx: Ctx, b: Broadcast, step: Step) -> None:
    await goto(ctx, FlowName.BROADCAST, step, {"broadcast_id": b.id})
