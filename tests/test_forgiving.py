"""Issue 9, point 4: words for none mean 0, and examples fit the question."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from reporting.answers import AnswerError, parse_answer
from reporting.config import Indicator
from reporting.config_file import load_settings
from reporting.examples import example_value, number_example

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
