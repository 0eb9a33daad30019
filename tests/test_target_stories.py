"""Stories across months for each kind of target, through the database (SQLite, PostgreSQL).

The ward is the shipped config's: 15 groups (Tổ 1-12, Bản 1-3) and the 2022 plan of
Kế hoạch 21/KH-UBND, section II.3. Reports are seeded as rows (a submitted
group_monthly report per group, a submitted ward_progress report for the ward office's
figures), as tests/test_digest.py does; Lan (Tổ 1) reports by chat where the story is
hers, and Mai (Council) reads the digest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.assembly import open_services
from models import Group, Period, Report, ReportStatus, ReportValue
from reporting.config import Settings
from reporting.digest import Digest
from reporting.digest_load import build_digest, target_results
from reporting.digest_text import render_digest_detail
from reporting.export import Exported, period_workbook, year_workbook
from reporting.periods import period_dates
from reporting.services import Services
from reporting.targets import TargetResult, Verdict
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, plain, register, submit_month

Answers = Mapping[str, str | None]
CODES = [f"to-{n}" for n in range(1, 13)] + [f"ban-{n}" for n in range(1, 4)]
HUNDRED = Decimal(100)


def _number(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None  # "yes", "good", text


async def _period(app: Services, key: str) -> int:
    async with app.sessions() as s, s.begin():
        found = await s.scalar(select(Period).where(Period.key == key))
        if found is None:
            p = period_dates(app.settings.calendar, int(key[:4]), int(key[5:]))
            found = Period(key=key, opens_on=p.opens_on, due_on=p.due_on, locks_on=p.locks_on)
            s.add(found)
            await s.flush()
        return found.id


async def seed(app: Services, key: str, *, groups: Mapping[str, Answers] | None = None,
               ward: Answers | None = None) -> None:
    """Submitted reports for the month `key`: each group's answers (by group code) and
    the ward office's figures (None: skipped, "when known")."""
    period_id = await _period(app, key)
    now = datetime(2022, 4, 1, tzinfo=UTC)
    async with app.sessions() as s, s.begin():
        ids = {g.code: g.id for g in await s.scalars(select(Group))}
        reports: list[tuple[int | None, str, Answers]] = [
            (ids[code], "group_monthly", answers) for code, answers in (groups or {}).items()]
        if ward is not None:
            reports.append((None, "ward_progress", ward))
        for group_id, dataset, answers in reports:
            report = Report(group_id=group_id, period_id=period_id, dataset=dataset,
                            status=ReportStatus.SUBMITTED, submitted_at=now, created_at=now,
                            updated_at=now)
            s.add(report)
            await s.flush()
            s.add_all([ReportValue(report_id=report.id, indicator=code, value=value,
                                   number=_number(value), updated_at=now)
                       for code, value in answers.items()])


async def results(app: Services, year: int, month: int) -> dict[str, TargetResult]:
    async with app.sessions() as s:
        found = await target_results(s, app.settings, period_dates(app.settings.calendar,
                                                                   year, month))
    return {r.target.code: r for r in found}


async def digest_of(app: Services, year: int, month: int) -> Digest:
    async with app.sessions() as s:
        return await build_digest(s, app.settings, period_dates(app.settings.calendar,
                                                                year, month),
                                  app.clock().date())


def digest_text(app: Services, digest: Digest) -> str:
    """The full table ("Xem chi tiết"): every target of the plan, one line each."""
    return plain(render_digest_detail(app, "vi", digest).text)


def line_of(text: str, label: str) -> str:
    [line] = [ln for ln in text.splitlines() if label in ln]
    return line


def label(app: Services, code: str) -> str:
    plan = app.settings.plan(2022)
    assert plan is not None
    return next(t.label.vi for t in plan.targets if t.code == code)


# -- flow_ytd --------------------------------------------------------------------------------

