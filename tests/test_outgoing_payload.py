"""One message shape everywhere: an outbox row stores a serialised `Outgoing`.

Rows written by the first release ({"text", "options", "photo"}) must still be sent
after an upgrade; rows the sender cannot read fail for good instead of looping.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.channels.base import Pace
from bot.delivery import Sender
from models import OutboxMessage, OutboxStatus
from models.outbox_ops import enqueue
from reporting.messages import Attachment, Option, Outgoing, payload
from reporting.services import Services

NOW = datetime(2022, 4, 3, 2, tzinfo=UTC)


def test_an_outgoing_survives_the_outbox_round_trip() -> None:
    out = Outgoing("<b>Họp tổ</b> tối nay", [[Option("Đã đọc", "c:ok")]], edit="41",
                   attachments=[Attachment("photo", b"", "chart.png", "Biểu đồ",
                                           media="digests/w/2022-W13-vi.png"),
                                Attachment("document", b"", "x.xlsx", file_id="BQAD")])
    back = Outgoing.from_payload(out.to_payload())
    assert back == out
    asks = Outgoing("Số hộ?", [[Option("⏸ Tạm dừng", "r|p")]], expects="number")
    assert Outgoing.from_payload(asks.to_payload()) == asks  # a menu that takes numbers


def test_bytes_in_hand_cannot_go_into_the_outbox() -> None:
    out = Outgoing("", attachments=[Attachment("photo", b"\xff\xd8", "p.jpg")])
    with pytest.raises(ValueError, match="media"):
        out.to_payload()


@pytest.mark.parametrize(("legacy", "media", "file_id"), [
    ({"text": "Biểu đồ", "photo": "media:digests/a.png"}, "digests/a.png", None),
    ({"text": "Mít tinh", "photo": "AgACAgI"}, None, "AgACAgI"),
])
def test_rows_of_the_first_release_still_read(legacy: dict[str, str], media: str | None,
                                               file_id: str | None) -> None:
    out = Outgoing.from_payload({**legacy, "options": [[["Báo cáo ngay", "c:baocao"]]]})
    assert out.text == legacy["text"]
    assert [[(o.label, o.data) for o in row] for row in out.options] == [
        [("Báo cáo ngay", "c:baocao")]]
    [photo] = out.attachments
    assert (photo.kind, photo.media, photo.file_id) == ("photo", media, file_id)


def test_the_short_form_builds_the_same_shape() -> None:
    body = payload("Nhắc báo cáo", [[("📝 Báo cáo ngay", "c:baocao")]], photo="media:a/b.png")
    out = Outgoing.from_payload(body)
    assert body["v"] == 2 and out.attachments[0].media == "a/b.png"
    assert out.options == [[Option("📝 Báo cáo ngay", "c:baocao")]]


class Recording:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        await pace()
        self.sent.append(out)
        return str(len(self.sent))


async def test_the_sender_delivers_old_rows_and_fails_unreadable_ones(
        services: Services) -> None:
    async with services.sessions() as s, s.begin():
        await enqueue(s, kind="notice", dedupe_key="old", channel="telegram", chat_id="1",
                      body={"text": "Hàng cũ", "options": [["OK", "ok"]]}, now=NOW)
        await enqueue(s, kind="notice", dedupe_key="future", channel="telegram",
                      chat_id="2", body={"v": 99, "text": "?"}, now=NOW)
    transport = Recording()
    sender = Sender(services.sessions, services.settings.delivery, {"telegram": transport},
                    clock=lambda: NOW)
    assert await sender.run_once() == 2
    assert [o.text for o in transport.sent] == ["Hàng cũ"]
    async with services.sessions() as s:
        rows = {r.dedupe_key: r for r in await s.scalars(select(OutboxMessage))}
    assert rows["old"].status == OutboxStatus.SENT
    future = rows["future"]
    assert future.status == OutboxStatus.FAILED and future.permanent
    assert "unreadable payload" in (future.last_error or "")
