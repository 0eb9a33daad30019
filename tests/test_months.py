"""Issue 9, point 4: one month parser for every command that names a month."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reporting.periods import parse_key, parse_month

APRIL = date(2022, 4, 3)  # reporting March 2022


@pytest.mark.parametrize("text", [
    "3/2022", "03/2022", "T3/2022", "t3/2022", "tháng 3", "Tháng 3", "THÁNG 3/2022",
    "tháng 3/2022", "thang 3/2022", "tháng 3 năm 2022", "tháng 03 2022", "2022-03", "2022-3",
    "3-2022", "3.2022", "T3", "t 3 / 2022", "３/２０２２", " 3/2022 ",
])
def test_every_way_of_writing_march_2022(text: str) -> None:
    assert parse_month(text, APRIL) == (2022, 3)


@pytest.mark.parametrize(("today", "text", "expected"), [
    (date(2022, 4, 3), "tháng 4", (2022, 4)),  # this month: already begun
    (date(2022, 4, 3), "tháng 5", (2021, 5)),  # not begun this year: last year's
    (date(2023, 1, 4), "tháng 12", (2022, 12)),  # January reports December
    (date(2023, 1, 4), "T1", (2023, 1)),
])
def test_a_month_without_a_year_is_the_latest_that_has_begun(
        today: date, text: str, expected: tuple[int, int]) -> None:
    assert parse_month(text, today) == expected


@pytest.mark.parametrize("text", [
    "", "3", "03", "2022", "13/2022", "0/2022", "tháng 13", "tháng-ba", "tháng ba",
    "3/22", "3/1999", "2101-01", "2022-03-01", "abc", "T3/2022 x", "3//2022", "x" * 500,
])
def test_garbage_is_not_a_month(text: str) -> None:
    with pytest.raises(ValueError, match="month"):
        parse_month(text, APRIL)


MONTHS = st.integers(1, 12)
YEARS = st.integers(2000, 2100)


@given(YEARS, MONTHS, st.sampled_from([
    "{m}/{y}", "{m:02d}/{y}", "T{m}/{y}", "t{m}/{y}", "tháng {m}/{y}", "Tháng {m} năm {y}",
    "{y}-{m:02d}", "{y}-{m}",
]))
def test_written_months_read_back(year: int, month: int, form: str) -> None:
    assert parse_month(form.format(m=month, y=year), APRIL) == (year, month)


@given(st.dates(date(2001, 1, 1), date(2100, 12, 31)), MONTHS)
def test_a_month_alone_is_never_in_the_future_nor_a_year_old(today: date, month: int) -> None:
    year, got = parse_month(f"tháng {month}", today)
    assert got == month
    months_back = (today.year - year) * 12 + today.month - month
    assert 0 <= months_back < 12


@given(st.text(max_size=30))
def test_anything_is_a_month_or_a_value_error(text: str) -> None:
    try:
        year, month = parse_month(text, APRIL)
    except ValueError:
        return
    assert parse_key(f"{year:04d}-{month:02d}") == (year, month)
