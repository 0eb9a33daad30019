"""The per-event context a handler is given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.conversation import Conversation
from models.members import Group, Member
from models.queries import Loaded
from reporting.address import address_of
from reporting.messages import DEFAULT_LIMITS, Incoming
from reporting.services import Services


@dataclass
class Ctx:
    """One incoming event being handled inside one database transaction."""

    app: Services
    session: AsyncSession
    inc: Incoming
    member: Member | None
    group: Group | None
    now: datetime
    # Where the user is in a flow, loaded with the member; flows move it through
    # `handlers.flow.goto` / `end`, so the row is read once and written once per event.
    conv: Conversation | None = None
    # The report `conv` is at, read with the member (`models.queries.speaker_and_draft`);
    # taken once by the report flow (`report_load.loaded_report`), then read afresh.
    draft: Loaded | None = None

    @property
    def lang(self) -> str:
        if self.member is not None:
            return self.member.language
        return self.app.settings.ward.language

    @property
    def today(self) -> date:
        return self.now.astimezone(self.app.settings.ward.tz).date()

    @property
    def addr(self) -> str:
        """How to address the member in a greeting or thanks: "đồng chí Lan"."""
        if self.member is None:
            return ""
        return address_of(self.member.display_name, self.member.role, self.member.address,
                          self.app.settings.address, self.lang)

    def t(self, key: str, **ctx: Any) -> str:
        # Every message may greet or thank the member by `addr`.
        ctx.setdefault("addr", self.addr)
        # A reply goes back on the channel the user wrote from: word it for that one.
        limits = self.app.limits.get(self.inc.channel, DEFAULT_LIMITS)
        ctx.setdefault("buttons", limits.buttons)
        ctx.setdefault("edits", limits.edits)
        return self.app.t(key, self.lang, **ctx)
