"""Files by link, for channels that cannot take an upload (Zalo, a terminal).

Minh (Council) follows the ward on a channel without files: the Monday digest's chart
and his /xuat workbook reach him as links the bot serves itself. A link works for a
week, for that one file, and only as signed: a changed id, expiry or signature is
refused (403), an old link is gone (410), a pruned file is missing (404). Telegram's
webhook shares the same HTTP server and keeps its own answers.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.assembly import open_services, outbox_sender
from bot.channels.base import Pace
from bot.channels.console import run_console
from bot.channels.telegram.webhook import WebhookSettings, webhook
from bot.http import HttpServer
from bot.inbox import Dispatcher
from bot.media_links import Links, link_for_bytes, linked, media_url, mount_media
from bot.settings import Environment
from bot.subcommands import run
from fakes.telegram import FakeBotApi
from models import InboxUpdate, Media, OutboxMessage, OutboxStatus
from models import media as stored
from reporting.config_file import load_settings
from reporting.messages import Attachment, ChannelLimits, Outgoing
from reporting.services import Services
from scheduler.runner import run_due
from tests.conftest import ROOT, Clock
from tests.helpers import make_invite, register
from tests.test_inbox import StandInChannel, open_rows, put

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
NO_FILES = ChannelLimits(max_text=2000, max_caption=1000, buttons=False, edits=False,
                         files=False)
URL = re.compile(r"(https?://[^\s<]+/m/[^\s<]+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served(services: Services) -> AsyncIterator[tuple[Services, HttpServer]]:
    """The services with a public URL, and the HTTP server that URL reaches."""
    port = free_port()
    app = replace(services, public_url=f"http://127.0.0.1:{port}")
    async with HttpServer("127.0.0.1", port).serving() as server:
        mount_media(server, app)
        yield app, server


async def keep(app: Services, data: bytes = PNG, filename: str = "tien-do.png") -> int:
    async with app.sessions() as s, s.begin():
        return await stored.store(s, kind="chart", filename=filename,
                                  content_type="image/png", data=data, now=app.clock())


async def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.read(), dict(response.headers)


async def test_a_link_brings_the_file_over_http(served: tuple[Services, HttpServer]) -> None:
    app, _ = served
    media_id = await keep(app)
    url = media_url(app, media_id, "tien-do-2022-03.png", app.clock())
    assert url is not None and url.startswith(f"{app.public_url}/m/{media_id}/")
    status, body, headers = await fetch(url)
    assert (status, body) == (200, PNG)
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"] == 'inline; filename="tien-do-2022-03.png"'
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_an_altered_link_is_refused(served: tuple[Services, HttpServer]) -> None:
    """Another medium, a longer life, another name or a changed signature: all 403."""
    app, _ = served
    mine, other = await keep(app), await keep(app, b"other ward's file")
    url = media_url(app, mine, "a.png", app.clock())
    assert url is not None
    base, media_id, expires, sig, name = url.rsplit("/", 4)
    flipped = ("B" if sig[0] == "A" else "A") + sig[1:]
    for altered in (f"{base}/{other}/{expires}/{sig}/{name}",
                    f"{base}/{media_id}/{int(expires) + 86400}/{sig}/{name}",
                    f"{base}/{media_id}/{expires}/{sig}/b.png",
                    f"{base}/{media_id}/{expires}/{flipped}/{name}",
                    f"{base}/{media_id}/{expires}//{name}"):
        status, body, _ = await fetch(altered)
        assert status == 403, altered
        assert body != PNG
    assert (await fetch(url))[0] == 200


async def test_a_link_works_for_a_week_then_is_gone(
        served: tuple[Services, HttpServer], clock: Clock) -> None:
    app, _ = served
    media_id = await keep(app)
    url = media_url(app, media_id, "a.png", clock())
    assert url is not None
    clock.advance(days=7, seconds=-1)
    assert (await fetch(url))[0] == 200
    clock.advance(seconds=2)
    assert (await fetch(url))[0] == 410
    shorter = replace(app, link_ttl=timedelta(hours=1))
    fresh = media_url(shorter, media_id, "a.png", clock())
    assert fresh is not None
    assert int(fresh.rsplit("/", 3)[1]) == int((clock() + timedelta(hours=1)).timestamp())


async def test_a_missing_file_and_anything_but_a_link_is_not_found(
        served: tuple[Services, HttpServer]) -> None:
    app, _ = served
    media_id = await keep(app)
    gone = media_url(app, 4242, "a.png", app.clock())  # well signed, no such medium
    assert gone is not None and (await fetch(gone))[0] == 404
    base = app.public_url
    for probe in (f"{base}/m/", f"{base}/m/{media_id}", f"{base}/m/{media_id}/1/2",
                  f"{base}/m/x/1/sig/a.png", f"{base}/m/{media_id}/1/sig/a.png/more",
                  f"{base}/m/%2e%2e/%2e%2e/etc/passwd", f"{base}/media", f"{base}/"):
        assert (await fetch(probe))[0] in (403, 404), probe
    # Only a signature opens a medium: a listing, a guess or a walk up finds nothing.
    for probe in (f"{base}/m/", f"{base}/m/{media_id}"):
        assert (await fetch(probe))[1] != PNG


async def test_without_a_public_url_there_is_no_link(services: Services) -> None:
    assert services.public_url is None
    media_id = await keep(services)
    assert media_url(services, media_id, "a.png", services.clock()) is None
    async with services.sessions() as s, s.begin():
        out = await linked(services, s, Outgoing("Bản tin", attachments=[
            Attachment("photo", b"", "a.png", caption="Biểu đồ", media_id=media_id)]),
            services.clock(), "vi")
    assert out.attachments == [] and "http" not in out.text
    unavailable = services.t("file_unavailable", "vi", name="a.png")
    assert out.text == f"Biểu đồ\n\n{unavailable}\n\nBản tin"


async def test_a_linked_file_outlives_pruning_until_its_link_expires(
        served: tuple[Services, HttpServer], clock: Clock) -> None:
    """A chart sent late (25 days after it was drawn) gets a link that ends when the
    chart may be pruned (30 days), not a week later: it never points at nothing."""
    app, _ = served
    made = clock()
    media_id = await keep(app)
    clock.advance(days=25)
    async with app.sessions() as s:
        out = await linked(app, s, Outgoing("", attachments=[
            Attachment("photo", b"", "a.png", media_id=media_id)]), clock(), "vi")
    found = URL.search(out.text)
    assert found is not None
    expires = int(found.group(1).rsplit("/", 3)[1])
    assert expires == int((made + stored.RETENTION).timestamp())
    clock.advance(days=5, seconds=-1)  # the link's last second: the medium is kept
    async with app.sessions() as s, s.begin():
        assert await stored.prune(s, clock() - stored.RETENTION) == 0
    assert (await fetch(found.group(1)))[0] == 200
    clock.advance(seconds=2)
    assert (await fetch(found.group(1)))[0] == 410
    async with app.sessions() as s, s.begin():
        assert await stored.prune(s, clock() - stored.RETENTION) == 1


async def test_bytes_in_hand_are_kept_and_linked(served: tuple[Services, HttpServer]) -> None:
    app, _ = served
    links = Links.of(app)
    assert links is not None
    async with app.sessions() as s, s.begin():
        url, until = await link_for_bytes(s, links, b"PK\x03\x04 workbook", kind="export",
                                          filename="thidua-2022-03.xlsx", now=app.clock())
    assert until == app.clock().replace(microsecond=0) + timedelta(days=7)
    status, body, headers = await fetch(url)
    assert (status, body) == (200, b"PK\x03\x04 workbook")
    assert headers["Content-Type"] == ("application/vnd.openxmlformats-officedocument"
                                       ".spreadsheetml.sheet")
    assert headers["Content-Disposition"] == 'attachment; filename="thidua-2022-03.xlsx"'


class Recorder:
    """A channel's transport that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Outgoing]] = []

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        await pace()
        self.sent.append((chat_id, out))
        return str(len(self.sent))


