"""/dangky (/signup): the year's sign-up (đăng ký thi đua).

Inside the window (config `signup`), a leader registers the group's commitments for the
year: for each title of `signup.titles` "Đăng ký" or "Không đăng ký", then the number
of households registering for "Gia đình văn hóa", then a summary to send or redo.
Answers are kept in the conversation row (`handlers.flow`), so a leader who stops
half-way, or a restart, loses nothing; only "Gửi đăng ký" writes the pledge, and
writing it again in the window replaces it.

Outside the window a leader sees the group's registration and the window's dates; the
Council and admins see who has signed up (`/dangky 2022` for another year).

The group is always the leader's own (`ctx.group`): a button carries only the year and
the step, so no data another leader sends can reach another group's pledge.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Any

from handlers.context import Ctx
from handlers.flow import At, FlowName, FlowSpec, end, goto, parse_step
from models import Conversation, Pledge, Role
from models.members import COUNCIL_ROLES
from reporting.answers import AnswerError, NeedsConfirmation, is_back, parse_answer, yes_or_no
from reporting.buttons import Button, Flow, SignupAction, encode
from reporting.messages import Option, Outgoing, Reply
from reporting.signup import (
    Window,
    find_pledge,
    households_indicator,
    last_households,
    save_pledge,
    tally,
    window,
)

# Typed instead of the summary's buttons, folded (no accents): "gửi" sends, "sửa" redoes.
SEND_WORDS = frozenset({"gui", "gui di", "gui dang ky", "ok", "dong y", "xac nhan", "send"})
REDO_WORDS = frozenset({"sua", "sua lai", "lam lai", "redo", "edit"})


class Step(StrEnum):
    """Where a leader is: title i (`title:2`), the households, the summary."""

    TITLE = "title"
    HOUSEHOLDS = "households"
    SUMMARY = "summary"


Data = dict[str, Any]


# --- the command ----------------------------------------------------------------------

async def start(ctx: Ctx) -> Reply:
    """Leaders sign up (or see their sign-up); the Council sees who has signed up."""
    if ctx.member is not None and ctx.member.role in COUNCIL_ROLES:
        return await _overview(ctx)
    if ctx.member is None or ctx.member.role != Role.LEADER or ctx.group is None:
        return Reply().add(ctx.t("signup_leaders_only"))
    if not ctx.inc.private:
        return Reply().add(ctx.t("private_only"))
    year = _year_arg(ctx)
    if year is None:
        return Reply().add(ctx.t("signup_bad_year", text=" ".join(ctx.inc.args)))
    win = window(ctx.app.settings.signup, year)
    if win.state(ctx.today) != "open":
        return await _own(ctx, win)
    pledge = await find_pledge(ctx.session, ctx.group.id, year)
    data: Data = {"year": year, "group_id": ctx.group.id, "titles": {}, "households": None}
    at = _first_missing(ctx, data)
    await _goto(ctx, at, data)
    intro = ctx.t("signup_intro", year=year, group=ctx.group.name, closes=win.closes,
                  again=pledge is not None, total=len(ctx.app.settings.signup.titles))
    return Reply(messages=[await _ask(ctx, at, data, intro=intro)])


def _year_arg(ctx: Ctx) -> int | None:
    """`/dangky 2022`: that year; no argument: this year; anything else: None."""
    if not ctx.inc.args:
        return ctx.today.year
    text = "".join(ctx.inc.args).strip()
    if text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return None


async def _own(ctx: Ctx, win: Window) -> Reply:
    """A leader outside the window: the group's registration, and when one can sign up."""
    assert ctx.group is not None
    pledge = await find_pledge(ctx.session, ctx.group.id, win.year)
    return Reply().add(ctx.t(
        "signup_own", year=win.year, group=ctx.group.name, state=win.state(ctx.today),
        opens=win.opens, closes=win.closes, pledge=_shown(ctx, pledge)))


