"""An example answer that fits the question: "120" households, "450" people, "98,5" %.

Shown where a number is asked and in the error when the answer is not one, so a leader
never copies a figure of the wrong kind. The indicator's own `example` (config) wins;
otherwise it follows the type and unit, kept inside the indicator's bounds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from reporting.config import Indicator, IndicatorType
from reporting.numbers import format_number

__all__ = ["example_value", "number_example"]

# Typical figures for a group of a ward, by the (Vietnamese) unit of a count.
_BY_UNIT: Final = {"hộ": Decimal(120), "người": Decimal(450), "trẻ": Decimal(30)}
_COUNT: Final = Decimal(12)
_DECIMAL: Final = Decimal("1.5")
_PERCENT: Final = Decimal("98.5")


def example_value(ind: Indicator) -> Decimal:
    """The example as a number, inside [lower, upper] of the indicator."""
    if ind.example is not None:
        return ind.example
    if ind.type is IndicatorType.PERCENT:
        value = _PERCENT
    elif ind.type is IndicatorType.DECIMAL:
        value = _DECIMAL
    else:
        unit = ind.unit.vi.strip().lower() if ind.unit else ""
        value = _BY_UNIT.get(unit, _COUNT)
    if ind.upper is not None and value > ind.upper:
        value = ind.upper
    if ind.lower is not None and value < ind.lower:
        value = ind.lower
    return value


def number_example(ind: Indicator, lang: str) -> str:
    """The example as a user would type it: "1.200" or "98,5" in Vietnamese.

    English shows no thousands separator: the parser reads "1,200" as a Vietnamese
    decimal, so "1200" is the one English spelling that means what it shows.
    """
    value = example_value(ind)
    if lang == "en":
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return format_number(value, "vi")