async def test_the_digest_chart_reaches_a_member_without_files_as_a_working_link(
        served: tuple[Services, HttpServer], clock: Clock) -> None:
    app, _ = served
    minh = await register(app, "9", "Minh", None, "council")  # on channel "test"
    clock.set_local(2022, 3, 28, 7, 30)  # Monday: the weekly digest is due
    assert [o.job for o in await run_due(app, clock())] == ["weekly_digest"]
    async with app.sessions() as s:
        [png] = list(await s.scalars(select(Media.data).where(Media.kind == "chart")))
    recorder = Recorder()
    sender = outbox_sender(app, {"test": recorder}, {"test": NO_FILES})
    while await sender.run_once():
        pass
    async with app.sessions() as s:
        statuses = list(await s.scalars(select(OutboxMessage.status)))
    assert statuses == [OutboxStatus.SENT] * 2
    assert [chat for chat, _ in recorder.sent] == [minh.user_id] * 2
    photo_row = recorder.sent[0][1]
    assert photo_row.attachments == []  # no upload tried on a channel without files
    found = URL.search(photo_row.text)
    assert found is not None, photo_row.text
    status, body, headers = await fetch(found.group(1))
    assert (status, body, headers["Content-Type"]) == (200, png, "image/png")
    assert png.startswith(b"\x89PNG")


