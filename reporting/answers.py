"""One answer to one indicator: understand it, check it, store it, show it.

Answers are stored as canonical strings so the database never depends on how the user
typed them: integers "1234", decimals and percentages a plain decimal ("1.5", "98.5")
without exponent or trailing zeros, yes/no "yes"/"no", a choice its code, text the
cleaned text. `None` means skipped.

Everything the user can get wrong becomes an `AnswerError` carrying a message-template
key and already-formatted parameters; the handlers turn it into a friendly message.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from reporting.answer_display import _decimal, choice_options, format_value
from reporting.config import Choice, Dataset, Indicator, IndicatorType
from reporting.examples import number_example
from reporting.number_words import number_words
from reporting.numbers import NumberTooLargeError, format_number, parse_number

__all__ = [
    "BACK_WORDS", "MAX_DECIMAL_PLACES", "SKIP_WORDS", "AnswerError", "NeedsConfirmation",
    "canonical_number", "check_rules", "choice_options", "format_value", "is_back", "is_skip",
    "number_of", "parse_answer", "yes_or_no",
]

MAX_DECIMAL_PLACES: Final = 4
# Without a configured max, a figure above a million million is certainly a typo.
DEFAULT_CAP: Final = Decimal(10) ** 12
# Non-text answers longer than this are refused before folding or matching anything.
_MAX_SHORT_ANSWER: Final = 200


@dataclass(frozen=True)
class AnswerError(Exception):
    """An unusable answer: `key` names a message template, `params` fill it in."""

    key: str
    params: dict[str, str]

    # The generated frozen-dataclass hash would hash the dict and fail; hash what
    # equality compares instead, so the error can sit in sets (e.g. in tracebacks).
    def __hash__(self) -> int:
        return hash((self.key, tuple(sorted(self.params.items()))))

    def __str__(self) -> str:
        return f"{self.key} {self.params}"


@dataclass(frozen=True, eq=False)
class NeedsConfirmation(AnswerError):
    """"1,234" on a whole-number question: 1.234 (Vietnamese) or 1234 (English)?

    `value` is the thousands reading, stored only once the user confirms it; `params`
    hold it formatted and in words ("1.234", "một nghìn hai trăm ba mươi tư").
    """

    value: str = ""


def _fold(text: str) -> str:
    """Lower-case, without diacritics or extra spaces: "Cần  cố gắng" -> "can co gang".

    People on phones often type without the Vietnamese keyboard; NFKD also turns
    full-width letters and digits into ASCII. Skin-tone modifiers and emoji variation
    selectors are dropped so "👍🏽" is "👍".
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(
        ch for ch in decomposed
        if unicodedata.category(ch) != "Mn" and not "\U0001f3fb" <= ch <= "\U0001f3ff"
    )
    return " ".join(kept.replace("đ", "d").split())


_PUNCT_EDGES: Final = " .!?,;:…\"'“”"
# Polite particles around a short reply: "Dạ, có ạ", "Vâng ạ". Matched before folding,
# because folded "a" or "da" would also match real words.
_POLITE_PREFIX = re.compile(r"^(?:dạ|vâng)[\s,.!]+(?=\S)", re.IGNORECASE)
_POLITE_SUFFIX = re.compile(r"[\s,]+(?:ạ|nhé|nha)$", re.IGNORECASE)


def _reply_key(text: str) -> str:
    """A short reply reduced to a comparable form, polite particles and punctuation off.

    Long text is never a short reply; returning "" early also bounds the regex work.
    """
    if len(text) > _MAX_SHORT_ANSWER:
        return ""
    text = unicodedata.normalize("NFC", text).strip(_PUNCT_EDGES)
    text = _POLITE_SUFFIX.sub("", _POLITE_PREFIX.sub("", text))
    return _fold(text).strip(_PUNCT_EDGES)


def _fold_all(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_fold(w) for w in words)


SKIP_WORDS: Final = ("bỏ qua", "bo qua", "skip", "-")
BACK_WORDS: Final = ("quay lại", "quay lai", "back", "trở lại")
_SKIP: Final = _fold_all(SKIP_WORDS)
_BACK: Final = _fold_all(BACK_WORDS)
_YES: Final = _fold_all(("có", "c", "yes", "y", "1", "đúng", "rồi", "đạt", "met", "ok", "okay",
                         "vâng", "dạ", "✅", "✔", "☑", "👍"))
_NO: Final = _fold_all(("không", "ko", "k", "no", "n", "0", "chưa", "sai", "không đạt",
                        "chưa đạt", "not met",
                        "❌", "✖", "👎"))
# "Số vụ việc: không" -- a leader answering a count with the word for zero.
_ZERO_WORDS: Final = _fold_all(("không", "ko"))
# "Không có", "chưa có", "ko có ai", "không ai", "không có hộ nào" (folded): none, so 0.
# A bare "chưa" (not yet) is not a figure and stays an error.
_NONE_OF: Final = r"(?: ai| gi| [a-z]+(?: [a-z]+)? nao| nao)?"
_ZERO_PHRASE: Final = re.compile(
    rf"(?:(?:khong|ko|k|kh|hong)(?: co)?|chua co|chua(?= ai)){_NONE_OF}(?: ca)?"
)


