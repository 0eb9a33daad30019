"""Files on Zalo go by URL: the bot's own signed, expiring media links (`bot.media_links`).

Zalo uploads nothing: `sendPhoto` takes a public URL, and a document can only be a link.
A stored medium (a digest chart) is linked as it is; bytes in hand (an export made for
this reply) are kept as a medium first. Without `THIDUA_PUBLIC_URL` there is no link,
and the renderer sends one line saying where the file can be seen instead.
"""

from __future__ import annotations

from bot.channels.zalo.render import LinkMaker
from bot.media_links import Links, link_for_bytes, media_url
from reporting.messages import Attachment
from reporting.services import Services


def media_links(services: Services) -> LinkMaker:
    async def link(att: Attachment) -> str | None:
        links = Links.of(services)
        if links is None:
            return None
        now = services.clock()
        name = att.filename or ("anh.png" if att.kind == "photo" else "tep")
        if att.media_id is not None:
            return media_url(links, att.media_id, name, now)
        if not att.data:
            return None
        async with services.sessions() as session, session.begin():
            url, _ = await link_for_bytes(session, links, att.data,
                                          kind="chart" if att.kind == "photo" else "export",
                                          filename=name, now=now)
        return url

    return link