async def test_the_council_export_in_a_terminal_is_a_link(
        served: tuple[Services, HttpServer], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], clock: Clock) -> None:
    app, _ = served
    clock.set_local(2022, 4, 2)
    code = await make_invite(app, None, "council")
    monkeypatch.setattr("sys.stdin", io.StringIO(f"/start {code}\n/xuat\n"))
    await run_console(app)
    found = URL.search(capsys.readouterr().out)
    assert found is not None
    status, body, headers = await fetch(found.group(1))
    assert status == 200 and body.startswith(b"PK")  # an .xlsx is a zip
    assert headers["Content-Disposition"].startswith("attachment;")
    async with app.sessions() as s:
        kinds = list(await s.scalars(select(Media.kind)))
    assert kinds == ["export"]


async def test_telegrams_webhook_and_the_links_share_one_server(
        served: tuple[Services, HttpServer]) -> None:
    app, server = served
    config = WebhookSettings(url=f"http://127.0.0.1:{server.port}/tg/hook", secret="s3cret",
                             host="127.0.0.1", port=server.port)
    media_id = await keep(app)
    async with FakeBotApi() as fake, webhook(app, fake.token, config, fake.base_url, server):
        lan = fake.user(1001, "Lan")
        code = await make_invite(app, "to-1")
        await lan.send(f"/start {code}")
        assert "đăng ký thành công" in ((await lan.next()).text or "")
        assert fake.webhook.responses[-1:] == [200]
        async with aiohttp.ClientSession() as http:
            async with http.post(config.url, json={"update_id": 5},
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "no"}) as r:
                assert r.status == 403
            async with http.get(f"http://127.0.0.1:{server.port}/healthz") as r:
                assert r.status == 200
        url = media_url(app, media_id, "a.png", app.clock())
        assert url is not None and (await fetch(url))[:2] == (200, PNG)
    # The channel stopped: its route went with it, the server and the links stay.
    async with aiohttp.ClientSession() as http, http.post(config.url, json={}) as r:
        assert r.status == 404
    assert url is not None and (await fetch(url))[0] == 200


async def test_a_reply_through_the_inbox_carries_the_link_it_stored(
        served: tuple[Services, HttpServer], clock: Clock) -> None:
    """Minh asks for /xuat on a channel without files: the reply he gets and the reply
    kept on the inbox row (sent again after a crash) carry the same working link."""
    app, _ = served
    app.limits["test"] = NO_FILES
    clock.set_local(2022, 4, 2)
    code = await make_invite(app, None, "council")
    channel = StandInChannel()
    assert await put(app, (1, "9", f"/start {code}"), (2, "9", "/xuat")) == 2
    dispatcher = Dispatcher(app, channel.as_inbox(), idle=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        async with asyncio.timeout(15):
            while await open_rows(app):
                assert not task.done(), task
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
    [reply] = channel.replies_to(2)
    assert [out.attachments for out in reply.messages] == [[]]
    found = URL.search(reply.messages[0].text)
    assert found is not None
    async with app.sessions() as s:
        kept = await s.scalar(select(InboxUpdate.reply).where(InboxUpdate.update_key == "2"))
    assert kept is not None and found.group(1) in kept["messages"][0]["text"]
    status, body, _ = await fetch(found.group(1))
    assert status == 200 and body.startswith(b"PK")


async def test_thidua_run_polling_with_a_public_url_serves_links(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    settings = load_settings(ROOT / "config.yaml")
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with FakeBotApi() as fake:
        for name, value in {"TELEGRAM_BOT_TOKEN": fake.token,
                            "TELEGRAM_API_BASE_URL": fake.base_url,
                            "THIDUA_DATABASE_URL": url, "THIDUA_PUBLIC_URL": public,
                            "THIDUA_HTTP_LISTEN": f"127.0.0.1:{port}"}.items():
            monkeypatch.setenv(name, value)
        task = asyncio.create_task(run(settings))  # polling: no --webhook
        for _ in range(200):
            if any(e.method == "getMe" for e in fake.events):
                break
            await asyncio.sleep(0.05)
        assert not fake.webhook.url  # still polling
        async with open_services(settings, url, public_url=public) as services:
            media_id = await keep(services)
            link = media_url(services, media_id, "a.png", services.clock())
        assert link is not None and (await fetch(link))[:2] == (200, PNG)
        assert (await fetch(f"{public}/healthz"))[0] == 200
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(task, 20) == 0


def test_the_public_address_must_be_https_and_links_live_at_most_30_days(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THIDUA_PUBLIC_URL", raising=False)
    monkeypatch.delenv("THIDUA_LINK_DAYS", raising=False)
    env = Environment(public_url="https://thidua.example.vn/", link_days=30)
    assert (env.public_url, env.link_days) == ("https://thidua.example.vn", 30)
    assert Environment().public_url is None and Environment().link_days == 7
    for bad in ({"public_url": "http://thidua.example.vn"}, {"link_days": 31},
                {"link_days": 0}):
        with pytest.raises(ValidationError):
            Environment(**bad)
