"""Who reports what, and how often: the shipped datasets follow the plan (Kế hoạch
21/KH-UBND, section II.3). Leaders are asked only what a group knows every month; the
health station's, the ward's, the police's and the school year's figures are the ward
office's, entered when known. (Mistakes in `source`/`frequency`: tests/test_config.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.config import IndicatorType, Settings
from reporting.config_file import load_settings

CONFIG = Path(__file__).parent.parent / "config.yaml"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(CONFIG)


GROUP_QUESTIONS = ["households", "cultured_families", "residents", "health_insured",
                   "internet_users", "children_under_5", "children_under_6", "safe_area",
                   "drug_free", "cultured_group", "sanitation", "notes"]
# Figures the ward office enters once it has them (health station, police, school year…).
WHEN_KNOWN = {
    "malnutrition_rate": "Tỷ lệ trẻ em dưới 5 tuổi suy dinh dưỡng",
    "vaccination_rate": "Tỷ lệ trẻ em dưới 6 tuổi được tiêm chủng đầy đủ",
    "new_poor_households": "Số hộ nghèo, cận nghèo phát sinh mới",
    "nursery_enrolment": "Tỷ lệ huy động trẻ em trong độ tuổi đến nhà trẻ",
    "kindergarten_enrolment": "Tỷ lệ huy động trẻ mẫu giáo",
    "school_enrolment": "Tỷ lệ huy động học sinh tiểu học và THCS",
    "promotion_rate": "Tỷ lệ học sinh lên lớp",
    "cultured_agencies": "Tỷ lệ cơ quan, đơn vị, nhà trường đạt chuẩn văn hóa",
    "drug_free_agencies": "Tỷ lệ cơ quan, đơn vị, nhà trường đạt đơn vị không có ma túy",
    "agencies_security_standard":
        "Tỷ lệ cơ quan, đơn vị, nhà trường đạt chuẩn an toàn về an ninh trật tự",
    "serious_incidents": "Số vụ việc nghiêm trọng, phức tạp kéo dài",
    "recruitment_done": "Tỷ lệ hoàn thành chỉ tiêu tuyển quân",
    "militia_training_done": "Tỷ lệ hoàn thành chỉ tiêu huấn luyện dân quân",
}


def test_shipped_datasets_declare_who_enters_them(settings: Settings) -> None:
    assert settings.datasets["group_monthly"].source == "group_leader"
    assert settings.datasets["ward_progress"].source == "ward_office"


def test_leaders_are_asked_only_what_a_group_knows_every_month(settings: Settings) -> None:
    # Malnutrition and vaccination (health station), new poor households (decided by the
    # ward) and serious incidents (ward police) are not a tổ trưởng's monthly figures.
    report = settings.report
    assert [i.code for i in report.indicators] == GROUP_QUESTIONS
    assert all(i.frequency == "monthly" for i in report.indicators)
    assert [(r.left, r.op, r.right) for r in report.rules] == [
        ("cultured_families", "<=", "households"), ("health_insured", "<=", "residents"),
        ("internet_users", "<=", "residents"), ("children_under_5", "<=", "children_under_6"),
        ("residents", ">=", "households")]


def test_ward_figures_known_from_elsewhere_are_entered_when_known(settings: Settings) -> None:
    ward = settings.datasets["ward_progress"]
    known = {i.code: i.label.vi for i in ward.indicators if i.frequency == "when_known"}
    assert known == WHEN_KNOWN
    assert not any(ward.indicator(code).required for code in known)  # always skippable
    monthly = [i.code for i in ward.indicators if i.frequency == "monthly"]
    assert monthly == ["production_value", "budget_revenue", "alleys_asphalted",
                       "bright_green_roads"]
    assert all(ward.indicator(code).required for code in monthly)
    assert "rải nhựa" in ward.indicator("alleys_asphalted").label.vi
    types = {c: ward.indicator(c).type for c in ("malnutrition_rate", "new_poor_households")}
    assert types == {"malnutrition_rate": IndicatorType.PERCENT,
                     "new_poor_households": IndicatorType.INTEGER}


def test_moved_targets_read_the_ward_figures(settings: Settings) -> None:
    plan = settings.plan(2022)
    assert plan is not None
    computes = {t.code: (t.compute.kind, t.compute.indicator) for t in plan.targets}
    # Issue 8: kinds named for how they are judged; the indicator's data set is where
    # it is defined (the ward office's here), checked below.
    assert computes["malnutrition_rate"] == ("latest", "malnutrition_rate")
    assert computes["vaccination_rate"] == ("latest", "vaccination_rate")
    assert computes["new_poor_households"] == ("flow_ytd", "new_poor_households")
    assert computes["serious_incidents"] == ("flow_ytd", "serious_incidents")
    for code in ("malnutrition_rate", "vaccination_rate", "new_poor_households",
                 "serious_incidents"):
        found = settings.indicator(code)
        assert found is not None and found[0] == "ward_progress", code
