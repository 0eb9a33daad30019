"""/trogiup (/help): what this member's role can do."""

from __future__ import annotations

from handlers.context import Ctx
from reporting.messages import Reply


async def show(ctx: Ctx) -> Reply:
    role = ctx.member.role if ctx.member else None
    return Reply().add(ctx.t("help", role=role))
