"""Issue 9, point 4: numbers in words, to confirm "1,234" typed on a whole-number question."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.number_words import english_words, number_words, vietnamese_words

VIETNAMESE = [
    (0, "không"), (1, "một"), (5, "năm"), (10, "mười"), (11, "mười một"), (14, "mười bốn"),
    (15, "mười lăm"), (20, "hai mươi"), (21, "hai mươi mốt"), (24, "hai mươi tư"),
    (25, "hai mươi lăm"), (55, "năm mươi lăm"), (100, "một trăm"),
    (101, "một trăm linh một"), (104, "một trăm linh bốn"), (105, "một trăm linh năm"),
    (110, "một trăm mười"), (111, "một trăm mười một"), (115, "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt"), (450, "bốn trăm năm mươi"), (1000, "một nghìn"),
    (1005, "một nghìn không trăm linh năm"), (1014, "một nghìn không trăm mười bốn"),
    (1050, "một nghìn không trăm năm mươi"), (1234, "một nghìn hai trăm ba mươi tư"),
    (10_000, "mười nghìn"), (15_000, "mười lăm nghìn"), (21_000, "hai mươi mốt nghìn"),
    (105_000, "một trăm linh năm nghìn"), (1_000_000, "một triệu"),
    (1_000_005, "một triệu không trăm linh năm"),
    (2_500_000, "hai triệu năm trăm nghìn"),
    (1_234_567, "một triệu hai trăm ba mươi tư nghìn năm trăm sáu mươi bảy"),
    (2_000_000_000, "hai tỷ"),
]


@pytest.mark.parametrize(("n", "words"), VIETNAMESE)
def test_vietnamese(n: int, words: str) -> None:
    assert vietnamese_words(n) == words
    assert number_words(n, "vi") == words


def test_le_instead_of_linh() -> None:
    assert vietnamese_words(1_105, odd="lẻ") == "một nghìn một trăm lẻ năm"


@pytest.mark.parametrize(("n", "words"), [
    (0, "zero"), (14, "fourteen"), (40, "forty"), (1234, "one thousand two hundred thirty-four"),
    (1_000_005, "one million five"), (2_000_000_000, "two billion"),
])
def test_english(n: int, words: str) -> None:
    assert english_words(n) == words == number_words(n, "en")


def test_out_of_range() -> None:
    for n in (-1, 10**12):
        with pytest.raises(ValueError, match="range"):
            vietnamese_words(n)
        with pytest.raises(ValueError, match="range"):
            english_words(n)


UNITS = {"không", "một", "mốt", "hai", "ba", "bốn", "tư", "năm", "lăm", "sáu", "bảy", "tám",
         "chín", "mười", "mươi", "trăm", "linh", "nghìn", "triệu", "tỷ"}


def _parse_back(words: str) -> int:
    """A small reader of the words, independent of how they were written."""
    digit = {"không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5,
             "lăm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9}
    total, group, last = 0, 0, 0
    for w in words.split():
        if w in digit:
            last = digit[w]
            group += last
        elif w == "mười":
            group += 10
        elif w == "mươi":
            group += last * 9  # the digit was added as units: make it tens
        elif w == "trăm":
            group += last * 99
        elif w == "linh":
            continue
        else:
            total += group * {"nghìn": 10**3, "triệu": 10**6, "tỷ": 10**9}[w]
            group = 0
    return total + group


@given(st.integers(0, 10**12 - 1))
def test_words_read_back_and_follow_the_rules(n: int) -> None:
    words = vietnamese_words(n)
    assert set(words.split()) <= UNITS
    assert _parse_back(words) == n
    assert not re.search(r"mươi một\b|mười mốt|mười tư|linh lăm|linh mười|mươi năm\b", words)
    assert "  " not in words and words == words.strip()


@given(st.integers(0, 10**12 - 1))
def test_english_words_are_words(n: int) -> None:
    assert re.fullmatch(r"[a-z]+(?:[ -][a-z]+)*", english_words(n))
