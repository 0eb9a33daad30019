"""reporting.targets over hand-built figures: every kind and every verdict, by hand.

The targets are the shipped 2022 plan's (config.yaml, Kế hoạch 21/KH-UBND, II.3), so
each case reads as the ward official reads the plan: 15 groups (12 tổ, 3 bản), a
verdict for a group-based target once 80% of them (12) have reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import pytest

from reporting.config import Settings
from reporting.plan_config import Plan, Target
from reporting.targets import Figures, Values, Verdict, judge, judge_plan

GROUPS = 15
HUNDRED = Decimal(100)


@pytest.fixture
def plan(settings: Settings) -> Plan:
    found = settings.plan(2022)
    assert found is not None
    return found


@pytest.fixture
def targets(plan: Plan) -> dict[str, Target]:
    return {t.code: t for t in plan.targets}


def figures(settings: Settings, month: int, *, groups: Sequence[Values] = (),
            ward: Sequence[Values] = (), groups_ytd: Sequence[Values] | None = None) -> Figures:
    """`month`'s figures: the groups' reports of the month, the ward office's months."""
    asked = frozenset(i.code for i in settings.report.indicators)
    ward_months = list(ward) + [{}] * (month - len(ward))  # months not entered: empty
    assert len(ward_months) == month
    return Figures(month=month, groups_total=GROUPS, groups=list(groups),
                   groups_ytd=list(groups if groups_ytd is None else groups_ytd),
                   ward_months=ward_months, group_indicators=asked)


def one(value: Decimal | None) -> Decimal | None:
    """Rounded as the digest shows a share: one decimal, half up."""
    return None if value is None else value.quantize(Decimal("0.1"), ROUND_HALF_UP)


# -- ratio: Σ numerator / Σ denominator, judged once 80% of the groups reported ----------

def _insured(insured: int, residents: int = 100) -> Values:
    return {"health_insured": str(insured), "residents": str(residents)}


def test_ratio_is_provisional_below_coverage(settings: Settings, plan: Plan,
                                             targets: dict[str, Target]) -> None:
    t = targets["health_insurance_rate"]  # ≥ 95%
    # One group, 100 of 100 insured: 100% but on 1/15 groups (6,7% < 80%): tạm tính.
    r = judge(plan, t, figures(settings, 3, groups=[_insured(100)]))
    assert (r.value, r.based_on, r.of_total) == (HUNDRED, 1, 15)
    assert r.verdict is Verdict.PROVISIONAL and r.met is None and r.partial
    # 11 groups (73,3%): still provisional, however good the figure.
    r = judge(plan, t, figures(settings, 3, groups=[_insured(99)] * 11))
    assert (r.value, r.based_on, r.verdict) == (Decimal(99), 11, Verdict.PROVISIONAL)


def test_ratio_is_judged_from_coverage(settings: Settings, plan: Plan,
                                       targets: dict[str, Target]) -> None:
    t = targets["health_insurance_rate"]
    # 12 groups = 80% of 15: judged. 11 × 96 + 1 × 90 = 1.146 of 1.200 residents = 95,5%.
    r = judge(plan, t, figures(settings, 3, groups=[_insured(96)] * 11 + [_insured(90)]))
    assert r.value == HUNDRED * 1146 / 1200 and one(r.value) == Decimal("95.5")
    assert (r.based_on, r.of_total, r.verdict) == (12, 15, Verdict.MET)
    # 12 × 94 of 12 × 100 = 94% < 95%: chưa đạt.
    r = judge(plan, t, figures(settings, 3, groups=[_insured(94)] * 12))
    assert (r.value, r.verdict, r.met) == (Decimal(94), Verdict.NOT_MET, False)
    # A sum of ratios, not an average of ratios: 50/50 (100%) and 900/1000 (90%) give
    # 950/1050 = 90,476…%, not 95%. 12 groups so it is judged.
    groups = [_insured(50, 50), _insured(900, 1000)] + [_insured(0, 0)] * 10
    r = judge(plan, t, figures(settings, 3, groups=groups))
    assert r.value == HUNDRED * 950 / 1050 and r.verdict is Verdict.NOT_MET


def test_ratio_without_data_has_no_verdict(settings: Settings, plan: Plan,
                                           targets: dict[str, Target]) -> None:
    r = judge(plan, targets["health_insurance_rate"], figures(settings, 3))
    assert (r.value, r.based_on, r.verdict, r.met) == (None, 0, Verdict.NO_DATA, None)


# -- share_of_groups: yes over ALL the ward's groups ---------------------------------------

def _answers(yes: int, no: int, code: str = "cultured_group") -> list[Values]:
    answers: list[Values] = [{code: "yes"}] * yes
    return answers + [{code: "no"}] * no