def yes_or_no(text: str) -> bool | None:
    """A typed reply to a yes/no prompt ("có", "đúng", "không", "sai"), else None.

    Digits are not a reply here: at a prompt about a number, "1" is a number retyped.
    """
    key = _reply_key(text)
    if not key or key.isdigit():
        return None
    return True if key in _YES else False if key in _NO else None


def is_skip(text: str) -> bool:
    """Typed equivalent of the Skip button ("bỏ qua", "bo qua", "skip", "-")."""
    return _reply_key(text) in _SKIP


def is_back(text: str) -> bool:
    """Typed equivalent of the Back button ("quay lại", "back", "trở lại")."""
    return _reply_key(text) in _BACK


# A tab becomes a space so that "a<tab>b" does not turn into "ab" below.
_NEWLINES: Final = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\t": " "})


def _clean(text: str) -> str:
    """NFC, unified newlines, control characters other than newline removed, stripped."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").translate(_NEWLINES)
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc").strip()


def canonical_number(value: Decimal) -> str:
    """Decimal("1.50") -> "1.5", Decimal("1E+3") -> "1000": the stored form."""
    text = format(value, "f")  # never an exponent, never rounds
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _error(key: str, **params: str) -> AnswerError:
    return AnswerError(key, dict(params))


def _bound(ind: Indicator, value: Decimal, lang: str) -> str:
    return format_value(ind, canonical_number(value), lang)


def _parse_numeric(ind: Indicator, text: str, lang: str) -> str:
    example = number_example(ind, lang)
    not_number = _error("err_not_number", example=example)
    upper = ind.upper if ind.upper is not None else DEFAULT_CAP
    lower = ind.lower
    if len(text) > _MAX_SHORT_ANSWER:
        raise not_number
    folded = _fold(text)
    if folded in _ZERO_WORDS or _ZERO_PHRASE.fullmatch(_reply_key(text)):
        value = Decimal(0)
    else:
        # "12%" is only a percentage; for a count it is a misunderstanding.
        if ind.type is not IndicatorType.PERCENT and folded.endswith(("%", "％")):
            raise not_number
        _check_comma_thousands(ind, text, folded, lang)
        try:
            value = _read_number(ind, text, folded)
        except NumberTooLargeError as exc:
            if exc.negative and lower is not None:
                raise _error("err_too_small", min=_bound(ind, lower, lang)) from None
            raise _error("err_too_large", max=_bound(ind, upper, lang)) from None
        except ValueError:
            raise not_number from None
    if ind.type is IndicatorType.INTEGER:
        if value != value.to_integral_value():
            raise _error("err_not_integer", example=example)
    elif len(canonical_number(value).partition(".")[2]) > MAX_DECIMAL_PLACES:
        # Counted on the canonical form: "1,50000" has two places, not five.
        raise _error("err_too_many_decimals", places=str(MAX_DECIMAL_PLACES))
    if lower is not None and value < lower:
        raise _error("err_too_small", min=_bound(ind, lower, lang))
    if value > upper:
        raise _error("err_too_large", max=_bound(ind, upper, lang))
    return canonical_number(value)


# "1,234" or "12,345,678": grouped with commas as in English, on a whole-number question.
_COMMA_THOUSANDS: Final = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+")


def _check_comma_thousands(ind: Indicator, text: str, folded: str, lang: str) -> None:
    """Raise NeedsConfirmation for "1,234" (or "1,234 hộ") on a whole-number question.

    Vietnamese writes decimals with a comma, so "1,234" is 1.234 to the parser; nobody
    means a fraction of a household, so the thousands reading is offered for a tap.
    """
    if ind.type is not IndicatorType.INTEGER:
        return
    heads = [folded] + [folded.removesuffix(_fold(u)).strip() for u in _units(ind)
                        if _fold(u) and folded.endswith(_fold(u))]
    for head in heads:
        compact = "".join(unicodedata.normalize("NFKC", head).split())
        if _COMMA_THOUSANDS.fullmatch(compact):
            value = Decimal(compact.replace(",", ""))
            upper = ind.upper if ind.upper is not None else DEFAULT_CAP
            if value > upper:
                raise _error("err_too_large", max=_bound(ind, upper, lang))
            if ind.lower is not None and value < ind.lower:
                raise _error("err_too_small", min=_bound(ind, ind.lower, lang))
            raise NeedsConfirmation(
                "confirm_number", {"typed": text, "number": format_number(value, lang),
                                   "words": number_words(int(value), lang)},
                canonical_number(value))


def _units(ind: Indicator) -> tuple[str, ...]:
    return (ind.unit.vi, ind.unit.en or "") if ind.unit else ()


def _read_number(ind: Indicator, text: str, folded: str) -> Decimal:
    """parse_number, also accepting the indicator's unit after the number ("120 hộ")."""
    try:
        return parse_number(text)
    except NumberTooLargeError:
        raise
    except ValueError:
        for unit in _units(ind):
            folded_unit = _fold(unit)
            # Digits and separators survive folding, so the folded text can be parsed.
            if folded_unit and folded.endswith(folded_unit):
                head = folded.removesuffix(folded_unit).strip()
                if head:
                    return parse_number(head)
        raise


