"""Answers to indicators and Vietnamese numbers: examples, bad input, and properties."""

from __future__ import annotations

import contextlib
import operator
import re
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.answers import (
    DEFAULT_CAP,
    AnswerError,
    canonical_number,
    check_rules,
    choice_options,
    format_value,
    is_back,
    is_skip,
    parse_answer,
)
from reporting.config import Choice, Dataset, Indicator, IndicatorType, Rule, Text
from reporting.config_file import load_settings
from reporting.numbers import NumberTooLargeError, format_number, format_percent, parse_number
from reporting.texts import Texts

CONFIG = Path(__file__).parent.parent / "config.yaml"
# Loaded once at import: Hypothesis tests cannot use function-scoped fixtures.
SETTINGS = load_settings(CONFIG)
REPORT = SETTINGS.report
WARD = SETTINGS.datasets["ward_progress"]
REAL_INDICATORS = [ind for ds in SETTINGS.datasets.values() for ind in ds.indicators]
NUMERIC = [ind for ind in REAL_INDICATORS if ind.type.numeric]
PROPS = settings(deadline=None, max_examples=300,
                 suppress_health_check=[HealthCheck.too_slow])


def ind_(code: str, type_: IndicatorType, **kw: object) -> Indicator:
    return Indicator.model_validate({"code": code, "label": {"vi": code.upper(), "en": code},
                                     "type": type_, **kw})


def real(code: str) -> Indicator:
    for ds in SETTINGS.datasets.values():
        for ind in ds.indicators:
            if ind.code == code:
                return ind
    raise KeyError(code)


def error_of(ind: Indicator, text: str, lang: str = "vi") -> AnswerError:
    with pytest.raises(AnswerError) as info:
        parse_answer(ind, text, lang)
    return info.value


# --- numbers -------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "lang", "places", "expected"), [
    (1192, "vi", None, "1.192"),
    (Decimal("10082.0"), "vi", 1, "10.082,0"),
    (Decimal("98.5"), "vi", None, "98,5"),
    (Decimal("0.04"), "vi", None, "0,04"),
    (Decimal("1.50"), "vi", None, "1,5"),
    (1192, "en", None, "1,192"),
    (Decimal("10082.0"), "en", 1, "10,082.0"),
    (Decimal("-1234567.25"), "vi", None, "-1.234.567,25"),
    (Decimal("2.45"), "vi", 1, "2,5"),  # half-up, not banker's rounding
    (Decimal("-0.04"), "vi", 1, "0,0"),  # no "-0,0"
    (Decimal("1E+20"), "vi", None, "100.000.000.000.000.000.000"),  # no exponent
    (Decimal("1E-7"), "vi", None, "0,0000001"),
    (0, "vi", 2, "0,00"),
    (123, "vi", None, "123"),
])
def test_format_number(value: Decimal | int, lang: str, places: int | None,
                       expected: str) -> None:
    assert format_number(value, lang, places) == expected


def test_format_percent() -> None:
    assert format_percent(Decimal("98.5")) == "98,5%"
    assert format_percent(Decimal("98.5"), "en") == "98.5%"
    assert format_percent(Decimal("100")) == "100%"
    assert format_percent(Decimal("99.96")) == "100%"
    assert format_percent(Decimal("0.04")) == "0%"
    assert format_percent(Decimal("0.04"), places=None) == "0,04%"


@pytest.mark.parametrize(("text", "expected"), [
    ("1.234", "1234"), ("1.234.567", "1234567"), ("1,5", "1.5"), ("1.234,5", "1234.5"),
    ("1.5", "1.5"), ("-3", "-3"), ("+3", "3"), (",5", "0.5"), (".5", "0.5"),
    ("１２３", "123"), ("1 234", "1234"), ("1\u00a0234", "1234"), ("12%", "12"),
    ("１２，５％", "12.5"), ("0.500", "0.5"), ("1234.567", "1234.567"), ("\u22125", "-5"),
    ("-0", "0"), ("007", "7"), ("999999999999999", "999999999999999"),
])
def test_parse_number_accepts(text: str, expected: str) -> None:
    result = parse_number(text)
    assert result == Decimal(expected)
    assert not result.is_signed() or result < 0


