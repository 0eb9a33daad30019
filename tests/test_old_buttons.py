"""After an upgrade: buttons from messages the previous release sent, and conversations it
left half-way, must never do something else than they did.

A button from an old message is out of date: Lan is told so and shown where she is.
A conversation row the old release wrote (`q:3`, `name`, `audience`) carries on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from models import Conversation, GoodDeed, Report, ReportValue
from reporting.buttons import Button, Flow, ReportAction, encode
from reporting.services import Services
from tests.helpers import register

EXPIRED = "Nút này đã cũ"


async def answers(services: Services) -> dict[str, str | None]:
    async with services.sessions() as s:
        return {v.indicator: v.value for v in await s.scalars(select(ReportValue))}


async def old_release_wrote(services: Services, user_id: str, flow: str, step: str,
                            data: dict[str, Any]) -> None:
    """Lan's conversation row as the previous release left it."""
    async with services.sessions() as s, s.begin():
        await s.execute(update(Conversation).where(Conversation.external_id == user_id)
                        .values(flow=flow, step=step, data=data))


async def report_id(services: Services) -> int:
    async with services.sessions() as s:
        rid = await s.scalar(select(Report.id))
    assert rid is not None
    return int(rid)


async def test_lans_old_buttons_are_out_of_date_and_change_nothing(services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/baocao")
    for text in ("120", "118", "450"):
        await lan.send(text)
    rid = await report_id(services)
    # "Có" for item 3 and "Gửi báo cáo", in the old release's format, and a newer one.
    for old in (f"r:{rid}:3:v.yes", f"r:{rid}:-:ok", "2|r|v|1,3|yes"):
        reply = await lan.press_data(old)
        assert reply.toast is not None and EXPIRED in reply.toast
        assert "Câu 4/12" in lan.last_text  # where she is: still question 4
    assert await answers(services) == {"households": "120", "cultured_families": "118",
                                       "residents": "450"}
    await lan.send("430")  # and she carries on as if nothing happened
    assert "Câu 5/12" in lan.last_text


async def test_an_old_reminders_report_now_button_still_opens_the_report(
        services: Services) -> None:
    """Lan kept last week's reminder; its "Báo cáo ngay" (first release) still works."""
    lan = await register(services, "100", "Nguyễn Thị Lan")
    reply = await lan.press_data("c:baocao")
    assert reply.toast is None and "Câu 1/12" in lan.last_text


async def test_an_old_button_outside_any_conversation_shows_what_to_do(
        services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    reply = await lan.press_data("g:1:0:v.person")
    assert reply.toast is not None and EXPIRED in reply.toast
    assert "Gõ /baocao" in lan.last_text
    async with services.sessions() as s:
        assert (await s.scalars(select(GoodDeed))).all() == []


async def test_a_report_left_at_question_four_by_the_old_release_resumes(
        services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/baocao")
    await lan.send("120")
    rid = await report_id(services)
    await old_release_wrote(services, "100", "report", "q:3", {"report_id": rid})
    await lan.send("430")
    assert (await answers(services))["health_insured"] == "430"
    assert "Câu 5/12" in lan.last_text
    await lan.send("/baocao")  # coming back later: the same place
    assert "Câu 5/12" in lan.last_text


async def test_a_garbled_position_falls_back_to_the_first_unanswered_question(
        services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/baocao")
    await lan.send("120")
    rid = await report_id(services)
    for step in ("zz:9", "q:99", "q:x", "summary:1"):
        await old_release_wrote(services, "100", "report", step, {"report_id": rid})
        await lan.send("118")
        assert "Câu 2/12" in lan.last_text  # shown again, not stored under another item
        assert await answers(services) == {"households": "120"}


async def test_conversations_the_release_cannot_use_end_gracefully(services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/baocao")
    await old_release_wrote(services, "100", "report", "q:0", {})  # no report id
    await lan.send("120")
    assert "Gõ /baocao" in lan.last_text
    await lan.send("/baocao")
    await old_release_wrote(services, "100", "survey", "s:1", {"x": 1})  # a flow we lack
    await lan.send("120")
    assert "Gõ /baocao" in lan.last_text
    assert await answers(services) == {}
    async with services.sessions() as s:
        assert (await s.scalars(select(Conversation))).all() == []  # let go, not kept


async def test_a_good_deed_left_at_the_name_by_the_old_release_resumes(
        services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/guongtot")
    await lan.press("Cá nhân")
    async with services.sessions() as s:
        deed = await s.scalar(select(GoodDeed))
    assert deed is not None and deed.subject_kind == "person"
    await old_release_wrote(services, "100", "deed", "name", {"deed_id": deed.id})
    await lan.send("Bà Lò Thị Xuân")
    assert "3/6" in lan.last_text  # on to what she did
    async with services.sessions() as s:
        assert (await s.scalar(select(GoodDeed.subject_name))) == "Bà Lò Thị Xuân"


async def test_an_admins_broadcast_left_at_the_audience_resumes(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    await thao.send("/phatdong")
    await thao.send("Họp tổ dân phố tối thứ Bảy.")
    await old_release_wrote(services, "9", "broadcast", "audience",
                            {"broadcast_id": 1})
    await thao.press("Tất cả tổ trưởng")
    assert "Người nhận" in thao.all_text
    # A stale press of the old "Send" data: out of date, the preview is still there.
    reply = await thao.press_data("b:1:send:")
    assert reply.toast is not None and EXPIRED in reply.toast
    assert "Người nhận" in thao.all_text


async def test_a_current_button_pressed_on_an_earlier_question_is_recognised(
        services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/baocao")
    await lan.send("120")
    rid = await report_id(services)
    reply = await lan.press_data(encode(Button(Flow.REPORT, ReportAction.SKIP, (rid, 0))))
    assert reply.toast is not None and EXPIRED in reply.toast
    assert "Câu 2/12" in lan.last_text
    assert await answers(services) == {"households": "120"}
