"""The year's sign-up (đăng ký thi đua), told as the ward lives it in January 2023.

Lan leads Tổ 1, Hùng Tổ 2, Mai Tổ 3; Minh sits on the Council. 2022 is a seeded year,
so each group's households are known from its December report. The window is the
default one: 01/01 to 31/01, reminders 21, 7 and 2 days before it closes.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.demo_year import seed_year
from handlers.router import COUNCIL_READ, handle
from models import Group, Pledge
from reporting.buttons import Button, Flow, SignupAction, command, encode
from reporting.messages import Incoming
from reporting.paperwork_config import Signup
from reporting.services import Services
from reporting.signup import last_households, window
from tests.conftest import Clock
from tests.helpers import Person, plain, register

TITLES = ["cultured_group", "safe_area", "drug_free"]


async def seeded_2022(app: Services) -> None:
    async with app.sessions() as s, s.begin():
        await seed_year(s, app.settings, 2022)


async def households_of(app: Services, code: str) -> int:
    async with app.sessions() as s:
        group = await s.scalar(select(Group.id).where(Group.code == code))
        assert group is not None
        found = await last_households(s, app.settings, group)
    assert found is not None
    return found


async def pledges(app: Services) -> dict[str, Pledge]:
    """group code → its pledge for 2023."""
    async with app.sessions() as s:
        rows = await s.execute(select(Group.code, Pledge).join(Group, Group.id == Pledge.group_id)
                               .where(Pledge.year == 2023))
        return {code: pledge for code, pledge in rows.all()}


async def sign_up(person: Person, choices: list[bool], households: str) -> None:
    """/dangky with the buttons: a choice per title, the households typed, then send."""
    await person.send("/dangky")
    for yes in choices:
        await person.press("Đăng ký" if yes else "Không đăng ký")
    await person.send(households)
    await person.press("Gửi đăng ký")
    assert "Đã ghi nhận đăng ký thi đua năm 2023" in person.last_text, person.last_text


@pytest.fixture
def january(clock: Clock) -> Clock:
    clock.set_local(2023, 1, 10)
    return clock


async def test_lan_signs_tổ_1_up_and_the_council_sees_who_has(
        services: Services, january: Clock) -> None:
    lan = await register(services, "1", "Lan", "to-1")
    minh = await register(services, "9", "Minh", None, "council")
    await seeded_2022(services)
    cap = await households_of(services, "to-1")

    await lan.send("/dangky")
    assert "1/3" in lan.last_text  # the first of three titles
    await lan.press("Đăng ký")  # Tổ dân phố văn hóa/Bản văn hóa
    await lan.press("Không đăng ký")  # An toàn về an ninh trật tự
    await lan.send("có")  # không có ma túy, typed
    await lan.send("nhiều lắm")
    assert "⚠️" in lan.last_text and "số" in lan.last_text  # not a number: asked again
    await lan.send(str(cap + 1))
    assert "⚠️" in lan.last_text and f"{cap} hộ" in lan.last_text  # more than the group has
    assert not await pledges(services)
    await lan.send(str(cap - 5))
    assert "Kiểm tra lại" in lan.last_text
    await lan.press("Gửi đăng ký")

    saved = (await pledges(services))["to-1"]
    assert (saved.titles, saved.households) == (["cultured_group", "drug_free"], cap - 5)
    thanks = lan.last_text
    assert "Tổ dân phố văn hóa/Bản văn hóa" in thanks and "Đơn vị không có ma túy" in thanks
    assert "An toàn về an ninh trật tự" not in thanks and f"{cap - 5} hộ" in thanks

    await minh.send("/dangky")
    overview = minh.last_text
    assert "Đã đăng ký: 1/15 tổ, bản" in overview and "chưa đăng ký: 14" in overview
    not_yet = next(line for line in overview.splitlines() if line.startswith("⭕"))
    names = not_yet.split(": ", 1)[1].split(", ")
    assert len(names) == 14 and "Tổ 2" in names and "Tổ 1" not in names
    totals = {line.split(": ")[0]: line.split(": ")[1] for line in overview.splitlines()
              if line.startswith("• ")}
    assert totals == {"• Tổ dân phố văn hóa/Bản văn hóa": "1 tổ, bản",
                      "• An toàn về an ninh trật tự": "0 tổ, bản",
                      "• Đơn vị không có ma túy": "1 tổ, bản",
                      "• Gia đình văn hóa": f"{cap - 5} hộ"}
    await minh.send("/trangthai")
    assert "Đăng ký thi đua năm 2023: 1/15 tổ, bản" in minh.last_text


async def test_signing_up_again_replaces_the_first(services: Services, january: Clock) -> None:
    lan = await register(services, "1", "Lan", "to-1")
    await sign_up(lan, [True, True, True], "60")
    first = (await pledges(services))["to-1"]
    january.advance(days=5)

    await sign_up(lan, [False, True, False], "không có")  # "none" is 0

    found = await pledges(services)
    assert list(found) == ["to-1"]
    again = found["to-1"]
    assert (again.titles, again.households) == (["safe_area"], 0)
    assert again.registered_at == first.registered_at  # first signed up on the 10th
    assert again.updated_at > first.updated_at


async def test_another_leader_cannot_touch_tổ_1s_sign_up(
        services: Services, january: Clock) -> None:
    lan = await register(services, "1", "Lan", "to-1")
    hung = await register(services, "2", "Hùng", "to-2")
    await sign_up(lan, [True, True, True], "90")
    await lan.send("/dangky")  # Lan starts again: her buttons carry year and step only
    lans_button = lan.find("Không đăng ký").data

    await hung.press_data(lans_button)
    assert "đã kết thúc" in hung.last_text  # Hùng has no sign-up under way
    summary = encode(Button(Flow.SIGNUP, SignupAction.SEND, (2023, 4)))
    await hung.press_data(summary)
    await sign_up(hung, [False, False, True], "40")

    found = await pledges(services)
    assert (found["to-1"].titles, found["to-1"].households) == (TITLES, 90)
    assert (found["to-2"].titles, found["to-2"].households) == (["drug_free"], 40)


async def test_typed_answers_back_and_cancel(services: Services, january: Clock) -> None:
    """Zalo has no buttons: every answer may be typed; /huy keeps nothing of the round."""
    lan = await register(services, "1", "Lan", "to-1")
    await lan.send("/dangky")
    await lan.send("không đăng ký")
    await lan.send("quay lại")
    assert "1/3" in lan.last_text
    await lan.send("đăng ký")
    await lan.send("hmm")
    assert "⚠️" in lan.last_text and "2/3" in lan.last_text
    await lan.send("không")
    await lan.send("đạt")
    await lan.send("1,5")  # not a whole number of households
    assert "⚠️" in lan.last_text
    await lan.send("/huy")
    assert not await pledges(services)

    await lan.send("/dangky")
    for answer in ("có", "có", "không", "75", "sửa lại", "không", "không", "không", "12"):
        await lan.send(answer)
    await lan.send("gửi")
    saved = (await pledges(services))["to-1"]
    assert (saved.titles, saved.households) == ([], 12)


async def test_outside_the_window_a_leader_reads_the_dates(
        services: Services, clock: Clock) -> None:
    clock.set_local(2022, 12, 20)
    lan = await register(services, "1", "Lan", "to-1")
    await lan.send("/dangky 2023")
    assert "01/01/2023" in lan.last_text and "31/01/2023" in lan.last_text
    assert "chưa mở" in lan.last_text and not lan.replies[-1].messages[-1].options

    clock.set_local(2023, 1, 31, 20)  # the last day still counts
    await sign_up(lan, [True, False, False], "30")
    clock.set_local(2023, 2, 1)
    await lan.send("/dangky")
    shown = lan.last_text
    assert "đã kết thúc" in shown and "31/01/2023" in shown
    assert not lan.replies[-1].messages[-1].options  # nothing to answer
    assert "Tổ dân phố văn hóa/Bản văn hóa" in shown and "30 hộ" in shown


async def test_a_sign_up_sent_after_the_close_is_not_saved(
        services: Services, clock: Clock) -> None:
    clock.set_local(2023, 1, 31, 23, 50)
    lan = await register(services, "1", "Lan", "to-1")
    await lan.send("/dangky")
    for yes in (True, True, True):
        await lan.press("Đăng ký" if yes else "Không đăng ký")
    await lan.send("20")
    clock.set_local(2023, 2, 1, 0, 10)
    await lan.press("Gửi đăng ký")
    assert "đã kết thúc" in lan.last_text
    assert not await pledges(services)


async def test_who_may_read_the_overview(services: Services, january: Clock) -> None:
    assert {"dangky", "signup"} <= COUNCIL_READ
    minh = await register(services, "9", "Minh", None, "council")
    lan = await register(services, "1", "Lan", "to-1")
    await minh.send("/dangky 20x3")
    assert "Không hiểu năm" in minh.last_text
    await minh.send("/dangky 2022")
    assert "Đã đăng ký: 0/15" in minh.last_text
    # In some group chat that is not the Council's, the overview is not shown.
    reply = await services_handle(services, Incoming(
        channel="test", chat_id="-100", user_id="9", display_name="Minh", text="/dangky",
        command="dangky", private=False))
    assert "Đã đăng ký" not in reply and "Hội đồng" in reply
    # A leader's /dangky is their own group's sign-up, never the overview.
    await lan.send("/dangky")
    assert "Đã đăng ký:" not in lan.last_text and "1/3" in lan.last_text


async def services_handle(app: Services, inc: Incoming) -> str:
    reply = await handle(app, inc)
    return "\n".join(plain(o.text) for o in reply.messages)


def test_window_of_a_year() -> None:
    w = window(Signup(opens="02-01", closes="02-29"), 2023)  # a common year: the 28th
    assert (w.opens, w.closes) == (date(2023, 2, 1), date(2023, 2, 28))
    assert [w.state(date(2023, 1, 31)), w.state(date(2023, 2, 28)),
            w.state(date(2023, 3, 1))] == ["before", "open", "closed"]
    assert window(Signup(opens="02-01", closes="02-29"), 2024).closes == date(2024, 2, 29)


async def test_the_open_notice_button_starts_the_sign_up(
        services: Services, january: Clock) -> None:
    lan = await register(services, "1", "Lan", "to-1")
    await lan.press_data(command("dangky"))
    assert "1/3" in lan.last_text and len(lan.options()) == 2