@pytest.mark.parametrize("text", [
    "", " ", "-", "+", "%", "1,234,567", "1e5", "1E5", "NaN", "nan", "Infinity", "inf",
    "0x1F", "abc", "12a", "1.23.45", "1.234.56", "1,2.3", "1.", "1,", "--1", "1-", "½",
    "١٢٣", "1_000", "1/2", "🔟", "1" * 2000,
])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


def test_parse_number_absurd_magnitude() -> None:
    with pytest.raises(NumberTooLargeError) as info:
        parse_number("1" + "0" * 30)
    assert not info.value.negative
    with pytest.raises(NumberTooLargeError) as info:
        parse_number("-1.000.000.000.000.000")
    assert info.value.negative


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=4,
                   allow_nan=False, allow_infinity=False))
@PROPS
def test_format_parse_round_trip(value: Decimal) -> None:
    assert parse_number(format_number(value)) == value
    assert parse_number(format_number(value, places=4)) == value


@given(st.text(max_size=60))
@PROPS
def test_parse_number_only_value_error(text: str) -> None:
    try:
        result = parse_number(text)
    except ValueError:
        return
    assert result.is_finite()


# --- parse_answer: examples ------------------------------------------------------------

@pytest.mark.parametrize(("code", "text", "expected"), [
    ("households", "1.234", "1234"),
    ("households", "1 234", "1234"),
    ("households", "１２３", "123"),
    ("households", "  42\n", "42"),
    ("households", "120 hộ", "120"),
    ("households", "1,0", "1"),
    ("serious_incidents", "không", "0"),
    ("serious_incidents", "Khong", "0"),
    ("serious_incidents", "ko", "0"),
    ("production_value", "1,5", "1.5"),
    ("production_value", "1.234,5", "1234.5"),
    ("production_value", "1192", "1192"),
    ("production_value", "1,50", "1.5"),
    ("nursery_enrolment", "12%", "12"),
    ("nursery_enrolment", "98,5 %", "98.5"),
    ("nursery_enrolment", "100", "100"),
    ("safe_area", "có", "yes"),
    ("safe_area", "Có", "yes"),
    ("safe_area", "co", "yes"),
    ("safe_area", "Dạ, có ạ", "yes"),
    ("safe_area", "đạt", "yes"),
    ("safe_area", "👍", "yes"),
    ("safe_area", "👍🏽", "yes"),
    ("safe_area", "✅", "yes"),
    ("safe_area", "1", "yes"),
    ("safe_area", "yes", "yes"),
    ("safe_area", "không", "no"),
    ("safe_area", "KHÔNG ĐẠT", "no"),
    ("safe_area", "chua", "no"),
    ("safe_area", "❌", "no"),
    ("safe_area", "0", "no"),
    ("safe_area", "no", "no"),
    ("sanitation", "1", "good"),
    ("sanitation", "４", "poor"),
    ("sanitation", "3", "average"),
    ("sanitation", "Trung bình", "average"),
    ("sanitation", "Khá", "fair"),
    ("sanitation", "yeu", "poor"),
    ("sanitation", "YẾU", "poor"),
    ("sanitation", "2. Khá", "fair"),
    ("sanitation", "poor", "poor"),
    ("sanitation", "Poor", "poor"),
    ("notes", "<b>x</b>", "<b>x</b>"),
    ("notes", "  Đường tổ 3\r\nbị hỏng\x07  ", "Đường tổ 3\nbị hỏng"),
    ("notes", "a\tb", "a b"),
    ("notes", "Cu\u0300ng", "Cùng"),  # NFC: stored composed
])
def test_parse_answer_accepts(code: str, text: str, expected: str) -> None:
    assert parse_answer(real(code), text) == expected


