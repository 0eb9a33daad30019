"""The sign-up on the scheduler: the window opens for every leader on 01/01, and on the
reminder days only groups that have not signed up are reminded.

Lan (Tổ 1) signs up on 05/01; Hùng (Tổ 2) and Mai (Tổ 3) do not, and Mai muted her
December report, which does not excuse her from the year's sign-up.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models import Group, Member
from models.mutes import mute
from reporting.buttons import command
from reporting.config import Settings
from reporting.services import Services
from scheduler.calendar import Occurrence, next_occurrence, occurrences
from scheduler.runner import run_due
from scheduler.signup import signup_open, signup_reminder
from tests.conftest import Clock
from tests.helpers import plain, register
from tests.test_scheduler import job_runs, local, outbox
from tests.test_signup import sign_up

LEADERS = {"Lan", "Hùng", "Mai"}


def test_the_sign_up_calendar_of_2023(settings: Settings) -> None:
    start, end = local(2022, 12, 1), local(2023, 3, 1)
    opening = occurrences(settings, "signup_open", start, end)
    reminders = occurrences(settings, "signup_reminder", start, end)
    assert [(o.key, o.at) for o in opening] == [("2023", local(2023, 1, 1, 8, 30))]
    assert [(o.key, o.at, o.offset) for o in reminders] == [
        ("2023:-21", local(2023, 1, 10, 8, 30), -21), ("2023:-7", local(2023, 1, 24, 8, 30), -7),
        ("2023:-2", local(2023, 1, 29, 8, 30), -2)]
    assert all(o.period_key is None and o.year == 2023 for o in opening + reminders)
    upcoming = next_occurrence(settings, local(2022, 12, 31, 23))
    assert upcoming is not None and (upcoming.job, upcoming.key) == ("signup_open", "2023")


async def test_the_window_opens_and_only_groups_not_signed_up_are_reminded(
        services: Services, clock: Clock) -> None:
    clock.set_local(2022, 12, 28)
    lan = await register(services, "1", "Lan", "to-1")
    await register(services, "2", "Hùng", "to-2")
    await register(services, "3", "Mai", "to-3")
    await register(services, "9", "Minh", None, "council")
    async with services.sessions() as s, s.begin():
        group = await s.scalar(select(Group.id).where(Group.code == "to-3"))
        mai = await s.scalar(select(Member.id).where(Member.display_name == "Mai"))
        assert group is not None and mai is not None
        await mute(s, group, "2022-12", mai, "Nghỉ phép", clock())

    clock.now = local(2023, 1, 1, 8, 30)
    await run_due(services, clock.now)
    assert await run_due(services, clock.now) == []  # claimed once
    clock.set_local(2023, 1, 5)
    await sign_up(lan, [True, True, True], "50")
    clock.now = local(2023, 1, 10, 8, 31)
    await run_due(services, clock.now)
    clock.now = local(2023, 1, 29, 8, 30)
    await run_due(services, clock.now)

    sent = await outbox(services)

    def to(kind: str, day: date) -> set[str]:
        return {m.to for m in sent if m.kind == kind and m.day == day}

    assert to("signup_open", date(2023, 1, 1)) == LEADERS  # every leader, not the Council
    opening = next(m.out for m in sent if m.kind == "signup_open" and m.to == "Hùng")
    assert [[o.data for o in row] for row in opening.options] == [[command("dangky")]]
    assert "31/01/2023" in plain(opening.text)
    assert to("signup_reminder", date(2023, 1, 10)) == {"Hùng", "Mai"}  # not Lan
    assert to("signup_reminder", date(2023, 1, 29)) == {"Hùng", "Mai"}
    last = next(plain(m.text) for m in sent if m.kind == "signup_reminder"
                and m.day == date(2023, 1, 29) and m.to == "Mai")
    assert "Còn 2 ngày" in last and "Tổ 3" in last
    runs = await job_runs(services)
    assert ("signup_open", "2023") in runs and ("signup_reminder", "2023:-21") in runs


async def test_a_late_run_after_the_close_sends_nothing(
        services: Services, clock: Clock) -> None:
    clock.set_local(2023, 1, 2)
    await register(services, "2", "Hùng", "to-2")
    after = local(2023, 2, 1, 9)
    async with services.sessions() as s, s.begin():
        assert await signup_reminder(services, s, Occurrence(
            "signup_reminder", "2023:-2", local(2023, 1, 29, 8, 30)), after) == 0
        assert await signup_open(services, s, Occurrence(
            "signup_open", "2023", local(2023, 1, 1, 8, 30)), after) == 0
    assert not await outbox(services)
