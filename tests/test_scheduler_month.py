"""A whole simulated month of the scheduler, 20 March to 15 April 2022, on a frozen clock.

The ward: Lan (Tổ 1), Hùng (Tổ 2), Mai (Tổ 3), Hoa (Tổ 4) and Tuấn (Tổ 5) lead their
groups; Minh sits on the Council; An is an admin. March opens on 25/03, is due on
05/04 and locks on 10/04. On the way:
- Lan taps “Báo cáo ngay” on 26/03 and submits on 28/03, on time;
- Hùng submits on 04/04, the day after the first reminder;
- Mai is on leave and mutes March's reminders on 01/04;
- Hoa starts a draft on 04/04 and submits it late on 06/04;
- Tuấn never reports.
The clock visits every scheduled instant and some random ones, calling `run_due`
twice at each; the outbox then says who was told what, and when.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from models import Group, Member
from models.mutes import mute
from reporting.buttons import Button, CommandAction, command, decode
from reporting.messages import Reply
from reporting.services import Services
from scheduler.calendar import JOBS, occurrences
from scheduler.runner import run_due
from tests.conftest import Clock
from tests.helpers import Person, plain, register, submit_month
from tests.test_digest import HOA, HUNG, LAN
from tests.test_scheduler import local, outbox

LEADERS = {"Lan", "Hùng", "Mai", "Hoa", "Tuấn"}
COUNCIL = {"Minh", "An"}  # a Council member and an admin both get the digests


async def mute_on_leave(app: Services, name: str, group_code: str) -> None:
    async with app.sessions() as s, s.begin():
        group = await s.scalar(select(Group.id).where(Group.code == group_code))
        member = await s.scalar(select(Member.id).where(Member.display_name == name))
        assert group is not None and member is not None
        await mute(s, group, "2022-03", member, "Nghỉ phép cả tháng 3", app.clock())


async def test_a_month_of_scheduled_messages(services: Services, clock: Clock,
                                             tmp_path: Path) -> None:
    services.media_dir = tmp_path
    clock.set_local(2022, 3, 1)
    people: dict[str, Person] = {}
    for n, (name, group) in enumerate([("Lan", "to-1"), ("Hùng", "to-2"), ("Mai", "to-3"),
                                       ("Hoa", "to-4"), ("Tuấn", "to-5")], start=1):
        people[name] = await register(services, str(n), name, group)
    await register(services, "9", "Minh", None, "council")
    await register(services, "10", "An", None, "admin")

    async def draft(person: Person) -> None:
        await person.send("/baocao")  # opens a draft, then stops before the first answer
        await person.send("/huy")

    tapped: list[Reply] = []

    async def tap_report_now(person: Person) -> None:
        tapped.append(await person.press_data(command("baocao")))

    story: list[tuple[datetime, Callable[[], Awaitable[object]]]] = [
        (local(2022, 3, 26, 9, 0), lambda: tap_report_now(people["Lan"])),
        (local(2022, 3, 28, 10, 0), lambda: submit_month(people["Lan"], LAN)),
        (local(2022, 4, 1, 9, 0), lambda: mute_on_leave(services, "Mai", "to-3")),
        (local(2022, 4, 4, 15, 0), lambda: submit_month(people["Hùng"], HUNG)),
        (local(2022, 4, 4, 16, 0), lambda: draft(people["Hoa"])),
        (local(2022, 4, 6, 20, 0), lambda: submit_month(people["Hoa"], HOA)),
    ]
    start, end = local(2022, 3, 20), local(2022, 4, 15, 23, 59)
    scheduled = {o.at for job in JOBS for o in occurrences(services.settings, job, start, end)}
    rng = random.Random(2022)  # noqa: S311 - reproducible test instants, not secrets
    span = int((end - start).total_seconds())
    ticks = scheduled | {start + timedelta(seconds=rng.randrange(span)) for _ in range(25)}
    timeline = sorted([(at, 1, None) for at in ticks] + [(at, 0, act) for at, act in story],
                      key=lambda item: (item[0], item[1]))  # the story first at equal times

    ran = []
    for at, _, act in timeline:
        clock.now = at
        if act is not None:
            await act()
            continue
        ran += await run_due(services, at)
        before = len(await outbox(services))
        assert await run_due(services, at) == []  # a second tick at the same instant
        assert len(await outbox(services)) == before

    # Every job instance ran once, on time.
    assert sorted((o.job, o.key) for o in ran) == sorted(
        [("period_open", "2022-03"), ("reminder", "2022-03:-2"), ("reminder", "2022-03:0"),
         ("reminder", "2022-03:2"), ("lock", "2022-03"), ("monthly_summary", "2022-03")]
        + [("weekly_digest", f"2022-W{w}") for w in (12, 13, 14, 15)])

    sent = await outbox(services)

    def to(kind: str, day: date) -> set[str]:
        return {m.to for m in sent if m.kind == kind and m.day == day}

    # The window opens: every leader, with the button that starts /baocao.
    assert to("period_open", date(2022, 3, 25)) == LEADERS
    opening = next(m.out for m in sent if m.kind == "period_open" and m.to == "Lan")
    assert [[(o.label, o.data) for o in row] for row in opening.options] == [
        [("📝 Báo cáo ngay", command("baocao"))]]  # the button runs /baocao
    assert "Kỳ báo cáo tháng 03/2022 của Tổ 1 đã mở, hạn gửi 05/04/2022" in plain(
        opening.text)
    # Reminders: never to a group that has submitted, never to Mai, who muted.
    assert to("reminder", date(2022, 4, 3)) == {"Hùng", "Hoa", "Tuấn"}
    assert to("reminder", date(2022, 4, 5)) == {"Hoa", "Tuấn"}
    assert to("reminder", date(2022, 4, 7)) == {"Tuấn"}
    reminders = {(m.day, m.to): plain(m.text) for m in sent if m.kind == "reminder"}
    assert "Còn 2 ngày nữa là hạn gửi báo cáo tháng 03/2022" in reminders[date(2022, 4, 3), "Hùng"]
    assert "soạn dở" in reminders[date(2022, 4, 5), "Hoa"]
    assert "quá hạn 2 ngày" in reminders[date(2022, 4, 7), "Tuấn"]
    # The lock: only Tuấn never reported (Mai said why); nothing for leaders after it.
    assert to("lock", date(2022, 4, 10)) == {"Tuấn"}
    assert not [m for m in sent if m.to in LEADERS and m.day >= date(2022, 4, 10)
                and m.kind != "lock"]
    # The Council: a digest every Monday and the final summary on the lock day, each a
    # chart photo then the text.
    for monday in (date(2022, 3, 21), date(2022, 3, 28), date(2022, 4, 4), date(2022, 4, 11)):
        rows = [m for m in sent if m.kind == "weekly_digest" and m.day == monday]
        assert sorted(m.to for m in rows) == sorted([*COUNCIL, *COUNCIL])
        assert [m.photo is not None for m in rows if m.to == "Minh"] == [True, False]
    digest_of = {m.day: plain(m.text) for m in sent
                 if m.kind == "weekly_digest" and m.photo is None and m.to == "Minh"}
    assert "Bản tin thi đua tháng 02/2022" in digest_of[date(2022, 3, 21)]  # March not open
    assert "Bản tin thi đua tháng 03/2022" in digest_of[date(2022, 4, 11)]  # the last opened
    summary = [m for m in sent if m.kind == "monthly_summary"]
    assert {(m.to, m.day) for m in summary} == {(n, date(2022, 4, 10)) for n in COUNCIL}
    final = plain(next(m.text for m in summary if m.photo is None))
    assert final.startswith("🔒 Tổng kết tháng 03/2022")
    assert "3/15 tổ, bản đã nộp báo cáo" in final  # the short digest (issue 8)
    # Mai's group is excused for March: the weekly job says so, with her reason.
    assert "tạm nghỉ báo cáo 1" in final.lower() and "Nghỉ phép cả tháng 3" in final
    # …with the button to the full table, which opens March's table whenever it is pressed.
    out = next(m.out for m in summary if m.photo is None and m.to == "Minh")
    [[detail, loudspeaker]] = out.options
    pressed = decode(detail.data)
    assert isinstance(pressed, Button) and pressed.action is CommandAction.DETAIL
    assert pressed.ids == (2022, 3)
    bulletin = decode(loudspeaker.data)  # …and to the month's loudspeaker bulletin
    assert isinstance(bulletin, Button) and bulletin.action is CommandAction.BULLETIN
    assert bulletin.ids == (2022, 3)
    assert not [m for m in sent if m.to in COUNCIL and m.kind not in (
        "weekly_digest", "monthly_summary")]
    # Lan tapped that button on 26/03: it started /baocao like the command.
    assert "Bắt đầu báo cáo tháng 03/2022 của Tổ 1" in plain(tapped[0].messages[0].text)
