"""The ward's paperwork in config.yaml: `documents:`, `signup:` and `review:`.

`documents` names who issues the .docx documents and who signs them (Nghị định
30/2020/NĐ-CP, Phụ lục I); `signup` is the year's sign-up window (đăng ký thi đua);
`review` the year-end review's rules.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import Field, field_validator

from reporting.config_base import Strict

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


def month_day(text: str, year: int) -> date:
    """`"01-31"` in `year` → date(year, 1, 31)."""
    m = _MONTH_DAY.fullmatch(text)
    if m is None:
        raise ValueError(f"not a month-day: {text!r} (use MM-DD, e.g. 01-31)")
    return date(year, int(m.group(1)), int(m.group(2)))


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
    reminder_time: str = "08:30"

    @field_validator("opens", "closes")
    @classmethod
    def _month_day(cls, value: str) -> str:
        month_day(value, 2024)  # a leap year: 02-29 is accepted
        return value


class Review(Strict):
    """The year-end review (bình xét cuối năm)."""

    # Groups proposed for commendation from the top of the ranking.
    top_groups: int = Field(default=3, ge=0, le=50)