def test_share_of_groups_one_yes_of_fifteen(settings: Settings, plan: Plan,
                                            targets: dict[str, Target]) -> None:
    t = targets["cultured_groups_rate"]  # ≥ 90%
    # 1 group answered yes: 1/15 = 6,7% of the ward's groups, not 100% of those answering;
    # on 1/15 answered it is provisional.
    r = judge(plan, t, figures(settings, 3, groups=_answers(1, 0)))
    assert r.value == HUNDRED / 15 and one(r.value) == Decimal("6.7")
    assert (r.based_on, r.of_total) == (1, 15)
    assert r.verdict is Verdict.PROVISIONAL and r.met is None


def test_share_of_groups_judged_over_all_groups(settings: Settings, plan: Plan,
                                                targets: dict[str, Target]) -> None:
    t = targets["cultured_groups_rate"]
    # 13 of 15 answered (86,7% ≥ 80%), all yes: 13/15 = 86,7% of the ward, < 90%.
    r = judge(plan, t, figures(settings, 3, groups=_answers(13, 0)))
    assert r.value == HUNDRED * 13 / 15 and one(r.value) == Decimal("86.7")
    assert (r.based_on, r.of_total, r.verdict) == (13, 15, Verdict.NOT_MET)
    # 14 answered, all yes: 14/15 = 93,3% ≥ 90%: đạt.
    r = judge(plan, t, figures(settings, 3, groups=_answers(14, 0)))
    assert one(r.value) == Decimal("93.3") and r.verdict is Verdict.MET
    # 13 answered, 12 yes, 1 no: 12/15 = 80%.
    r = judge(plan, t, figures(settings, 3, groups=_answers(12, 1)))
    assert (r.value, r.based_on, r.verdict) == (Decimal(80), 13, Verdict.NOT_MET)
    # A report that skipped the question is not an answer.
    r = judge(plan, t, figures(settings, 3, groups=[*_answers(11, 0), {"cultured_group": None}]))
    assert (r.based_on, r.verdict) == (11, Verdict.PROVISIONAL)


# -- flow_ytd: events since January; one event breaks the year ------------------------------

def test_flow_ytd_an_event_in_march_stays(settings: Settings, plan: Plan,
                                          targets: dict[str, Target]) -> None:
    t = targets["new_poor_households"]  # == 0 for the year
    ward: list[Values] = [{"new_poor_households": "0"}, {"new_poor_households": "0"},
                          {"new_poor_households": "1"}]  # one household recognised in March
    march = judge(plan, t, figures(settings, 3, ward=ward))
    assert (march.value, march.based_on, march.of_total) == (Decimal(1), 3, 3)
    assert march.verdict is Verdict.NOT_MET
    # April: nothing new entered (when known: April skipped) — March's household stays.
    april = judge(plan, t, figures(settings, 4, ward=[*ward, {"new_poor_households": None}]))
    assert (april.value, april.verdict) == (Decimal(1), Verdict.NOT_MET)
    # December, zeros entered every month since: still 1 for the year, chưa đạt.
    rest: list[Values] = [{"new_poor_households": "0"}] * 9
    december = judge(plan, t, figures(settings, 12, ward=[*ward, *rest]))
    assert (december.value, december.based_on, december.of_total) == (Decimal(1), 12, 12)
    assert december.verdict is Verdict.NOT_MET and december.met is False
    assert december.change is None  # a year-to-date sum has no "change on last month"


def test_flow_ytd_none_all_year(settings: Settings, plan: Plan,
                                targets: dict[str, Target]) -> None:
    t = targets["serious_incidents"]  # == 0 for the year
    zeros: list[Values] = [{"serious_incidents": "0"}] * 12
    for month in (1, 3, 6, 11):
        r = judge(plan, t, figures(settings, month, ward=zeros[:month]))
        assert (r.value, r.verdict, r.met) == (Decimal(0), Verdict.ON_TRACK, True), month
    r = judge(plan, t, figures(settings, 12, ward=zeros))
    assert (r.value, r.verdict, r.met) == (Decimal(0), Verdict.MET, True)
    # Nothing ever entered is "no data", never a zero that meets the target.
    r = judge(plan, t, figures(settings, 12, ward=[{"serious_incidents": None}] * 12))
    assert (r.value, r.based_on, r.of_total, r.verdict) == (None, 0, 12, Verdict.NO_DATA)


# -- cumulative: lũy kế, % of the year's plan, pace; final only for the year ----------------

