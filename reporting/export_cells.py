"""Spreadsheet cells as the exports write them: numbers carry their Excel format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

INT_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0###"
PERCENT_FORMAT = '0.0"%"'
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
DATE_FORMAT = "dd/mm/yyyy"


@dataclass(frozen=True)
class Num:
    """A number with the Excel format to show it in."""

    value: int | float
    fmt: str


@dataclass(frozen=True)
class Mark:
    """Text shown centred on a coloured fill (the year's grid: on time, late, missing);
    plain text in a CSV."""

    text: str
    fill: str  # RGB, e.g. "E2F0D9"


Cell = str | int | float | date | datetime | Num | Mark | None
