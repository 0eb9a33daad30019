"""/thanhvien (/members): the admins' roster, and its changes over the years.

    /thanhvien [tổ]                  who is registered, last activity, reachability
                                     (past 60 members, counts: `reporting.roster_summary`)
    /thanhvien tat #12 [lý do]       deactivate (asks to confirm first)
    /thanhvien bat #12               reactivate
    /thanhvien chuyen #12 to-3       move a leader to another group (asks to confirm)

A change that locks someone out or moves their reporting is asked back before it is
made: the admin sees the member's name and group and confirms with a button (or a
typed "có"/"không" where the channel has no buttons). The pending change is a
conversation row like any flow's, so the confirmation may come from another instance.
Reactivating harms nobody and is done at once. The changes themselves are
`models.roster`'s, shared with `thidua members`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Any

from handlers.context import Ctx
from handlers.flow import FlowName, FlowSpec, end, goto
from models import Conversation, Group, Role
from models.queries import group_by_code
from models.roster import Change, MemberRow, deactivate, list_members, move, reactivate
from reporting.answers import yes_or_no
from reporting.buttons import Button, Flow, MemberAction, encode
from reporting.messages import Option, Reply
from reporting.roster_summary import MAX_ROSTER, summarise

__all__ = ["FLOW", "member_id", "members"]
log = logging.getLogger(__name__)

OFF_WORDS = {"tat", "tắt", "off", "ngung", "ngừng"}
ON_WORDS = {"bat", "bật", "on"}
MOVE_WORDS = {"chuyen", "chuyển", "move"}


class Step(StrEnum):
    CONFIRM = "confirm"  # a change shown back, waiting for "Xác nhận" or "Hủy"


def is_admin(ctx: Ctx) -> bool:
    return ctx.member is not None and ctx.member.role == Role.ADMIN


def member_id(text: str) -> int | None:
    """`#12` or `12` → 12 (the handle the roster shows); None for anything else."""
    digits = text.strip().removeprefix("#")
    return int(digits) if digits.isdigit() and len(digits) < 10 else None


def _codes(ctx: Ctx) -> str:
    return ", ".join(g.code for g in ctx.app.settings.groups)


async def members(ctx: Ctx) -> Reply:
    """`/thanhvien ...`: list, or start one of the changes."""
    if not is_admin(ctx):
        return Reply().add(ctx.t("admin_only"))
    args = list(ctx.inc.args)
    word = args[0].lower() if args else ""
    if word in OFF_WORDS:
        return await _ask_off(ctx, args[1:])
    if word in ON_WORDS:
        return await _on(ctx, args[1:])
    if word in MOVE_WORDS:
        return await _ask_move(ctx, args[1:])
    group = None
    if args:
        group = await group_by_code(ctx.session, word)
        if group is None or len(args) > 1:
            return Reply().add(ctx.t("members_usage", codes=_codes(ctx)))
    rows = await list_members(ctx.session, group.id if group else None)
    if group is None and len(rows) > MAX_ROSTER:  # a commune's or a province's roster
        groups = [(g.code, g.name) for g in ctx.app.settings.groups]
        return Reply().add(ctx.t("members_summary", s=summarise(rows, groups)))
    return Reply().add(ctx.t("members_list", groups=_by_group(ctx, rows),
                             group=group.name if group else None, total=len(rows),
                             active=sum(r.active for r in rows)))


def _by_group(ctx: Ctx, rows: list[MemberRow]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """Rows under their group's heading (None: the Council and admins), in roster order."""
    out: list[tuple[str | None, list[dict[str, Any]]]] = []
    for r in rows:
        if not out or out[-1][0] != r.group_name:
            out.append((r.group_name, []))
        out[-1][1].append({
            "id": r.id, "name": r.name, "role": str(r.role), "active": r.active,
            "reachable": r.reachable, "channels": r.channels,
            "last": _local(ctx, r.last_active), "since": _local(ctx, r.inactive_since),
            "reason": r.inactive_reason})
    return out


def _local(ctx: Ctx, at: datetime | None) -> datetime | None:
    return at.astimezone(ctx.app.settings.ward.tz) if at is not None else None


async def _target(ctx: Ctx, args: list[str]) -> tuple[int, Reply | None]:
    """The member a change names, or the reply that says what is wrong."""
    mid = member_id(args[0]) if args else None
    if mid is None:
        return 0, Reply().add(ctx.t("members_bad_id", text=args[0] if args else ""))
    return mid, None


async def _ask_off(ctx: Ctx, args: list[str]) -> Reply:
    mid, error = await _target(ctx, args)
    if error is not None:
        return error
    row = await _row(ctx, mid)
    assert ctx.member is not None
    if row is None:
        return Reply().add(ctx.t("members_unknown", id=mid))
    if mid == ctx.member.id:
        return Reply().add(ctx.t("members_self"))
    if not row.active:
        return Reply().add(ctx.t("members_already_off", id=mid, name=row.name))
    reason = " ".join(args[1:]).strip()[:200] or None
    data = {"action": "off", "member": mid, "reason": reason}
    await goto(ctx, FlowName.MEMBERS, Step.CONFIRM, data)
    return _confirm(ctx, mid, ctx.t("members_confirm_off", id=mid, name=row.name,
                                    role=str(row.role), group=row.group_name, reason=reason))