async def _overview(ctx: Ctx) -> Reply:
    """The Council: signed up / not yet, the groups not yet, the ward's totals."""
    year = _year_arg(ctx)
    if year is None:
        return Reply().add(ctx.t("signup_bad_year", text=" ".join(ctx.inc.args)))
    win = window(ctx.app.settings.signup, year)
    counted = await tally(ctx.session, ctx.app.settings, year)
    titles = [{"name": _title_name(ctx, code), "groups": n}
              for code, n in counted.titles.items()]
    return Reply().add(ctx.t(
        "signup_overview", year=year, opens=win.opens, closes=win.closes,
        state=win.state(ctx.today), signed=len(counted.signed), total=counted.total,
        missing=counted.missing, titles=titles, households=counted.households))


# --- the flow -------------------------------------------------------------------------

async def on_text(ctx: Ctx, conv: Conversation) -> Reply:
    data = _own_data(ctx, conv)
    if data is None:
        await end(ctx)
        return Reply().add(ctx.t("signup_gone"))
    at = _at(ctx, conv, data)
    text = (ctx.inc.text or "").strip()
    if at.step is not Step.SUMMARY and is_back(text):
        return await _back(ctx, at, data)
    if at.step is Step.TITLE:
        choice = _yes_no(text)
        if choice is None:
            return Reply(messages=[await _ask(ctx, at, data,
                                              error=ctx.t("signup_err_title"))])
        return await _choose(ctx, at, data, choice)
    if at.step is Step.HOUSEHOLDS:
        return await _households(ctx, at, data, text)
    folded = _fold(text)
    if folded in SEND_WORDS:
        return await _submit(ctx, data, None)
    if folded in REDO_WORDS:
        return await _redo(ctx, data)
    return Reply(messages=[await _ask(ctx, at, data, error=ctx.t("signup_err_summary"))])


async def on_button(ctx: Ctx, b: Button) -> Reply:
    conv = ctx.conv
    data = _own_data(ctx, conv) if conv is not None and conv.flow == FlowName.SIGNUP else None
    if conv is None or data is None:
        return Reply(toast=ctx.t("button_expired")).add(ctx.t("signup_gone"))
    at = _at(ctx, conv, data)
    if b.id(0) != data["year"] or b.id(1) != _index(ctx, at):
        return Reply(messages=[await _ask(ctx, at, data)], toast=ctx.t("button_expired"))
    action = b.action
    if action is SignupAction.BACK:
        return await _back(ctx, at, data)
    if action in (SignupAction.YES, SignupAction.NO) and at.step is Step.TITLE:
        return await _choose(ctx, at, data, action is SignupAction.YES)
    if action is SignupAction.SEND and at.step is Step.SUMMARY:
        return await _submit(ctx, data, ctx.inc.message_id)
    if action is SignupAction.REDO and at.step is Step.SUMMARY:
        return await _redo(ctx, data)
    return Reply(messages=[await _ask(ctx, at, data)], toast=ctx.t("button_expired"))


async def resume(ctx: Ctx, conv: Conversation) -> Reply:
    """Show the step the leader is at (after a button that is out of date)."""
    data = _own_data(ctx, conv)
    if data is None:
        await end(ctx)
        return Reply().add(ctx.t("signup_gone"))
    return Reply(messages=[await _ask(ctx, _at(ctx, conv, data), data)])


async def on_cancel(ctx: Ctx, conv: Conversation) -> str:
    """`/huy`: nothing of this round is saved; an earlier registration stands."""
    data = _own_data(ctx, conv)
    pledge = None
    if data is not None and ctx.group is not None:
        pledge = await find_pledge(ctx.session, ctx.group.id, data["year"])
    return ctx.t("signup_cancelled", kept=pledge is not None)


FLOW = FlowSpec(FlowName.SIGNUP, Flow.SIGNUP, on_text=on_text, on_button=on_button,
                resume=resume, on_cancel=on_cancel)


# --- steps ----------------------------------------------------------------------------

async def _choose(ctx: Ctx, at: At[Step], data: Data, yes: bool) -> Reply:
    code = ctx.app.settings.signup.titles[at.index or 0]
    data["titles"] = {**data["titles"], code: yes}
    return await _advance(ctx, at, data)


