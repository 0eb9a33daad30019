"""/ngonngu (/lang) vi|en: the language this member's messages are written in."""

from __future__ import annotations

from handlers.context import Ctx
from reporting.messages import Reply
from reporting.texts import LANGUAGES


async def choose(ctx: Ctx) -> Reply:
    wanted = ctx.inc.args[0].lower() if ctx.inc.args else ""
    if ctx.member is None or wanted not in LANGUAGES:
        return Reply().add(ctx.t("lang_usage"))
    ctx.member.language = wanted
    return Reply().add(ctx.t("lang_set"))  # ctx.lang now reads the new language