LONG = "1" * 5000


@pytest.mark.parametrize(("code", "text", "key"), [
    ("households", "", "err_empty"),
    ("households", "   \n ", "err_empty"),
    ("households", "\x00", "err_empty"),
    ("notes", "  ", "err_empty"),
    ("households", "abc", "err_not_number"),
    ("households", "mười hai", "err_not_number"),
    ("households", "12%", "err_not_number"),
    ("households", "1e5", "err_not_number"),
    ("households", "👍", "err_not_number"),
    ("households", "<b>x</b>", "err_not_number"),
    ("households", LONG, "err_not_number"),
    ("households", "a" * 5000, "err_not_number"),
    ("households", "1,5", "err_not_integer"),
    ("households", "-3", "err_too_small"),
    ("households", "5001", "err_too_large"),
    ("households", "1" + "0" * 30, "err_too_large"),
    ("households", "-" + "1" * 30, "err_too_small"),
    ("production_value", "1" + "0" * 13, "err_too_large"),
    ("production_value", "1,23456", "err_too_many_decimals"),
    ("production_value", "-1", "err_too_small"),
    ("production_value", "12%", "err_not_number"),
    ("nursery_enrolment", "101", "err_too_large"),
    ("nursery_enrolment", "-0,5%", "err_too_small"),
    ("nursery_enrolment", "NaN", "err_not_number"),
    ("safe_area", "maybe", "err_yes_no"),
    ("safe_area", "👎👍", "err_yes_no"),
    ("safe_area", "<b>có</b>", "err_yes_no"),
    ("safe_area", "có" * 2500, "err_yes_no"),
    ("sanitation", "5", "err_choice"),
    ("sanitation", "cần cố gắng", "err_choice"),
    ("sanitation", "0", "err_choice"),
    ("sanitation", "2. Tốt", "err_choice"),
    ("sanitation", "😀", "err_choice"),
    ("sanitation", "x" * 5000, "err_choice"),
    ("notes", "x" * 5000, "err_too_long"),
])
def test_parse_answer_rejects(code: str, text: str, key: str) -> None:
    assert error_of(real(code), text).key == key


def test_error_params_are_formatted_for_the_language() -> None:
    households = real("households")
    assert error_of(households, "x").params == {"example": "120"}
    assert error_of(households, "x", "en").params == {"example": "120"}
    assert error_of(households, "9999").params == {"max": "5.000"}
    assert error_of(households, "-1").params == {"min": "0"}
    assert error_of(households, "1,5").params == {"example": "120"}
    assert error_of(real("production_value"), "1" * 14).params == {"max": "1.000.000.000.000"}
    assert error_of(real("production_value"), "0,00001").params == {"places": "4"}
    assert error_of(real("nursery_enrolment"), "120").params == {"max": "100%"}
    assert error_of(real("sanitation"), "x").params == {
        "choices": "1. Tốt, 2. Khá, 3. Trung bình, 4. Yếu"}
    assert error_of(real("sanitation"), "x", "en").params == {
        "choices": "1. Good, 2. Fair, 3. Average, 4. Poor"}
    assert error_of(real("notes"), "é" * 1001).params == {"max": "1.000", "length": "1.001"}


def test_configured_bounds_and_negative_minimum() -> None:
    temp = ind_("temp", IndicatorType.DECIMAL, min=-40, max=50)
    assert parse_answer(temp, "-12,5") == "-12.5"
    assert error_of(temp, "-41").params == {"min": "-40"}
    uncapped = ind_("big", IndicatorType.INTEGER)
    assert parse_answer(uncapped, "1.000.000.000.000") == "1000000000000"
    assert error_of(uncapped, "1.000.000.000.001").key == "err_too_large"


