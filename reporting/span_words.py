"""A reporting span as people write it in chat: "quý II/2022", "6 tháng đầu năm 2022".

`/vanban` takes the span syntax of `reporting.spans` ("2022-H1", "2022-Q2", "2022") and
the words a ward official types: "tháng 3/2022" (any month `reporting.periods.parse_month`
reads), "quý 2/2022", "quý II năm 2022", "6 tháng đầu năm 2022", "6 tháng cuối năm
2022", "năm 2022", with or without diacritics, in any case. Without a year ("quý 2",
"6 tháng đầu năm") it is the most recent such span that has begun, as a month without a
year is in `parse_month`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Final

from reporting.periods import parse_month
from reporting.spans import Span, parse_span

_MAX_TEXT: Final = 40
_ROMAN: Final = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
# After folding: "quy 2/2022", "quy ii nam 2022", "q2 2022", "quy 2".
_QUARTER: Final = re.compile(
    r"(?:quy|q)\s*([1-4]|iv|i{1,3})(?:\s*(?:[-/.]|\s(?:nam\s)?)\s*(\d{4}))?")
# "6 thang dau nam 2022", "sau thang cuoi nam", "6 thang dau 2022".
_HALF: Final = re.compile(r"(?:6|sau)\s*thang\s*(dau|cuoi)(?:\s*nam)?(?:\s*(\d{4}))?")
_YEAR: Final = re.compile(r"(?:ca\s)?nam\s*(\d{4})")


def _fold(text: str) -> str:
    """Lower case, no diacritics, "đ" as "d", single spaces: "Quý  II" → "quy ii"."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(kept.replace("đ", "d").split())


def _year_or_recent(year: str | None, first_month: int, today: date) -> int:
    """The year written, else the latest year in which a span starting in `first_month`
    has begun by `today` (typed in February, "quý 4" is last year's)."""
    if year is not None:
        return int(year)
    return today.year if first_month <= today.month else today.year - 1


def read_span(text: str, today: date) -> Span:
    """The span a person means by `text`; ValueError when it is none of the forms above."""
    stripped = text.strip()
    if len(stripped) > _MAX_TEXT:
        raise ValueError("too long to be a period")
    try:
        return parse_span(stripped)
    except ValueError:
        pass
    folded = _fold(stripped)
    if (m := _QUARTER.fullmatch(folded)) is not None:
        q = int(m.group(1)) if m.group(1).isdigit() else _ROMAN[m.group(1)]
        return _checked(Span(_year_or_recent(m.group(2), 3 * q - 2, today), 3 * q - 2, 3 * q,
                             "quarter"), text)
    if (m := _HALF.fullmatch(folded)) is not None:
        first = 1 if m.group(1) == "dau" else 7
        return _checked(Span(_year_or_recent(m.group(2), first, today), first, first + 5,
                             "half"), text)
    if (m := _YEAR.fullmatch(folded)) is not None:
        return _checked(Span(int(m.group(1)), 1, 12, "year"), text)
    year, month = parse_month(stripped, today)  # raises ValueError for anything else
    return Span(year, month, month, "month")


def _checked(span: Span, text: str) -> Span:
    # The same years `parse_span` and `parse_month` accept.
    if not 2000 <= span.year <= 2100:
        raise ValueError(f"not a period: {text[:40]!r} (year out of range)")
    return span


def month_span(year: int, month: int) -> Span:
    return Span(year, month, month, "month")
