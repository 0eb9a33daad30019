"""Files the outbox sends are readable by every sender, wherever it runs.

Minh and Mai (Council) get the Monday digest. The job that queued it ran on one host
(its own working directory and media folder); `thidua sender` runs on another, with an
empty folder of its own: the chart still arrives, uploaded once and then sent by the
id Telegram gave it. A file that is missing is retried and then reported, not dropped
on the first try; rows queued before the files moved to the database still go out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bot.assembly import open_services
from bot.channels.telegram.transport import TelegramTransport, telegram_bot
from bot.delivery import Sender
from fakes.telegram import FakeBotApi
from models import (
    DeedPhoto,
    GoodDeed,
    Group,
    Media,
    MediaFileId,
    Member,
    OutboxMessage,
    OutboxStatus,
)
from models import media as stored
from models.db import Sessions
from models.outbox_claim import delivery_status
from models.outbox_ops import enqueue
from reporting.config import Settings
from reporting.messages import Attachment, Outgoing, payload
from reporting.services import Services
from scheduler.runner import run_due
from tests.conftest import ROOT, Clock
from tests.helpers import register
from tests.test_sender import FAST, fast_limiter

MINH, MAI = 5005, 5006


def council_in(settings: Settings, *chats: int) -> Settings:
    schedule = settings.schedule.model_copy(update={"council_chats": list(chats)})
    return settings.model_copy(update={"schedule": schedule})


def photos_sent(fake: FakeBotApi) -> dict[int, tuple[bool, bytes]]:
    """Per chat: (uploaded rather than sent by file id, the bytes the user sees)."""
    seen: dict[int, tuple[bool, bytes]] = {}
    for e in fake.events:
        if e.method == "sendPhoto" and e.ok and e.chat_id is not None:
            photo = e.params["photo"]
            if isinstance(photo, str) and photo.startswith("attach://"):
                photo = e.params[photo.removeprefix("attach://")]
            [message] = [m for m in fake.messages(e.chat_id)
                         if m.message_id == e.message_id]
            shown = fake.files.get(message.raw["photo"][-1]["file_id"])
            assert shown is not None
            seen[e.chat_id] = (isinstance(photo, dict) and "upload" in photo, shown.data)
    return seen


def tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-3000:]


async def wait_until(check: Any, within: float, log: Path) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; sender log:\n{tail(log)}")
        await asyncio.sleep(0.05)


@pytest.mark.slow  # a real `thidua sender` process, at real rates
async def test_a_digest_queued_on_one_host_is_sent_with_its_chart_from_another(
        settings: Settings, db_url: str, clock: Clock, tmp_path: Path) -> None:
    host_a, host_b = tmp_path / "host-a", tmp_path / "host-b"
    host_a.mkdir()
    host_b.mkdir()
    ward = council_in(settings, MINH, MAI)
    clock.set_local(2022, 3, 28, 7, 30)  # Monday: the weekly digest is due
    async with open_services(ward, db_url, clock=clock, migrate=False,
                             media_dir=host_a / "media") as job_host:
        ran = await run_due(job_host, clock())
        assert [o.job for o in ran] == ["weekly_digest"]
        async with job_host.sessions() as s:
            [png] = list(await s.scalars(select(Media.data)))
            queued = await s.scalar(select(func.count()).select_from(OutboxMessage))
    assert png[:4] == b"\x89PNG" and queued == 4  # chart + text, for each of two
    assert not (host_a / "media").exists()  # nothing on the job host's disk

    config = host_b / "config.yaml"
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["schedule"]["council_chats"] = [MINH, MAI]
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    log = host_b / "sender.log"
    async with FakeBotApi() as fake:
        fake.user(MINH, "Minh")
        fake.user(MAI, "Mai")
        env = {**os.environ, "THIDUA_DATABASE_URL": db_url, "TELEGRAM_BOT_TOKEN": fake.token,
               "TELEGRAM_API_BASE_URL": fake.base_url, "PYTHONPATH": str(ROOT)}
        for var in ("THIDUA_CONFIG", "THIDUA_MEDIA_DIR"):
            env.pop(var, None)
        with log.open("ab") as out:  # another working directory, its own "media" folder
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "--config", "config.yaml", "sender",
                "--timeout", "2", cwd=host_b, env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=out)
        try:
            async def all_sent() -> bool:
                assert proc.returncode is None, tail(log)
                return sum(1 for e in fake.events if e.ok and e.method.startswith("send")) >= 4

            await wait_until(all_sent, 30, log)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 15) == 0

    sent = photos_sent(fake)
    assert {chat: data for chat, (_, data) in sent.items()} == {MINH: png, MAI: png}
    assert sorted(uploaded for uploaded, _ in sent.values()) == [False, True]  # once
    async with open_services(ward, db_url, migrate=False) as look, look.sessions() as s:
        statuses = list(await s.scalars(select(OutboxMessage.status)))
        [file_id] = list(await s.scalars(select(MediaFileId.file_id)))
    assert statuses == [OutboxStatus.SENT] * 4
    assert fake.files.get(file_id) is not None
    assert not (host_b / "media").exists()


async def send_round(sender: Sender, sessions: Sessions, clock: Clock) -> OutboxMessage:
    """One look by the sender, then the row as it stands, and the clock past any backoff."""
    await sender.run_once()
    clock.advance(seconds=FAST.max_backoff_seconds + 1)
    async with sessions() as s:
        row: OutboxMessage | None = await s.scalar(select(OutboxMessage))
        assert row is not None
        return row


async def test_a_missing_chart_is_retried_then_reported(
        services: Services, clock: Clock, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """The chart row was pruned (or a restore lost it): Minh's row says why, after 3 tries."""
    body = Outgoing("Biểu đồ tháng 03/2022", attachments=[
        Attachment("photo", b"", "weekly_digest-2022-W13-vi.png", media_id=4242)]).to_payload()
    async with services.sessions() as s, s.begin():
        await enqueue(s, kind="weekly_digest", dedupe_key="w13:chart:minh",
                      channel="telegram", chat_id=str(MINH), body=body, now=clock())
    async with FakeBotApi() as fake, telegram_bot(fake.token, fake.base_url,
                                                    timeout=2) as bot:
        fake.user(MINH, "Minh")
        sender = Sender(services.sessions, FAST, {"telegram": TelegramTransport(bot, tmp_path)},
                        clock=clock, limiters=fast_limiter(), media_dir=tmp_path)
        with caplog.at_level(logging.INFO, logger="bot.delivery"):
            tries = [await send_round(sender, services.sessions, clock)
                     for _ in range(FAST.max_attempts)]
        assert [r.status for r in tries] == [OutboxStatus.PENDING] * 2 + [OutboxStatus.FAILED]
        assert all("media 4242" in (r.last_error or "") for r in tries)
        assert "after 3 attempts" in (tries[-1].last_error or "")
        assert not tries[-1].permanent  # a file can come back: not the member's fault
        assert not [e for e in fake.events if e.method.startswith("send")]  # nothing half-sent
    assert [r.levelname for r in caplog.records if "media 4242" in r.getMessage()] == [
        "INFO", "INFO", "WARNING"]
    async with services.sessions() as s:
        report = await delivery_status(s, kind="weekly_digest")
    assert (report.failed, report.sent) == (1, 0)
    assert "media 4242" in (report.failures[0].error or "")


