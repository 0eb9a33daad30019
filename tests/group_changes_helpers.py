"""Config variants of the shipped ward with groups changed, for the group-change stories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reporting.config import Settings
from reporting.config_file import parse_settings

ROOT = Path(__file__).resolve().parent.parent


def shipped_raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    return raw


def changed(drop: list[str], add: list[tuple[str, str]], changes: list[dict[str, Any]],
            rename: dict[str, str] | None = None) -> Settings:
    """The shipped ward with `drop` gone from groups:, `add` added, some renamed, and
    `changes` as its group_changes:."""
    raw = shipped_raw()
    groups = [g for g in raw["groups"] if g["code"] not in drop]
    for g in groups:
        g["name"] = (rename or {}).get(g["code"], g["name"])
    raw["groups"] = groups + [{"code": c, "name": n} for c, n in add]
    raw["group_changes"] = changes
    return parse_settings(raw)


def merged_in_july() -> Settings:
    """Tổ 11 and Tổ 12 form Tổ 13 from July 2022: fourteen groups from then on."""
    return changed(["to-11", "to-12"], [("to-13", "Tổ 13")], [
        {"month": "2022-07", "merge": {"into": "to-13", "from": ["to-11", "to-12"],
                                       "name": "Tổ 13"}}])
