"""/guongtot (/gooddeed): a leader tells of a good deed, with up to five photos.

The deed is a draft row from the first answer on, and the step is a conversation row,
so nothing is lost if the leader stops or the bot restarts. Steps, in order:
kind → name → what → when → category → photos → confirm. A button carries the deed
and the step it was shown at, so a press on an earlier step's button is recognised.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import delete, func, select

from handlers.context import Ctx
from handlers.flow import FlowName, FlowSpec, end, goto, parse_step
from models import Conversation, DeedPhoto, DeedStatus, GoodDeed, Role
from reporting import media
from reporting.buttons import Button, DeedAction, Flow, encode
from reporting.messages import Option, Outgoing, Reply
from reporting.numbers import format_number
from reporting.services import FileTooLarge

log = logging.getLogger(__name__)


class Step(StrEnum):
    """The questions, in the order they are asked (stored by these names)."""

    KIND = "kind"
    NAME = "name"
    WHAT = "what"
    WHEN = "when"
    CATEGORY = "category"
    PHOTOS = "photos"
    CONFIRM = "confirm"


STEPS = tuple(Step)
KINDS = ("person", "collective")
SEND_WORDS = {"gui", "gui di", "send", "ok", "xac nhan", "dong y"}  # folded (no accents)
DONE_WORDS = {"xong", "done", "không có ảnh", "khong co anh", "no photos", "ok"}
_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2,4}))?\s*$")


def _data(deed: GoodDeed, step: Step, action: DeedAction, arg: str = "") -> str:
    return encode(Button(Flow.DEED, action, (deed.id, STEPS.index(step)), arg))


def _step(conv: Conversation | None, deed: GoodDeed) -> Step:
    """The saved step of this deed's conversation, else the first unanswered one."""
    at = parse_step(Step, conv.step) if conv is not None else None
    if conv is None or conv.data.get("deed_id") != deed.id or at is None or at.index is not None:
        return _first_missing(deed)
    return at.step


async def start(ctx: Ctx) -> Reply:
    """Leaders tell a new deed (or finish the one they started); others review."""
    if ctx.member is not None and ctx.member.role in (Role.COUNCIL, Role.ADMIN):
        from handlers.deed_review import list_new

        return await list_new(ctx)
    if ctx.member is None or ctx.group is None:
        return Reply().add(ctx.t("report_leaders_only"))
    deed = await ctx.session.scalar(
        select(GoodDeed).where(GoodDeed.reported_by == ctx.member.id,
                               GoodDeed.status == DeedStatus.DRAFT))
    resumed = deed is not None
    if deed is None:
        deed = GoodDeed(group_id=ctx.group.id, reported_by=ctx.member.id,
                        status=DeedStatus.DRAFT, created_at=ctx.now)
        ctx.session.add(deed)
        await ctx.session.flush()
    step = _first_missing(deed)
    await _goto(ctx, deed, step)
    intro = ctx.t("deed_intro", resumed=resumed)
    return Reply(messages=[await _ask(ctx, deed, step, intro=intro)])


async def resume(ctx: Ctx, conv: Conversation) -> Reply:
    """Show the step the leader is at (after a button that is out of date)."""
    deed = await _own_draft(ctx, conv.data.get("deed_id"))
    if deed is None:
        await end(ctx)
        return Reply().add(ctx.t("deed_gone"))
    return Reply(messages=[await _ask(ctx, deed, _step(conv, deed))])


def _too_large(ctx: Ctx) -> str:
    """ "Ảnh này lớn quá (tối đa 20 MB)", the limit from config (good_deeds.max_photo_bytes)."""
    mb = Decimal(ctx.app.settings.good_deeds.max_photo_bytes) / (1024 * 1024)
    return ctx.t("deed_err_photo_size", max_mb=format_number(mb.quantize(Decimal("0.1")), ctx.lang))


async def on_text(ctx: Ctx, conv: Conversation) -> Reply:
    deed = await _own_draft(ctx, conv.data.get("deed_id"))
    if deed is None:
        await end(ctx)
        return Reply().add(ctx.t("deed_gone"))
    step = _step(conv, deed)
    if ctx.inc.photos:  # kept at any step: a photo sent early is not lost
        return await _add_photos(ctx, deed, step)
    text = (ctx.inc.text or "").strip()
    if step is Step.CONFIRM and _fold(text) in SEND_WORDS:  # as the Gửi button
        return await _submit(ctx, deed, None)
    return await _answer(ctx, deed, step, text, typed=True)


