"""The scheduler: its calendar (pure), catching up after downtime, claims, the tick.

The ward is in Asia/Ho_Chi_Minh (UTC+7). March 2022 opens on 25/03, is due on 05/04
and locks on 10/04; reminders go on 03/04, 05/04 and 07/04 at 08:30; the weekly
digest goes on Mondays at 07:30 and may be up to 6 hours late.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.assembly import open_services
from models import Group, JobRun, Media, Member, OutboxMessage
from models.mutes import mute, muted_groups, unmute
from reporting.config import Settings
from reporting.messages import Outgoing
from reporting.services import Services
from scheduler import jobs, runner
from scheduler.calendar import Occurrence, due, next_occurrence, occurrences
from scheduler.runner import Scheduler, run_due
from tests.conftest import Clock
from tests.helpers import register, submit_month
from tests.test_digest import LAN

TZ = timedelta(hours=7)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A wall-clock time in the ward, as the UTC instant the code works with."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - TZ


def with_schedule(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"schedule": settings.schedule.model_copy(update=changes)})


@dataclass(frozen=True)
class Sent:
    """An outbox row as the test reads it: what, to whom, on which local day."""

    kind: str
    to: str  # the member's name, or "chat <id>" for a Council chat
    day: date
    payload: dict[str, Any]

    @property
    def out(self) -> Outgoing:
        return Outgoing.from_payload(self.payload)

    @property
    def text(self) -> str:
        return self.out.text

    @property
    def photo(self) -> str | None:
        """The row's photo as a reference: `media:<id>` (kept in the database), a media
        folder path or a file id; None without one."""
        return next((f"media:{a.media_id}" if a.media_id is not None else a.media or a.file_id
                     for a in self.out.attachments), None)


async def outbox(app: Services) -> list[Sent]:
    async with app.sessions() as s:
        names = dict((await s.execute(select(Member.id, Member.display_name))).all())
        rows = await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [Sent(r.kind, names[r.member_id] if r.member_id else f"chat {r.chat_id}",
                     (r.created_at + TZ).date(), r.payload) for r in rows]


async def job_runs(app: Services) -> list[tuple[str, str]]:
    async with app.sessions() as s:
        return [(r.job, r.key) for r in await s.scalars(select(JobRun).order_by(JobRun.id))]


@pytest.fixture
def foreign_tz() -> Iterator[None]:
    """Run the test with the process in New York: nothing may depend on local time."""
    import os

    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


# --- the calendar (pure) -----------------------------------------------------------


def test_march_2022_calendar_keys_and_times(settings: Settings, foreign_tz: None) -> None:
    start, end = local(2022, 3, 20), local(2022, 4, 15, 23, 59)

    def of(job: str) -> list[tuple[str, datetime]]:
        return [(o.key, o.at) for o in occurrences(settings, job, start, end)]

    assert of("period_open") == [("2022-03", local(2022, 3, 25, 8, 0))]
    assert of("reminder") == [("2022-03:-2", local(2022, 4, 3, 8, 30)),
                              ("2022-03:0", local(2022, 4, 5, 8, 30)),
                              ("2022-03:2", local(2022, 4, 7, 8, 30))]
    assert of("lock") == [("2022-03", local(2022, 4, 10, 0, 5))]
    assert of("monthly_summary") == [("2022-03", local(2022, 4, 10, 9, 0))]
    assert of("weekly_digest") == [("2022-W12", local(2022, 3, 21, 7, 30)),
                                   ("2022-W13", local(2022, 3, 28, 7, 30)),
                                   ("2022-W14", local(2022, 4, 4, 7, 30)),
                                   ("2022-W15", local(2022, 4, 11, 7, 30))]
    # 08:00 in Hà Nội is 01:00 UTC, whatever the machine's zone.
    assert of("period_open")[0][1] == datetime(2022, 3, 25, 1, 0, tzinfo=UTC)
    reminder = occurrences(settings, "reminder", start, end)[0]
    assert (reminder.period_key, reminder.offset) == ("2022-03", -2)


def test_offsets_and_the_lock_may_cross_a_month_end(settings: Settings) -> None:
    cal = settings.calendar.model_copy(update={"due_day": 1, "lock_after_days": 30,
                                               "reminder_offsets": [-2, 0]})
    s = settings.model_copy(update={"calendar": cal})
    found = [(o.job, o.key, o.at) for job in ("reminder", "lock")
             for o in occurrences(s, job, local(2022, 2, 20), local(2022, 4, 2))]
    assert found == [
        ("reminder", "2022-02:-2", local(2022, 2, 27, 8, 30)),  # February has 28 days
        ("reminder", "2022-02:0", local(2022, 3, 1, 8, 30)),
        ("reminder", "2022-03:-2", local(2022, 3, 30, 8, 30)),
        ("reminder", "2022-03:0", local(2022, 4, 1, 8, 30)),
        ("lock", "2022-01", local(2022, 3, 3, 0, 5)),  # due 1 February + 30 days
        ("lock", "2022-02", local(2022, 3, 31, 0, 5)),  # due 1 March + 30 days
    ]


def test_due_is_what_ran_late_by_at_most_the_grace(settings: Settings) -> None:
    week = [Occurrence("weekly_digest", "2022-W13", local(2022, 3, 28, 7, 30))]
    assert due(settings, local(2022, 3, 28, 7, 29)) == []
    assert due(settings, local(2022, 3, 28, 7, 30)) == week
    assert due(settings, local(2022, 3, 28, 13, 30)) == week  # 6 hours late: still useful
    assert due(settings, local(2022, 3, 28, 13, 31)) == []
    assert due(settings, local(2022, 3, 28, 8, 0), ["reminder"]) == []
    # What an operator reads in the log at start: the next thing the calendar will run.
    assert next_occurrence(settings, local(2022, 3, 28, 7, 30)) == Occurrence(
        "reminder", "2022-03:-2", local(2022, 4, 3, 8, 30))
    assert next_occurrence(settings, local(2022, 4, 3, 8, 30)) == Occurrence(
        "weekly_digest", "2022-W14", local(2022, 4, 4, 7, 30))
    # A week of grace (back on 10/04 at 09:00): everything since 03/04 09:00, oldest first.
    wide = with_schedule(settings, misfire_grace_minutes=7 * 24 * 60)
    assert [(o.job, o.key) for o in due(wide, local(2022, 4, 10, 9, 0))] == [
        ("weekly_digest", "2022-W14"), ("reminder", "2022-03:0"), ("reminder", "2022-03:2"),
        ("lock", "2022-03"), ("monthly_summary", "2022-03")]


# --- running: downtime, usefulness, claims ------------------------------------------


async def test_a_digest_missed_while_down_is_caught_up_once(
        services: Services, clock: Clock, tmp_path: Path) -> None:
    """Minh (Council) gets the Monday digest at 10:00, when the bot is back, and only once."""
    services.media_dir = tmp_path
    await register(services, "9", "Minh", None, "council")
    clock.set_local(2022, 3, 27, 20, 0)
    assert await run_due(services, clock()) == []  # Sunday evening, then the bot goes down
    clock.set_local(2022, 3, 28, 10, 0)
    ran = await run_due(services, clock())  # back at 10:00 on Monday: the catch-up
    assert [(o.job, o.key) for o in ran] == [("weekly_digest", "2022-W13")]
    for later in ((10, 0), (10, 1), (13, 30)):  # a restart, a second instance, a sweep
        clock.set_local(2022, 3, 28, *later)
        assert await run_due(services, clock()) == []
    sent = await outbox(services)
    assert [(m.kind, m.to, m.day) for m in sent] == \
        [("weekly_digest", "Minh", date(2022, 3, 28))] * 2  # the chart, then the text
    photo, text = sent[0], sent[1]
    assert photo.photo is not None and photo.photo.startswith("media:")
    async with services.sessions() as s:  # the chart is in the database, not in a folder
        chart = (await s.execute(select(Media.filename, Media.data).where(
            Media.id == int(photo.photo.removeprefix("media:"))))).one()
        assert chart.data[:4] == b"\x89PNG"
        assert chart.filename == "weekly_digest-2022-W13-vi.png"
    assert not (tmp_path / "digests").exists()  # no file: the chart is in the database
    assert "03/2022" in photo.text and len(photo.text) <= 1024  # a caption
    assert "Bản tin thi đua tháng 03/2022" in text.text and text.photo is None


async def test_a_digest_missed_beyond_the_grace_is_not_sent(
        services: Services, clock: Clock, tmp_path: Path) -> None:
    services.media_dir = tmp_path
    await register(services, "9", "Minh", None, "council")
    clock.set_local(2022, 3, 28, 13, 31)  # back 6 hours and a minute late
    assert await run_due(services, clock()) == []
    assert await outbox(services) == []
    clock.set_local(2022, 4, 4, 7, 30)  # next week's is sent on time
    assert [o.key for o in await run_due(services, clock())] == ["2022-W14"]


async def test_a_missed_reminder_skips_a_group_that_submitted_meanwhile(
        services: Services, clock: Clock) -> None:
    """Down at 08:30 on the due date; Lan submits at 09:00; at 10:00 only Hùng is reminded."""
    lan = await register(services, "1", "Lan", "to-1")
    await register(services, "2", "Hùng", "to-2")
    clock.set_local(2022, 4, 5, 9, 0)
    await submit_month(lan, LAN)
    clock.set_local(2022, 4, 5, 10, 0)
    assert [(o.job, o.key) for o in await run_due(services, clock())] == [
        ("reminder", "2022-03:0")]
    assert [(m.kind, m.to) for m in await outbox(services)] == [("reminder", "Hùng")]


async def test_a_missed_reminder_is_not_sent_after_the_lock(
        services: Services, settings: Settings, clock: Clock, tmp_path: Path) -> None:
    """With a week of grace, a bot back on 10/04 (locked) sends the lock notice, no reminder."""
    await register(services, "2", "Hùng", "to-2")
    wide = replace(services, settings=with_schedule(settings, misfire_grace_minutes=7 * 24 * 60),
                   media_dir=tmp_path)
    clock.set_local(2022, 4, 10, 1, 0)
    ran = await run_due(wide, clock())
    assert [(o.job, o.key) for o in ran] == [
        ("reminder", "2022-03:-2"), ("weekly_digest", "2022-W14"), ("reminder", "2022-03:0"),
        ("reminder", "2022-03:2"), ("lock", "2022-03")]  # claimed, so never tried again
    assert [(m.kind, m.to) for m in await outbox(services)] == [("lock", "Hùng")]
    assert "đã khóa" in (await outbox(services))[0].text


async def test_the_window_opening_is_not_announced_once_it_has_locked(
        services: Services, clock: Clock) -> None:
    await register(services, "1", "Lan", "to-1")
    occ = Occurrence("period_open", "2022-03", local(2022, 3, 25, 8, 0))
    async with services.sessions() as s, s.begin():
        assert await jobs.period_open(services, s, occ, local(2022, 4, 10, 0, 0)) == 0
        assert await jobs.period_open(services, s, occ, local(2022, 4, 9, 23, 59)) == 1


async def test_a_failed_run_gives_its_claim_back(
        services: Services, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.media_dir = tmp_path
    await register(services, "9", "Minh", None, "council")

    async def broken(*_: object) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setitem(runner.RUNS, "weekly_digest", broken)
    clock.set_local(2022, 3, 28, 7, 30)
    assert await run_due(services, clock()) == []
    assert await job_runs(services) == []  # rolled back with the messages
    monkeypatch.undo()
    clock.set_local(2022, 3, 28, 7, 40)  # the next sweep, still within the grace
    assert [o.key for o in await run_due(services, clock())] == ["2022-W13"]
    assert await job_runs(services) == [("weekly_digest", "2022-W13")]


async def test_council_chats_get_the_digest_instead_of_members(
        services: Services, settings: Settings, clock: Clock, tmp_path: Path) -> None:
    await register(services, "9", "Minh", None, "council")
    app = replace(services, settings=with_schedule(settings, council_chats=[-1001234]),
                  media_dir=tmp_path)
    clock.set_local(2022, 3, 28, 7, 30)
    await run_due(app, clock())
    async with app.sessions() as s:
        rows = (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(r.channel, r.chat_id, r.member_id, bool(Outgoing.from_payload(r.payload).attachments))
            for r in rows] == [
        ("telegram", "-1001234", None, True), ("telegram", "-1001234", None, False)]


async def test_two_instances_claim_each_occurrence_once(
        services: Services, settings: Settings, clock: Clock, db_url: str,
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Two processes (two engines on one database) and an overlapping tick at 08:30."""
    await register(services, "1", "Lan", "to-1")
    await register(services, "2", "Hùng", "to-2")
    await register(services, "9", "Minh", None, "council")
    wide = with_schedule(settings, misfire_grace_minutes=7 * 24 * 60)
    clock.set_local(2022, 4, 5, 8, 30)
    async with open_services(wide, db_url, clock=clock) as a, \
            open_services(wide, db_url, clock=clock) as b:
        a.media_dir = b.media_dir = tmp_path
        results = await asyncio.gather(run_due(a, clock()), run_due(b, clock()),
                                       run_due(a, clock()))
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # waited, not failed
    claimed = sorted((o.job, o.key) for ran in results for o in ran)
    assert claimed == [("reminder", "2022-03:-2"), ("reminder", "2022-03:0"),
                       ("weekly_digest", "2022-W14")]
    sent = sorted((m.kind, m.to) for m in await outbox(services))
    assert sent == [("reminder", "Hùng")] * 2 + [("reminder", "Lan")] * 2 + \
        [("weekly_digest", "Minh")] * 2


