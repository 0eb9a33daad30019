"""An outbox row's files, fetched just before the row is sent, wherever they are kept.

Rows refer to files, they never hold them: a chart is a `media_id` (a row of
`models.media`, which every sender can read), and rows written before that release
name a path under the media folder (`media`), which only a sender with that folder can
read. Bytes are loaded here, one row at a time, when the row is sent: claiming a batch
loads only the references.

A file that is not there (a row pruned too early, a folder not shared) may be there
on a later attempt (a shared folder mounted late, a restore running): it is a retryable
`DeliveryError`, so the sender backs off, tries again, and after `max_attempts` marks the
row failed with this reason and logs it — never a silent failure on the first try.

When the channel gives an uploaded file an id of its own (Telegram's `file_id`), it is
remembered, and later recipients of the same chart get the id instead of an upload. The
first send of a file is made alone (a lock per medium in this process), so the digest
chart for ten Council members is uploaded once, not ten times in parallel; a second
instance may upload it once more, which costs a little bandwidth and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path

from bot.channels.base import DeliveryError
from models.db import Sessions
from models.media import content, remember_file_id
from reporting.messages import Attachment, Outgoing

log = logging.getLogger(__name__)


class OutboxFiles:
    """The sender's access to the files of the rows it sends."""

    def __init__(self, sessions: Sessions, media_dir: Path | None) -> None:
        self._sessions = sessions
        self._media_dir = media_dir
        # Only media being sent right now have a lock: a lock nobody holds is dropped.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    def _lock(self, media_id: int) -> asyncio.Lock:
        lock = self._locks.get(media_id)
        if lock is None:
            lock = self._locks[media_id] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def ready(self, out: Outgoing, channel: str) -> AsyncIterator[Outgoing]:
        """`out` with its files filled in, for sending in the block; the file ids the
        channel gives uploads are kept when the block ends without an error."""
        ids = sorted({a.media_id for a in out.attachments if a.media_id is not None})
        async with AsyncExitStack() as first_upload:
            for media_id in ids:
                await first_upload.enter_async_context(self._lock(media_id))
            filled = await with_files(self._sessions, out, channel, self._media_dir)
            if all(a.file_id for a in filled.attachments if a.media_id is not None):
                await first_upload.aclose()  # nothing to upload: no need to wait for others
            yield filled
            await remember_uploads(self._sessions, filled, channel)


async def with_files(sessions: Sessions, out: Outgoing, channel: str,
                     media_dir: Path | None) -> Outgoing:
    """`out` with each stored attachment's bytes (or the channel's file id) filled in."""
    if not any(a.media_id is not None or a.media for a in out.attachments):
        return out
    filled: list[Attachment] = []
    for att in out.attachments:
        if att.file_id:
            filled.append(att)
        elif att.media_id is not None:
            filled.append(await _from_database(sessions, att, channel))
        elif att.media and media_dir is not None:
            data = await asyncio.to_thread(_read, media_dir, att.media)
            filled.append(replace(att, data=data, media=None))
        else:
            filled.append(att)  # a path and no folder: the transport reads it, as before
    return replace(out, attachments=filled, uploaded={})


async def _from_database(sessions: Sessions, att: Attachment, channel: str) -> Attachment:
    assert att.media_id is not None
    async with sessions() as session:
        found = await content(session, att.media_id, channel)
    if found is None:
        raise DeliveryError(f"file {att.filename or att.media_id} (media {att.media_id}) "
                            "is not in the database")
    if found.file_id is not None:
        return replace(att, file_id=found.file_id)
    return replace(att, data=found.data or b"", filename=att.filename or found.filename)


def _read(media_dir: Path, relative: str) -> bytes:
    root = media_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise DeliveryError(f"file path outside the media folder: {relative}", permanent=True)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DeliveryError(f"file not readable in {root}: {relative}: "
                            f"{exc.strerror or exc}") from exc


async def remember_uploads(sessions: Sessions, out: Outgoing, channel: str) -> None:
    """Keep the ids the channel gave files it has just received (best effort: without
    them the next recipient gets an upload, as the first one did)."""
    found = [(att.media_id, out.uploaded[i]) for i, att in enumerate(out.attachments)
             if att.media_id is not None and i in out.uploaded]
    if not found:
        return
    try:
        async with sessions() as session, session.begin():
            for media_id, file_id in found:
                await remember_file_id(session, media_id, channel, file_id)
    except Exception:
        log.warning("could not remember the %s file ids of media %s", channel,
                    [m for m, _ in found], exc_info=True)
