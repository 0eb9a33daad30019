"""`/phatdong lichsu`: past broadcasts with their delivery figures."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.context import Ctx
from models import Broadcast, OutboxMessage
from reporting.messages import Reply

SHOWN = 10


async def counts(ctx: Ctx, broadcast_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per broadcast: how many recipient rows are pending, sending, sent, failed."""
    if not broadcast_ids:
        return {}
    rows = await ctx.session.execute(
        select(OutboxMessage.broadcast_id, OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id.in_(broadcast_ids),
               OutboxMessage.kind == "broadcast")
        .group_by(OutboxMessage.broadcast_id, OutboxMessage.status))
    out: dict[int, dict[str, int]] = {}
    for bid, status, n in rows.all():
        out.setdefault(int(bid or 0), {})[str(status)] = int(n)
    return out


async def history(ctx: Ctx) -> Reply:
    items = list(await ctx.session.scalars(
        select(Broadcast).where(Broadcast.status.in_(["queued", "done"]))
        .order_by(Broadcast.queued_at.desc()).limit(SHOWN)))
    figures = await counts(ctx, [b.id for b in items])
    tz = ctx.app.settings.ward.tz
    rows = []
    for b in items:
        c = figures.get(b.id, {})
        rows.append({
            "at": b.queued_at.astimezone(tz) if b.queued_at else None,
            "text": (b.text or "📷").replace("\n", " ")[:60],
            "sent": c.get("sent", 0), "failed": c.get("failed", 0),
            "pending": c.get("pending", 0) + c.get("sending", 0),
        })
    return Reply().add(ctx.t("broadcast_history", rows=rows))
