"""Config `signup:`: each mistake stops start-up at its own key, with the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reporting.config_file import load_settings
from tests.test_config import Raw, load_error, shipped_raw, write


def signup(**changes: Any) -> Callable[[Raw], None]:
    def change(raw: Raw) -> None:
        raw.setdefault("signup", {}).update(changes)
    return change


MISTAKES = [
    pytest.param(signup(titles=["cultured_group", "households"]), "signup.titles[1]",
                 "a title is a yes_no indicator, 'households' is integer", id="title-a-count"),
    pytest.param(signup(titles=["cultured_ward"]), "signup.titles[0]",
                 "unknown indicator 'cultured_ward' in 'group_monthly'", id="unknown-title"),
    pytest.param(signup(titles=["budget_revenue"]), "signup.titles[0]",
                 "unknown indicator 'budget_revenue' in 'group_monthly'",
                 id="title-of-the-ward-office"),
    pytest.param(signup(titles=["safe_area", "safe_area"]), "signup.titles[1]",
                 "'safe_area' is listed twice", id="title-twice"),
    pytest.param(signup(households_indicator="safe_area"), "signup.households_indicator",
                 "should be an integer indicator, it is yes_no", id="households-yes-no"),
    pytest.param(signup(households_indicator="families"), "signup.households_indicator",
                 "unknown indicator 'families'", id="households-unknown"),
    pytest.param(signup(opens="02-01", closes="01-31"), "signup.closes",
                 "the window closes (01-31) before it opens (02-01)", id="closes-before-opens"),
    pytest.param(signup(reminder_offsets=[-7, 3]), "signup.reminder_offsets[1]",
                 "3 days from the close (01-31) is outside the window 01-01 to 01-31",
                 id="reminder-after-the-close"),
    pytest.param(signup(reminder_offsets=[-40]), "signup.reminder_offsets[0]",
                 "outside the window", id="reminder-before-the-opening"),
    pytest.param(signup(opens="13-01"), "signup.opens", "not a day of the year: '13-01'",
                 id="bad-month"),
    pytest.param(signup(reminder_time="8h30"), "signup.reminder_time", "should match",
                 id="bad-time"),
]


@pytest.mark.parametrize(("change", "key", "reason"), MISTAKES)
def test_a_signup_mistake_is_reported_at_its_key(
        tmp_path: Path, change: Callable[[Raw], None], key: str, reason: str) -> None:
    raw = shipped_raw()
    change(raw)
    path = write(tmp_path, raw)

    message = load_error(path)

    assert message.startswith(f"{path}: {key}: "), message
    assert reason in message, message


def test_every_signup_mistake_is_reported(tmp_path: Path) -> None:
    raw = shipped_raw()
    signup(titles=["households", "nope"], households_indicator="drug_free",
           reminder_offsets=[1])(raw)
    lines = load_error(write(tmp_path, raw)).splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "signup.titles[0]", "signup.titles[1]", "signup.households_indicator",
        "signup.reminder_offsets[0]"]


def test_a_window_in_february_and_the_shipped_defaults_load(tmp_path: Path) -> None:
    raw = shipped_raw()
    signup(opens="02-01", closes="02-29", reminder_offsets=[-28, 0])(raw)
    settings = load_settings(write(tmp_path, raw))
    assert (settings.signup.opens, settings.signup.closes) == ("02-01", "02-29")
    shipped = load_settings(write(tmp_path, shipped_raw(), "shipped.yaml")).signup
    assert shipped.titles == ["cultured_group", "safe_area", "drug_free"]
    assert shipped.households_indicator == "cultured_families"