def test_canonical_three_decimals_reads_as_thousands() -> None:
    # The one known ambiguity: stored "1.234" (one point two three four) typed back
    # verbatim reads as Vietnamese thousands. Re-typing the *displayed* form is exact.
    pv = real("production_value")
    assert parse_answer(pv, "1,234") == "1.234"
    assert parse_answer(pv, "1.234") == "1234"
    assert parse_answer(pv, format_value(pv, "1.234")) == "1.234"


def test_skip_and_back_words() -> None:
    for word in ["bỏ qua", "Bỏ qua", "bo qua", "BỎ QUA ạ", "skip", "-", " - "]:
        assert is_skip(word), word
    for word in ["quay lại", "Quay lai", "back", "trở lại", "Trở lại."]:
        assert is_back(word), word
    for word in ["", "0", "bỏ", "không", "quay", "--", "x" * 5000]:
        assert not is_skip(word) and not is_back(word), word


def test_format_value_and_choice_options() -> None:
    assert format_value(real("households"), "1234") == "1.234"
    assert format_value(real("production_value"), "1192") == "1.192"
    assert format_value(real("production_value"), "1192", "en") == "1,192"
    assert format_value(real("nursery_enrolment"), "98.5") == "98,5%"
    # A standard or a title is "Đạt" / "Chưa đạt" (answers: met), never a double negative.
    assert format_value(real("safe_area"), "yes") == "Đạt"
    assert format_value(real("drug_free"), "no") == "Chưa đạt"
    assert format_value(real("safe_area"), "yes", "en") == "Met"
    assert format_value(real("sanitation"), "poor") == "Yếu"  # the stored code is kept
    assert format_value(real("sanitation"), "average") == "Trung bình"
    assert format_value(real("sanitation"), "poor", "en") == "Poor"
    assert format_value(real("notes"), "<b>x</b>") == "<b>x</b>"
    assert format_value(real("households"), None) == "—"
    assert format_value(real("households"), "garbage") == "garbage"  # never raises
    assert choice_options(real("safe_area"), "vi") == [("yes", "Đạt"), ("no", "Chưa đạt")]
    assert choice_options(real("sanitation"), "en") == [
        ("good", "Good"), ("fair", "Fair"), ("average", "Average"), ("poor", "Poor")]
    assert choice_options(real("households"), "vi") == []


def test_answer_error_value_semantics() -> None:
    a, b = AnswerError("err_x", {"n": "1"}), AnswerError("err_x", {"n": "1"})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert "err_x" in str(a)


def test_huge_inputs_are_fast() -> None:
    start = time.perf_counter()
    one_per_type = {ind.type: ind for ind in REAL_INDICATORS}.values()
    # Quadratic work on 20.000 characters would take minutes, linear work milliseconds.
    for ind in one_per_type:
        for text in ["1" * 20_000, " ," * 10_000 + "x", "1." * 10_000, "a\x00" * 10_000,
                     "có " * 7_000, "-" * 20_000]:
            with contextlib.suppress(AnswerError):
                parse_answer(ind, text)
            is_skip(text)
            is_back(text)
    assert time.perf_counter() - start < 1


# --- check_rules: examples -------------------------------------------------------------

def test_rule_message_starts_from_the_question_answered() -> None:
    err = check_rules(REPORT, "cultured_families", "1200", {"households": "500"})
    assert err is not None and err.key == "err_rule_le" and err.params == {
        "label": "Số hộ đạt danh hiệu Gia đình văn hóa", "value": "1.200",
        "other_label": "Số hộ gia đình", "other_n": "1", "other_value": "500"}
    # Answering the right-hand side turns the sentence around: households come first.
    err = check_rules(REPORT, "households", "500", {"cultured_families": "1200"})
    assert err is not None and err.key == "err_rule_ge" and err.params == {
        "label": "Số hộ gia đình", "value": "500",
        "other_label": "Số hộ đạt danh hiệu Gia đình văn hóa", "other_n": "2",
        "other_value": "1.200"}
    err = check_rules(REPORT, "households", "500", {"cultured_families": "1200"}, "en")
    assert err is not None and err.params["other_label"].startswith("Households recognised")