async def on_button(ctx: Ctx, b: Button) -> Reply:
    deed_id, index = b.id(0), b.id(1)
    if deed_id is None or index is None:
        return Reply(toast=ctx.t("button_expired"))
    deed = await _own_draft(ctx, deed_id)
    if deed is None:
        return Reply(toast=ctx.t("deed_not_yours")).add(ctx.t("deed_not_yours"))
    conv = ctx.conv
    if (conv is None or conv.data.get("deed_id") != deed.id or index >= len(STEPS)
            or conv.step != STEPS[index]):
        step = _step(conv, deed)
        await _goto(ctx, deed, step)
        return Reply(messages=[await _ask(ctx, deed, step)], toast=ctx.t("button_expired"))
    step, action = STEPS[index], b.action
    edit = ctx.inc.message_id
    if action is DeedAction.BACK:
        back = STEPS[max(index - 1, 0)]
        await _goto(ctx, deed, back)
        return Reply(messages=[await _ask(ctx, deed, back)])
    if action is DeedAction.DISCARD:
        await ctx.session.execute(delete(DeedPhoto).where(DeedPhoto.deed_id == deed.id))
        await ctx.session.delete(deed)
        await end(ctx)
        return Reply().add(ctx.t("deed_cancelled"), edit=edit)
    if action is DeedAction.OK and step is Step.PHOTOS:
        return await _advance(ctx, deed, step)
    if action is DeedAction.OK and step is Step.CONFIRM:
        return await _submit(ctx, deed, edit)
    if action is DeedAction.VALUE:
        return await _answer(ctx, deed, step, b.arg, typed=False)
    return Reply(toast=ctx.t("button_expired"))


async def on_cancel(ctx: Ctx, conv: Conversation) -> str:
    """`/huy` while telling a deed: the draft stays for the next /guongtot."""
    deed = await _own_draft(ctx, conv.data.get("deed_id"))
    return ctx.t("deed_paused", kept=deed is not None)


FLOW = FlowSpec(FlowName.DEED, Flow.DEED, on_text=on_text, on_button=on_button,
                resume=resume, on_cancel=on_cancel)


# --- steps --------------------------------------------------------------------------

async def _answer(ctx: Ctx, deed: GoodDeed, step: Step, text: str, typed: bool) -> Reply:
    error = _apply(ctx, deed, step, text, typed)
    if error is not None:
        return Reply(messages=[await _ask(ctx, deed, step, error=error)])
    return await _advance(ctx, deed, step)


def _apply(ctx: Ctx, deed: GoodDeed, step: Step, text: str, typed: bool) -> str | None:
    """Store one answer on the draft; return a re-ask reason if it cannot be used."""
    text = unicodedata.normalize("NFC", text)
    if step is Step.KIND:
        kind = _pick(text, KINDS, [ctx.t("deed_kind_person"), ctx.t("deed_kind_collective")])
        if kind is None:
            return ctx.t("deed_err_kind")
        deed.subject_kind = kind
    elif step is Step.NAME:
        if not 2 <= len(text) <= 200:
            return ctx.t("deed_err_name")
        deed.subject_name = text
    elif step is Step.WHAT:
        if not 5 <= len(text) <= 1000:
            return ctx.t("deed_err_what", length=len(text))
        deed.description = text
    elif step is Step.WHEN:
        day = _parse_day(text, ctx.today)
        if day is None:
            return ctx.t("deed_err_when")
        if day > ctx.today or day < ctx.today - timedelta(days=366):
            return ctx.t("deed_err_when_range")
        deed.happened_on = day
    elif step is Step.CATEGORY:
        cats = ctx.app.settings.good_deeds.categories
        code = _pick(text, tuple(c.code for c in cats), [c.label.get(ctx.lang) for c in cats],
                     [c.button(ctx.lang) for c in cats])
        if code is None:
            return ctx.t("deed_err_category")
        deed.category = code
    elif step is Step.PHOTOS:
        if text.lower() not in DONE_WORDS:
            return ctx.t("deed_err_photos")
    elif step is Step.CONFIRM:
        return ctx.t("deed_err_confirm")
    return None


async def _advance(ctx: Ctx, deed: GoodDeed, step: Step) -> Reply:
    nxt = _first_missing(deed, after=step)
    await _goto(ctx, deed, nxt)
    return Reply(messages=[await _ask(ctx, deed, nxt)])


async def _add_photos(ctx: Ctx, deed: GoodDeed, step: Step) -> Reply:
    """Keep the photos; at the photo step move on when full, else ask `step` again."""
    limit = ctx.app.settings.good_deeds.max_photos
    count = await _photo_count(ctx, deed)
    fetch = ctx.app.fetchers.get(ctx.inc.channel)
    for file_id in ctx.inc.photos:
        if count >= limit:
            break
        photo = DeedPhoto(deed_id=deed.id, channel=ctx.inc.channel, file_id=file_id,
                          position=count + 1)
        if fetch is not None:
            try:
                data = await fetch(file_id, ctx.app.settings.good_deeds.max_photo_bytes)
            except FileTooLarge:
                return Reply(messages=[await _ask(ctx, deed, step,
                                                  error=_too_large(ctx))])
            except Exception:  # keep the file id; the copy can be fetched again later
                log.warning("could not download photo %s", file_id, exc_info=True)
            else:
                await media.keep_photo(ctx.session, photo, data, ctx.now)
        ctx.session.add(photo)
        count += 1
    if count >= limit and step is Step.PHOTOS:
        return await _advance(ctx, deed, Step.PHOTOS)
    return Reply(messages=[await _ask(ctx, deed, step, intro=ctx.t(
        "deed_photo_received", n=count, limit=limit, early=step is not Step.PHOTOS))])


