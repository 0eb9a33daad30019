"""The Council's review of new good deeds: feature, propose for commendation, not now.

A card's buttons carry the deed and the decision. The decision and who made it are
recorded; only a new deed is decided on (the first decision stands, a later press is
told who made it).
"""

from __future__ import annotations

import html

from sqlalchemy import func, select, update

from handlers.context import Ctx
from handlers.flow import FlowSpec
from handlers.notices import tell
from models import DeedPhoto, DeedStatus, GoodDeed, Group, Member, Role
from reporting.buttons import Button, Flow, ReviewAction, encode
from reporting.messages import Option, Outgoing, Reply

DECISIONS = {ReviewAction.FEATURE: DeedStatus.FEATURED,
             ReviewAction.PROPOSE: DeedStatus.PROPOSED,
             ReviewAction.NOT_NOW: DeedStatus.NOT_NOW}
SHOWN_AT_ONCE = 10


def _data(deed: GoodDeed, action: ReviewAction) -> str:
    return encode(Button(Flow.REVIEW, action, (deed.id,)))


async def list_new(ctx: Ctx) -> Reply:
    rows = (await ctx.session.execute(
        select(GoodDeed, Group.name).join(Group, Group.id == GoodDeed.group_id)
        .where(GoodDeed.status == DeedStatus.NEW).order_by(GoodDeed.submitted_at)
        .limit(SHOWN_AT_ONCE + 1))).all()
    if not rows:
        return Reply().add(ctx.t("review_none"))
    reply = Reply().add(ctx.t("review_intro", count=len(rows), more=len(rows) > SHOWN_AT_ONCE))
    for deed, group in rows[:SHOWN_AT_ONCE]:
        reply.messages.append(await _card(ctx, deed, group))
    return reply


async def _card(ctx: Ctx, deed: GoodDeed, group: str) -> Outgoing:
    photos = await ctx.session.scalar(
        select(func.count()).select_from(DeedPhoto).where(DeedPhoto.deed_id == deed.id))
    author = await ctx.session.get(Member, deed.reported_by)
    text = ctx.t("review_card", deed=deed, group=group, photos=int(photos or 0),
                 author=author.display_name if author else "", category=_category(ctx, deed))
    return Outgoing(text, [
        [Option(ctx.t("review_feature"), _data(deed, ReviewAction.FEATURE))],
        [Option(ctx.t("review_propose"), _data(deed, ReviewAction.PROPOSE))],
        [Option(ctx.t("review_not_now"), _data(deed, ReviewAction.NOT_NOW))],
    ])


def _category(ctx: Ctx, deed: GoodDeed) -> str:
    return next((c.label.get(ctx.lang) for c in ctx.app.settings.good_deeds.categories
                 if c.code == deed.category), "")


async def on_button(ctx: Ctx, b: Button) -> Reply:
    if ctx.member is None or ctx.member.role not in (Role.COUNCIL, Role.ADMIN):
        return Reply(toast=ctx.t("council_only")).add(ctx.t("council_only"))
    deed_id = b.id(0)
    deed = await ctx.session.get(GoodDeed, deed_id) if deed_id is not None else None
    if deed is None or deed.status == DeedStatus.DRAFT:
        return Reply(toast=ctx.t("button_expired"))
    if b.action is ReviewAction.BROADCAST:
        return await _broadcast(ctx, deed)
    if not isinstance(b.action, ReviewAction):  # the codec pairs flows with their actions
        return Reply(toast=ctx.t("button_expired"))
    # Only a new deed is decided on: a card still on another member's screen must not
    # overturn a decision already made. The status is checked in the UPDATE itself, so
    # two members pressing at the same moment cannot both win.
    decision = DECISIONS[b.action]
    decided = await ctx.session.execute(
        update(GoodDeed).where(GoodDeed.id == deed.id, GoodDeed.status == DeedStatus.NEW)
        .values(status=decision, reviewed_by=ctx.member.id, reviewed_at=ctx.now))
    if not getattr(decided, "rowcount", 0):
        await ctx.session.refresh(deed)  # as the other member left it
        return await _already(ctx, deed)
    group = await ctx.session.get(Group, deed.group_id)
    text = ctx.t("review_done", deed=deed, group=group.name if group else "",
                 decision=decision.value, by=ctx.member.display_name)
    author = await ctx.session.get(Member, deed.reported_by)
    if author is not None and decision in (DeedStatus.FEATURED, DeedStatus.PROPOSED):
        await tell(ctx, [author], kind="deed_decided", key=f"deed_decided:{deed.id}",
                   text="deed_decided_notice", deed=deed, decision=decision.value,
                   group=group.name if group else "")
    options = []
    if decision == DeedStatus.FEATURED and ctx.member.role == Role.ADMIN:
        options = [[Option(ctx.t("review_broadcast"), _data(deed, ReviewAction.BROADCAST))]]
    return Reply(toast=ctx.t("review_saved")).add(text, options, edit=ctx.inc.message_id)


FLOW = FlowSpec(None, Flow.REVIEW, on_button=on_button)


async def _already(ctx: Ctx, deed: GoodDeed) -> Reply:
    """Someone decided on this deed before: say who and what, change nothing."""
    reviewer = await ctx.session.get(Member, deed.reviewed_by) if deed.reviewed_by else None
    text = ctx.t("review_already", by=reviewer.display_name if reviewer else "",
                 decision=DeedStatus(deed.status).value)
    # A toast is plain text, not HTML.
    return Reply(toast=html.unescape(str(text))).add(text)


async def _broadcast(ctx: Ctx, deed: GoodDeed) -> Reply:
    """Start a broadcast pre-filled with the featured deed (admins only)."""
    from handlers.broadcast import start_from_text

    if ctx.member is None or ctx.member.role != Role.ADMIN:
        return Reply(toast=ctx.t("admin_only")).add(ctx.t("admin_only"))
    group = await ctx.session.get(Group, deed.group_id)
    # Back to plain text: the broadcast template escapes it like any admin-typed message.
    text = html.unescape(str(ctx.t("deed_broadcast_text", deed=deed,
                                   group=group.name if group else "",
                                   category=_category(ctx, deed))))
    return await start_from_text(ctx, text)