async def _ask_move(ctx: Ctx, args: list[str]) -> Reply:
    mid, error = await _target(ctx, args)
    if error is not None:
        return error
    if len(args) != 2:
        return Reply().add(ctx.t("members_usage", codes=_codes(ctx)))
    group = await group_by_code(ctx.session, args[1].lower())
    if group is None or not group.active:
        return Reply().add(ctx.t("members_bad_group", text=args[1], codes=_codes(ctx)))
    row = await _row(ctx, mid)
    if row is None:
        return Reply().add(ctx.t("members_unknown", id=mid))
    if row.role != Role.LEADER:
        return Reply().add(ctx.t("members_not_leader", id=mid, name=row.name))
    if row.group_code == group.code:
        return Reply().add(ctx.t("members_already_there", id=mid, name=row.name,
                                 group=group.name))
    await goto(ctx, FlowName.MEMBERS, Step.CONFIRM,
               {"action": "move", "member": mid, "group": group.code})
    return _confirm(ctx, mid, ctx.t("members_confirm_move", id=mid, name=row.name,
                                    old=row.group_name, new=group.name))


async def _row(ctx: Ctx, mid: int) -> MemberRow | None:
    rows = await list_members(ctx.session, member_id=mid)
    return rows[0] if rows else None


def _confirm(ctx: Ctx, mid: int, text: str) -> Reply:
    yes = encode(Button(Flow.MEMBERS, MemberAction.CONFIRM, (mid,)))
    no = encode(Button(Flow.MEMBERS, MemberAction.CANCEL, (mid,)))
    return Reply().add(text, [[Option(ctx.t("members_yes"), yes),
                               Option(ctx.t("members_no"), no)]])


async def _on(ctx: Ctx, args: list[str]) -> Reply:
    mid, error = await _target(ctx, args)
    if error is not None:
        return error
    outcome, member = await reactivate(ctx.session, mid)
    if member is None:
        return Reply().add(ctx.t("members_unknown", id=mid))
    if outcome is Change.ALREADY:
        return Reply().add(ctx.t("members_already_on", id=mid, name=member.display_name))
    log.info("member %s reactivated by admin %s", mid, ctx.member.id if ctx.member else None)
    return Reply().add(ctx.t("members_done_on", id=mid, name=member.display_name))


async def _apply(ctx: Ctx, conv: Conversation, edit: str | None) -> Reply:
    """Make the change the admin confirmed."""
    data = conv.data
    await end(ctx)
    mid = data.get("member")
    assert ctx.member is not None and isinstance(mid, int)
    if data.get("action") == "move":
        group: Group | None = await group_by_code(ctx.session, str(data.get("group")))
        if group is None:
            return Reply().add(ctx.t("members_bad_group", text=data.get("group"),
                                     codes=_codes(ctx)))
        outcome, member = await move(ctx.session, mid, group)
        key, extra = "members_done_move", {"group": group.name}
    else:
        reason = data.get("reason")
        outcome, member = await deactivate(ctx.session, mid, ctx.now,
                                           reason if isinstance(reason, str) else None,
                                           by=ctx.member.id)
        key, extra = "members_done_off", {}
    if member is None:
        return Reply().add(ctx.t("members_unknown", id=mid), edit=edit)
    if outcome is not Change.DONE:  # changed by someone else since it was asked
        return Reply().add(ctx.t("members_unchanged", id=mid, name=member.display_name),
                           edit=edit)
    log.info("member %s: %s by admin %s", mid, data.get("action"), ctx.member.id)
    return Reply().add(ctx.t(key, id=mid, name=member.display_name, **extra), edit=edit)


async def on_button(ctx: Ctx, b: Button) -> Reply:
    conv = ctx.conv
    if not is_admin(ctx):
        return Reply().add(ctx.t("admin_only"))
    if conv is None or conv.flow != FlowName.MEMBERS or conv.data.get("member") != b.id(0):
        return Reply(toast=ctx.t("button_expired")).add(ctx.t("members_nothing_pending"))
    if b.action is MemberAction.CONFIRM:
        return await _apply(ctx, conv, ctx.inc.message_id)
    await end(ctx)
    return Reply().add(ctx.t("members_cancelled"), edit=ctx.inc.message_id)


async def on_text(ctx: Ctx, conv: Conversation) -> Reply | None:
    """Where there are no buttons: "có" confirms, "không" cancels."""
    if ctx.inc.text is None or not is_admin(ctx):
        return None
    answer = yes_or_no(ctx.inc.text)
    if answer is None:
        return Reply().add(ctx.t("members_confirm_hint"))
    if answer:
        return await _apply(ctx, conv, None)
    await end(ctx)
    return Reply().add(ctx.t("members_cancelled"))


async def _cancel(ctx: Ctx, _conv: Conversation) -> str:
    return ctx.t("members_cancelled")


FLOW = FlowSpec(FlowName.MEMBERS, Flow.MEMBERS, on_text=on_text, on_button=on_button,
                on_cancel=_cancel)