def test_rule_message_names_the_other_question_by_number() -> None:
    """The issue's example: answering question 7 (under 6) against question 6 (under 5)."""
    err = check_rules(REPORT, "children_under_6", "1", {"children_under_5": "22"})
    assert err is not None
    text = Texts()(err.key, "vi", **err.params)
    assert text == ("Số trẻ em dưới 6 tuổi (1) không thể nhỏ hơn số trẻ em dưới 5 tuổi "
                    "ở câu 6 (22).")


def test_rules_skip_missing_or_skipped_sides() -> None:
    assert check_rules(REPORT, "households", "500", {}) is None
    assert check_rules(REPORT, "households", "500", {"cultured_families": None}) is None
    assert check_rules(REPORT, "households", None, {"cultured_families": "900"}) is None
    assert check_rules(REPORT, "households", "500", {"cultured_families": "500"}) is None
    assert check_rules(REPORT, "safe_area", "no", {"households": "1"}) is None


# --- properties ------------------------------------------------------------------------

TRICKY = st.sampled_from(["1.234", "1,5", "-", "%", "không", "có", "👍", "<b>", "\x00",
                          "１", "NaN", "1e5", "9" * 40, "\u0301", "ạ", "dạ "])
ANY_TEXT = st.one_of(st.text(), st.lists(TRICKY, max_size=5).map("".join),
                     st.text(alphabet="0123456789.,-+% hộkgcó", max_size=30))


@given(ind=st.sampled_from(REAL_INDICATORS), text=ANY_TEXT, lang=st.sampled_from(["vi", "en"]))
@PROPS
def test_parse_answer_only_raises_answer_error(ind: Indicator, text: str, lang: str) -> None:
    try:
        result = parse_answer(ind, text, lang)
    except AnswerError as err:
        assert err.key.startswith("err_")
        assert all(isinstance(v, str) for v in err.params.values())
        return
    assert isinstance(result, str) and result
    assert format_value(ind, result, lang)


def _typed(value: Decimal, style: int) -> str:
    """The same number written the ways people type it."""
    return [canonical_number(value), format_number(value), format_number(value, places=2),
            format_number(value).replace(".", " "), format_number(value) + " %",
            f"  {format_number(value)}\n"][style]


# Mostly values inside the real bounds (so that many answers are accepted), some far out.
DECIMALS = st.one_of(
    st.integers(-5, 6000).map(Decimal),
    st.decimals(min_value=-10, max_value=1000, places=3),
    st.decimals(min_value=-10, max_value=200, places=4),
    st.decimals(min_value=-(10**13), max_value=10**13, places=5),
)
NUMBER_TEXT = st.one_of(
    st.builds(_typed, DECIMALS, st.integers(0, 5)),
    st.text(alphabet="0123456789.,-+% ", max_size=25),
)
CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
AMBIGUOUS = re.compile(r"-?[1-9][0-9]{0,2}\.[0-9]{3}")  # see the three-decimals test


@given(ind=st.sampled_from([*NUMERIC, ind_("temp", IndicatorType.DECIMAL, min=-40)]),
       text=NUMBER_TEXT)
@PROPS
def test_accepted_numbers_are_canonical_and_in_bounds(ind: Indicator, text: str) -> None:
    try:
        canonical = parse_answer(ind, text)
    except AnswerError:
        return
    assert CANONICAL.fullmatch(canonical), canonical
    value = Decimal(canonical)
    assert ind.lower is None or value >= ind.lower
    assert value <= (ind.upper if ind.upper is not None else DEFAULT_CAP)
    if ind.type is IndicatorType.INTEGER:
        assert "." not in canonical
    assert len(canonical.partition(".")[2]) <= 4
    assert parse_answer(ind, format_value(ind, canonical)) == canonical
    if not AMBIGUOUS.fullmatch(canonical):
        assert parse_answer(ind, canonical) == canonical


