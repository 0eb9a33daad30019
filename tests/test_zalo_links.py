"""The digest's chart reaches a Council member on Zalo as a photo: Zalo uploads nothing,
so the bot offers it at a signed link on its own HTTP server, which Zalo fetches.

Mai sits on the Council and uses only Zalo. The bot runs with `THIDUA_PUBLIC_URL` set
(here the loopback address of its HTTP server); the fake Zalo Bot API downloads every
`sendPhoto` URL like Zalo does and refuses one that does not answer with an image.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.zalo import ZaloChannel
from bot.http import HttpServer
from bot.media_links import mount_media
from fakes.zalo import FakeZaloApi, FakeZaloUser
from reporting.services import Services
from tests.helpers import make_invite
from tests.inbox_wait import handled
from tests.test_webhook import free_port

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def public(services: Services) -> AsyncIterator[HttpServer]:
    port = free_port()
    services.public_url = f"http://127.0.0.1:{port}"
    async with HttpServer("127.0.0.1", port).serving() as server:
        mount_media(server, services)
        yield server


async def _say(services: Services, user: FakeZaloUser, text: str) -> None:
    update = await user.send(text)
    key = f"{update['event_name']}:{update['message']['message_id']}"
    await user.expect(min(1, await handled(services, key)))
    await user.settle(quiet=0.3)  # the photo after the text


async def test_the_digest_chart_reaches_zalo_as_a_photo_by_link(
        services: Services, public: HttpServer) -> None:
    async with FakeZaloApi(per_chat_per_second=None) as fake, \
            ZaloChannel(fake.token, fake.base_url, poll_timeout=1).serve(services):
        mai = fake.user("zl-mai-council", "Mai")
        await _say(services, mai, f"/start {await make_invite(services, None, 'council')}")
        await _say(services, mai, "/tonghop")
        photos = [e for e in fake.sent(mai.chat_id) if e.method == "sendPhoto"]
    assert len(photos) == 1
    [chart] = photos
    assert chart.photo is not None and chart.photo.startswith(PNG)  # Zalo got the image
    assert chart.photo_url is not None
    assert chart.photo_url.startswith(f"{services.public_url}/m/")  # our signed link
