"""`thidua member export|erase ID`: one member's personal data on request.

The office answers a request under Luật Bảo vệ dữ liệu cá nhân (91/2025/QH15) from the
server as well as from chat: the export is the JSON the chat sends (`reporting.personal`),
written to a file or printed; the erasure needs `--yes`, because it cannot be undone,
and removes the member's files under the media folder after its commit.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.cli_open import cli_services, environment
from bot.settings import Environment
from reporting.config import Settings
from reporting.personal import erase, export_member


async def member_export(settings: Settings, member_id: int, out: Path | None, *,
                        env: Environment | None = None) -> int:
    """Write member `member_id`'s record as JSON to `out` (stdout when None)."""
    async with cli_services(settings, environment(env)) as services:
        body = await export_member(services.sessions, member_id, settings, services.clock())
    if body is None:
        print(f"No member {member_id}.", file=sys.stderr)
        return 1
    if out is None:
        sys.stdout.write(body.decode() + "\n")
        return 0
    await asyncio.to_thread(out.write_bytes, body)
    print(f"Personal data of member {member_id} written to {out} ({len(body)} bytes). "
          "It holds personal data: hand it only to that person.")
    return 0


async def member_erase(settings: Settings, member_id: int, yes: bool, *,
                       env: Environment | None = None) -> int:
    """Erase member `member_id`'s personal data; refuses without `yes`."""
    if not yes:
        print(f"Erasing member {member_id}'s personal data cannot be undone: run again "
              "with --yes to do it.", file=sys.stderr)
        return 2
    async with cli_services(settings, environment(env)) as services:
        done = await erase(services.sessions, member_id, services.media)
    if done is None:
        print(f"No member {member_id}.", file=sys.stderr)
        return 1
    print(f"Member {member_id} erased: {done.identities} account(s), {done.photos} "
          f"photo(s), {done.updates} received update(s), {done.messages} outgoing "
          "message(s). The group's figures and good deeds stay, their sender now "
          "\"đã xóa\".")
    return 0