async def test_a_new_poor_household_in_march_keeps_the_target_not_met(
        services: Services) -> None:
    """The ward office enters 0 in January, skips February (no decision yet), enters the
    household the ward recognised in March, then zeros: "không để phát sinh" is broken
    for the year, in April and in December alike."""
    await seed(services, "2022-01", ward={"new_poor_households": "0"})
    await seed(services, "2022-02", ward={"new_poor_households": None})
    await seed(services, "2022-03", ward={"new_poor_households": "1"})
    await seed(services, "2022-04", ward={"new_poor_households": None})
    for month in range(5, 13):
        await seed(services, f"2022-{month:02d}", ward={"new_poor_households": "0"})
    february = (await results(services, 2022, 2))["new_poor_households"]
    assert (february.value, february.verdict) == (Decimal(0), Verdict.ON_TRACK)
    for month, based_on in ((3, 2), (4, 2), (12, 10)):
        r = (await results(services, 2022, month))["new_poor_households"]
        assert (r.value, r.verdict, r.met) == (Decimal(1), Verdict.NOT_MET, False), month
        assert (r.based_on, r.of_total, r.unit_of_count) == (based_on, month, "months")
    # The digest the Council reads in April and December marks it ⚠️, never ✅.
    for month in (4, 12):
        text = digest_text(services, await digest_of(services, 2022, month))
        line = line_of(text, label(services, "new_poor_households"))
        assert "⚠️" in line and "✅" not in line, line


# -- share_of_groups -------------------------------------------------------------------------

async def test_one_of_fifteen_groups_answering_yes_is_not_met(services: Services,
                                                              clock: Clock) -> None:
    """Lan reports Tổ 1 a cultured group in March; no other group has reported."""
    lan = await register(services, "1", "Lan", "to-1")
    mai = await register(services, "9", "Mai", None, "council")
    await submit_month(lan, {**LAN_MARCH, "cultured_group": "có"})
    r = (await results(services, 2022, 3))["cultured_groups_rate"]
    # 1 yes over the ward's 15 groups: 6,7%, on 1/15 answered — provisional, not ✅.
    assert r.value == HUNDRED / 15
    assert (r.based_on, r.of_total, r.verdict, r.met) == (1, 15, Verdict.PROVISIONAL, None)
    reply = await mai.send("/tonghop 2022-03 chitiet")
    line = line_of(plain(reply.messages[0].text), label(services, "cultured_groups_rate"))
    assert "1/15 tổ" in line and "6,7" in line, line
    assert "✅" not in line and "100" not in line, line


# -- cumulative ------------------------------------------------------------------------------

async def test_march_production_value_shows_ytd_share_and_pace(services: Services) -> None:
    """The ward office enters 30, 31 and 34,5 tỷ đồng for January-March."""
    for month, value in ((1, "30"), (2, "31"), (3, "34.5")):
        await seed(services, f"2022-{month:02d}", ward={"production_value": value})
    r = (await results(services, 2022, 3))["production_value"]
    assert r.value == Decimal("95.5")  # lũy kế, not March's 34,5
    assert r.plan_share is not None and round(r.plan_share, 1) == Decimal("8.0")  # of 1.192
    assert r.expected_share == Decimal(25)  # 3 of 12 months
    assert (r.verdict, r.met) == (Verdict.BEHIND, False)
    text = digest_text(services, await digest_of(services, 2022, 3))
    line = line_of(text, label(services, "production_value"))
    assert "lũy kế" in line and "8,0%" in line and "25%" in line, line
    assert "✅" not in line, line


async def test_march_production_value_is_not_rounded(services: Services) -> None:
    for month, value in ((1, "30"), (2, "31"), (3, "34.5")):
        await seed(services, f"2022-{month:02d}", ward={"production_value": value})
    text = digest_text(services, await digest_of(services, 2022, 3))
    assert "95,5" in line_of(text, label(services, "production_value"))


# -- keep_and_raise --------------------------------------------------------------------------

def _drug_free(yes: int) -> dict[str, Answers]:
    return {code: {"drug_free": "yes" if n < yes else "no"} for n, code in enumerate(CODES)}