def test_cumulative_march_behind_pace(settings: Settings, plan: Plan,
                                      targets: dict[str, Target]) -> None:
    t = targets["production_value"]  # ≥ 1.192 tỷ đồng for the year
    ward: list[Values] = [{"production_value": "30"}, {"production_value": "31"},
                          {"production_value": "34.5"}]
    r = judge(plan, t, figures(settings, 3, ward=ward))
    # lũy kế 30 + 31 + 34,5 = 95,5; 95,5 / 1.192 = 8,01…% ≈ 8,0% of the year's plan;
    # three months of twelve call for 25%: behind.
    assert r.value == Decimal("95.5")
    assert r.plan_share == HUNDRED * Decimal("95.5") / 1192 and one(r.plan_share) == Decimal("8.0")
    assert r.expected_share == Decimal(25)
    assert r.verdict is Verdict.BEHIND and r.met is False
    assert r.goal == Decimal(1192) and r.progress == pytest.approx(8.0117, abs=1e-3)


def test_cumulative_on_pace(settings: Settings, plan: Plan, targets: dict[str, Target]) -> None:
    t = targets["production_value"]
    # 100 a month: 300 in March = 25,2% ≥ 25%: on track (not yet met).
    r = judge(plan, t, figures(settings, 3, ward=[{"production_value": "100"}] * 3))
    assert one(r.plan_share) == Decimal("25.2") and r.verdict is Verdict.ON_TRACK


def test_cumulative_reached_early_is_met(settings: Settings, plan: Plan,
                                         targets: dict[str, Target]) -> None:
    t = targets["alleys_asphalted"]  # ≥ 9 tuyến
    ward: list[Values] = [{"alleys_asphalted": "3"}, {}, {"alleys_asphalted": "4"}, {},
                          {}, {"alleys_asphalted": "2"}]  # 3 + 4 + 2 = 9 by June
    r = judge(plan, t, figures(settings, 6, ward=ward))
    assert (r.value, r.based_on, r.of_total) == (Decimal(9), 3, 6)
    assert r.plan_share == HUNDRED and r.verdict is Verdict.MET


def test_cumulative_december_short_is_not_met(settings: Settings, plan: Plan,
                                              targets: dict[str, Target]) -> None:
    t = targets["production_value"]
    # 95 a month: 1.140 of 1.192 in December (95,6%): the year is over, chưa đạt.
    r = judge(plan, t, figures(settings, 12, ward=[{"production_value": "95"}] * 12))
    assert r.value == Decimal(1140) and one(r.plan_share) == Decimal("95.6")
    assert r.expected_share == HUNDRED and r.verdict is Verdict.NOT_MET
    # The same pace in November is only "behind": 1.045 / 1.192 = 87,7% of the year's
    # plan where eleven months call for 91,7%; the final verdict waits for December.
    r = judge(plan, t, figures(settings, 11, ward=[{"production_value": "95"}] * 11))
    assert one(r.plan_share) == Decimal("87.7") and one(r.expected_share) == Decimal("91.7")
    assert r.verdict is Verdict.BEHIND


# -- latest: the last figure the ward office entered -----------------------------------------

def test_latest(settings: Settings, plan: Plan, targets: dict[str, Target]) -> None:
    vaccination = targets["vaccination_rate"]  # > 98%
    ward: list[Values] = [{"vaccination_rate": "99"}, {"vaccination_rate": None},
                          {"vaccination_rate": "97.5"}, {}]
    r = judge(plan, vaccination, figures(settings, 4, ward=ward))
    assert (r.value, r.based_on, r.of_total, r.verdict) == (Decimal("97.5"), 1, 1,
                                                             Verdict.NOT_MET)
    r = judge(plan, vaccination, figures(settings, 2, ward=ward[:2]))
    assert (r.value, r.verdict) == (Decimal(99), Verdict.MET)
    # "dưới 0,04%": 0,04 itself is not under it.
    malnutrition = targets["malnutrition_rate"]
    r = judge(plan, malnutrition, figures(settings, 1, ward=[{"malnutrition_rate": "0.04"}]))
    assert r.verdict is Verdict.NOT_MET
    r = judge(plan, malnutrition, figures(settings, 1, ward=[{"malnutrition_rate": "0.03"}]))
    assert r.verdict is Verdict.MET
    r = judge(plan, malnutrition, figures(settings, 5))
    assert (r.value, r.verdict) == (None, Verdict.NO_DATA)


# -- keep_and_raise: against last year's value -----------------------------------------------

