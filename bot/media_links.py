"""Files by link: signed, expiring URLs to media the bot serves itself.

Zalo cannot receive an upload (photos go by URL only) and a terminal cannot show one,
so a chart or an export reaches a channel without `ChannelLimits.files` as a line of
text with a link: `GET {THIDUA_PUBLIC_URL}/m/{media_id}/{expires}/{signature}/{name}`.

- The signature is HMAC-SHA256 over the medium's id, the expiry (Unix seconds) and the
  file name, under a key derived from the installation's invite key (THIDUA_SECRET_KEY
  or the database's key): every instance can check a link any other one made, and a
  link cannot be altered to reach another medium, to live longer, or to rename it.
- It is checked in constant time before anything else (403), then the expiry (410),
  then the medium (404). Only exact ids are served: no listing, no paths to walk.
- A link never outlives `models.media.RETENTION` from the medium's creation, the time
  `prune` keeps any medium, so a working link always finds its file.

`media_url(...)` makes one link; `link_for_bytes(...)` stores bytes in hand first (an
export); `linked(...)` turns an `Outgoing`'s attachments into text lines with links,
the step a channel without files takes before rendering (replies in `bot.inbox`,
outbox rows in `bot.outbox_files`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import mimetypes
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from models import media as stored
from models.media import RETENTION
from reporting.messages import Attachment, Outgoing, Reply
from reporting.services import Services

if TYPE_CHECKING:  # aiohttp loads with the HTTP server, not with the links (bot.http)
    from aiohttp import web

    from bot.http import Handler, HttpServer

log = logging.getLogger(__name__)

PREFIX = "/m/"
_KEY_LABEL = b"thidua media links v1"  # a key of its own: an invite hash is no link
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Links:
    """What making and checking links needs: the public address, a key, a lifetime."""

    public_url: str
    key: bytes = field(repr=False)
    ttl: timedelta = timedelta(days=7)

    @classmethod
    def of(cls, services: Services) -> Links | None:
        """The services' links; None when no public URL is configured."""
        if not services.public_url:
            return None
        key = hmac.new(services.invites.secret, _KEY_LABEL, hashlib.sha256).digest()
        return cls(services.public_url.rstrip("/"), key, min(services.link_ttl, RETENTION))

    def signature(self, media_id: int, expires: int, filename: str) -> str:
        message = f"{media_id}/{expires}/{filename}".encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(self, media_id: int, filename: str, now: datetime,
            created: datetime | None = None) -> tuple[str, datetime]:
        """The link and the moment it stops working (`created`: the medium's creation,
        which bounds the link by `RETENTION`)."""
        until = now + self.ttl
        if created is not None:
            until = min(until, _aware(created) + RETENTION)
        expires = int(until.timestamp())
        name = safe_name(filename)
        sig = self.signature(media_id, expires, name)
        return (f"{self.public_url}{PREFIX}{media_id}/{expires}/{sig}/{quote(name)}",
                datetime.fromtimestamp(expires, UTC))


def safe_name(filename: str) -> str:
    """A file name fit for a URL and a header: `good-deeds/3/1.jpg` → `good-deeds-3-1.jpg`."""
    name = _SAFE.sub("-", filename).strip("-.")
    return name[:120] or "file"


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; the bot stores UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def media_url(source: Services | Links | None, media_id: int, filename: str,
              now: datetime) -> str | None:
    """A signed link to the stored medium `media_id`, offered as `filename`, working
    for the configured lifetime from `now`; None when no public URL is configured.

    `source`: the running services, or `Links.of(services)` made once. The caller
    must know the medium exists (a link to a missing one answers 404)."""
    links = Links.of(source) if isinstance(source, Services) else source
    if links is None:
        return None
    return links.url(media_id, filename, now)[0]


