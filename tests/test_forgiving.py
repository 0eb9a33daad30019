"""Issue 9, point 4: words for none mean 0, "1,234" is asked about, examples fit."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from reporting.answers import AnswerError, NeedsConfirmation, parse_answer, yes_or_no
from reporting.config import Indicator
from reporting.config_file import load_settings
from reporting.examples import example_value, number_example
from reporting.number_words import vietnamese_words
from reporting.numbers import format_number

SETTINGS = load_settings(Path(__file__).parent.parent / "config.yaml")
INDICATORS = {ind.code: ind for ds in SETTINGS.datasets.values() for ind in ds.indicators}

NONE_WORDS = ["không có", "Không có", "KHÔNG CÓ", "khong co", "chưa có", "chua co",
              "ko có ai", "ko co ai", "không ai", "khong ai", "Không có ạ", "Dạ, chưa có ạ",
              "không có hộ nào", "chưa có ai", "k có", "không có gì", "không có ai cả",
              "không", "ko"]


@pytest.mark.parametrize("text", NONE_WORDS)
@pytest.mark.parametrize("code", ["households", "children_under_5", "new_poor_households"])
def test_words_for_none_are_zero_on_a_count(code: str, text: str) -> None:
    assert parse_answer(INDICATORS[code], text) == "0"


@pytest.mark.parametrize("text", ["chưa", "không biết", "có", "không có số liệu 5"])
def test_other_words_are_still_not_a_number(text: str) -> None:
    with pytest.raises(AnswerError) as err:
        parse_answer(INDICATORS["households"], text)
    assert err.value.key == "err_not_number"


def test_yes_no_questions_are_unchanged() -> None:
    safe = INDICATORS["safe_area"]
    assert parse_answer(safe, "không") == "no"
    with pytest.raises(AnswerError):
        parse_answer(safe, "ko có ai")


@pytest.mark.parametrize(("code", "vi", "en"), [
    ("households", "120", "120"),
    ("residents", "450", "450"),
    ("children_under_5", "30", "30"),
    ("production_value", "1,5", "1.5"),
    ("nursery_enrolment", "98,5", "98.5"),
])
def test_examples_fit_the_question(code: str, vi: str, en: str) -> None:
    ind = INDICATORS[code]
    assert number_example(ind, "vi") == vi
    assert number_example(ind, "en") == en
    # The example is itself an acceptable answer, in both languages.
    assert Decimal(parse_answer(ind, vi)) == example_value(ind)
    assert Decimal(parse_answer(ind, en, "en")) == example_value(ind)
    with pytest.raises(AnswerError) as err:
        parse_answer(ind, "mấy chục")
    assert err.value.params == {"example": vi}


def _ind(**kw: object) -> Indicator:
    return Indicator.model_validate({"code": "x", "label": {"vi": "X"}, **kw})


def test_configured_example_wins_and_is_validated() -> None:
    assert number_example(_ind(type="integer", example=1500), "vi") == "1.500"
    assert number_example(_ind(type="integer", example=1500), "en") == "1500"
    assert number_example(_ind(type="integer", max=5), "vi") == "5"  # kept inside bounds
    for bad in ({"type": "integer", "example": "1.5"}, {"type": "text", "example": 1},
                {"type": "integer", "max": 10, "example": 11},
                {"type": "percent", "example": 101},
                {"type": "decimal", "example": "0.123456"}):
        with pytest.raises(ValidationError, match="example"):
            _ind(**bad)


@pytest.mark.parametrize(("text", "value"), [
    ("1,234", "1234"), ("1,234 người", "1234"), ("12,345", "12345"), ("１,２３４", "1234"),
])
def test_comma_thousands_on_a_count_asks_instead_of_refusing(text: str, value: str) -> None:
    with pytest.raises(NeedsConfirmation) as ask:
        parse_answer(INDICATORS["residents"], text)
    assert ask.value.value == value
    assert ask.value.key == "confirm_number"
    assert ask.value.params["number"] == format_number(Decimal(value))
    assert ask.value.params["words"] == vietnamese_words(int(value))


def test_comma_thousands_in_english_and_its_bounds() -> None:
    with pytest.raises(NeedsConfirmation) as ask:
        parse_answer(INDICATORS["residents"], "1,234", "en")
    assert ask.value.params == {"typed": "1,234", "number": "1,234",
                                "words": "one thousand two hundred thirty-four"}
    with pytest.raises(AnswerError) as err:  # 12.000 households: over the maximum of 5.000
        parse_answer(INDICATORS["households"], "12,000")
    assert not isinstance(err.value, NeedsConfirmation) and err.value.key == "err_too_large"


@pytest.mark.parametrize(("code", "text", "stored"), [
    ("production_value", "1,234", "1.234"),  # a decimal question: a decimal comma
    ("nursery_enrolment", "98,5", "98.5"),
])
def test_comma_decimals_elsewhere_are_unchanged(code: str, text: str, stored: str) -> None:
    assert parse_answer(INDICATORS[code], text) == stored


def test_a_comma_decimal_on_a_count_is_still_not_whole() -> None:
    with pytest.raises(AnswerError) as err:
        parse_answer(INDICATORS["residents"], "1,5")
    assert err.value.key == "err_not_integer"


@pytest.mark.parametrize(("text", "meaning"), [
    ("có", True), ("Đúng", True), ("ok", True), ("dạ, đúng ạ", True),
    ("không", False), ("sai", False), ("1", None), ("0", None), ("1.234", None), ("gì", None),
])
def test_yes_or_no_at_a_prompt_about_a_number(text: str, meaning: bool | None) -> None:
    assert yes_or_no(text) is meaning
