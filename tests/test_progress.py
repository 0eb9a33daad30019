"""The admin's delivery report: an outbox edit, the latest state only, short enough."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.channels.base import ChannelLimits
from bot.progress import EDIT_KIND, BroadcastProgress
from bot.redact import protect
from models import Broadcast, Identity, Member, OutboxMessage, OutboxStatus, Role
from reporting.messages import Outgoing
from reporting.services import Services

NOW = datetime(2022, 4, 3, 2, tzinfo=UTC)


TELEGRAM = {"telegram": ChannelLimits(4096, 1024, buttons=True, edits=True)}
NO_EDITS = {"telegram": ChannelLimits(2000, 2000, buttons=False, edits=False)}


async def edits(app: Services) -> list[OutboxMessage]:
    async with app.sessions() as s:
        return list((await s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == EDIT_KIND).order_by(OutboxMessage.id))).all())


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


async def test_the_final_report_is_an_outbox_edit_of_the_progress_message(
        services: Services) -> None:
    """Thảo's broadcast reached 3 of 4 leaders: the report edits her progress message."""
    bid = await seed(services, sent=3, failed=1)
    woken: list[int] = []
    progress = BroadcastProgress(services, TELEGRAM, wake=lambda: woken.append(1))
    await progress({bid})
    [row] = await edits(services)
    out = Outgoing.from_payload(row.payload)
    assert (row.chat_id, row.broadcast_id, row.status) == ("9", bid, OutboxStatus.PENDING)
    assert out.edit == "77" and out.resend  # edited in place; re-sent if that is refused
    assert "Đã gửi xong" in out.text and "đã gửi tới 3/4 người, 1 không gửi được" in out.text
    assert woken == [1]  # the sender is told at once
    async with services.sessions() as s:
        assert (await s.get(Broadcast, bid)).status == "done"  # type: ignore[union-attr]
    await progress.sweep()
    await progress({bid})
    assert len(await edits(services)) == 1  # finished reports are left alone


async def test_a_newer_state_replaces_an_older_edit_not_sent_yet(services: Services) -> None:
    bid = await seed(services, sent=1, failed=0)
    async with services.sessions() as s, s.begin():  # one leader still waiting
        s.add(OutboxMessage(kind="broadcast", dedupe_key="w", channel="telegram", chat_id="50",
                            payload={"text": "x"}, broadcast_id=bid, next_attempt_at=NOW,
                            created_at=NOW, status=OutboxStatus.PENDING))
    progress = BroadcastProgress(services, TELEGRAM)
    await progress({bid})
    [first] = await edits(services)
    interim = Outgoing.from_payload(first.payload)
    assert "Đã gửi xong" not in interim.text
    assert not interim.resend  # refused, it is let go: the next update says the same
    async with services.sessions() as s, s.begin():
        waiting = await s.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "w"))
        assert waiting is not None
        waiting.status = OutboxStatus.SENT
    await progress({bid})  # not throttled: the last one always goes
    [final] = await edits(services)  # the pending intermediate edit was dropped
    assert final.dedupe_key != first.dedupe_key
    assert "Đã gửi xong" in Outgoing.from_payload(final.payload).text


async def test_a_channel_without_edits_gets_only_the_final_report(services: Services) -> None:
    bid = await seed(services, sent=2, failed=0)
    await BroadcastProgress(services, NO_EDITS)({bid})
    [row] = await edits(services)
    out = Outgoing.from_payload(row.payload)
    assert out.edit is None and "Đã gửi xong" in out.text  # a new message


async def test_a_long_failure_list_is_cut_to_fit(services: Services) -> None:
    bid = await seed(services, sent=2, failed=45)
    await BroadcastProgress(services, TELEGRAM)({bid})
    [row] = await edits(services)
    text = Outgoing.from_payload(row.payload).text
    assert text.count("• ") == 30 and "… và 15 người khác" in text and len(text) < 4096


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