async def _households(ctx: Ctx, at: At[Step], data: Data, text: str) -> Reply:
    """A whole number, read as report answers are ("không có" is 0), at most the group's
    households when its last report gave them."""
    ind = households_indicator(ctx.app.settings)
    try:
        value = int(parse_answer(ind, text, ctx.lang))
    except NeedsConfirmation as unsure:
        value = int(unsure.value)  # "1,234" is the thousands; the summary shows it
    except AnswerError as err:
        return Reply(messages=[await _ask(ctx, at, data, error=ctx.t(err.key, **err.params))])
    cap = await _cap(ctx, data)
    if cap is not None and value > cap:
        error = ctx.t("signup_err_over_cap", value=value, cap=cap)
        return Reply(messages=[await _ask(ctx, at, data, error=error)])
    data["households"] = value
    return await _advance(ctx, at, data)


async def _advance(ctx: Ctx, at: At[Step], data: Data) -> Reply:
    """The next step in order (answering again after "Sửa lại" walks every one); the
    summary only once every answer is there."""
    nxt = _at_index(ctx, _index(ctx, at) + 1)
    if nxt.step is Step.SUMMARY:
        nxt = _first_missing(ctx, data)
    await _goto(ctx, nxt, data)
    return Reply(messages=[await _ask(ctx, nxt, data)])


async def _back(ctx: Ctx, at: At[Step], data: Data) -> Reply:
    index = max(_index(ctx, at) - 1, 0)
    back = _at_index(ctx, index)
    await _goto(ctx, back, data)
    return Reply(messages=[await _ask(ctx, back, data)])


async def _redo(ctx: Ctx, data: Data) -> Reply:
    first = _at_index(ctx, 0)
    await _goto(ctx, first, data)
    return Reply(messages=[await _ask(ctx, first, data)])


async def _submit(ctx: Ctx, data: Data, edit: str | None) -> Reply:
    assert ctx.group is not None and ctx.member is not None
    missing = _first_missing(ctx, data)
    if missing.step is not Step.SUMMARY:
        await _goto(ctx, missing, data)
        return Reply(messages=[await _ask(ctx, missing, data)])
    win = window(ctx.app.settings.signup, data["year"])
    if win.state(ctx.today) != "open":  # started on the last day, sent after it
        await end(ctx)
        return Reply().add(ctx.t("signup_closed_now", year=win.year, closes=win.closes))
    titles = [c for c in ctx.app.settings.signup.titles if data["titles"].get(c)]
    pledge = await save_pledge(ctx.session, ctx.group.id, win.year, titles,
                               data["households"], ctx.member.id, ctx.now)
    await end(ctx)
    return Reply().add(ctx.t("signup_thanks", year=win.year, group=ctx.group.name,
                             pledge=_shown(ctx, pledge), closes=win.closes), edit=edit)


# --- rendering ------------------------------------------------------------------------

async def _ask(ctx: Ctx, at: At[Step], data: Data, error: str | None = None,
               intro: str | None = None) -> Outgoing:
    settings = ctx.app.settings
    index = _index(ctx, at)
    rows: list[list[Option]] = []
    if at.step is Step.TITLE:
        code = settings.signup.titles[at.index or 0]
        text = ctx.t("signup_ask_title", intro=intro, error=error, n=index + 1,
                     total=len(settings.signup.titles), year=data["year"],
                     title=_title_name(ctx, code))
        rows.append([Option(ctx.t("signup_btn_yes"), _data(data, index, SignupAction.YES)),
                     Option(ctx.t("signup_btn_no"), _data(data, index, SignupAction.NO))])
    elif at.step is Step.HOUSEHOLDS:
        text = ctx.t("signup_ask_households", intro=intro, error=error,
                     year=data["year"], cap=await _cap(ctx, data))
    else:
        text = ctx.t("signup_summary", error=error, year=data["year"],
                     group=ctx.group.name if ctx.group else "",
                     pledge=_shown(ctx, None, data))
        rows.append([Option(ctx.t("signup_btn_send"), _data(data, index, SignupAction.SEND)),
                     Option(ctx.t("signup_btn_redo"), _data(data, index, SignupAction.REDO))])
    if at.step is not Step.SUMMARY and index > 0:
        rows.append([Option(ctx.t("btn_back"), _data(data, index, SignupAction.BACK))])
    # A typed number answers the households question, never picks a menu line (Zalo).
    return Outgoing(text, rows, expects="number" if at.step is Step.HOUSEHOLDS else None)


