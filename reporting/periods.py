"""The reporting calendar: pure date arithmetic, no database.

A period is the reported month M. Its window opens on `open_day` of M, the report is
due on `due_day` of M+1 (late if submitted on a later local day), and it locks at the
start of `due + lock_after_days`: corrections are accepted on days before that.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from reporting.config import Calendar


@dataclass(frozen=True)
class PeriodDates:
    year: int
    month: int
    opens_on: date
    due_on: date
    locks_on: date

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def row(self) -> tuple[str, date, date, date]:
        """(key, opens, due, locks): what `models.queries.ensure_period` stores."""
        return self.key, self.opens_on, self.due_on, self.locks_on

    @property
    def label(self) -> str:
        return f"{self.month:02d}/{self.year:04d}"


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _prev_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def period_dates(cal: Calendar, year: int, month: int) -> PeriodDates:
    ny, nm = _next_month(year, month)
    due = date(ny, nm, cal.due_day)
    return PeriodDates(
        year=year,
        month=month,
        opens_on=date(year, month, cal.open_day),
        due_on=due,
        locks_on=due + timedelta(days=cal.lock_after_days),
    )


def parse_key(key: str) -> tuple[int, int]:
    """`"2022-03"` → (2022, 3); ValueError for anything else."""
    year_s, _, month_s = key.partition("-")
    year, month = int(year_s), int(month_s)
    if not (1 <= month <= 12 and 2000 <= year <= 2100) or len(key) != 7:
        raise ValueError(f"not a period key: {key!r} (expected YYYY-MM)")
    return year, month


# How people write a month, folded (lower case, no diacritics, "đ" as "d"):
# "2022-03", "3/2022", "03/2022", "t3/2022", "thang 3/2022", "thang 3 nam 2022", "thang 3".
_ISO: Final = re.compile(r"(\d{4})[-/.](\d{1,2})")
_MONTH_YEAR: Final = re.compile(
    r"(?:(?:thang|t)\s*)?(\d{1,2})\s*(?:[-/.]|\s(?:nam\s)?)\s*(\d{4})")
_MONTH_ONLY: Final = re.compile(r"(?:thang|t)\s*(\d{1,2})")
_MAX_MONTH_TEXT: Final = 40


def _fold(text: str) -> str:
    """NFKC digits, lower case, no diacritics, single spaces: "Tháng  3" -> "thang 3"."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(kept.replace("đ", "d").split())


def parse_month(text: str, today: date) -> tuple[int, int]:
    """The (year, month) a person means by `text`; ValueError if it is not a month.

    Accepted: "2022-03", "3/2022", "03/2022", "T3/2022", "tháng 3/2022", "tháng 3 năm
    2022", "3-2022", "3.2022", with or without diacritics, in any case. A month without
    a year ("tháng 3", "T3") is the most recent month of that number that has begun:
    this year's if it is not after `today`'s month, else last year's (typed in January,
    "tháng 12" is the December just reported). A bare number is never a month.
    """
    folded = _fold(text)
    if len(folded) > _MAX_MONTH_TEXT:
        raise ValueError("too long to be a month")
    if (m := _ISO.fullmatch(folded)) is not None:
        year, month = int(m.group(1)), int(m.group(2))
    elif (m := _MONTH_YEAR.fullmatch(folded)) is not None:
        month, year = int(m.group(1)), int(m.group(2))
    elif (m := _MONTH_ONLY.fullmatch(folded)) is not None:
        month = int(m.group(1))
        year = today.year if month <= today.month else today.year - 1
    else:
        raise ValueError(f"not a month: {text[:40]!r}")
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValueError(f"not a month: {text[:40]!r}")
    return year, month


def is_open(p: PeriodDates, today: date, reopened_until: date | None = None) -> bool:
    if reopened_until is not None and p.opens_on <= today <= reopened_until:
        return True
    return p.opens_on <= today < p.locks_on


def is_late(p: PeriodDates, submitted_on: date) -> bool:
    return submitted_on > p.due_on


def recent_periods(cal: Calendar, today: date, count: int = 4) -> list[PeriodDates]:
    """This month's period and the ones before it, newest first."""
    out = []
    y, m = today.year, today.month
    for _ in range(count):
        out.append(period_dates(cal, y, m))
        y, m = _prev_month(y, m)
    return out


def open_period(cal: Calendar, today: date) -> PeriodDates | None:
    """The oldest period whose window is open today (the one leaders should finish)."""
    candidates = [p for p in recent_periods(cal, today) if is_open(p, today)]
    return candidates[-1] if candidates else None


def last_closed(cal: Calendar, today: date) -> PeriodDates | None:
    """The most recent period that has already locked."""
    return next((p for p in recent_periods(cal, today) if today >= p.locks_on), None)


def next_opening(cal: Calendar, today: date) -> PeriodDates:
    for p in reversed(recent_periods(cal, today, 2)):
        if today < p.opens_on:
            return p
    y, m = _next_month(today.year, today.month)
    return period_dates(cal, y, m)
