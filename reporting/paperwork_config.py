"""The ward's paperwork in config.yaml: `documents:`, `signup:` and `review:`.

`documents` names who issues the .docx documents and who signs them (Nghị định
30/2020/NĐ-CP, Phụ lục I); `signup` is the year's sign-up window (đăng ký thi đua);
`review` the year-end review's rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated

from pydantic import Field, field_validator

from reporting.config_base import Loc, Strict

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


def month_day(text: str, year: int) -> date:
    """`"01-31"` in `year` → date(year, 1, 31)."""
    m = _MONTH_DAY.fullmatch(text)
    if m is None:
        raise ValueError(f"not a month-day: {text!r} (use MM-DD, e.g. 01-31)")
    try:
        return date(year, int(m.group(1)), int(m.group(2)))
    except ValueError:  # "13-01", "02-30": date()'s own words name no key
        raise ValueError(f"not a day of the year: {text!r} (use MM-DD, e.g. 01-31)") \
            from None


class Documents(Strict):
    """Who the documents come from. Unset names are made from `ward.name`."""

    # The governing body, first line top left ("UBND PHƯỜNG QUYẾT THẮNG").
    authority: str | None = None
    # The issuing body, second line top left, in bold.
    issuer: str = "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"
    # The issuer's abbreviation after the document type: "Số: …/BC-HĐTĐKT".
    issuer_code: str = Field(default="HĐTĐKT", min_length=1, max_length=20)
    # The place in "Quyết Thắng, ngày … tháng … năm …" (the ward's name without "Phường").
    place: str | None = None
    # The signature block: "TM. HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG" / "CHỦ TỊCH" / name.
    signer_for: str = "TM. HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"
    signer_title: str = "CHỦ TỊCH"
    signer_name: str | None = None
    # "Nơi nhận:" lines, as written under it.
    recipients: list[str] = Field(default_factory=lambda: [
        "UBND thành phố (b/c);", "Thường trực Đảng ủy, HĐND, UBND phường;",
        "Các thành viên Hội đồng;", "Các tổ dân phố, bản;", "Lưu: VT."])


class Signup(Strict):
    """The year's sign-up: when leaders register their group's commitments."""

    opens: str = "01-01"  # MM-DD, each year
    closes: str = "01-31"  # MM-DD, inclusive
    # The titles a group may aim for: yes/no indicators of `group_monthly` answered
    # "Đạt" / "Chưa đạt" (answers: met).
    titles: list[str] = Field(default_factory=lambda: ["cultured_group", "safe_area",
                                                       "drug_free"])
    # The indicator counting the group's "Gia đình văn hóa" households.
    households_indicator: str = "cultured_families"
    # Reminders to groups not signed up, in days relative to `closes` (negative: before).
    reminder_offsets: list[int] = Field(default_factory=lambda: [-21, -7, -2])
    reminder_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:30"

    @field_validator("opens", "closes")
    @classmethod
    def _month_day(cls, value: str) -> str:
        month_day(value, 2024)  # a leap year: 02-29 is accepted
        return value


def signup_problems(signup: Signup, group_types: Mapping[str, str]) -> list[tuple[Loc, str]]:
    """Mistakes in `signup` against the groups' indicators (`group_types`: code → type).

    Checked with the whole file (`reporting.config.Settings`): a title is a yes/no
    indicator the leaders answer, so the year's review can compare the sign-up with what
    the group reported; the households are a whole number for the same reason.
    """
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for n, code in enumerate(signup.titles):
        kind = group_types.get(code)
        if code in seen:
            problems.append((("signup", "titles", n), f"'{code}' is listed twice"))
        elif kind is None:
            problems.append((("signup", "titles", n),
                             f"unknown indicator '{code}' in 'group_monthly'"))
        elif kind != "yes_no":
            problems.append((("signup", "titles", n),
                             f"a title is a yes_no indicator, '{code}' is {kind}"))
        seen.add(code)
    code = signup.households_indicator
    kind = group_types.get(code)
    if kind is None:
        problems.append((("signup", "households_indicator"),
                         f"unknown indicator '{code}' in 'group_monthly'"))
    elif kind != "integer":
        problems.append((("signup", "households_indicator"),
                         f"the households registering are a whole number: '{code}' "
                         f"should be an integer indicator, it is {kind}"))
    # Compared in a leap year, as the dates are validated: 02-29 is a day of the window.
    opens, closes = month_day(signup.opens, 2024), month_day(signup.closes, 2024)
    if opens > closes:
        problems.append((("signup", "closes"), f"the window closes ({signup.closes}) before "
                                               f"it opens ({signup.opens})"))
        return problems
    length = (closes - opens).days
    for n, offset in enumerate(signup.reminder_offsets):
        if not -length <= offset <= 0:
            problems.append((("signup", "reminder_offsets", n),
                             f"{offset} days from the close ({signup.closes}) is outside the "
                             f"window {signup.opens} to {signup.closes} (use -{length} to 0)"))
    return problems


class Review(Strict):
    """The year-end review (bình xét cuối năm)."""

    # Groups proposed for commendation from the top of the ranking.
    top_groups: int = Field(default=3, ge=0, le=50)