def _decimal_ind(code: str) -> Indicator:
    return ind_(code, IndicatorType.DECIMAL, min=-100)


SYNTHETIC = Dataset(
    label=Text(vi="Thử"),
    source="ward_office",
    indicators=[_decimal_ind(c) for c in "abcde"] + [
        ind_("flag", IndicatorType.YES_NO),
        ind_("pick", IndicatorType.CHOICE, choices=[
            Choice(code="x", label=Text(vi="X")), Choice(code="y", label=Text(vi="Y"))]),
    ],
    rules=[Rule.parse(r) for r in ["a <= b", "b < c", "c >= a", "d > e", "a == e", "e <= e"]],
)
_RELATIONS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


def _expected_violation(ds: Dataset, code: str, answers: Mapping[str, str | None]) -> Rule | None:
    for rule in ds.rules:
        if code in (rule.left, rule.right):
            left, right = answers.get(rule.left), answers.get(rule.right)
            if left is not None and right is not None and \
                    not _RELATIONS[rule.op](Fraction(left), Fraction(right)):
                return rule
    return None


def _canonical_value(ind: Indicator) -> st.SearchStrategy[str | None]:
    # Small ranges so that equal values (the boundary of <, <= and ==) come up often.
    if ind.type is IndicatorType.INTEGER:
        value = st.integers(0, 40).map(str)
    elif ind.type.numeric:
        value = st.decimals(-5, 5, places=1).map(canonical_number)
    else:
        value = st.sampled_from([c for c, _ in choice_options(ind)] or ["note"])
    return st.one_of(st.none(), value)


def _canonical_answers(ds: Dataset) -> st.SearchStrategy[dict[str, str | None]]:
    return st.fixed_dictionaries(
        {}, optional={ind.code: _canonical_value(ind) for ind in ds.indicators})


@given(data=st.data(), ds=st.sampled_from([REPORT, SYNTHETIC]), lang=st.sampled_from(["vi", "en"]))
@settings(PROPS, max_examples=150)
def test_check_rules_flags_exactly_the_violations(data: st.DataObject, ds: Dataset,
                                                  lang: str) -> None:
    answers = data.draw(_canonical_answers(ds))
    for ind in ds.indicators:
        # The value being answered overrides whatever `answers` holds for that code.
        value = data.draw(_canonical_value(ind))
        err = check_rules(ds, ind.code, value, answers, lang)
        seen = {**answers, ind.code: value}
        rule = _expected_violation(ds, ind.code, seen)
        if rule is None:
            assert err is None
            continue
        ops = {"<=": "le", "<": "lt", ">=": "ge", ">": "gt", "==": "eq"}
        flipped = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "=="}
        # The sentence starts from the question being answered.
        op, other_code = (rule.op, rule.right) if ind.code == rule.left \
            else (flipped[rule.op], rule.left)
        other = ds.indicator(other_code)
        assert err == AnswerError(f"err_rule_{ops[op]}", {
            "label": ind.label.get(lang),
            "value": format_value(ind, seen[ind.code], lang),
            "other_label": other.label.get(lang),
            "other_n": str(ds.indicators.index(other) + 1),
            "other_value": format_value(other, seen[other_code], lang),
        })


@given(ds=st.sampled_from([REPORT, SYNTHETIC]), code=st.text(max_size=20) | st.sampled_from(
    ["a", "b", "e", "households", "residents"]),
       value=st.none() | st.text(max_size=20) | TRICKY,
       answers=st.dictionaries(st.sampled_from(["a", "b", "c", "households", "residents"]),
                               st.none() | st.text(max_size=20) | TRICKY))
@PROPS
def test_check_rules_never_raises(ds: Dataset, code: str, value: str | None,
                                  answers: dict[str, str | None]) -> None:
    result = check_rules(ds, code, value, answers)
    assert result is None or result.key.startswith("err_rule_")
