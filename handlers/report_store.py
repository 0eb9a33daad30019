"""Storing one answer of a shared draft, and keeping track of the version it shows.

A report may have several editors (`report_editors`). Each change bumps the report's
version; `Draft.known` is the version this event's messages show, and it follows the
member's own changes only while no one else's slipped in between.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.report_views import Draft
from models.queries import Edit, set_value
from reporting.answers import number_of
from reporting.config import Indicator

__all__ = ["store"]


async def store(ctx: Ctx, d: Draft, ind: Indicator, value: str | None,
                soft_check: str | None = None) -> tuple[str | None, bool]:
    """Store one answer by the acting member; returns (old value, whether it changed)."""
    assert ctx.member is not None
    old, changed = await set_value(ctx.session, d.report, d.values, ind.code, value,
                                   number_of(ind, value), ctx.member.id, ctx.now,
                                   audited=d.submitted, soft_check=soft_check)
    if changed:
        # One above what this event loaded: nothing else happened in between, so the
        # messages shown now show all of it. More: another editor's change slipped in,
        # unseen; the version shown stays behind, and a submit will show it first.
        if d.report.version == d.known + 1:
            d.known = d.report.version
        m = ctx.member
        d.edits[ind.code] = Edit(d.report.version, m.id, m.display_name, str(m.role),
                                 m.address, ctx.now)
    return old, changed