def _parse_yes_no(text: str) -> str:
    key = _reply_key(text)
    if key in _YES:
        return "yes"
    if key in _NO:
        return "no"
    raise _error("err_yes_no")


def _choice_labels(choice: Choice) -> set[str]:
    return {_fold(label) for label in (choice.label.vi, choice.label.en) if label}


_NUMBERED = re.compile(r"([0-9]{1,3})\s*[.):-]?\s*(.*)")


def _parse_choice(ind: Indicator, text: str, lang: str) -> str:
    key = _reply_key(text)
    if key:
        for choice in ind.choices:
            if key == choice.code or key in _choice_labels(choice):
                return choice.code
        # "2", or "2. Khá" copied from the list of choices (then the label must agree).
        numbered = _NUMBERED.fullmatch(key)
        if numbered:
            index = int(numbered.group(1)) - 1
            rest = numbered.group(2)
            if 0 <= index < len(ind.choices):
                choice = ind.choices[index]
                if not rest or rest == choice.code or rest in _choice_labels(choice):
                    return choice.code
    listing = ", ".join(f"{i}. {label}" for i, (_, label) in
                        enumerate(choice_options(ind, lang), start=1))
    raise _error("err_choice", choices=listing)


def parse_answer(ind: Indicator, text: str, lang: str = "vi") -> str:
    """The canonical string for `text` as an answer to `ind`, or AnswerError.

    Never raises anything else, whatever the string. Skip/Back words are the caller's
    business (`is_skip`, `is_back`) and are not recognised here.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise _error("err_empty")
    kind = ind.type
    if kind.numeric:
        return _parse_numeric(ind, cleaned, lang)
    if kind is IndicatorType.YES_NO:
        return _parse_yes_no(cleaned)
    if kind is IndicatorType.CHOICE:
        return _parse_choice(ind, cleaned, lang)
    if len(cleaned) > ind.max_length:
        raise _error("err_too_long", max=format_number(ind.max_length, lang),
                     length=format_number(len(cleaned), lang))
    return cleaned


_OPS: Final[dict[str, tuple[str, Callable[[Decimal, Decimal], bool]]]] = {
    "<=": ("le", operator.le),
    "<": ("lt", operator.lt),
    ">=": ("ge", operator.ge),
    ">": ("gt", operator.gt),
    "==": ("eq", operator.eq),
}
# `a <= b` read from b's side is `b >= a`: the answered question always comes first.
_FLIPPED: Final = {"le": "ge", "lt": "gt", "ge": "le", "gt": "lt", "eq": "eq"}


def check_rules(ds: Dataset, code: str, value: str | None,
                answers: Mapping[str, str | None], lang: str = "vi") -> AnswerError | None:
    """The first rule of `ds` involving `code` that `value` breaks, as an AnswerError.

    The other side comes from `answers`; a rule with a side skipped, missing or
    unreadable is not checked (nothing to compare yet). The error reads from the side
    being answered: "Số trẻ em dưới 6 tuổi (1) không thể nhỏ hơn số trẻ em dưới 5 tuổi
    ở câu 6 (22)", the other question named by its number in the report.
    """
    def side(name: str) -> str | None:
        return value if name == code else answers.get(name)

    for rule in ds.rules:
        if code not in (rule.left, rule.right):
            continue
        left_raw, right_raw = side(rule.left), side(rule.right)
        if left_raw is None or right_raw is None:
            continue
        left, right = _decimal(left_raw), _decimal(right_raw)
        if left is None or right is None:
            continue
        name, holds = _OPS[rule.op]
        if holds(left, right):
            continue
        other_code, other_raw = (rule.right, right_raw) if code == rule.left \
            else (rule.left, left_raw)
        if code != rule.left:
            name = _FLIPPED[name]
        ind, other = ds.indicator(code), ds.indicator(other_code)
        return _error(
            f"err_rule_{name}",
            label=ind.label.get(lang),
            value=format_value(ind, value, lang),
            other_label=other.label.get(lang),
            other_n=str(ds.indicators.index(other) + 1),
            other_value=format_value(other, other_raw, lang),
        )
    return None


def number_of(ind: Indicator, value: str | None) -> Decimal | None:
    """The numeric mirror of an answer, for aggregation in SQL (yes = 1, no = 0)."""
    if value is None:
        return None
    if ind.type.numeric:
        return Decimal(value)
    if ind.type is IndicatorType.YES_NO:
        return Decimal(1 if value == "yes" else 0)
    return None
