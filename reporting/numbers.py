"""Vietnamese number formatting and forgiving number parsing.

Vietnamese writes "1.234,5" where English writes "1,234.5". Reports are typed on phones
by older leaders, so parsing accepts what people actually type (full-width digits,
spaces inside, a trailing "%", a dot used either way) but refuses anything that could
silently mean two different numbers: a wrong figure in a ward report is worse than
asking again.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Final

__all__ = [
    "MAX_INTEGER_DIGITS",
    "NumberTooLargeError",
    "format_number",
    "format_percent",
    "parse_number",
]

# Nobody reports a figure with more than 15 integer digits (10^15 VND is far beyond a
# ward's budget); longer input is a slip of the thumb, not a number to store.
MAX_INTEGER_DIGITS: Final = 15
# Inputs longer than this are rejected before any normalisation or matching, so a
# pasted essay costs nothing.
_MAX_INPUT_CHARS: Final = 1000
# A generous cap on decimals: the answer layer allows far fewer, this only keeps
# Decimal arithmetic on parsed values cheap.
_MAX_FRACTION_DIGITS: Final = 30

_SEPARATORS: Final = {"vi": (".", ","), "en": (",", ".")}  # (thousands, decimal)

# All patterns are anchored with simple, non-overlapping repetitions: linear time, no
# catastrophic backtracking whatever the input. [0-9] (not \d) so that other scripts'
# digits, which NFKC leaves alone, are refused rather than half-understood.
_PLAIN = re.compile(r"[0-9]+")
# "1.234" / "1.234.567": a first group of 1-3 digits not starting with 0 ("0.500" is
# half, not five hundred), then groups of exactly three.
_DOT_THOUSANDS = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+")
# "1.234,5": dot thousands with a decimal comma.
_DOT_THOUSANDS_COMMA_DECIMAL = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+,[0-9]+")
_DOT_DECIMAL = re.compile(r"[0-9]*\.[0-9]+")
_COMMA_DECIMAL = re.compile(r"[0-9]*,[0-9]+")

# Minus signs that phones and word processors substitute for "-" and NFKC keeps.
_MINUS_SIGNS: Final = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-"})


class NumberTooLargeError(ValueError):
    """The text is a well-formed number, but absurdly large (more than 15 integer digits).

    A separate type so that callers can say "too large" instead of "not a number".
    """

    def __init__(self, text: str, negative: bool) -> None:
        super().__init__(f"number too large: {text[:40]!r}")
        self.negative = negative


def _plain_digits(value: Decimal) -> tuple[bool, str, str]:
    """(negative, integer digits, fraction digits) without exponent notation."""
    if not value.is_finite():
        raise ValueError(f"cannot format {value}")
    # format(..., "f") never rounds and never uses an exponent, unlike str() or
    # normalize() (which rounds to the context precision).
    text = format(value, "f")
    negative = text.startswith("-")
    int_part, _, frac_part = text.lstrip("-").partition(".")
    # "-0" and "-0,0" are noise left by rounding; show zero without a sign.
    if not int_part.strip("0") and not frac_part.strip("0"):
        negative = False
    return negative, int_part, frac_part


def _quantize(value: Decimal, places: int) -> Decimal:
    # Half-up is what people learned at school (2,45 -> 2,5), not banker's rounding.
    # The context precision is widened so quantize never fails on long figures.
    with localcontext() as ctx:
        ctx.prec = max(28, value.adjusted() + places + 3)
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _group(int_part: str, sep: str) -> str:
    head = len(int_part) % 3 or 3
    groups = [int_part[:head]] + [int_part[i : i + 3] for i in range(head, len(int_part), 3)]
    return sep.join(groups)


def format_number(value: Decimal | int, lang: str = "vi", places: int | None = None) -> str:
    """1192 -> "1.192"; Decimal("10082.0"), places=1 -> "10.082,0"; English "10,082.0".

    With `places=None` the value's own decimals are shown, without trailing zeros.
    """
    dec = value if isinstance(value, Decimal) else Decimal(value)
    if places is not None:
        if places < 0:
            raise ValueError("places must be >= 0")
        dec = _quantize(dec, places)
    negative, int_part, frac_part = _plain_digits(dec)
    if places is None:
        frac_part = frac_part.rstrip("0")
    thousands, decimal = _SEPARATORS["en" if lang == "en" else "vi"]
    text = _group(int_part, thousands)
    if frac_part:
        text += decimal + frac_part
    return "-" + text if negative else text


def format_percent(value: Decimal | int, lang: str = "vi", places: int | None = 1) -> str:
    """Decimal("98.5") -> "98,5%"; Decimal("100") -> "100%" (no ",0" noise).

    Rounded half-up to `places` decimals; `places=None` keeps the value's own decimals,
    for small targets such as 0,04% that one decimal would show as "0%".
    """
    dec = value if isinstance(value, Decimal) else Decimal(value)
    if places is not None:
        dec = _quantize(dec, max(places, 0))
    return format_number(dec, lang) + "%"


def parse_number(text: str) -> Decimal:
    """Read a number as a Vietnamese user types it; ValueError if it is not one.

    "1.234" and "1.234.567" are thousands, "1,5" and "1.5" are decimals, "1.234,5" is
    1234.5. "1,234,567" is refused (Vietnamese or English grouping?), as are exponents,
    NaN/Infinity, hex and any letter. More than 15 integer digits raises
    NumberTooLargeError (a ValueError).

    The result is exact (no float on the way) and never negative zero.
    """
    if len(text) > _MAX_INPUT_CHARS:
        raise ValueError("input too long to be a number")
    # NFKC turns full-width digits, "％" and "，" into ASCII; then drop every space,
    # including the thin and no-break spaces some keyboards put inside numbers.
    norm = unicodedata.normalize("NFKC", text).translate(_MINUS_SIGNS)
    compact = "".join(ch for ch in norm if not ch.isspace())
    compact = compact.removesuffix("%")
    sign = ""
    if compact[:1] in ("+", "-"):
        sign, compact = compact[0], compact[1:]
    plain = _to_plain(compact)
    if plain is None:
        raise ValueError(f"not a number: {text[:40]!r}")
    int_part, _, frac_part = plain.partition(".")
    if len(int_part.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise NumberTooLargeError(text, negative=sign == "-")
    if len(frac_part) > _MAX_FRACTION_DIGITS:
        raise ValueError(f"too many decimals: {text[:40]!r}")
    result = Decimal(sign + plain)
    # Decimal("-0") is a distinct value that would be stored as "-0".
    return abs(result) if result.is_zero() else result


def _to_plain(body: str) -> str | None:
    """The digits of `body` as "1234" or "1234.5", or None if it is not a number."""
    if _PLAIN.fullmatch(body):
        return body
    if _DOT_THOUSANDS_COMMA_DECIMAL.fullmatch(body):
        return body.replace(".", "").replace(",", ".")
    if _DOT_THOUSANDS.fullmatch(body):
        return body.replace(".", "")
    # A single dot that cannot be grouping ("1.5", "0.500", "1234.567") is a decimal
    # point, as on an English keyboard or a calculator.
    if _DOT_DECIMAL.fullmatch(body):
        return "0" + body if body.startswith(".") else body
    if _COMMA_DECIMAL.fullmatch(body):
        return ("0" + body if body.startswith(",") else body).replace(",", ".")
    return None
