"""Personal data on request: a member's record as a JSON file, their erasure, and the
photo retention — the parts the chat, the CLI and the scheduler share.

The database work is `models.personal` and `models.erasure`; here the files under the
media folder are removed once the transaction that stopped referring to them has
committed, and the retention periods a member is told about are read from config.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from models.db import Sessions
from models.erasure import Erased, erase_member
from models.inbox_ops import KEEP as INBOX_KEEP
from models.media import RETENTION as MEDIA_RETENTION
from models.personal import record
from reporting.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """How long each kind of data is kept, in days (None: as long as the ward keeps its
    records)."""

    photos: int | None
    updates: int
    files: int


def retention(settings: Settings) -> Retention:
    return Retention(photos=settings.good_deeds.photo_retention_days,
                     updates=INBOX_KEEP.days, files=MEDIA_RETENTION.days)


def export_json(data: dict[str, Any], settings: Settings, now: datetime) -> bytes:
    """The record as the file handed to the member: UTF-8, readable, dated."""
    kept = retention(settings)
    body = {"exported_at": now.isoformat(), "ward": settings.ward.name,
            "retention_days": {"good_deed_photos": kept.photos,
                               "received_messages": kept.updates, "generated_files": kept.files},
            **data}
    return json.dumps(body, ensure_ascii=False, indent=2).encode()


async def export_member(sessions: Sessions, member_id: int, settings: Settings,
                        now: datetime) -> bytes | None:
    """The member's record as JSON bytes; None if there is no such member."""
    async with sessions() as session:
        data = await record(session, member_id)
    return None if data is None else export_json(data, settings, now)


def remove_files(media_dir: Path | None, names: list[str]) -> int:
    """Delete these files under the media folder (and their emptied folders); returns
    how many were there. A name that escapes the folder is ignored, never followed."""
    if media_dir is None or not names:
        return 0
    root = media_dir.resolve()
    removed = 0
    for name in names:
        path = (root / name).resolve()
        if not path.is_relative_to(root) or path == root:
            log.warning("personal data: not deleting %s, outside the media folder", name)
            continue
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        parent = path.parent
        while parent != root and parent.is_relative_to(root):
            try:
                parent.rmdir()  # only when empty: another deed's photos stay
            except OSError:
                break
            parent = parent.parent
    return removed


async def erase(sessions: Sessions, member_id: int, media_dir: Path | None) -> Erased | None:
    """Erase the member in one transaction, then their files; None if unknown."""
    async with sessions() as session, session.begin():
        done = await erase_member(session, member_id)
    if done is not None:
        await asyncio.to_thread(remove_files, media_dir, done.files)
        log.info("personal data of member %d erased: %d account(s), %d photo(s), "
                 "%d update(s), %d message(s)", member_id, done.identities, done.photos,
                 done.updates, done.messages)
    return done