async def link_for_bytes(session: AsyncSession, links: Links, data: bytes, *, kind: str,
                         filename: str, now: datetime,
                         content_type: str | None = None) -> tuple[str, datetime]:
    """Keep `data` as a medium (in the caller's transaction) and link to it: the link
    and its expiry. Pruned like any medium once the link has expired."""
    ctype = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    media_id = await stored.store(session, kind=kind[:16], filename=filename,
                                  content_type=ctype, data=data, now=now)
    return links.url(media_id, filename, now, created=now)


async def linked(services: Services, session: AsyncSession, out: Outgoing, now: datetime,
                 lang: str) -> Outgoing:
    """`out` for a channel that cannot take files: each attachment becomes its caption
    and a line with its link, before the text; without a public URL (or for a file
    only the messenger has) the line says the file cannot be sent here."""
    if not out.attachments:
        return out
    links = Links.of(services)
    parts: list[str] = []
    for att in out.attachments:
        if att.caption:
            parts.append(att.caption)
        parts.append(await _line(services, session, links, att, now, lang))
    if out.text:
        parts.append(out.text)
    return replace(out, text="\n\n".join(parts), attachments=[], uploaded={})


async def _line(services: Services, session: AsyncSession, links: Links | None,
                att: Attachment, now: datetime, lang: str) -> str:
    name = att.filename.rsplit("/", 1)[-1] or att.kind
    found: tuple[str, datetime] | None = None
    if links is not None and att.media_id is not None:
        created = await stored.created_at(session, att.media_id)
        if created is not None:
            found = links.url(att.media_id, att.filename, now, created)
    elif links is not None and att.data:
        kind = "chart" if att.kind == "photo" else "export"
        found = await link_for_bytes(session, links, att.data, kind=kind,
                                     filename=att.filename, now=now)
    if found is None:
        return services.t("file_unavailable", lang, name=name)
    url, until = found
    return services.t("file_link", lang, name=name, url=url,
                      until=until.astimezone(services.settings.ward.tz))


async def linked_reply(services: Services, session: AsyncSession, reply: Reply,
                       now: datetime, lang: str) -> None:
    """Turn a reply's attachments into links, in place, in the handler's transaction
    (so the stored reply, sent again after a crash, carries the same links)."""
    reply.messages[:] = [await linked(services, session, out, now, lang)
                         for out in reply.messages]


async def outbox_links(services: Services, out: Outgoing) -> Outgoing:
    """An outbox row's `Outgoing` for a channel without files, just before it is sent
    (rows refer to stored media, so nothing is written)."""
    if not out.attachments:
        return out
    async with services.sessions() as session:
        return await linked(services, session, out, services.clock(),
                            services.settings.ward.language)


def media_route(services: Services) -> Handler:
    """`GET /m/{id}/{expires}/{signature}/{name}`: the medium, or 403/410/404."""
    from aiohttp import web

    async def serve(request: web.Request) -> web.StreamResponse:
        links = Links.of(services)
        parts = request.path.removeprefix(PREFIX).split("/")
        if links is None or len(parts) != 4 or not parts[0].isdigit() \
                or not parts[1].isdigit():
            return web.Response(status=404, text="not found")
        media_id, expires, sig, name = int(parts[0]), int(parts[1]), parts[2], parts[3]
        expected = links.signature(media_id, expires, name)
        if not hmac.compare_digest(sig.encode(), expected.encode()):
            return web.Response(status=403, text="forbidden")
        if services.clock().timestamp() > expires:
            return web.Response(status=410, text="this link has expired")
        async with services.sessions() as session:
            found = await stored.served(session, media_id)
        if found is None:
            return web.Response(status=404, text="not found")
        # Pictures open in the browser; anything else (a workbook) is downloaded.
        how = "inline" if found.content_type.startswith("image/") else "attachment"
        return web.Response(body=found.data, headers={
            "Content-Type": found.content_type,
            "Content-Disposition": f'{how}; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        })

    return serve


def mount_media(server: HttpServer, services: Services) -> None:
    """Serve file links on `server` (every GET under /m/)."""
    server.mount("GET", PREFIX, media_route(services), prefix=True)
