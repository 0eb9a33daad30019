"""Whole numbers in words, to confirm a figure: 1234 -> "một nghìn hai trăm ba mươi tư".

Vietnamese reads by groups of three digits (nghìn, triệu, tỷ), each group as hundreds,
tens and units, with the rules a reader expects:

- tens 0 with a unit after hundreds: "linh" (104 "một trăm linh bốn"; "lẻ" in the South);
- tens 1 is "mười" (15 "mười lăm"), tens 2-9 "mươi" (20 "hai mươi");
- unit 1 after "mươi" is "mốt" (21 "hai mươi mốt"), else "một" (11 "mười một");
- unit 4 after "mươi" is "tư" (34 "ba mươi tư"), else "bốn" (14 "mười bốn");
- unit 5 after "mười"/"mươi" is "lăm" (25 "hai mươi lăm"), else "năm" (105 "… linh năm");
- a group after a higher one reads its zero hundreds: 1.005 "một nghìn không trăm linh năm";
  an all-zero group is left out: 1.000.005 "một triệu không trăm linh năm".
"""

from __future__ import annotations

from typing import Final

__all__ = ["english_words", "number_words", "vietnamese_words"]

_DIGITS: Final = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES: Final = ((10**9, "tỷ"), (10**6, "triệu"), (10**3, "nghìn"))


def _group(n: int, full: bool, odd: str) -> list[str]:
    """Words for 0 < n < 1000; `full`: read zero hundreds (not the leading group)."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append(odd)
            words.append(_DIGITS[units])
        return words
    words += ["mười"] if tens == 1 else [_DIGITS[tens], "mươi"]
    if units == 1:
        words.append("mốt" if tens > 1 else "một")
    elif units == 4:
        words.append("tư" if tens > 1 else "bốn")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(_DIGITS[units])
    return words


def vietnamese_words(n: int, odd: str = "linh") -> str:
    """`n` (0 <= n < 10^12) in Vietnamese words; `odd` is "linh" or "lẻ"."""
    if not 0 <= n < 10**12:
        raise ValueError(f"out of range: {n}")
    if n == 0:
        return _DIGITS[0]
    words: list[str] = []
    rest = n
    for size, name in _SCALES:
        head, rest = divmod(rest, size)
        if head:
            words += [*_group(head, bool(words), odd), name]
    if rest:
        words += _group(rest, bool(words), odd)
    return " ".join(words)


_EN_ONES: Final = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                   "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
                   "sixteen", "seventeen", "eighteen", "nineteen")
_EN_TENS: Final = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
                   "eighty", "ninety")
_EN_SCALES: Final = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"))


def _en_group(n: int) -> list[str]:
    hundreds, below = divmod(n, 100)
    words = [_EN_ONES[hundreds], "hundred"] if hundreds else []
    if below >= 20:
        tens, units = divmod(below, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_ONES[units]}" if units else ""))
    elif below:
        words.append(_EN_ONES[below])
    return words


def english_words(n: int) -> str:
    """`n` (0 <= n < 10^12) in English words: 1234 -> "one thousand two hundred thirty-four"."""
    if not 0 <= n < 10**12:
        raise ValueError(f"out of range: {n}")
    if n == 0:
        return _EN_ONES[0]
    words: list[str] = []
    rest = n
    for size, name in _EN_SCALES:
        head, rest = divmod(rest, size)
        if head:
            words += [*_en_group(head), name]
    return " ".join(words + _en_group(rest))


def number_words(n: int, lang: str = "vi") -> str:
    return english_words(n) if lang == "en" else vietnamese_words(n)
