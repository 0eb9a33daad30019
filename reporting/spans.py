"""Reporting spans longer than a month: a quarter, six months, the year.

A document covers a span of reported months: "2022-03" (a month), "2022-Q2" (a quarter),
"2022-H1" / "2022-H2" (six months: báo cáo sơ kết) or "2022" (the year: báo cáo tổng
kết). Its figures are read at the span's last month: the targets as the digest of that
month judges them (year to date), completeness over every month of the span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

SpanKind = Literal["month", "quarter", "half", "year"]

_MONTH: Final = re.compile(r"(\d{4})-(\d{2})")
_QUARTER: Final = re.compile(r"(\d{4})-[Qq]([1-4])")
_HALF: Final = re.compile(r"(\d{4})-[Hh]([12])")
_YEAR: Final = re.compile(r"(\d{4})")


@dataclass(frozen=True)
class Span:
    year: int
    first: int  # first month, 1-12
    last: int  # last month, inclusive
    kind: SpanKind

    @property
    def months(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    @property
    def period_keys(self) -> list[str]:
        return [f"{self.year:04d}-{m:02d}" for m in self.months]

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.first:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.last // 3}"
        if self.kind == "half":
            return f"{self.year:04d}-H{1 if self.last == 6 else 2}"
        return f"{self.year:04d}"

    @property
    def number(self) -> int:
        """The month, quarter or half within the year (1 for the year itself)."""
        return {"month": self.first, "quarter": self.last // 3,
                "half": 1 if self.last == 6 else 2, "year": 1}[self.kind]


def parse_span(text: str) -> Span:
    """`2022-03`, `2022-Q2`, `2022-H1`, `2022-H2` or `2022`; ValueError for anything else."""
    text = text.strip()
    if (m := _MONTH.fullmatch(text)) is not None:
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"not a month: {text!r}")
        span = Span(year, month, month, "month")
    elif (m := _QUARTER.fullmatch(text)) is not None:
        q = int(m.group(2))
        span = Span(int(m.group(1)), 3 * q - 2, 3 * q, "quarter")
    elif (m := _HALF.fullmatch(text)) is not None:
        h = int(m.group(2))
        span = Span(int(m.group(1)), 1 if h == 1 else 7, 6 if h == 1 else 12, "half")
    elif (m := _YEAR.fullmatch(text)) is not None:
        span = Span(int(m.group(1)), 1, 12, "year")
    else:
        raise ValueError(f"not a period: {text!r} (use 2022-03, 2022-Q2, 2022-H1 or 2022)")
    if not 2000 <= span.year <= 2100:
        raise ValueError(f"not a period: {text!r} (year out of range)")
    return span
