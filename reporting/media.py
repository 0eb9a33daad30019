"""Users' good-deed photos, kept in the database so every instance and every export has them.

A leader's photo arrives on whichever instance serves the chat; a copy on that
instance's disk would be missing on the others (and in a `thidua export` run
elsewhere). The bytes go into `models.media` in the handler's transaction, with the
photo's row; its name (`good-deeds/<deed>/<n>.jpg`) is where exports put the file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeedPhoto
from models import media as stored
from models.media import Media


def photo_path(deed_id: int, position: int) -> str:
    """A deed's photo's name, also its path under an export's photo folder."""
    return f"good-deeds/{deed_id}/{position}.jpg"


async def keep_photo(session: AsyncSession, photo: DeedPhoto, data: bytes,
                     now: datetime) -> None:
    """Keep `data` as `photo`'s copy (the photo's row is written by the caller)."""
    photo.local_path = photo_path(photo.deed_id, photo.position)
    photo.size = len(data)
    photo.media_id = await stored.store(session, kind="photo", filename=photo.local_path,
                                        content_type="image/jpeg", data=data, now=now)


async def photo_bytes(session: AsyncSession, photo: DeedPhoto,
                      media_dir: Path | None) -> bytes | None:
    """A photo's copy: from the database, or for photos kept before it moved there, from
    the media folder; None if there is none (the download failed, the folder is gone)."""
    if photo.media_id is not None:
        data = await session.scalar(select(Media.data).where(Media.id == photo.media_id))
        if data is not None:
            return bytes(data)
    if photo.local_path and media_dir is not None:
        path = media_dir / photo.local_path
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError:
            return None
    return None


async def write_photos(session: AsyncSession, deed_ids: Iterable[int], folder: Path,
                       media_dir: Path | None) -> int:
    """Write the photos of `deed_ids` under `folder`, by their names; return how many.

    One photo in memory at a time: a year of photos can be large."""
    ids = sorted(deed_ids)
    if not ids:
        return 0
    photos = list(await session.scalars(
        select(DeedPhoto).where(DeedPhoto.deed_id.in_(ids), DeedPhoto.local_path.is_not(None))
        .order_by(DeedPhoto.deed_id, DeedPhoto.position)))
    written = 0
    for photo in photos:
        data = await photo_bytes(session, photo, media_dir)
        if data is None or photo.local_path is None:
            continue
        await asyncio.to_thread(_write, folder / photo.local_path, data)
        written += 1
    return written


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