async def test_keep_and_raise_is_compared_with_last_year(services: Services) -> None:
    """December 2021: 12 of 15 groups drug-free (80%), agencies 95% (entered in June).
    2022: March 13 of 15 (86,7%: raised), April 11 of 15 (73,3%: lower); agencies 95%
    (kept) in March, 94% in April."""
    await seed(services, "2021-12", groups=_drug_free(12))
    await seed(services, "2021-06", ward={"drug_free_agencies": "95"})
    await seed(services, "2022-03", groups=_drug_free(13), ward={"drug_free_agencies": "95"})
    await seed(services, "2022-04", groups=_drug_free(11), ward={"drug_free_agencies": "94"})
    march = await results(services, 2022, 3)
    groups, agencies = march["drug_free_groups"], march["drug_free_agencies"]
    assert (groups.goal, groups.value) == (Decimal(80), HUNDRED * 13 / 15)
    assert groups.verdict is Verdict.MET
    assert (agencies.goal, agencies.value, agencies.verdict) == (Decimal(95), Decimal(95),
                                                                 Verdict.MET)
    april = await results(services, 2022, 4)
    assert (april["drug_free_groups"].goal, april["drug_free_groups"].verdict) == (
        Decimal(80), Verdict.NOT_MET)
    assert april["drug_free_agencies"].verdict is Verdict.NOT_MET
    line = line_of(digest_text(services, await digest_of(services, 2022, 4)),
                   label(services, "drug_free_groups"))
    assert "⚠️" in line and "80" in line, line  # compared with last year's 80%


async def test_keep_and_raise_without_last_year_has_no_verdict(services: Services) -> None:
    await seed(services, "2022-03", groups=_drug_free(15), ward={"drug_free_agencies": "100"})
    r = await results(services, 2022, 3)
    for code in ("drug_free_groups", "drug_free_agencies"):
        assert (r[code].goal, r[code].verdict, r[code].met) == (None, Verdict.NO_DATA, None)


# -- a period outside the plan's year --------------------------------------------------------

async def test_a_period_outside_the_plans_year(services: Services, clock: Clock) -> None:
    """October 2026, read on 3 November 2026: the config has only the 2022 plan."""
    clock.set_local(2026, 11, 3)
    mai = await register(services, "9", "Mai", None, "council")
    await seed(services, "2026-10", groups={"to-1": LAN_MARCH | {"safe_area": "yes",
                                                                 "drug_free": "yes",
                                                                 "cultured_group": "yes"}},
               ward={"production_value": "100"})
    assert await results(services, 2026, 10) == {}
    digest = await digest_of(services, 2026, 10)
    assert digest.plan is None and digest.targets == []
    text = plain((await mai.send("/tonghop 2026-10")).messages[0].text)
    assert "2026" in text and "2022" not in text, text
    plan = services.settings.plan(2022)
    assert plan is not None
    assert not [t.label.vi for t in plan.targets if t.label.vi in text], text
    status = (await mai.send("/trangthai")).messages[0].text
    assert "10/2026" in plain(status) and "1/15" in plain(status), status


async def test_start_up_warns_when_this_year_has_no_plan(
        settings: Settings, db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """One WARNING naming the year, in the ward's time (UTC+7)."""
    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records
                if r.name == "bot.assembly" and r.levelno == logging.WARNING]

    # 31/12/2025 17:30 UTC is 00:30 on 1 January 2026 in the ward: no plan for 2026.
    with caplog.at_level(logging.WARNING, logger="bot.assembly"):
        async with open_services(settings, db_url, clock=Clock(
                datetime(2025, 12, 31, 17, 30, tzinfo=UTC)), migrate=False):
            pass
    assert warnings() == ["no plan for 2026 in config.yaml: the digest cannot judge targets"]
    # 31/12/2021 17:00 UTC is midnight, 1 January 2022, in the ward: the 2022 plan.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.assembly"):
        async with open_services(settings, db_url, clock=Clock(
                datetime(2021, 12, 31, 17, 0, tzinfo=UTC)), migrate=False):
            pass
    assert warnings() == []


async def test_trangthai_says_there_is_no_plan(services: Services, clock: Clock) -> None:
    clock.set_local(2026, 11, 3)
    mai = await register(services, "9", "Mai", None, "council")
    status = plain((await mai.send("/trangthai")).messages[0].text)
    assert "kế hoạch" in status.lower() and "2026" in status, status


# -- digest, workbook and yearly summary agree -----------------------------------------------

def _group(n: int) -> dict[str, str | None]:
    """Group n's March 2022 (n = 0…14): varied so that targets get different verdicts."""
    return {"households": "100", "cultured_families": str(97 + n % 3),
            "residents": "400", "health_insured": str(376 + n), "internet_users": "390",
            "children_under_5": "20", "children_under_6": "30",
            "safe_area": "yes" if n < 14 else "no", "drug_free": "yes" if n < 12 else "no",
            "cultured_group": "yes" if n < 13 else "no", "sanitation": "good"}


