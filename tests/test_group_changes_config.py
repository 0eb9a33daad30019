"""Mistakes in config's group_changes: stop start-up with the file, the key and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reporting.config import ConfigError
from reporting.config_file import load_settings
from tests.group_changes_helpers import shipped_raw

MERGE = {"month": "2022-07", "merge": {"into": "to-13", "from": ["to-11", "to-12"]}}


def errors(tmp_path: Path, changes: list[Any], drop: tuple[str, ...] = ("to-11", "to-12"),
           add: tuple[str, ...] = ("to-13",)) -> list[str]:
    raw = shipped_raw()
    raw["groups"] = [g for g in raw["groups"] if g["code"] not in drop] + [
        {"code": c, "name": c.replace("to-", "Tổ ")} for c in add]
    raw["group_changes"] = changes
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    lines = str(info.value).splitlines()
    assert all(line.startswith(f"{path}: group_changes[") for line in lines), lines
    return [line.removeprefix(f"{path}: ") for line in lines]


def test_a_good_merge_loads(tmp_path: Path) -> None:
    raw = shipped_raw()
    raw["groups"] = [g for g in raw["groups"] if g["code"] not in ("to-11", "to-12")] + [
        {"code": "to-13", "name": "Tổ 13"}]
    raw["group_changes"] = [MERGE]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert len(load_settings(path).group_history.edges) == 2


def test_a_month_not_written_yyyy_mm(tmp_path: Path) -> None:
    found = errors(tmp_path, [{**MERGE, "month": "07/2022"}])
    assert found == ["group_changes[0].month: should be a month written YYYY-MM "
                     "(e.g. 2025-07), got '07/2022'"]
    assert errors(tmp_path, [{**MERGE, "month": "2022-13"}])[0].startswith(
        "group_changes[0].month: should be a month")


def test_unknown_codes_at_their_key(tmp_path: Path) -> None:
    # Merging into a group that is not in groups: (a typo), renaming one that never was.
    found = errors(tmp_path, [
        {"month": "2022-07", "merge": {"into": "to-31", "from": ["to-11", "to-12"]}},
        {"month": "2022-03", "rename": {"to-99": "Tổ 99"}}], add=("to-13",))
    assert [f.split(":")[0] for f in found] == ["group_changes[0].merge.into",
                                                "group_changes[1].rename.to-99"]
    assert "unknown group 'to-31' in 2022-07" in found[0]


def test_a_merged_group_still_listed(tmp_path: Path) -> None:
    found = errors(tmp_path, [MERGE], drop=("to-12",))
    assert found[0].startswith("group_changes[0].merge.from[0]: group 'to-11' still exists")


def test_a_group_changed_twice_in_one_month(tmp_path: Path) -> None:
    found = errors(tmp_path, [MERGE, {"month": "2022-07", "rename": {"to-13": "Tổ 13 mới"}}])
    assert len(found) == 1 and "group 'to-13' is changed twice in 2022-07" in found[0]


def test_one_kind_of_change_per_entry(tmp_path: Path) -> None:
    found = errors(tmp_path, [MERGE, {"month": "2022-08"}])
    assert found == ["group_changes[1]: give exactly one of rename, merge, split (got none)"]


def test_a_split_needs_two_distinct_new_groups(tmp_path: Path) -> None:
    split = {"month": "2023-01", "split": {"from": "to-5", "into": [
        {"code": "to-5a", "name": "Tổ 5A"}, {"code": "to-5a", "name": "Tổ 5B"}]}}
    found = errors(tmp_path, [split], drop=("to-5",), add=("to-5a",))
    assert found == ["group_changes[0].split.into: the same code twice in into"]


def test_a_group_taking_in_its_neighbour_goes_on(tmp_path: Path) -> None:
    # Tổ 11 takes in Tổ 12 from July: Tổ 11 keeps its months, Tổ 12 ends.
    raw = shipped_raw()
    raw["groups"] = [g for g in raw["groups"] if g["code"] != "to-12"]
    raw["group_changes"] = [{"month": "2022-07",
                             "merge": {"into": "to-11", "from": ["to-11", "to-12"]}}]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    history = load_settings(path).group_history
    by_code = {v.code: v for v in history.versions}
    assert (by_code["to-11"].valid_from, by_code["to-11"].valid_until) == (None, None)
    assert by_code["to-12"].valid_until == "2022-07" and not by_code["to-12"].current
    assert [(e.parent, e.child) for e in history.edges] == [("to-12", "to-11")]


def test_changes_chain_back_in_time(tmp_path: Path) -> None:
    # Tổ 11 and Tổ 12 form Tổ 13 in 2022; Tổ 13 and Tổ 10 form Tổ 20 in 2025: Tổ 13 is
    # a group of 2022-07 to 2024-12 and is named by its merge.
    raw = shipped_raw()
    raw["groups"] = [g for g in raw["groups"]
                     if g["code"] not in ("to-10", "to-11", "to-12")] + [
        {"code": "to-20", "name": "Tổ 20"}]
    raw["group_changes"] = [
        {"month": "2025-01", "merge": {"into": "to-20", "from": ["to-13", "to-10"]}},
        {"month": "2022-07", "merge": {"into": "to-13", "from": ["to-11", "to-12"],
                                       "name": "Tổ 13"}}]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    by_code = {v.code: v for v in load_settings(path).group_history.versions}
    assert (by_code["to-13"].name, by_code["to-13"].valid_from,
            by_code["to-13"].valid_until) == ("Tổ 13", "2022-07", "2025-01")
    assert by_code["to-10"].name is None  # ended before config knew it: the stored name
