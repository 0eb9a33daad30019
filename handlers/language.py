"""How messages speak to a member: /ngonngu (/lang) vi|en, /xungho (/address) the form."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from handlers.context import Ctx
from reporting.address import Form
from reporting.messages import Reply
from reporting.texts import LANGUAGES


async def choose(ctx: Ctx) -> Reply:
    wanted = ctx.inc.args[0].lower() if ctx.inc.args else ""
    if ctx.member is None or wanted not in LANGUAGES:
        return Reply().add(ctx.t("lang_usage"))
    ctx.member.language = wanted
    return Reply().add(ctx.t("lang_set"))  # ctx.lang now reads the new language


_FORM: TypeAdapter[str] = TypeAdapter(Form)
# "/xungho mặc định": back to the form of the member's role from config.
_RESET = {"mặc định", "mac dinh", "bỏ", "bo", "default", "reset"}


async def address(ctx: Ctx) -> Reply:
    """`/xungho bác`: the member's own form of address; `/xungho mặc định` drops it."""
    if ctx.member is None:
        return Reply().add(ctx.t("unregistered"))
    wanted = " ".join(ctx.inc.args).strip()
    if wanted:
        if wanted.lower() in _RESET:
            ctx.member.address = None
        else:
            try:
                ctx.member.address = _FORM.validate_python(wanted)
            except ValidationError:
                return Reply().add(ctx.t("address_usage", bad=True))
        return Reply().add(ctx.t("address_set"))
    return Reply().add(ctx.t("address_usage", bad=False))
