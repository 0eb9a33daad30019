"""The ward configuration: the shipped file loads with the plan's targets, and every kind
of mistake stops start-up with the file, the key and the reason."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from reporting.config import ConfigError, IndicatorType, Rule, Settings, Target
from reporting.config_file import load_settings

CONFIG = Path(__file__).parent.parent / "config.yaml"

Raw = dict[str, Any]


@functools.cache
def _shipped_raw() -> Raw:
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def shipped_raw() -> Raw:
    """A fresh, freely modifiable copy of the shipped config as plain YAML data."""
    return copy.deepcopy(_shipped_raw())


def indicator(raw: Raw, code: str) -> dict[str, Any]:
    for dataset in raw["datasets"].values():
        for ind in dataset["indicators"]:
            if ind["code"] == code:
                return ind  # type: ignore[no-any-return]
    raise KeyError(code)


def target(raw: Raw, code: str) -> dict[str, Any]:
    return next(t for t in raw["plans"][0]["targets"] if t["code"] == code)


def rules(raw: Raw) -> list[Any]:
    return raw["datasets"]["group_monthly"]["rules"]  # type: ignore[no-any-return]


def soft(raw: Raw) -> dict[str, Any]:
    return raw["datasets"]["group_monthly"]["soft_checks"]  # type: ignore[no-any-return]


def write(tmp_path: Path, raw: Any, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


# --- the shipped config ----------------------------------------------------------------


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(CONFIG)


def test_shipped_config_loads(settings: Settings) -> None:
    assert settings.ward.code == "quyet-thang"
    assert settings.ward.name == "Phường Quyết Thắng"
    # Issue 8: the plan holds its year (`ward.year` is gone); no plan, no targets.
    assert [p.year for p in settings.plans] == [2022]
    assert settings.plan(2026) is None
    assert settings.ward.language == "vi"
    assert set(settings.datasets) == {"group_monthly", "ward_progress"}


def test_shipped_config_has_fifteen_groups_with_unique_codes(settings: Settings) -> None:
    codes = [g.code for g in settings.groups]
    assert len(codes) == 15
    assert len(set(codes)) == 15


def test_shipped_config_timezone(settings: Settings) -> None:
    assert settings.ward.timezone == "Asia/Ho_Chi_Minh"
    assert settings.ward.tz.key == "Asia/Ho_Chi_Minh"


# (code, compute kind, comparator, value as written in Kế hoạch 21/KH-UBND, section II.3;
# None: "giữ vững và nâng", judged against last year's value). Issue 8: the kinds follow
# how the plan is judged (year to date, cumulative with pace, latest figure), militia
# training and drug-free agencies are the plan's own targets, drug-free groups is keep
# and raise (it was ">= 100", a figure the plan does not give).
PLAN_TARGETS = [
    ("production_value", "cumulative", ">=", "1192"),
    ("budget_revenue", "cumulative", ">=", "10082.0"),
    ("malnutrition_rate", "latest", "<", "0.04"),
    ("vaccination_rate", "latest", ">", "98"),
    ("new_poor_households", "flow_ytd", "==", "0"),
    ("health_insurance_rate", "ratio", ">=", "95"),
    ("internet_rate", "ratio", ">=", "98"),
    ("nursery_enrolment", "latest", ">=", "66"),
    ("kindergarten_enrolment", "latest", ">=", "100"),
    ("school_enrolment", "latest", ">=", "100"),
    ("promotion_rate", "latest", ">=", "99"),
    ("cultured_families_rate", "ratio", ">=", "98"),
    ("cultured_groups_rate", "share_of_groups", ">=", "90"),
    ("cultured_agencies", "latest", ">=", "100"),
    ("drug_free_groups", "share_of_groups", ">=", None),
    ("drug_free_agencies", "latest", ">=", None),
    ("agencies_security_standard", "latest", ">=", "100"),
    ("safe_areas", "share_of_groups", ">=", "90"),
    ("serious_incidents", "flow_ytd", "==", "0"),
    ("recruitment", "latest", ">=", "100"),
    ("militia_training", "latest", ">=", "100"),
    ("alleys_asphalted", "cumulative", ">=", "9"),
    ("bright_green_roads", "cumulative", ">=", "2"),
]


def plan_targets(settings: Settings) -> list[Target]:
    plan = settings.plan(2022)
    assert plan is not None
    return plan.targets


def test_shipped_config_has_exactly_the_plan_targets(settings: Settings) -> None:
    assert [t.code for t in plan_targets(settings)] == [code for code, *_ in PLAN_TARGETS]


@pytest.mark.parametrize(("code", "kind", "comparator", "value"), PLAN_TARGETS,
                         ids=[t[0] for t in PLAN_TARGETS])
def test_shipped_target_matches_the_plan(
    settings: Settings, code: str, kind: str, comparator: str, value: str | None
) -> None:
    t = next(t for t in plan_targets(settings) if t.code == code)
    assert t.compute.kind == kind
    assert t.comparator == comparator
    if value is None:
        assert t.value is None and t.judge == "keep_and_raise"
        assert t.baseline is not None and t.baseline.last_year
    else:
        assert t.value == Decimal(value) and t.judge == "threshold"


def test_shipped_rules_and_targets_refer_to_existing_indicators(settings: Settings) -> None:
    report = settings.report
    assert Rule(left="children_under_5", op="<=", right="children_under_6") in report.rules
    assert Rule(left="cultured_families", op="<=", right="households") in report.rules
    for rule in report.rules:
        assert report.indicator(rule.left).type.numeric
        assert report.indicator(rule.right).type.numeric
    for t in plan_targets(settings):
        c = t.compute
        group_kind = c.kind in ("ratio", "share_of_groups")
        for ref in (c.indicator, c.numerator, c.denominator):
            if ref is not None:
                found = settings.indicator(ref)
                assert found is not None, ref
                name, ind = found
                assert group_kind == (name == "group_monthly"), ref
                if c.kind == "share_of_groups":
                    assert ind.type is IndicatorType.YES_NO
                else:
                    assert ind.type.numeric


# --- one test per kind of mistake ------------------------------------------------------


def _set_choices(code: str, choices: list[Any]) -> Callable[[Raw], None]:
    def change(raw: Raw) -> None:
        indicator(raw, code)["choices"] = choices
    return change


def _rename_required(raw: Raw) -> None:
    notes = indicator(raw, "notes")
    notes["requird"] = notes.pop("required")


def _single_choice(raw: Raw) -> None:
    sanitation = indicator(raw, "sanitation")
    sanitation["choices"] = sanitation["choices"][:1]


def _choices_on_yes_no(raw: Raw) -> None:
    indicator(raw, "safe_area")["choices"] = copy.deepcopy(indicator(raw, "sanitation")["choices"])


def _copy_indicator_without_renaming(raw: Raw) -> None:
    indicators = raw["datasets"]["group_monthly"]["indicators"]
    indicators.append(copy.deepcopy(indicator(raw, "households")))  # lands at index 12


def _rename_dataset(raw: Raw) -> None:
    raw["datasets"]["monthly"] = raw["datasets"].pop("group_monthly")


GM = "datasets.group_monthly"
WP = "datasets.ward_progress"

# (change one thing, expected key, expected reason)
MISTAKES = [
    pytest.param(
        _rename_required,
        f"{GM}.indicators[11] (notes).requird", "unknown key",
        id="unknown-key-typo",
    ),
    pytest.param(
        lambda raw: raw.update(calender=raw.pop("calendar")),
        "calender", "unknown key",
        id="unknown-top-level-key",
    ),
    pytest.param(
        lambda raw: raw["ward"].pop("name"),
        "ward.name", "required key is missing",
        id="missing-required-key",
    ),
    pytest.param(
        lambda raw: indicator(raw, "children_under_6").update(max="nhiều"),
        f"{GM}.indicators[6] (children_under_6).max", "should be a number, got 'nhiều'",
        id="wrong-type",
    ),
    pytest.param(
        lambda raw: raw["ward"].update(timezone="Asia/Hanoi"),
        "ward.timezone", "unknown time zone 'Asia/Hanoi'",
        id="bad-timezone",
    ),
    pytest.param(
        lambda raw: raw["groups"][1].update(code="to-1"),
        "groups[1] (to-1).code", "duplicate code 'to-1' (already used by groups[0])",
        id="duplicate-group-code",
    ),
    pytest.param(
        lambda raw: raw["groups"][0].update(code="Tổ 1"),
        "groups[0] (Tổ 1).code",
        "should use only lowercase letters without accents, digits and '-' (e.g. to-1), "
        "got 'Tổ 1'",
        id="bad-group-code-pattern",
    ),
    pytest.param(
        _copy_indicator_without_renaming,
        f"{GM}.indicators[12] (households).code",
        "duplicate code 'households' (already used by indicators[0])",
        id="duplicate-indicator-code",
    ),
    pytest.param(
        _single_choice,
        f"{GM}.indicators[10] (sanitation).choices",
        "a 'choice' indicator needs at least two choices",
        id="choice-with-one-choice",
    ),
    pytest.param(
        _choices_on_yes_no,
        f"{GM}.indicators[7] (safe_area).choices",
        "'choices' only applies to type 'choice', not 'yes_no'",
        id="choices-on-non-choice",
    ),
    pytest.param(
        lambda raw: indicator(raw, "households").update(min=6000),
        f"{GM}.indicators[0] (households).min", "min (6000) is greater than max (5000)",
        id="min-greater-than-max",
    ),
    pytest.param(
        lambda raw: indicator(raw, "safe_area").update(max=1),
        f"{GM}.indicators[7] (safe_area).max",
        "'min'/'max' only apply to numeric types (integer, decimal, percent), not 'yes_no'",
        id="max-on-yes-no",
    ),
    pytest.param(
        lambda raw: rules(raw).__setitem__(0, "cultured_families =< households"),
        f"{GM}.rules[0]",
        "rule 'cultured_families =< households' is not of the form "
        "'indicator_a <= indicator_b'",
        id="malformed-rule",
    ),
    pytest.param(
        lambda raw: rules(raw).__setitem__(3, "children_under_5 <= children_under_six"),
        f"{GM}.rules[3]",
        "rule 'children_under_5 <= children_under_six': unknown indicator "
        "'children_under_six'",
        id="rule-unknown-indicator",
    ),
    pytest.param(
        lambda raw: rules(raw).append("safe_area <= households"),
        f"{GM}.rules[5]", "rule 'safe_area <= households': 'safe_area' is not numeric",
        id="rule-non-numeric-indicator",
    ),
    pytest.param(
        lambda raw: soft(raw)["indicators"].update(household={"soft_max": 100}),
        f"{GM}.soft_checks.indicators.household", "unknown indicator 'household'",
        id="soft-check-unknown-indicator",
    ),
    pytest.param(
        lambda raw: soft(raw)["indicators"].update(safe_area={"soft_max": 1}),
        f"{GM}.soft_checks.indicators.safe_area",
        "'safe_area' is not numeric: soft checks apply only to integer, decimal and "
        "percent indicators",
        id="soft-check-non-numeric",
    ),
    pytest.param(
        lambda raw: soft(raw)["indicators"].update(households={"soft_max": 6000}),
        f"{GM}.soft_checks.indicators.households.soft_max",
        "soft_max (6000) must be below the indicator's max (5000): above max an answer is "
        "refused, not checked",
        id="soft-max-above-max",
    ),
    pytest.param(
        lambda raw: soft(raw).update(change_ratio=1),
        f"{GM}.soft_checks.change_ratio", "greater than 1",
        id="soft-check-ratio-not-above-one",
    ),
    pytest.param(
        lambda raw: soft(raw).update(change_ration=2),
        f"{GM}.soft_checks.change_ration", "",
        id="soft-check-unknown-key",
    ),
    pytest.param(
        lambda raw: target(raw, "health_insurance_rate")["compute"].update(numerator="insured"),
        "plans[0].targets[5] (health_insurance_rate).compute.numerator",
        "unknown indicator 'insured' in 'group_monthly'",
        id="target-unknown-indicator",
    ),
    pytest.param(
        lambda raw: target(raw, "production_value")["compute"].update(indicator="production"),
        "plans[0].targets[0] (production_value).compute.indicator",
        "unknown indicator 'production' in 'group_monthly' or 'ward_progress'",
        id="target-unknown-ward-indicator",
    ),
    pytest.param(
        lambda raw: target(raw, "safe_areas")["compute"].update(indicator="households"),
        "plans[0].targets[17] (safe_areas).compute.indicator",
        "share_of_groups needs a yes_no indicator, 'households' is integer",
        id="share-of-groups-on-non-yes-no",
    ),
    pytest.param(
        lambda raw: target(raw, "health_insurance_rate")["compute"].pop("denominator"),
        "plans[0].targets[5] (health_insurance_rate).compute.denominator",
        "required for kind 'ratio'",
        id="ratio-missing-denominator",
    ),
    pytest.param(
        lambda raw: raw["plans"][0]["targets"][20].update(code="recruitment"),
        "plans[0].targets[20] (recruitment).code",
        "duplicate code 'recruitment' (already used by targets[19])",
        id="duplicate-target-code",
    ),
    pytest.param(
        lambda raw: raw["calendar"].update(due_day=31),
        "calendar.due_day", "should be less than or equal to 28, got 31",
        id="due-day-out-of-range",
    ),
    pytest.param(
        lambda raw: raw["calendar"].update(reminder_offsets=[-2, 0, 7]),
        "calendar.reminder_offsets[2]",
        "reminder offset 7 falls on or after the lock (lock_after_days = 5)",
        id="reminder-after-lock",
    ),
    pytest.param(
        lambda raw: raw["calendar"].update(due_day=20, lock_after_days=10),
        "calendar.lock_after_days",
        "the period would still be open when the next one opens on day 25 "
        "(due_day 20 + lock_after_days 10 > open_day 25)",
        id="windows-overlap",
    ),
    pytest.param(
        lambda raw: raw["ward"].update(language="fr"),
        "ward.language", "should be 'vi' or 'en', got 'fr'",
        id="language-not-vi-or-en",
    ),
    pytest.param(
        _rename_dataset,
        "datasets.monthly", "the key name should be 'group_monthly' or 'ward_progress'",
        id="unknown-dataset-name",
    ),
    pytest.param(
        lambda raw: raw["datasets"]["ward_progress"].pop("source"),
        f"{WP}.source", "required key is missing",
        id="dataset-without-source",
    ),
    pytest.param(
        lambda raw: raw["datasets"]["group_monthly"].update(source="leader"),
        f"{GM}.source", "should be 'group_leader' or 'ward_office', got 'leader'",
        id="unknown-source",
    ),
    pytest.param(
        lambda raw: raw["datasets"]["group_monthly"].update(source="ward_office"),
        f"{GM}.source", "'group_monthly' is entered by the group leaders: its source must "
        "be 'group_leader', got 'ward_office'",
        id="group-dataset-from-the-ward-office",
    ),
    pytest.param(
        lambda raw: indicator(raw, "nursery_enrolment").update(frequency="yearly"),
        f"{WP}.indicators[5] (nursery_enrolment).frequency",
        "should be 'monthly' or 'when_known', got 'yearly'",
        id="unknown-frequency",
    ),
    pytest.param(
        lambda raw: indicator(raw, "children_under_5").update(frequency="when_known"),
        f"{GM}.indicators[5] (children_under_5).frequency",
        "'when_known' is only for figures the ward office enters (source 'ward_office'); "
        "a group leader answers every month",
        id="when-known-asked-of-leaders",
    ),
    pytest.param(
        lambda raw: indicator(raw, "malnutrition_rate").update(required=True),
        f"{WP}.indicators[2] (malnutrition_rate).required",
        "a 'when_known' indicator is never required",
        id="when-known-required",
    ),
    pytest.param(
        lambda raw: indicator(raw, "notes").update(label="Ghi chú"),
        f"{GM}.indicators[11] (notes).label",
        "should be a mapping of keys like {vi: \"...\", en: \"...\"}, got 'Ghi chú'",
        id="label-not-a-mapping",
    ),
]


@pytest.mark.parametrize(("change", "key", "reason"), MISTAKES)
def test_mistake_stops_loading_with_file_key_and_reason(
    tmp_path: Path, change: Callable[[Raw], object], key: str, reason: str
) -> None:
    raw = shipped_raw()
    change(raw)
    path = write(tmp_path, raw)

    message = load_error(path)

    assert message.splitlines() == [message], "one mistake, one line"
    assert message.startswith(f"{path}: {key}: "), message
    assert reason in message.removeprefix(f"{path}: {key}: ")


def test_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    assert load_error(path) == f"{path}: file not found (use --config PATH or THIDUA_CONFIG)"


def test_path_is_a_directory(tmp_path: Path) -> None:
    assert load_error(tmp_path).startswith(f"{tmp_path}: cannot read the file")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(CONFIG.read_text(encoding="utf-8").encode("utf-16"))  # Notepad "Unicode"
    assert load_error(path) == f"{path}: not UTF-8 text (save the file as UTF-8)"


def _line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_invalid_yaml(tmp_path: Path) -> None:
    text = CONFIG.read_text(encoding="utf-8").replace("  language: vi", "\tlanguage: vi", 1)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")

    message = load_error(path)

    line = _line_of(text, "\tlanguage:")
    assert message.startswith(f"{path}: line {line}, column 1: not valid YAML: "), message
    assert "found character '\\t' that cannot start any token" in message
    assert len(message.splitlines()) == 1


def test_key_written_twice(tmp_path: Path) -> None:
    # Plain YAML silently keeps the last value; the loader refuses it.
    original = CONFIG.read_text(encoding="utf-8")
    # The year is the plan's now (issue 8: `ward.year` is gone).
    text = original.replace("  - year: 2022", "  - year: 2022\n    year: 2023", 1)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")

    line = _line_of(original, "  - year: 2022") + 1
    assert load_error(path) == (
        f"{path}: line {line}, column 5: not valid YAML: key 'year' is written twice"
    )


def test_yaml_merge_key_may_be_overridden(tmp_path: Path) -> None:
    # `<<: *anchor` followed by keys that override it is not a key written twice.
    text = CONFIG.read_text(encoding="utf-8")
    text = text.replace("  - {code: to-1, name: Tổ 1}\n  - {code: to-2, name: Tổ 2}\n",
                        "  - &first {code: to-1, name: Tổ 1}\n"
                        "  - {<<: *first, code: to-2, name: Tổ 2}\n", 1)
    assert "<<: *first" in text
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    assert [g.code for g in load_settings(path).groups[:2]] == ["to-1", "to-2"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param("", "the file is empty", id="empty"),
        pytest.param(
            yaml.safe_dump(_shipped_raw()["groups"], allow_unicode=True),
            "the file must be a mapping of keys (ward:, groups:, ...), got a list",
            id="list",
        ),
        pytest.param(
            "Phường Quyết Thắng\n",
            "the file must be a mapping of keys (ward:, groups:, ...), got 'Phường Quyết Thắng'",
            id="scalar",
        ),
    ],
)
def test_top_level_not_a_mapping(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content, encoding="utf-8")
    assert load_error(path) == f"{path}: {reason}"


# --- several mistakes at once ----------------------------------------------------------


def test_every_error_is_reported_one_line_each(tmp_path: Path) -> None:
    raw = shipped_raw()
    raw["ward"]["timezone"] = "Asia/Hanoi"
    raw["ward"]["language"] = "fr"
    raw["groups"][0]["code"] = "Tổ 1"
    raw["calendar"]["due_day"] = 31
    indicator(raw, "children_under_6")["max"] = "nhiều"
    indicator(raw, "safe_area")["max"] = 1
    rules(raw)[0] = "cultured_families =< households"
    rules(raw)[1] = "health_insured >> residents"
    target(raw, "recruitment")["comparator"] = "=>"
    path = write(tmp_path, raw)

    lines = load_error(path).splitlines()

    expected = [
        ("ward.timezone", "unknown time zone"),
        ("ward.language", "should be 'vi' or 'en'"),
        ("groups[0] (Tổ 1).code", "should use only lowercase letters"),
        ("calendar.due_day", "should be less than or equal to 28"),
        (f"{GM}.indicators[6] (children_under_6).max", "should be a number"),
        (f"{GM}.indicators[7] (safe_area).max", "only apply to numeric types"),
        (f"{GM}.rules[0]", "is not of the form"),
        (f"{GM}.rules[1]", "is not of the form"),
        ("plans[0].targets[19] (recruitment).comparator", "should be '<', '<=', '>', '>=' or '=='"),
    ]
    assert len(lines) == len(expected), lines
    for key, reason in expected:
        assert any(line.startswith(f"{path}: {key}: ") and reason in line for line in lines), (
            key, lines)


def test_every_cross_reference_error_is_reported(tmp_path: Path) -> None:
    # Checks across the whole file run once each section is valid on its own; they too
    # report every problem, not just the first.
    raw = shipped_raw()
    raw["groups"][2]["code"] = "to-1"
    raw["groups"][3]["code"] = "to-1"
    raw["plans"][0]["targets"][20]["code"] = "recruitment"
    target(raw, "health_insurance_rate")["compute"]["numerator"] = "insured"
    target(raw, "safe_areas")["compute"]["indicator"] = "households"
    path = write(tmp_path, raw)

    lines = load_error(path).splitlines()

    assert lines == [
        f"{path}: groups[2] (to-1).code: duplicate code 'to-1' (already used by groups[0])",
        f"{path}: groups[3] (to-1).code: duplicate code 'to-1' (already used by groups[0])",
        f"{path}: plans[0].targets[20] (recruitment).code: duplicate code 'recruitment' "
        "(already used by targets[19])",
        f"{path}: plans[0].targets[5] (health_insurance_rate).compute.numerator: unknown "
        "indicator 'insured' in 'group_monthly'",
        f"{path}: plans[0].targets[17] (safe_areas).compute.indicator: share_of_groups "
        "needs a yes_no indicator, 'households' is integer",
    ]


def test_a_tick_longer_than_half_the_grace_is_refused(tmp_path: Path) -> None:
    """Jobs run on the first tick after their time, within the grace: a tick as long as
    the grace could step over a job's whole window."""
    raw = shipped_raw()
    raw["schedule"]["tick_seconds"] = 3600
    raw["schedule"]["misfire_grace_minutes"] = 30
    error = load_error(write(tmp_path, raw))
    assert "schedule" in error and "tick_seconds (3600)" in error