async def test_a_row_from_before_the_upgrade_waits_for_its_file_then_goes(
        services: Services, clock: Clock, tmp_path: Path) -> None:
    """A `media:<path>` row queued by the previous release; its file shows up late (a
    shared folder mounted after the sender started): the second try sends it."""
    media_dir = tmp_path / "media"
    async with services.sessions() as s, s.begin():
        await enqueue(s, kind="weekly_digest", dedupe_key="old:chart", channel="telegram",
                      chat_id=str(MINH), now=clock(),
                      body={"text": "Biểu đồ", "photo": "media:digests/w13.png"})
    async with FakeBotApi() as fake, telegram_bot(fake.token, fake.base_url,
                                                    timeout=2) as bot:
        fake.user(MINH, "Minh")
        sender = Sender(services.sessions, FAST, {"telegram": TelegramTransport(bot, tmp_path)},
                        clock=clock, limiters=fast_limiter(), media_dir=media_dir)
        first = await send_round(sender, services.sessions, clock)
        assert first.status == OutboxStatus.PENDING and "digests/w13.png" in (
            first.last_error or "")
        (media_dir / "digests").mkdir(parents=True)
        (media_dir / "digests" / "w13.png").write_bytes(b"\x89PNG old chart")
        second = await send_round(sender, services.sessions, clock)
        assert second.status == OutboxStatus.SENT
        assert photos_sent(fake) == {MINH: (True, b"\x89PNG old chart")}


async def test_old_media_nothing_waits_for_is_pruned(
        services: Services, clock: Clock) -> None:
    now = clock()
    old = now - timedelta(days=40)
    await register(services, "1", "Lan", "to-1")  # the deed's reporter
    async with services.sessions() as s, s.begin():
        def keep(name: str, at: Any) -> Any:
            return stored.store(s, kind="chart", filename=name, content_type="image/png",
                                data=b"\x89PNG" + name.encode(), now=at)

        sent_long_ago = await keep("sent.png", old)
        still_waiting = await keep("waiting.png", old)
        await keep("recent.png", now)
        photo = await keep("deed.jpg", old)
        await enqueue(s, kind="weekly_digest", dedupe_key="waiting", channel="telegram",
                      chat_id="1", now=now, body=Outgoing("", attachments=[
                          Attachment("photo", b"", "waiting.png",
                                     media_id=still_waiting)]).to_payload())
        await enqueue(s, kind="notice", dedupe_key="plain", channel="telegram", chat_id="1",
                      now=now, body=payload("no file"))
        await stored.remember_file_id(s, sent_long_ago, "telegram", "AgAC-sent")
    async with services.sessions() as s, s.begin():
        await _deed_with_photo(s, photo, now)
        assert await stored.prune(s, now - timedelta(days=30)) == 1
    async with services.sessions() as s:
        left = set(await s.scalars(select(Media.filename)))
        ids = list(await s.scalars(select(MediaFileId.id)))
    assert left == {"waiting.png", "recent.png", "deed.jpg"} and ids == []


async def _deed_with_photo(s: Any, media_id: int, now: Any) -> None:
    """Lan's good deed, its photo kept in the database."""
    group = await s.scalar(select(Group).where(Group.code == "to-1"))
    member = await s.scalar(select(Member).limit(1))
    deed = GoodDeed(group_id=group.id, reported_by=member.id, created_at=now)
    s.add(deed)
    await s.flush()
    s.add(DeedPhoto(deed_id=deed.id, channel="telegram", file_id="AgAC-deed", position=1,
                    media_id=media_id))


def test_an_attachment_kept_in_the_database_survives_the_outbox_round_trip() -> None:
    out = Outgoing("Biểu đồ", attachments=[Attachment("photo", b"", "c.png", media_id=7)])
    body = out.to_payload()
    assert "photo" not in body  # a first-release sender cannot read it: text only
    back = Outgoing.from_payload(body)
    assert back == out and back.attachments[0].media_id == 7
    assert replace(back, uploaded={0: "x"}) == back  # the channel's note is not content
