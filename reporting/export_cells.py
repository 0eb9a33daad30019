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


Cell = str | int | float | date | datetime | Num | None
