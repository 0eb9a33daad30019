"""When each scheduled job is due: pure date arithmetic over the ward's calendar.

A job instance is an `Occurrence`: the job, a key naming what it is about and the
instant it is due. The key is what the runner claims, so every instance and every
restart must compute the same one:

- `period_open`, `lock`, `monthly_summary`: the period, `"2022-03"`;
- `reminder`: the period and the offset from its due date, `"2022-03:-2"`;
- `weekly_digest`: the ISO week of the local day it is sent, `"2022-W14"`;
- `signup_open`: the year of the sign-up, `"2023"`; `signup_reminder`: the year and the
  offset from the day the sign-up closes, `"2023:-7"`;
- `photo_retention` (only when `good_deeds.photo_retention_days` is set): the local
  day, `"2022-04-03"`.

Times are the ward's local wall-clock times (config `schedule`), returned in UTC, so
nothing here depends on the time zone of the machine. This module is the only place
that turns config into instants: the runner's APScheduler job is a plain interval tick
that asks `due` what to run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from reporting.config import Settings
from reporting.periods import PeriodDates, parse_key, period_dates
from reporting.signup import window

# In the order a catch-up runs jobs due at the same instant: a period opens before it
# is reminded about, and locks before its summary is sent; so does the sign-up.
JOBS = ("period_open", "reminder", "lock", "monthly_summary", "weekly_digest",
        "signup_open", "signup_reminder", "photo_retention")
# Jobs about a year's sign-up, not a reported month.
YEARLY = ("signup_open", "signup_reminder")
# Housekeeping once a local day, at a quiet hour (nothing is sent).
DAILY = ("photo_retention",)
DAILY_TIME = "02:30"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Occurrence:
    job: str
    key: str
    at: datetime  # UTC

    @property
    def period_key(self) -> str | None:
        """The reported month this is about (None for the weekly digest and the sign-up)."""
        if self.job == "weekly_digest" or self.job in YEARLY or self.job in DAILY:
            return None
        return self.key[:7]

    @property
    def offset(self) -> int | None:
        """A reminder's offset in days from the due date, or from the day the sign-up
        closes (negative: before)."""
        if self.job not in ("reminder", "signup_reminder"):
            return None
        return int(self.key.split(":", 1)[1])

    @property
    def year(self) -> int:
        """The year a sign-up job is about."""
        return int(self.key.split(":", 1)[0])

    def period(self, settings: Settings) -> PeriodDates:
        assert self.period_key is not None, f"{self.job} is not about a period"
        return period_dates(settings.calendar, *parse_key(self.period_key))


def local_day(settings: Settings, instant: datetime) -> date:
    return instant.astimezone(settings.ward.tz).date()


def _at(settings: Settings, day: date, hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), settings.ward.tz).astimezone(UTC)


def _period_due_on(settings: Settings, due: date) -> PeriodDates | None:
    """The period whose due date is `due`, if any (month M is due in M+1)."""
    if due.day != settings.calendar.due_day:
        return None
    year, month = (due.year - 1, 12) if due.month == 1 else (due.year, due.month - 1)
    return period_dates(settings.calendar, year, month)


def _on_day(settings: Settings, job: str, day: date) -> list[Occurrence]:
    cal, sch = settings.calendar, settings.schedule
    if job == "period_open":
        if day.day != cal.open_day:
            return []
        key = period_dates(cal, day.year, day.month).key
        return [Occurrence(job, key, _at(settings, day, sch.period_open_time))]
    if job == "reminder":
        out = []
        for offset in sorted(set(cal.reminder_offsets)):
            p = _period_due_on(settings, day - timedelta(days=offset))
            if p is not None:
                out.append(Occurrence(job, f"{p.key}:{offset}",
                                      _at(settings, day, sch.reminder_time)))
        return out
    if job in ("lock", "monthly_summary"):
        p = _period_due_on(settings, day - timedelta(days=cal.lock_after_days))
        if p is None:
            return []
        hhmm = sch.lock_time if job == "lock" else sch.monthly_summary_time
        return [Occurrence(job, p.key, _at(settings, day, hhmm))]
    if job == "weekly_digest":
        if WEEKDAYS[day.weekday()] != sch.digest_day:
            return []
        iso = day.isocalendar()
        return [Occurrence(job, f"{iso.year}-W{iso.week:02d}",
                           _at(settings, day, sch.digest_time))]
    if job in YEARLY:
        return _signup_on_day(settings, job, day)
    if job == "photo_retention":
        if settings.good_deeds.photo_retention_days is None:
            return []
        return [Occurrence(job, day.isoformat(), _at(settings, day, DAILY_TIME))]
    raise ValueError(f"unknown job {job!r}")


def _signup_on_day(settings: Settings, job: str, day: date) -> list[Occurrence]:
    """The sign-up opens on its first day; reminders go `offset` days from its last."""
    win, hhmm = window(settings.signup, day.year), settings.signup.reminder_time
    if job == "signup_open":
        return [Occurrence(job, str(day.year), _at(settings, day, hhmm))] \
            if day == win.opens else []
    return [Occurrence(job, f"{day.year}:{offset}", _at(settings, day, hhmm))
            for offset in sorted(set(settings.signup.reminder_offsets))
            if win.closes + timedelta(days=offset) == day]


def _order(occ: Occurrence) -> tuple[datetime, int, str]:
    return occ.at, JOBS.index(occ.job), occ.key


def occurrences(settings: Settings, job: str, start: datetime,
                end: datetime) -> list[Occurrence]:
    """Every instance of `job` due at an instant in [start, end], oldest first."""
    day, last = local_day(settings, start), local_day(settings, end)
    out: list[Occurrence] = []
    while day <= last:
        out += [o for o in _on_day(settings, job, day) if start <= o.at <= end]
        day += timedelta(days=1)
    return sorted(out, key=_order)


def due(settings: Settings, now: datetime,
        jobs: Iterable[str] | None = None) -> list[Occurrence]:
    """What should have run by `now` and may still run: at most the grace period late."""
    grace = timedelta(minutes=settings.schedule.misfire_grace_minutes)
    found = [o for job in (jobs or JOBS) for o in occurrences(settings, job, now - grace, now)]
    return sorted(found, key=_order)


def next_occurrence(settings: Settings, after: datetime,
                    horizon: timedelta = timedelta(days=62)) -> Occurrence | None:
    """The first occurrence of any job strictly after `after` (for operators' logs).

    Every job recurs at least monthly, so two months ahead always finds one.
    """
    found = [o for job in JOBS for o in occurrences(settings, job, after, after + horizon)
             if o.at > after]
    return min(found, key=_order, default=None)
