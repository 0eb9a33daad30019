"""Telling members of something done for them by someone else (a month reopened, a good
deed featured): an outbox row per member, in each member's own language."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from handlers.context import Ctx
from models import Member
from models.outbox_ops import enqueue_to_members
from reporting.messages import payload


async def tell(ctx: Ctx, members: Iterable[Member], *, kind: str, key: str, text: str,
               **params: Any) -> int:
    """Queue template `text` for each member (deduplicated by `key`); rows added."""
    added = 0
    for member in members:
        body = payload(str(ctx.app.t(text, member.language, **params)))
        added += await enqueue_to_members(ctx.session, kind=kind, key=key,
                                          member_ids=[member.id], body=body, now=ctx.now)
    return added