def test_keep_and_raise_share_of_groups(settings: Settings, plan: Plan,
                                        targets: dict[str, Target]) -> None:
    t = targets["drug_free_groups"]  # giữ vững và nâng: ≥ last year's share
    assert t.value is None and t.judge == "keep_and_raise"
    last_year = Decimal(80)  # 12 of 15 groups drug-free in December 2021
    kept = judge(plan, t, figures(settings, 3, groups=_answers(12, 3, "drug_free")),
                 baseline=last_year)
    assert (kept.value, kept.goal, kept.verdict) == (Decimal(80), Decimal(80), Verdict.MET)
    raised = judge(plan, t, figures(settings, 3, groups=_answers(14, 1, "drug_free")),
                   baseline=last_year)
    assert raised.verdict is Verdict.MET
    # 11 of 15 = 73,3% < 80%: lower than last year, chưa đạt.
    lower = judge(plan, t, figures(settings, 3, groups=_answers(11, 4, "drug_free")),
                  baseline=last_year)
    assert one(lower.value) == Decimal("73.3") and lower.verdict is Verdict.NOT_MET
    # No baseline (no data last year): nothing to compare with — no verdict, not "met".
    none = judge(plan, t, figures(settings, 3, groups=_answers(15, 0, "drug_free")))
    assert (none.value, none.goal, none.verdict) == (HUNDRED, None, Verdict.NO_DATA)


def test_keep_and_raise_through_judge_plan(settings: Settings, plan: Plan) -> None:
    ward: list[Values] = [{"drug_free_agencies": "95"}]
    f = figures(settings, 1, ward=ward, groups=_answers(12, 3, "drug_free"))
    # Baselines computed from last year's data, by target code.
    by_code = {r.target.code: r for r in judge_plan(
        plan, f, baselines={"drug_free_agencies": Decimal(95), "drug_free_groups": Decimal(85)})}
    assert by_code["drug_free_agencies"].verdict is Verdict.MET  # 95 kept
    assert by_code["drug_free_groups"].verdict is Verdict.NOT_MET  # 80 < 85
    # A baseline written in config wins over the computed one.
    fixed = plan.model_copy(update={"targets": [
        t.model_copy(update={"baseline": t.baseline.model_copy(
            update={"value": Decimal(96), "last_year": False})})
        if t.code == "drug_free_agencies" and t.baseline is not None else t
        for t in plan.targets]})
    by_code = {r.target.code: r for r in judge_plan(
        fixed, f, baselines={"drug_free_agencies": Decimal(90)})}
    r = by_code["drug_free_agencies"]
    assert (r.goal, r.verdict) == (Decimal(96), Verdict.NOT_MET)
    # No baselines at all: both keep-and-raise targets without a verdict.
    by_code = {r.target.code: r for r in judge_plan(plan, f)}
    assert by_code["drug_free_agencies"].verdict is Verdict.NO_DATA
    assert by_code["drug_free_groups"].verdict is Verdict.NO_DATA


# -- reference: budget revenue vs the city-assigned figure -----------------------------------

def test_reference_share_for_budget_revenue(settings: Settings, plan: Plan,
                                            targets: dict[str, Target]) -> None:
    t = targets["budget_revenue"]  # ≥ 10.082,0 triệu; reference 9.466,7 (chỉ tiêu trên giao)
    assert t.reference is not None and t.reference.value == Decimal("9466.7")
    ward: list[Values] = [*[{"budget_revenue": "840.2"}] * 11, {"budget_revenue": "839.8"}]
    r = judge(plan, t, figures(settings, 12, ward=ward))
    # 11 × 840,2 + 839,8 = 10.082,0; 10.082,0 / 9.466,7 = 106,4996…% ≈ 106,5%
    # (the plan's "+6,5% so với chỉ tiêu trên giao"); 100% of the plan: met.
    assert r.value == Decimal("10082.0")
    assert r.reference_share == HUNDRED * Decimal("10082.0") / Decimal("9466.7")
    assert one(r.reference_share) == Decimal("106.5")
    assert (r.plan_share, r.verdict) == (HUNDRED, Verdict.MET)
    # Without a figure, no reference share either.
    assert judge(plan, t, figures(settings, 1)).reference_share is None


# -- the rest of the engine ------------------------------------------------------------------

def test_change_on_last_month_only_for_rates(settings: Settings, plan: Plan,
                                             targets: dict[str, Target]) -> None:
    f = figures(settings, 2, groups=[_insured(96)] * 12)
    r = judge(plan, targets["health_insurance_rate"], f, previous=Decimal(94))
    assert r.change == Decimal(2)
    ward: list[Values] = [{"production_value": "100"}] * 2
    r = judge(plan, targets["production_value"], figures(settings, 2, ward=ward),
              previous=Decimal(100))
    assert r.change is None


def test_min_coverage_is_the_plans(settings: Settings, plan: Plan,
                                   targets: dict[str, Target]) -> None:
    """min_coverage is read from the plan: at 50%, 8 of 15 groups are enough."""
    half = plan.model_copy(update={"min_coverage": Decimal(50)})
    f = figures(settings, 3, groups=[_insured(96)] * 8)
    assert judge(half, targets["health_insurance_rate"], f).verdict is Verdict.MET
    assert judge(plan, targets["health_insurance_rate"], f).verdict is Verdict.PROVISIONAL
