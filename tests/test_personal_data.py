"""Personal data: Nhung (leader of Tổ 1) reads what is kept about her, Hùng (admin) exports
it and, on her request, erases it; the group's figures stay. Mai is on the Council; Minh
is not registered. Photos past `good_deeds.photo_retention_days` go by a daily job.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.assembly import open_services
from bot.cli import main
from bot.inbox import reply_json
from models import (
    Base,
    CodeAttempt,
    DeedPhoto,
    GoodDeed,
    Identity,
    InboxState,
    InboxUpdate,
    Media,
    Member,
    Report,
    ReportValue,
)
from models.allowance import ChatSlot
from models.inbox_ops import NewUpdate, store
from models.outbox_ops import enqueue_to_members
from reporting.messages import payload
from reporting.services import Services
from scheduler.calendar import due
from scheduler.runner import run_due
from tests.conftest import ROOT, Clock
from tests.helpers import LAN_MARCH, Person, register, submit_month
from tests.test_deeds import tell

NAME = "Lường Thị Nhung"
USER_ID = "770012345"  # her Telegram-like user id, also her private chat's id
JPEG = b"\xff\xd8\xff\xe0nhung-photo-bytes"


@pytest.fixture
def media(services: Services, tmp_path: Path) -> Path:
    services.media_dir = tmp_path / "media"

    async def fetch(file_id: str, max_bytes: int) -> bytes:
        return JPEG + file_id.encode()

    services.fetchers["test"] = fetch
    return services.media_dir


async def send_deed(nhung: Person, photos: tuple[str, ...] = ("photo-a", "photo-b")) -> None:
    await tell(nhung)
    for photo in photos:
        await nhung.send_photos(photo)
    await nhung.press("Xong")
    await nhung.press("Gửi")


async def member_id(app: Services, user_id: str) -> int:
    async with app.sessions() as s:
        found = await s.scalar(select(Identity.member_id).where(Identity.external_id == user_id))
    assert found is not None
    return found


def files_holding(folder: Path, needle: bytes) -> list[Path]:
    """Files under `folder` whose bytes contain `needle`."""
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def attached(value: Any) -> Iterator[str]:
    """The files a stored reply carries (base64 under "data"), decoded."""
    if isinstance(value, list | tuple):
        for item in value:
            yield from attached(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "data" and isinstance(item, str):
                yield base64.b64decode(item).decode(errors="replace")
            else:
                yield from attached(item)


async def every_row(app: Services) -> list[tuple[str, tuple[Any, ...]]]:
    """Every row of every table, as (table, values)."""
    rows: list[tuple[str, tuple[Any, ...]]] = []
    async with app.sessions() as s:
        for table in Base.metadata.sorted_tables:
            rows += [(table.name, tuple(r)) for r in (await s.execute(select(table))).all()]
    return rows


async def group_figures(app: Services) -> dict[str, Any]:
    """What the ward's record says about Tổ 1: report values, counts of rows."""
    async with app.sessions() as s:
        values = dict((await s.execute(select(ReportValue.indicator, ReportValue.number))).all())
        counts = {model.__tablename__: await s.scalar(select(func.count()).select_from(model))
                  for model in (Report, ReportValue, GoodDeed)}
    return {"values": values, "counts": counts}


async def leave_traces(app: Services, nhung_id: int) -> None:
    """What the runtime would have kept of her besides the handlers' rows: raw updates
    (hers, and a group chat's quoting her), a reminder queued to her, a wrong code, her
    chat's sending slot."""
    raw = {"update_id": 901, "message": {"chat": {"id": int(USER_ID), "type": "private"},
                                         "from": {"id": int(USER_ID), "first_name": NAME},
                                         "text": "/baocao"}}
    quoted = {"update_id": 902, "message": {
        "chat": {"id": -100777, "type": "group"}, "from": {"id": 555, "first_name": "Mai"},
        "text": f"Cảm ơn {NAME}!", "reply_to_message": {"from": {"first_name": NAME}}}}
    async with app.sessions() as s, s.begin():
        await store(s, "test", [NewUpdate("901", USER_ID, json.dumps(raw, ensure_ascii=False)),
                                NewUpdate("902", "-100777", json.dumps(quoted))], app.clock())
        await enqueue_to_members(s, kind="reminder", key="reminder:2022-03:-2",
                                 member_ids=[nhung_id], body=payload(f"Nhắc {NAME}"),
                                 now=app.clock())
        mai = await s.scalar(select(Member.id).where(Member.display_name == "Mai"))
        assert mai is not None
        await enqueue_to_members(s, kind="notice", key="deed:1", member_ids=[mai],
                                 body=payload(f"Gương tốt mới do {NAME} gửi"), now=app.clock())
        s.add(CodeAttempt(channel="test", external_id=USER_ID, at=app.clock()))
        # The shared sender's pace for her chat (several instances, PostgreSQL).
        s.add(ChatSlot(channel="test", chat_id=USER_ID, free_at=app.clock()))