def _shown(ctx: Ctx, pledge: Pledge | None, data: Data | None = None) -> str | None:
    """What a registration says (saved, or the answers so far): titles and households."""
    if pledge is not None:
        codes, households = list(pledge.titles), pledge.households
        at = pledge.updated_at.astimezone(ctx.app.settings.ward.tz)
    elif data is not None:
        codes = [c for c in ctx.app.settings.signup.titles if data["titles"].get(c)]
        households, at = data["households"], None
    else:
        return None
    return ctx.t("signup_pledge", titles=[_title_name(ctx, c) for c in codes],
                 households=households, at=at)


def _title_name(ctx: Ctx, code: str) -> str:
    """ "Tổ dân phố văn hóa/Bản văn hóa" for a known title, else the indicator's short label."""
    found = ctx.app.settings.indicator(code)
    short = found[1].short_label(ctx.lang) if found is not None else code
    return ctx.t("signup_title", code=code, short=short)


# --- helpers --------------------------------------------------------------------------

def _data(data: Data, index: int, action: SignupAction) -> str:
    return encode(Button(Flow.SIGNUP, action, (data["year"], index)))


def _index(ctx: Ctx, at: At[Step]) -> int:
    """Steps in order: title 0 … title n-1, households (n), summary (n+1)."""
    n = len(ctx.app.settings.signup.titles)
    if at.step is Step.TITLE:
        return at.index or 0
    return n if at.step is Step.HOUSEHOLDS else n + 1


def _at_index(ctx: Ctx, index: int) -> At[Step]:
    n = len(ctx.app.settings.signup.titles)
    if index < n:
        return At(Step.TITLE, index)
    return At(Step.HOUSEHOLDS) if index == n else At(Step.SUMMARY)


def _first_missing(ctx: Ctx, data: Data) -> At[Step]:
    for n, code in enumerate(ctx.app.settings.signup.titles):
        if code not in data["titles"]:
            return At(Step.TITLE, n)
    return At(Step.HOUSEHOLDS) if data["households"] is None else At(Step.SUMMARY)


def _at(ctx: Ctx, conv: Conversation, data: Data) -> At[Step]:
    """The saved step, if it still names a step of this config; else the first missing."""
    at = parse_step(Step, conv.step)
    titles = len(ctx.app.settings.signup.titles)
    if at is None or (at.step is Step.TITLE) != (at.index is not None) \
            or (at.index is not None and at.index >= titles):
        return _first_missing(ctx, data)
    if at.step is Step.SUMMARY:
        return _first_missing(ctx, data)  # the summary needs every answer
    return at


def _own_data(ctx: Ctx, conv: Conversation | None) -> Data | None:
    """The conversation's answers if they are this leader's group's, else None."""
    if conv is None or ctx.group is None:
        return None
    data = conv.data
    if data.get("group_id") != ctx.group.id or not isinstance(data.get("year"), int) \
            or not isinstance(data.get("titles"), dict):
        return None
    return {"year": data["year"], "group_id": data["group_id"],
            "titles": dict(data["titles"]), "households": data.get("households")}


async def _cap(ctx: Ctx, data: Data) -> int | None:
    return await last_households(ctx.session, ctx.app.settings, data["group_id"])


NO_WORDS = frozenset({"khong dang ky", "ko dang ky", "do not register", "not register"})
YES_WORDS = frozenset({"dang ky", "register"})


def _yes_no(text: str) -> bool | None:
    """A typed reply to a title: the buttons' words, or có/không, đạt/chưa đạt."""
    folded = _fold(text)
    if folded in NO_WORDS:
        return False
    if folded in YES_WORDS:
        return True
    return yes_or_no(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.lower().split()).strip(" .!")


async def _goto(ctx: Ctx, at: At[Step], data: Data) -> None:
    await goto(ctx, FlowName.SIGNUP, at, data)
