"""`thidua members`: the roster as a plain table, and the admin's changes from a shell.

The same operations as the chat's /thanhvien (`models.roster`), for the ward's IT
officer at the server: the listing goes to stdout, so it can be piped or grepped; a
change prints one line saying what was done, or one line on stderr and exit 2 saying
why not (an unknown id or group). The shell is explicit enough: no confirmation step.
"""

from __future__ import annotations

import sys
from datetime import datetime

from bot.cli_open import cli_services, environment
from bot.settings import Environment
from models import Group
from models.queries import group_by_code, sync_groups
from models.roster import Change, MemberRow, deactivate, list_members, move, reactivate
from reporting.config import Settings

__all__ = ["members", "table"]

HEADERS = ("ID", "NAME", "ROLE", "GROUP", "STATUS", "CHANNELS", "LAST ACTIVE")
_WORDS = {Change.UNKNOWN: "no member with id {id}",
          Change.ALREADY: "member {id} ({name}) is already so: nothing changed",
          Change.NOT_LEADER: "member {id} ({name}) is not a group leader: only leaders move",
          Change.SELF: "a member cannot deactivate themselves"}


def _when(at: datetime | None, settings: Settings) -> str:
    return at.astimezone(settings.ward.tz).strftime("%Y-%m-%d %H:%M") if at else "-"


def table(rows: list[MemberRow], settings: Settings) -> str:
    """Rows as aligned columns; a channel the messenger cannot reach is marked `!`."""
    lines = [HEADERS]
    for r in rows:
        status = "active" if r.active else f"inactive since {_when(r.inactive_since, settings)}"
        if r.active and not r.reachable:
            status = "unreachable"
        channels = ",".join(c.channel + ("!" if c.unreachable else "") for c in r.channels)
        lines.append((f"#{r.id}", r.name, str(r.role), r.group_code or "-", status,
                      channels or "-", _when(r.last_active, settings)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                     .rstrip() for line in lines)


def _fail(text: str) -> int:
    print(text, file=sys.stderr)
    return 2


async def members(settings: Settings, *, group: str | None = None,
                  deactivate_id: int | None = None, reactivate_id: int | None = None,
                  move_id: int | None = None, to: str | None = None,
                  reason: str | None = None, env: Environment | None = None) -> int:
    """List (optionally one group), or make one change and say what it did."""
    async with cli_services(settings, environment(env)) as services, \
            services.sessions() as session, session.begin():
        await sync_groups(session, settings.group_pairs)
        code = to if move_id is not None else group
        target: Group | None = await group_by_code(session, code) if code else None
        if code and (target is None or not target.active):
            codes = ", ".join(g.code for g in settings.groups)
            return _fail(f"Unknown group {code!r}. Groups: {codes}")
        if deactivate_id is not None:
            outcome, member = await deactivate(session, deactivate_id, services.clock(),
                                               reason)
            mid, done = deactivate_id, "deactivated"
        elif reactivate_id is not None:
            outcome, member = await reactivate(session, reactivate_id)
            mid, done = reactivate_id, "reactivated"
        elif move_id is not None:
            assert target is not None
            outcome, member = await move(session, move_id, target)
            mid, done = move_id, f"moved to {target.code}"
        else:
            print(table(await list_members(session, target.id if target else None),
                        settings))
            return 0
        name = member.display_name if member else ""
        if outcome is not Change.DONE:
            return _fail(_WORDS[outcome].format(id=mid, name=name))
    print(f"Member {mid} ({name}) {done}.")
    return 0