async def test_erasing_nhung_leaves_no_trace_of_her_and_keeps_the_groups_figures(
        services: Services, media: Path) -> None:
    hung = await register(services, "1", "Hùng", group=None, role="admin")
    await register(services, "2", "Mai", group=None, role="council")
    nhung = await register(services, USER_ID, NAME)
    await submit_month(nhung, {**LAN_MARCH, "notes": f"Người lập: {NAME}"})
    await send_deed(nhung)
    await nhung.send("/lienket")  # a link code waiting for her other phone
    await nhung.send("/guongtot")  # and a second story left half told
    await nhung.press("Cá nhân")
    nhung_id = await member_id(services, USER_ID)
    await leave_traces(services, nhung_id)
    async with services.sessions() as s:  # a photo kept before copies moved to the database
        photo = (await s.scalars(select(DeedPhoto).order_by(DeedPhoto.id))).first()
    assert photo is not None and photo.local_path is not None
    legacy = media / photo.local_path
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(JPEG + b"legacy")
    exported = await hung.send(f"/dulieu xuat #{nhung_id}")  # answered through the inbox:
    async with services.sessions() as s, s.begin():  # the file stays on Hùng's row a while
        s.add(InboxUpdate(channel="test", update_key="903", chat_id="1", payload="{}",
                          received_at=services.clock(), state=InboxState.DONE,
                          reply=reply_json(exported)))
    before = await group_figures(services)
    assert before["counts"]["good_deeds"] == 2 and before["values"]["households"] == 120

    await hung.send(f"/dulieu xoa #{nhung_id}")  # first the question, nothing erased
    assert f"/dulieu xoa #{nhung_id} xacnhan" in hung.last_text
    assert await member_id(services, USER_ID) == nhung_id
    await hung.send(f"/dulieu xoa #{nhung_id} xacnhan")
    assert "✅" in hung.last_text

    for table, row in await every_row(services):
        text = repr(row) + "".join(attached(row))
        assert NAME not in text and "Nhung" not in text, (table, row)
        assert USER_ID not in text, (table, row)
        assert not any(isinstance(v, bytes | memoryview) and b"nhung-photo" in bytes(v)
                       for v in row), table
    assert not files_holding(media, b"nhung-photo")
    assert not legacy.exists()
    assert await group_figures(services) == before  # the group's record is whole
    async with services.sessions() as s:
        erased = await s.get(Member, nhung_id)
        reporters = set(await s.scalars(select(GoodDeed.reported_by)))
        submitted_by = set(await s.scalars(select(Report.submitted_by)))
    assert erased is not None and (erased.display_name, erased.active) == ("đã xóa", False)
    assert reporters == {nhung_id} and submitted_by == {nhung_id}
    async with services.sessions() as s:  # her words stay, her name in them does not
        notes = await s.scalar(select(ReportValue.value).where(ReportValue.indicator == "notes"))
    assert notes == "Người lập: đã xóa"
    await nhung.send("/dulieucuatoi")  # her account is no longer known
    assert "chưa đăng ký" in nhung.last_text
    await hung.send(f"/dulieu xoa #{nhung_id} xacnhan")
    assert "trước đây" in hung.last_text


async def test_nhung_reads_what_is_kept_about_her(services: Services, media: Path) -> None:
    services.settings = services.settings.model_copy(update={
        "good_deeds": services.settings.good_deeds.model_copy(
            update={"photo_retention_days": 365})})
    nhung = await register(services, USER_ID, NAME)
    await submit_month(nhung, LAN_MARCH)
    await send_deed(nhung)
    await nhung.send("/dulieucuatoi")
    text = nhung.last_text
    assert NAME in text and "Tổ 1" in text and "tổ trưởng" in text
    assert "•345" in text and USER_ID not in text  # her ids, only their last digits
    assert "đã gửi 1 báo cáo" in text and "03/2022" in text
    assert "đã gửi: 1, kèm 2 ảnh" in text
    assert "365 ngày" in text and "7 ngày" in text  # photos, then received messages
    assert "phát động" not in text  # a leader sends no broadcasts
    await nhung.send("/mydata")
    assert nhung.last_text == text


async def test_hung_exports_nhungs_whole_record(services: Services, media: Path) -> None:
    hung = await register(services, "1", "Hùng", group=None, role="admin")
    nhung = await register(services, USER_ID, NAME)
    await submit_month(nhung, LAN_MARCH)
    await send_deed(nhung)
    nhung_id = await member_id(services, USER_ID)
    reply = await hung.send(f"/dulieu xuat #{nhung_id}")
    [doc] = reply.messages[-1].attachments
    assert doc.filename == f"du-lieu-ca-nhan-{nhung_id}.json"
    data = json.loads(doc.data)
    assert data["member"]["display_name"] == NAME and data["member"]["role"] == "leader"
    assert data["member"]["group"]["code"] == "to-1"
    [account] = data["identities"]
    assert (account["channel"], account["external_id"], account["chat_id"]) == (
        "test", USER_ID, USER_ID)
    [report] = data["reports"]
    assert (report["period"], report["submitted"], report["late"]) == ("2022-03", True, False)
    assert data["answers"] == {"2022-03": 12}
    [deed] = data["good_deeds"]
    assert deed["photos"] == 2 and deed["subject_name"] == "Bà Lò Thị Xuân"
    assert deed["description"].startswith("Nhặt được ví tiền")
    assert data["retention_days"]["good_deed_photos"] is None  # config keeps them
    assert [i["kind"] for i in data["invites"]] == ["invite"]  # the code she registered with
    await hung.send("/moi to-2")  # Hùng's own record lists the codes he made
    await hung.send("/moi to-3")
    hung_id = await member_id(services, "1")
    reply = await hung.send(f"/dulieu xuat #{hung_id}")
    mine = json.loads(reply.messages[-1].attachments[0].data)
    assert [i["used"] for i in mine["invites_created"]] == [False, False]
    await hung.send("/dulieucuatoi")
    assert "phát động đã gửi: 0; mã mời đã tạo: 2" in hung.last_text
    # The chat's export is the CLI's, and the record is read-only: nothing changed.
    assert await member_id(services, USER_ID) == nhung_id


