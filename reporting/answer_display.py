"""How a stored answer is shown: buttons of yes/no and choice questions, display values.

Kept apart from the parsing in `reporting.answers` (which re-exports these).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final

from reporting.config import Indicator, IndicatorType
from reporting.numbers import format_number

_EMPTY_DISPLAY: Final = "—"


def _decimal(value: str) -> Decimal | None:
    """A stored numeric value as a Decimal, or None for anything odd (never raises)."""
    try:
        dec = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return dec if dec.is_finite() else None


# Buttons and display of a yes/no answer: "Có"/"Không", or "Đạt"/"Chưa đạt" for a
# standard or a title (`answers: met`). Indexed by [answers][English?].
_YES_NO_WORDS: Final = {"yes_no": (("Có", "Không"), ("Yes", "No")),
                        "met": (("Đạt", "Chưa đạt"), ("Met", "Not met"))}


def choice_options(ind: Indicator, lang: str = "vi") -> list[tuple[str, str]]:
    """(code, label) pairs for buttons: yes/no and choice indicators, else []."""
    if ind.type is IndicatorType.YES_NO:
        words = _YES_NO_WORDS[ind.answers][lang == "en"]
        return [("yes", words[0]), ("no", words[1])]
    return [(c.code, c.label.get(lang)) for c in ind.choices]


def format_value(ind: Indicator, value: str | None, lang: str = "vi") -> str:
    """A stored answer for display: "1.234", "98,5%", "Có", a choice's label, "—" if skipped.

    Odd stored values are shown as they are rather than raising: a summary must
    always render.
    """
    if value is None:
        return _EMPTY_DISPLAY
    if ind.type.numeric:
        dec = _decimal(value)
        if dec is None:
            return value
        text = format_number(dec, lang)
        return text + "%" if ind.type is IndicatorType.PERCENT else text
    if ind.type in (IndicatorType.YES_NO, IndicatorType.CHOICE):
        return dict(choice_options(ind, lang)).get(value, value)
    return value