# --- mutes ----------------------------------------------------------------------------


async def test_mute_keeps_one_reason_per_group_and_period(
        services: Services, clock: Clock) -> None:
    await register(services, "3", "Mai", "to-3")
    async with services.sessions() as s, s.begin():
        group = await s.scalar(select(Group.id).where(Group.code == "to-3"))
        member = await s.scalar(select(Member.id).where(Member.display_name == "Mai"))
        assert group is not None and member is not None
        await mute(s, group, "2022-03", member, "  đi   viện ", clock())
        await mute(s, group, "2022-03", member, "nghỉ phép cả tháng", clock())  # replaces
        with pytest.raises(ValueError, match="reason"):
            await mute(s, group, "2022-03", member, "   ", clock())
        with pytest.raises(ValueError):  # not a period key
            await mute(s, group, "03/2022", member, "x", clock())
    async with services.sessions() as s, s.begin():
        assert await muted_groups(s, "2022-03") == {group: "nghỉ phép cả tháng"}
        assert await muted_groups(s, "2022-04") == {}
        assert await unmute(s, group, "2022-03") is True
        assert await unmute(s, group, "2022-03") is False
        assert await muted_groups(s, "2022-03") == {}


# --- APScheduler wiring ----------------------------------------------------------------


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "the scheduler did not fire"
        await asyncio.sleep(0.05)


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The clock reading of every tick the running Scheduler makes."""
    seen: list[datetime] = []
    real = runner.run_due

    async def counted(services: Services, now: datetime,
                      *rest: runner.OnRun) -> list[Occurrence]:
        seen.append(now)
        return await real(services, now, *rest)

    monkeypatch.setattr(runner, "run_due", counted)
    return seen


async def ticked(ticks: list[datetime], more: int) -> None:
    """Wait until the scheduler has ticked `more` more times."""
    target = len(ticks) + more

    async def enough() -> bool:
        return len(ticks) >= target

    await wait_for(enough)


async def test_apscheduler_only_ticks_and_the_calendar_picks_the_time(
        services: Services, clock: Clock, ticks: list[datetime], foreign_tz: None) -> None:
    """Lan's first reminder is due 03/04 at 08:30 (Hà Nội): ticking at 08:29:59 sends
    nothing, however often; the first tick at 08:30 sends it, and later ticks do not."""
    lan_reminded = [("reminder", "Lan")]
    await register(services, "1", "Lan", "to-1")
    clock.set_local(2022, 4, 3, 8, 29)
    clock.advance(seconds=59)
    sched = Scheduler(services, every=0.05)
    try:
        assert await sched.start() == []
        [job] = sched.aps.get_jobs()  # no cron field anywhere: one interval tick
        assert job.id == "tick" and job.trigger.interval == timedelta(seconds=0.05)
        assert job.coalesce and job.max_instances == 1
        await ticked(ticks, 5)
        assert await outbox(services) == [] and await job_runs(services) == []

        clock.advance(seconds=1)  # 08:30:00 in the ward (01:30 UTC; New York is irrelevant)
        await ticked(ticks, 2)
        assert [(m.kind, m.to) for m in await outbox(services)] == lan_reminded
        assert await job_runs(services) == [("reminder", "2022-03:-2")]
        clock.advance(minutes=10)
        await ticked(ticks, 3)
        assert [(m.kind, m.to) for m in await outbox(services)] == lan_reminded  # claimed once
    finally:
        await sched.shutdown()
    assert not sched.aps.running


async def test_a_restart_catches_up_within_the_grace_and_not_beyond(
        services: Services, clock: Clock, ticks: list[datetime], tmp_path: Path) -> None:
    """The Monday digest is due at 07:30 with 6 hours' grace. Down over one Monday and back
    at 13:31, Minh gets nothing for that week; down over the next and back at 13:30, he
    gets that week's digest from the start-up tick."""
    services.media_dir = tmp_path
    await register(services, "9", "Minh", None, "council")
    clock.set_local(2022, 3, 28, 13, 31)
    sched = Scheduler(services, every=0.05)
    try:
        assert await sched.start() == []
        await ticked(ticks, 3)  # nor does any later tick send it
    finally:
        await sched.shutdown()
    assert await outbox(services) == [] and await job_runs(services) == []

    clock.set_local(2022, 4, 4, 13, 30)  # the next Monday, back exactly at the grace
    sched = Scheduler(services, every=0.05)
    try:
        assert [(o.job, o.key) for o in await sched.start()] == [("weekly_digest", "2022-W14")]
        await ticked(ticks, 3)
    finally:
        await sched.shutdown()
    assert [(m.kind, m.to) for m in await outbox(services)] == [("weekly_digest", "Minh")] * 2
    assert await job_runs(services) == [("weekly_digest", "2022-W14")]