WARD_2022: dict[int, Answers] = {  # the ward office's figures, January → March
    1: {"production_value": "100", "budget_revenue": "900", "serious_incidents": "0",
        "new_poor_households": "0", "alleys_asphalted": "1", "bright_green_roads": "0"},
    2: {"production_value": "95", "budget_revenue": "800", "malnutrition_rate": "0.03",
        "new_poor_households": None, "alleys_asphalted": "0", "bright_green_roads": "2"},
    3: {"production_value": "101.5", "budget_revenue": "850", "vaccination_rate": "98",
        "nursery_enrolment": "66", "kindergarten_enrolment": "100",
        "school_enrolment": "99.5", "promotion_rate": "99.1", "cultured_agencies": "100",
        "drug_free_agencies": "96", "agencies_security_standard": "100",
        "recruitment_done": "100", "militia_training_done": None, "serious_incidents": "1"},
}


async def _seed_march(app: Services, *, reporting: int = 15) -> None:
    await seed(app, "2021-12", groups={code: {"drug_free": "yes" if n < 13 else "no"}
                                       for n, code in enumerate(CODES)})
    await seed(app, "2021-11", ward={"drug_free_agencies": "97"})
    for month, figures in WARD_2022.items():
        groups = {code: _group(n) for n, code in enumerate(CODES[:reporting])} \
            if month == 3 else None
        await seed(app, f"2022-{month:02d}", groups=groups, ward=figures)


def _sheet(wb: Workbook | Exported, title: str) -> list[tuple[object, ...]]:
    return list(wb[title].iter_rows(values_only=True))


async def _targets_sheet(app: Services) -> dict[str, dict[str, object]]:
    async with app.sessions() as s:
        wb = await period_workbook(s, app.settings, "2022-03", app.clock().date())
    header, *rows, total = _sheet(wb, "Chỉ tiêu")
    # The last row counts the verdicts, e.g. "Tổng cộng: 23 chỉ tiêu" · "9 Đạt; 2 …".
    assert total[0] is None and total[1] == f"Tổng cộng: {len(rows)} chỉ tiêu"
    assert sum(int(part.split()[0]) for part in str(total[6]).split("; ")) == len(rows)
    return {str(row[0]): dict(zip((str(h) for h in header), row, strict=True))
            for row in rows}


async def test_digest_and_workbook_agree_on_every_value(services: Services) -> None:
    await _seed_march(services)
    digest = await digest_of(services, 2022, 3)
    plan = services.settings.plan(2022)
    assert plan is not None
    by_code = {r.target.code: r for r in digest.targets}
    assert list(by_code) == [t.code for t in plan.targets]  # every target of the plan
    sheet = await _targets_sheet(services)
    assert list(sheet) == list(by_code)
    for code, r in by_code.items():
        cell = sheet[code]["Giá trị"]
        if r.value is None:
            assert cell is None, code
        else:
            assert cell == pytest.approx(float(r.value)), code
        goal = sheet[code]["Mức kế hoạch"]
        assert (goal is None) == (r.goal is None), code
        if r.goal is not None:
            assert goal == pytest.approx(float(r.goal)), code
    # The month covers every verdict, hand-checked for a few:
    verdicts = {code: r.verdict for code, r in by_code.items()}
    assert verdicts["production_value"] is Verdict.BEHIND  # 296,5 of 1.192 = 24,9% < 25%
    assert verdicts["new_poor_households"] is Verdict.ON_TRACK  # 0 so far
    assert verdicts["serious_incidents"] is Verdict.NOT_MET  # 1 in March
    assert verdicts["bright_green_roads"] is Verdict.MET  # 2 of 2, in February
    assert verdicts["vaccination_rate"] is Verdict.NOT_MET  # 98 is not "trên 98%"
    assert verdicts["militia_training"] is Verdict.NO_DATA
    # 15 × 100 households, 97/98/99 five times each: 1.470 / 1.500 = 98%: met.
    assert by_code["cultured_families_rate"].value == Decimal(98)
    assert verdicts["cultured_families_rate"] is Verdict.MET
    # 13 of 15 groups cultured: 86,7% < 90%; 14 of 15 safe: 93,3% ≥ 90%.
    assert verdicts["cultured_groups_rate"] is Verdict.NOT_MET
    assert verdicts["safe_areas"] is Verdict.MET
    # Drug-free 12 of 15 (80%) against December 2021's 13 of 15 (86,7%): lower.
    assert by_code["drug_free_groups"].goal == HUNDRED * 13 / 15
    assert verdicts["drug_free_groups"] is Verdict.NOT_MET
    assert (by_code["drug_free_agencies"].goal, verdicts["drug_free_agencies"]) == (
        Decimal(97), Verdict.NOT_MET)
    assert {Verdict.MET, Verdict.ON_TRACK, Verdict.BEHIND, Verdict.NOT_MET,
            Verdict.NO_DATA} <= set(verdicts.values())


