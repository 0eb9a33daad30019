"""The admin's delivery report: retried when an edit fails, and short enough to send."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from telegram.error import TimedOut

from bot.progress import BroadcastProgress
from bot.redact import protect
from models import Broadcast, Identity, Member, OutboxMessage, OutboxStatus, Role
from reporting.services import Services

NOW = datetime(2022, 4, 3, 2, tzinfo=UTC)


class FlakyBot:
    """Stands in for telegram.Bot: the first `failures` edits time out."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.edits: list[str] = []

    async def edit_message_text(self, text: str, **_: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise TimedOut()
        self.edits.append(text)


async def seed(app: Services, sent: int, failed: int) -> int:
    async with app.sessions() as s, s.begin():
        admin = Member(display_name="Thảo", role=Role.ADMIN, created_at=NOW)
        s.add(admin)
        await s.flush()
        b = Broadcast(created_by=admin.id, text="x", status="queued", created_at=NOW,
                      queued_at=NOW)
        s.add(b)
        await s.flush()
        s.add(OutboxMessage(kind="broadcast_progress", dedupe_key="p", channel="telegram",
                            chat_id="9", payload={"text": "…"}, broadcast_id=b.id,
                            status=OutboxStatus.SENT, message_id="77", next_attempt_at=NOW,
                            created_at=NOW, member_id=admin.id))
        for i in range(sent + failed):
            m = Member(display_name=f"Tổ trưởng {i}", role=Role.LEADER, created_at=NOW)
            s.add(m)
            await s.flush()
            s.add(Identity(member_id=m.id, channel="telegram", external_id=str(i),
                           chat_id=str(i), created_at=NOW))
            ok = i < sent
            s.add(OutboxMessage(
                kind="broadcast", dedupe_key=f"b{i}", channel="telegram", chat_id=str(i),
                payload={"text": "x"}, broadcast_id=b.id, member_id=m.id, next_attempt_at=NOW,
                created_at=NOW, status=OutboxStatus.SENT if ok else OutboxStatus.FAILED,
                permanent=not ok,
                last_error=None if ok else "Forbidden: bot was blocked by the user"))
        return b.id


async def test_a_failed_final_edit_is_retried_by_the_sweep(services: Services) -> None:
    bid = await seed(services, sent=3, failed=1)
    bot = FlakyBot(failures=1)
    progress = BroadcastProgress(services, bot)  # type: ignore[arg-type]
    await progress({bid})
    async with services.sessions() as s:
        assert (await s.get(Broadcast, bid)).status == "queued"  # type: ignore[union-attr]
    await progress.sweep()
    assert len(bot.edits) == 1 and "Đã gửi xong" in bot.edits[0]
    assert "3/4 đã nhận, 1 không gửi được" in bot.edits[0]
    async with services.sessions() as s:
        assert (await s.get(Broadcast, bid)).status == "done"  # type: ignore[union-attr]
    await progress.sweep()
    assert len(bot.edits) == 1  # finished reports are left alone


async def test_a_long_failure_list_is_cut_to_fit(services: Services) -> None:
    bid = await seed(services, sent=2, failed=45)
    bot = FlakyBot(failures=0)
    await BroadcastProgress(services, bot)({bid})  # type: ignore[arg-type]
    [text] = bot.edits
    assert text.count("• ") == 30 and "… và 15 người khác" in text and len(text) < 4096
    async with services.sessions() as s:
        rows = (await s.scalars(select(OutboxMessage))).all()
    assert len(rows) == 48


def test_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    secret = "987654:SECRET-TOKEN-abcdefgh"
    protect(secret)
    log = logging.getLogger("tests.redact")
    try:
        raise RuntimeError(f"The token `{secret}` was rejected by the server.")
    except RuntimeError:
        log.exception("start-up failed")
    text = caplog.text
    assert "start-up failed" in text and "was rejected" in text
    assert secret not in text and "SECRET-TOKEN-abcdefgh" not in text
