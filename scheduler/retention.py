"""The daily photo retention: good-deed photos older than
`good_deeds.photo_retention_days` are deleted, bytes and files; the deeds' text stays.

It runs once a local day (key: the date) like every other job, claimed first, so two
instances never both do it, and a day missed while down is caught up within the grace.
Files under the media folder (photos kept before the copies moved into the database)
are removed inside the job's transaction: if its commit then failed, the rows would
point at missing files, which every reader already treats as "no copy", and the next
day's run deletes those rows.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models.erasure import expire_photos
from reporting.personal import remove_files
from reporting.services import Services
from scheduler.calendar import Occurrence


async def photo_retention(services: Services, session: AsyncSession, occ: Occurrence,
                          now: datetime) -> int:
    """Delete the photos past their retention; returns how many (no message is sent)."""
    days = services.settings.good_deeds.photo_retention_days
    if days is None:
        return 0  # retention switched off after the day's run was computed
    count, files = await expire_photos(session, now - timedelta(days=days))
    await asyncio.to_thread(remove_files, services.media, files)
    return count