async def test_digest_and_workbook_agree_on_every_verdict(services: Services) -> None:
    """Whatever the workbook's words, one word per verdict: a target on track in March
    is not "Đạt" for the year, and a provisional figure is not "no data"."""
    await _seed_march(services, reporting=11)  # 11 of 15: group targets provisional
    digest = await digest_of(services, 2022, 3)
    sheet = await _targets_sheet(services)
    words: dict[Verdict, set[object]] = {}
    for r in digest.targets:
        words.setdefault(r.verdict, set()).add(sheet[r.target.code]["Kết quả"])
    assert Verdict.PROVISIONAL in words and Verdict.ON_TRACK in words
    assert all(len(w) == 1 for w in words.values()), words
    assert len({next(iter(w)) for w in words.values()}) == len(words), words


async def test_digest_and_yearly_summary_agree(services: Services) -> None:
    """Every group reports the same figures in November and December 2022: each group's
    own reading of the year in the yearly workbook meets the same targets as the ward's
    December digest (among those a group's reports can be judged on)."""
    same = {code: _group(0) | {"safe_area": "no", "health_insured": "390",
                               "cultured_families": "95"} for code in CODES}
    await seed(services, "2022-11", groups=same)
    await seed(services, "2022-12", groups=same)
    december = await results(services, 2022, 12)
    async with services.sessions() as s:
        wb = await year_workbook(s, services.settings, 2022, date(2023, 1, 15))
    header, *rows = _sheet(wb, "Tổng kết năm 2022")
    columns = [str(h) for h in header]
    judged = [december[c] for c in ("cultured_families_rate", "health_insurance_rate",
                                    "internet_rate", "cultured_groups_rate", "safe_areas")]
    # 95/100 families (< 98%), 390/400 insured = 97,5% (≥ 95%), 390/400 internet
    # = 97,5% (< 98%), all cultured (100%), none safe (0%): 2 of 5 met.
    assert [r.verdict for r in judged] == [Verdict.NOT_MET, Verdict.MET, Verdict.NOT_MET,
                                           Verdict.MET, Verdict.NOT_MET]
    met = sum(r.verdict is Verdict.MET for r in judged)
    assert len(rows) == 15
    for row in rows:
        cells = dict(zip(columns, row, strict=True))
        assert (cells["Chỉ tiêu đạt"], cells["Chỉ tiêu có số liệu"]) == (met, len(judged)), row


# -- January looks back at December of the year before -----------------------------------------

async def test_januarys_change_on_last_month_reads_last_december(services: Services) -> None:
    """In January 2023 the Council sees how the cultured-family rate moved since December
    2022 (last year's data), under the 2023 plan."""
    plan_2022 = services.settings.plan(2022)
    assert plan_2022 is not None
    services.settings = services.settings.model_copy(update={"plans": [
        plan_2022, plan_2022.model_copy(update={"year": 2023})]})
    every = {code: {"households": "100", "cultured_families": "90"} for code in CODES}
    await seed(services, "2022-12", groups=every)
    await seed(services, "2023-01",
               groups={code: {"households": "100", "cultured_families": "95"}
                       for code in CODES})
    r = (await results(services, 2023, 1))["cultured_families_rate"]
    # 95% in January (15 × 95 / 15 × 100) against 90% in December: +5 points.
    assert (r.value, r.previous, r.change) == (Decimal(95), Decimal(90), Decimal(5))
    assert r.verdict is Verdict.NOT_MET  # 95% < 98%, with every group reported
    # A year-to-date kind starts again in January: no "change" against December's total.
    assert (await results(services, 2023, 1))["production_value"].change is None
