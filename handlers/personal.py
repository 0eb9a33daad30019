"""Personal data in chat (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15).

`/dulieucuatoi` (`/mydata`): any registered member reads, in a few lines, what is stored
about them and for how long; the full record is what an admin exports.

`/dulieu xuat #12` (`/personal export #12`): an admin receives member 12's record as a
JSON file. `/dulieu xoa #12` shows whose data would go and asks for the same command
with `xacnhan`; only that erases (`models.erasure`). The confirmation is typed, not a
button, so it reads the same on Telegram and on Zalo, and a stray tap cannot erase
anyone. An admin cannot erase themself here: their own account would vanish under the
command being answered; another admin, or `thidua member erase`, does it.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from typing import Any

from handlers.context import Ctx
from models import Member, Role
from models.erasure import erase_member
from models.personal import ERASED_NAME, export_filename, record
from reporting.messages import Attachment, Outgoing, Reply
from reporting.personal import export_json, remove_files, retention

EXPORT_WORDS = {"xuat", "xuất", "export"}
ERASE_WORDS = {"xoa", "xóa", "erase", "delete"}
CONFIRM_WORDS = {"xacnhan", "xácnhận", "xác", "confirm", "yes"}
_ID = re.compile(r"#?(\d{1,12})")


def mask(value: str) -> str:
    """An account or chat id with all but its last three characters hidden."""
    return "•" * min(max(len(value) - 3, 1), 6) + value[-3:] if len(value) > 3 else "•••"


def _period_label(key: str) -> str:
    year, _, month = key.partition("-")
    return f"{month}/{year}" if month else key


def summary(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """The template's context for `/dulieucuatoi`, read from the member's record."""
    tz = ctx.app.settings.ward.tz
    member = data["member"]
    periods = sorted({r["period"] for r in data["reports"]} | set(data["answers"]))
    kept = retention(ctx.app.settings)

    def day(iso: str | None) -> date | None:
        return datetime.fromisoformat(iso).astimezone(tz).date() if iso else None

    return {
        "name": member["display_name"], "role": member["role"],
        "group": member["group"]["name"] if member["group"] else None,
        "language": member["language"], "address": member["address"],
        "accounts": [{"channel": i["channel"], "user": mask(i["external_id"]),
                      "chat": mask(i["chat_id"]), "created": day(i["created_at"]),
                      "last_used": day(i["last_used_at"])} for i in data["identities"]],
        "submitted": sum(1 for r in data["reports"] if r["submitted"]),
        "periods": [_period_label(p) for p in periods],
        "corrections": len(data["corrections"]),
        "deeds": len(data["good_deeds"]),
        "photos": sum(d["photos"] for d in data["good_deeds"]),
        "broadcasts": len(data["broadcasts"]), "invites": len(data["invites"]),
        "invites_created": len(data["invites_created"]),
        "photo_days": kept.photos, "update_days": kept.updates,
    }


async def mine(ctx: Ctx) -> Reply:
    """`/dulieucuatoi`: what is stored about the member asking."""
    assert ctx.member is not None  # the router answers strangers before this
    data = await record(ctx.session, ctx.member.id)
    assert data is not None
    return Reply().add(ctx.t("mydata", **summary(ctx, data)))


def _is_admin(ctx: Ctx) -> bool:
    return ctx.member is not None and ctx.member.role == Role.ADMIN


async def manage(ctx: Ctx) -> Reply:
    """`/dulieu xuat|xoa #12 [xacnhan]`: an admin exports or erases one member's data."""
    if not _is_admin(ctx):
        return Reply().add(ctx.t("admin_only"))
    args = [a.lower() for a in ctx.inc.args]
    found = _ID.fullmatch(args[1]) if len(args) > 1 else None
    if found is None or args[0] not in EXPORT_WORDS | ERASE_WORDS or len(args) > 3:
        return Reply().add(ctx.t("personal_usage"))
    member_id = int(found.group(1))
    target = await ctx.session.get(Member, member_id)
    if target is None:
        return Reply().add(ctx.t("personal_unknown", id=member_id))
    if args[0] in EXPORT_WORDS:
        return await _export(ctx, target)
    if target.display_name == ERASED_NAME and not target.active:
        return Reply().add(ctx.t("personal_already_erased", id=member_id))
    assert ctx.member is not None
    if target.id == ctx.member.id:
        return Reply().add(ctx.t("personal_erase_self", id=member_id))
    if len(args) < 3 or args[2] not in CONFIRM_WORDS:
        return await _ask(ctx, target)
    done = await erase_member(ctx.session, target.id)
    assert done is not None
    # Before the commit, unlike the CLI: only photos kept before the copies moved into
    # the database have files, and a missing file already reads as "no copy".
    await asyncio.to_thread(remove_files, ctx.app.media, done.files)
    return Reply().add(ctx.t("personal_erased", id=member_id, accounts=done.identities,
                             photos=done.photos, updates=done.updates,
                             messages=done.messages))


async def _export(ctx: Ctx, target: Member) -> Reply:
    data = await record(ctx.session, target.id)
    assert data is not None
    body = export_json(data, ctx.app.settings, ctx.now)
    caption = ctx.t("personal_export_caption", id=target.id, name=target.display_name,
                    at=ctx.now.astimezone(ctx.app.settings.ward.tz))
    doc = Attachment("document", body, export_filename(target.id), caption=caption)
    return Reply(messages=[Outgoing("", attachments=[doc])])


async def _ask(ctx: Ctx, target: Member) -> Reply:
    data = await record(ctx.session, target.id)
    assert data is not None
    group = data["member"]["group"]
    return Reply().add(ctx.t(
        "personal_erase_confirm", id=target.id, name=target.display_name,
        role=str(target.role), group=group["name"] if group else None,
        accounts=len(data["identities"]),
        photos=sum(d["photos"] for d in data["good_deeds"])))