async def test_only_admins_export_or_erase(services: Services, media: Path) -> None:
    hung = await register(services, "1", "Hùng", group=None, role="admin")
    mai = await register(services, "2", "Mai", group=None, role="council")
    nhung = await register(services, USER_ID, NAME)
    minh = Person(services, "9", "Minh")
    nhung_id = await member_id(services, USER_ID)
    hung_id = await member_id(services, "1")
    for person in (nhung, mai):
        for command in (f"/dulieu xuat #{nhung_id}", f"/dulieu xoa #{nhung_id} xacnhan",
                        f"/personal erase #{hung_id} confirm"):
            reply = await person.send(command)
            assert "quản trị viên" in person.last_text
            assert not reply.messages[-1].attachments
    await minh.send(f"/dulieu xoa #{nhung_id} xacnhan")
    assert "chưa đăng ký" in minh.last_text
    await minh.send("/dulieucuatoi")
    assert "chưa đăng ký" in minh.last_text
    # Hùng's own mistakes: a clear answer, never a crash, nothing erased.
    for command in ("/dulieu", "/dulieu xoa", "/dulieu xoa Nhung", "/dulieu in #3",
                    f"/dulieu xoa #{nhung_id} ok thôi"):
        await hung.send(command)
        assert "Cách dùng" in hung.last_text, command
    await hung.send("/dulieu xuat #999")
    assert "Không có thành viên #999" in hung.last_text
    await hung.send(f"/dulieu xoa #{hung_id} xacnhan")
    assert "thidua member erase" in hung.last_text
    async with services.sessions() as s:
        names = set(await s.scalars(select(Member.display_name)))
    assert names == {"Hùng", "Mai", NAME}


async def test_photos_past_their_retention_go_and_the_stories_stay(
        services: Services, media: Path, clock: Clock) -> None:
    kept = services.settings.model_copy(update={
        "good_deeds": services.settings.good_deeds.model_copy(
            update={"photo_retention_days": 30})})
    assert not [o for o in due(services.settings, clock() + timedelta(days=1))
                if o.job == "photo_retention"]  # null in config: photos are kept, no job
    services.settings = kept
    nhung = await register(services, USER_ID, NAME)
    await send_deed(nhung, ("old-a", "old-b"))  # 3 April
    async with services.sessions() as s:
        old = list(await s.scalars(select(DeedPhoto)))
    legacy = media / str(old[0].local_path)  # one old photo also has its file on disk
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(JPEG)
    clock.advance(days=25)
    await send_deed(nhung, ("new-a",))  # 28 April
    clock.set_local(2022, 5, 4, 2, 30)  # 31 days after the first, 6 after the second
    ran = [o for o in await run_due(services, clock()) if o.job == "photo_retention"]
    assert [o.key for o in ran] == ["2022-05-04"]
    async with services.sessions() as s:
        photos = list(await s.scalars(select(DeedPhoto.file_id)))
        media_rows = await s.scalar(select(func.count()).select_from(Media))
        stories = list(await s.scalars(select(GoodDeed.description)))
    assert photos == ["new-a"] and media_rows == 1
    assert len(stories) == 2 and all(stories)  # both deeds keep their text
    assert not legacy.exists()
    assert not await run_due(services, clock())  # once a day: claimed


def test_cli_exports_and_erases_one_member(cli_db: str, tmp_path: Path) -> None:
    import asyncio

    from reporting.config_file import load_settings

    settings = load_settings(ROOT / "config.yaml")

    async def seed() -> int:
        async with open_services(settings, cli_db) as app:
            await register(app, USER_ID, NAME)
            return await member_id(app, USER_ID)

    nhung_id = asyncio.run(seed())
    out = tmp_path / "nhung.json"
    assert main(["member", "export", str(nhung_id), "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["member"]["display_name"] == NAME
    assert data["identities"][0]["external_id"] == USER_ID
    assert main(["member", "erase", str(nhung_id)]) == 2  # no --yes: nothing happens
    assert main(["member", "export", "999"]) == 1
    assert main(["member", "erase", str(nhung_id), "--yes"]) == 0
    assert main(["member", "export", str(nhung_id), "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["member"]["display_name"] == "đã xóa" and data["identities"] == []