async def _submit(ctx: Ctx, deed: GoodDeed, edit: str | None) -> Reply:
    missing = _first_missing(deed)
    if missing not in (Step.PHOTOS, Step.CONFIRM):
        await _goto(ctx, deed, missing)
        return Reply(messages=[await _ask(ctx, deed, missing)])
    deed.status = DeedStatus.NEW
    deed.submitted_at = ctx.now
    await end(ctx)
    summary = await _ask(ctx, deed, Step.CONFIRM)
    reply = Reply().add(summary.text, edit=edit)
    return reply.add(ctx.t("deed_thanks", name=deed.subject_name or ""))


# --- rendering ------------------------------------------------------------------------

async def _ask(ctx: Ctx, deed: GoodDeed, step: Step, error: str | None = None,
               intro: str | None = None) -> Outgoing:
    rows: list[list[Option]] = []
    value = DeedAction.VALUE
    if step is Step.KIND:
        rows.append([Option(ctx.t("deed_kind_person"), _data(deed, step, value, "person")),
                     Option(ctx.t("deed_kind_collective"),
                            _data(deed, step, value, "collective"))])
    elif step is Step.WHEN:
        rows.append([Option(ctx.t("deed_today"), _data(deed, step, value, "0")),
                     Option(ctx.t("deed_yesterday"), _data(deed, step, value, "1"))])
    elif step is Step.CATEGORY:
        # One a row: the plan's movements have long names (a `short` one for the button).
        rows += [[Option(c.button(ctx.lang), _data(deed, step, value, c.code))]
                 for c in ctx.app.settings.good_deeds.categories]
    elif step is Step.PHOTOS:
        rows.append([Option(ctx.t("deed_photos_done"), _data(deed, step, DeedAction.OK))])
    elif step is Step.CONFIRM:
        rows.append([Option(ctx.t("deed_send"), _data(deed, step, DeedAction.OK))])
    nav = [Option(ctx.t("btn_back"), _data(deed, step, DeedAction.BACK))] \
        if step is not Step.KIND else []
    nav.append(Option(ctx.t("deed_discard"), _data(deed, step, DeedAction.DISCARD)))
    rows.append(nav)
    category = next((c.label.get(ctx.lang) for c in ctx.app.settings.good_deeds.categories
                     if c.code == deed.category), None)
    text = ctx.t(f"deed_ask_{step}", intro=intro, error=error, deed=deed, category=category,
                 photos=await _photo_count(ctx, deed),
                 limit=ctx.app.settings.good_deeds.max_photos,
                 group=ctx.group.name if ctx.group else "")
    return Outgoing(text, rows)


# --- helpers --------------------------------------------------------------------------

def _first_missing(deed: GoodDeed, after: Step | None = None) -> Step:
    """The next step to ask: the first unanswered question, else photos, then confirm."""
    filled = {Step.KIND: deed.subject_kind, Step.NAME: deed.subject_name,
              Step.WHAT: deed.description, Step.WHEN: deed.happened_on,
              Step.CATEGORY: deed.category}
    order = STEPS[STEPS.index(after) + 1:] if after else STEPS
    for step in order:
        if step not in filled or filled[step] is None:
            return step
    return Step.CONFIRM


def _pick(text: str, codes: tuple[str, ...], *labels: list[str]) -> str | None:
    """A choice by code (from a button), number or label (any of the lists, e.g. the
    full and the button's short one), forgiving case and accents."""
    if text in codes:
        return text
    if text.isdigit() and 1 <= int(text) <= len(codes):
        return codes[int(text) - 1]
    wanted = _fold(text)
    for names in labels:
        for code, label in zip(codes, names, strict=True):
            if wanted and wanted == _fold(label):
                return code
    return None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


def _parse_day(text: str, today: date) -> date | None:
    if text in ("0", "1"):  # the Today / Yesterday buttons
        return today - timedelta(days=int(text))
    folded = _fold(text)
    if folded in ("hom nay", "today"):
        return today
    if folded in ("hom qua", "yesterday"):
        return today - timedelta(days=1)
    m = _DATE.match(text)
    if not m:
        return None
    day, month = int(m.group(1)), int(m.group(2))
    year = int(m.group(3)) if m.group(3) else today.year
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


async def _photo_count(ctx: Ctx, deed: GoodDeed) -> int:
    n = await ctx.session.scalar(
        select(func.count()).select_from(DeedPhoto).where(DeedPhoto.deed_id == deed.id))
    return int(n or 0)


async def _own_draft(ctx: Ctx, deed_id: object) -> GoodDeed | None:
    """The member's own draft; anything else (another's deed, a submitted one) is refused."""
    if not isinstance(deed_id, int) or ctx.member is None:
        return None
    deed = await ctx.session.get(GoodDeed, deed_id)
    if deed is None or deed.reported_by != ctx.member.id or deed.status != DeedStatus.DRAFT:
        return None
    return deed


async def _goto(ctx: Ctx, deed: GoodDeed, step: Step) -> None:
    await goto(ctx, FlowName.DEED, step, {"deed_id": deed.id})
