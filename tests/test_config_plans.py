"""Mistakes in `plans:` stop loading with the file, the key and the reason (issue 8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.test_config import Raw, load_error, shipped_raw, target, write

P = "plans[0].targets"


def _twice(raw: Raw) -> None:
    raw["plans"].append({**raw["plans"][0]})


CASES = [
    pytest.param(lambda raw: target(raw, "production_value")["compute"].update(kind="sum"),
                 f"{P}[0] (production_value).compute.kind", "'ratio', 'share_of_groups'",
                 id="unknown-kind"),
    pytest.param(lambda raw: target(raw, "new_poor_households").update(comparator=">="),
                 f"{P}[4] (new_poor_households).comparator", "a flow_ytd target is a count",
                 id="flow-ytd-at-least"),
    pytest.param(lambda raw: target(raw, "production_value").update(comparator="<"),
                 f"{P}[0] (production_value).comparator", "a cumulative target is an amount",
                 id="cumulative-below"),
    pytest.param(lambda raw: target(raw, "drug_free_groups").pop("baseline"),
                 f"{P}[14] (drug_free_groups).baseline", "keep_and_raise needs a baseline",
                 id="keep-and-raise-without-baseline"),
    pytest.param(lambda raw: target(raw, "drug_free_groups").update(
                     baseline={"value": 90, "last_year": True}),
                 f"{P}[14] (drug_free_groups).baseline",
                 "give either `value` or `last_year: true`", id="baseline-value-and-last-year"),
    pytest.param(_twice, "plans[1]", "duplicate code '2022' (already used by plans[0])",
                 id="plan-year-twice"),
    pytest.param(lambda raw: target(raw, "militia_training").update(code="recruitment"),
                 f"{P}[20] (recruitment).code",
                 "duplicate code 'recruitment' (already used by targets[19])",
                 id="target-code-twice"),
    pytest.param(lambda raw: target(raw, "health_insurance_rate")["compute"].update(
                     numerator="vaccination_rate"),
                 f"{P}[5] (health_insurance_rate).compute.numerator",
                 "'ratio' is computed from the groups' reports: 'vaccination_rate' is in "
                 "'ward_progress'", id="ratio-on-a-ward-figure"),
    pytest.param(lambda raw: target(raw, "safe_areas")["compute"].update(
                     indicator="drug_free_agencies"),
                 f"{P}[17] (safe_areas).compute.indicator",
                 "'share_of_groups' is computed from the groups' reports: "
                 "'drug_free_agencies' is in 'ward_progress'", id="share-on-a-ward-figure"),
]


@pytest.mark.parametrize(("change", "key", "reason"), CASES)
def test_plan_mistake_stops_loading(tmp_path: Path, change: Callable[[Raw], Any], key: str,
                                    reason: str) -> None:
    raw = shipped_raw()
    change(raw)
    path = write(tmp_path, raw)
    lines = load_error(path).splitlines()
    assert any(line.startswith(f"{path}: {key}") and reason in line for line in lines), lines
