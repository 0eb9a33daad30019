"""Soft checks: figures that are allowed but worth a second look before they are kept.

Beside the hard rules (`Dataset.rules`, which refuse an answer), a data set may ask
"Số này khác nhiều so với tháng trước (120 → 1.200). Đúng không?" when a figure is far
from the owner's last month (more than `change_ratio` times it, or less than its
`1/change_ratio`) or above an indicator's `soft_max`. The answer is kept either way; a
value that was asked about carries a mark (`report_values.soft_check`) the Council sees:
`ASKED` until the leader confirms it, then `CONFIRMED`.

In config.yaml, under a data set:

    soft_checks:
      change_ratio: 3            # every numeric indicator; null: no change check
      indicators:
        households: {change_ratio: 2, soft_max: 1000}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

from pydantic import Field

from reporting.config_base import Loc, Strict

__all__ = ["ASKED", "CONFIRMED", "DEFAULT_RATIO", "SoftChecks", "SoftFlag", "SoftIndicator"]

ASKED: Final = "asked"  # stored, asked about, not (yet) confirmed
CONFIRMED: Final = "confirmed"  # the leader pressed "Đúng"
DEFAULT_RATIO: Final = Decimal(3)

Ratio = Decimal  # > 1: 3 means "more than ×3 or less than ÷3"


class SoftIndicator(Strict):
    """One indicator's own soft checks (what is not given comes from the data set)."""

    change_ratio: Ratio | None = Field(default=None, gt=1)
    soft_max: Decimal | None = Field(default=None, ge=0)


class SoftChecks(Strict):
    change_ratio: Ratio | None = Field(default=DEFAULT_RATIO, gt=1)
    indicators: dict[str, SoftIndicator] = Field(default_factory=dict)

    def problems(self, numeric: Mapping[str, tuple[bool, Decimal | None]]) -> list[tuple[Loc, str]]:
        """Mistakes against the data set's indicators: code → (numeric, hard max)."""
        found: list[tuple[Loc, str]] = []
        for code, own in self.indicators.items():
            where: Loc = ("indicators", code)
            if code not in numeric:
                found.append((where, f"unknown indicator '{code}'"))
                continue
            is_numeric, hard_max = numeric[code]
            if not is_numeric:
                found.append((where, f"'{code}' is not numeric: soft checks apply only to "
                                     "integer, decimal and percent indicators"))
            elif own.soft_max is not None and hard_max is not None and own.soft_max >= hard_max:
                found.append(((*where, "soft_max"),
                              f"soft_max ({own.soft_max}) must be below the indicator's max "
                              f"({hard_max}): above max an answer is refused, not checked"))
        return found

    def ratio(self, code: str) -> Decimal | None:
        own = self.indicators.get(code)
        if own is not None and "change_ratio" in own.model_fields_set:
            return own.change_ratio
        return self.change_ratio

    def soft_max(self, code: str) -> Decimal | None:
        own = self.indicators.get(code)
        return own.soft_max if own is not None else None

    def check(self, code: str, value: str | None, last: str | None) -> SoftFlag | None:
        """Why `value` (a stored numeric answer) deserves a second look, or None.

        `last` is the owner's value last month (None: none, skipped). A change from or
        to 0 is measured as any other: 0 after 120 is asked about, 5 after 0 is not
        (no ratio of 0 makes sense).
        """
        new = _decimal(value)
        if new is None:
            return None
        old = _decimal(last)
        ratio = self.ratio(code)
        if old is not None and old > 0 and ratio is not None \
                and (new > old * ratio or new * ratio < old):
            return SoftFlag("change", value or "", last)
        limit = self.soft_max(code)
        if limit is not None and new > limit:
            return SoftFlag("high", value or "", last, limit)
        return None


@dataclass(frozen=True)
class SoftFlag:
    """Why a figure is asked about: far from last month, or above the soft maximum."""

    kind: Literal["change", "high"]
    value: str
    last: str | None
    limit: Decimal | None = None


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        dec = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return dec if dec.is_finite() else None


def flag_notes(flagged: Mapping[str, str], lines: Mapping[str, tuple[str, str, str]],
               ) -> str | None:
    """The workbook's "Số liệu cần lưu ý" cell: one line per value a soft check asked about.

    `lines` maps an indicator code to (short label, last month, this month) as shown;
    a value the leader confirmed says so ("đã xác nhận"), one never confirmed does not.
    """
    out = []
    for code, state in flagged.items():
        if code not in lines:
            continue  # an indicator no longer in the config
        label, last, value = lines[code]
        said = "đã xác nhận" if state == CONFIRMED else "chưa xác nhận"
        out.append(f"{label}: {last} → {value} ({said})")
    return "\n".join(out) or None
