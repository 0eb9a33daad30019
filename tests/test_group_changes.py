"""Stories of groups over time: Tổ 11 and Tổ 12 merge into Tổ 13 in July, Tổ 1 is
renamed, Tổ 5 splits in January; reports stay with the group of their month."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from bot.assembly import open_services
from models import ChangeKind, DeedStatus, Group, GroupLineage, Member, Period, Report
from models.queries import group_by_code
from reporting.config import Settings
from reporting.digest_load import build_digest, group_reports
from reporting.lineage import origin_note
from reporting.periods import period_dates
from reporting.services import Services
from reporting.yearly import ABSENT, LATE, MISSING, ON_TIME, year_summary
from scheduler.audience import leaders
from tests.conftest import Clock
from tests.group_changes_helpers import changed, merged_in_july
from tests.helpers import Person, register
from tests.test_export import insert_deed, insert_report, local


def month_values(residents: int, insured: int, households: int, cultured: str
                 ) -> dict[str, str | None]:
    """A month's figures: everyone online and in cultured families, as given otherwise."""
    return {"households": str(households), "cultured_families": str(households),
            "residents": str(residents), "health_insured": str(insured),
            "internet_users": str(residents), "safe_area": "yes", "drug_free": "yes",
            "cultured_group": cultured}


async def snapshot(app: Services) -> tuple[list[Any], list[Any], list[Any]]:
    async with app.sessions() as s:
        groups = [(g.id, g.code, g.name, g.active, g.valid_from, g.valid_until)
                  for g in await s.scalars(select(Group).order_by(Group.id))]
        edges = [(e.id, e.parent_id, e.child_id, e.kind, e.from_key)
                 for e in await s.scalars(select(GroupLineage).order_by(GroupLineage.id))]
        members = [(m.id, m.group_id) for m in await s.scalars(select(Member).order_by(Member.id))]
    return groups, edges, members


async def test_merge_in_july_adds_both_predecessors_to_the_year(
        services: Services, db_url: str, clock: Clock) -> None:
    # Lan leads Tổ 11, Hùng Tổ 12; they report January to June (Lan misses May, Hùng
    # is late in March), then the ward merges the two into Tổ 13 from July.
    lan = await register(services, "111", "Nguyễn Thị Lan", group="to-11")
    hung = await register(services, "122", "Trần Văn Hùng", group="to-12")
    async with services.sessions() as s, s.begin():
        ids = {m.display_name: m.id for m in await s.scalars(select(Member))}
        for month in range(1, 7):
            key = f"2022-{month:02d}"
            if month != 5:
                await insert_report(s, services.settings, key, "to-11",
                                    month_values(400, 400, 100, "no"), at=local(2022, month, 3))
            await insert_report(s, services.settings, key, "to-12",
                                month_values(400, 320, 100, "yes"), late=month == 3,
                                at=local(2022, month, 3))
        await insert_deed(s, "to-11", ids[lan.name], DeedStatus.NEW, local(2022, 3, 9), "Bà Mai")
        await insert_deed(s, "to-12", ids[hung.name], DeedStatus.FEATURED, local(2022, 5, 9),
                          "Ông Pọm")
    merged = merged_in_july()
    async with open_services(merged, db_url, clock=clock, migrate=False) as app:
        before = await snapshot(app)
        async with app.sessions() as s, s.begin():
            for month in range(7, 13):
                await insert_report(s, merged, f"2022-{month:02d}", "to-13",
                                    month_values(800, 760, 200, "yes"), at=local(2022, month, 3))
            await insert_deed(s, "to-13", ids[lan.name], DeedStatus.PROPOSED, local(2022, 9, 9),
                              "Chị Én")
        async with app.sessions() as s:
            june = await group_reports(s, "2022-06")
            july = await build_digest(s, merged, period_dates(merged.calendar, 2022, 7),
                                      date(2022, 7, 20))
            summary = await year_summary(s, merged, 2022, date(2023, 1, 20))
            to13 = await group_by_code(s, "to-13")
            moved = {m.display_name: m.group_id for m in await s.scalars(select(Member))}
            july_leaders = {p.member_id for p in await leaders(s, "2022-07")}
            june_leaders = await leaders(s, "2022-06")
    # June is read as it was: fifteen groups, both predecessors with their reports.
    assert len(june) == 15
    assert {g.code: g.submitted for g in june if g.code in ("to-11", "to-12")} == {
        "to-11": True, "to-12": True}
    # July: fourteen, Tổ 13 among them, Tổ 11 and Tổ 12 gone.
    codes = [g.code for g in july.groups]
    assert len(codes) == 14 and "to-13" in codes and "to-11" not in codes
    # Lan and Hùng now lead Tổ 13, and July's reminders go to them as its leaders.
    assert to13 is not None and moved == {lan.name: to13.id, hung.name: to13.id}
    assert july_leaders == {ids[lan.name], ids[hung.name]}
    assert all(p.group_id != to13.id for p in june_leaders)

    rows = {g.code: g for g in summary.groups}
    assert "to-11" not in rows and "to-12" not in rows and len(rows) == 14
    year = rows["to-13"]
    # January to June from the predecessors (March late: Hùng; May missing: Lan),
    # July to December its own.
    assert year.months[3] == LATE and year.months[5] == MISSING
    assert (year.count(ON_TIME), year.count(LATE), year.count(MISSING)) == (10, 1, 1)
    # Health insurance over the year's sums: (5×400 + 6×320 + 6×760) / (5×400 + 6×400
    # + 6×800) = 92,2% < 95%; cultured group: 12 "yes" months of 17 = 70,6% < 90%.
    # Tổ 13's own months alone would meet all five (760/800 = 95%).
    assert (year.targets_met, year.targets_known) == (3, 5)
    assert (year.deeds_submitted, year.deeds_featured, year.deeds_proposed) == (3, 1, 1)
    assert origin_note(list(year.origins)) == "hợp nhất từ Tổ 11, Tổ 12 từ 07/2022"

    # Starting again with the same config changes nothing.
    async with open_services(merged, db_url, clock=clock, migrate=False) as again:
        after = await snapshot(again)
    assert before == after
    kinds = {(e[3], e[4]) for e in after[1]}
    assert kinds == {(ChangeKind.MERGE, "2022-07")} and len(after[1]) == 2


async def test_a_renamed_group_keeps_its_history(
        services: Services, db_url: str, clock: Clock) -> None:
    async with services.sessions() as s, s.begin():
        await insert_report(s, services.settings, "2022-03", "to-1",
                            month_values(400, 400, 100, "yes"), at=local(2022, 3, 3))
    renamed = changed([], [], [{"month": "2022-07", "rename": {"to-1": "Tổ dân phố Chiềng Lề"}}],
                      rename={"to-1": "Tổ dân phố Chiềng Lề"})
    async with open_services(renamed, db_url, clock=clock, migrate=False) as app, \
            app.sessions() as s:
        march = await group_reports(s, "2022-03")
        summary = await year_summary(s, renamed, 2022, date(2023, 1, 20))
    # March's report is still Tổ 1's, now under its new name; fifteen groups all year.
    first = next(g for g in march if g.code == "to-1")
    assert first.name == "Tổ dân phố Chiềng Lề" and first.submitted and len(march) == 15
    row = next(g for g in summary.groups if g.code == "to-1")
    assert row.months[3] == ON_TIME and len(summary.groups) == 15
    assert origin_note(list(row.origins)) == "đổi tên từ 07/2022"


def split_in_january() -> Settings:
    return changed(["to-5"], [("to-5a", "Tổ 5A"), ("to-5b", "Tổ 5B")], [
        {"month": "2023-01", "split": {"from": "to-5", "into": [
            {"code": "to-5a", "name": "Tổ 5A"}, {"code": "to-5b", "name": "Tổ 5B"}]}}])


async def test_a_split_from_january_leaves_the_old_year_to_the_parent(
        services: Services, db_url: str, clock: Clock) -> None:
    thao = await register(services, "155", "Lò Thị Thảo", group="to-5")
    async with services.sessions() as s, s.begin():
        for month in (11, 12):
            await insert_report(s, services.settings, f"2022-{month:02d}", "to-5",
                                month_values(600, 600, 150, "yes"), at=local(2022, month, 3))
    split = split_in_january()
    async with open_services(split, db_url, clock=clock, migrate=False) as app:
        async with app.sessions() as s, s.begin():
            await insert_report(s, split, "2023-01", "to-5a",
                                month_values(300, 300, 80, "yes"), at=local(2023, 1, 3))
        async with app.sessions() as s:
            december = {g.code for g in await group_reports(s, "2022-12")}
            january = {g.code for g in await group_reports(s, "2023-01")}
            y2022 = {g.code: g for g in (await year_summary(
                s, split, 2022, date(2023, 1, 20))).groups}
            y2023 = {g.code: g for g in (await year_summary(
                s, split, 2023, date(2023, 2, 20))).groups}
            thao_group = await s.scalar(select(Member.group_id).where(
                Member.display_name == thao.name))
            to5 = await group_by_code(s, "to-5")
    assert "to-5" in december and not {"to-5a", "to-5b"} & december
    assert {"to-5a", "to-5b"} <= january and "to-5" not in january and len(january) == 16
    # 2022 belongs to Tổ 5; 2023 to its successors, each saying where it came from.
    assert y2022["to-5"].months[12] == ON_TIME and "to-5a" not in y2022
    assert "to-5" not in y2023
    assert y2023["to-5a"].months[1] == ON_TIME and y2023["to-5b"].months[1] == MISSING
    assert origin_note(list(y2023["to-5b"].origins)) == "tách từ Tổ 5 từ 01/2023"
    # Which new group Thảo leads is for an admin to say: she stays with Tổ 5.
    assert to5 is not None and thao_group == to5.id and not to5.active


async def test_a_split_in_july_marks_months_before_a_group_existed(
        services: Services, db_url: str, clock: Clock) -> None:
    """A split in July: the new groups' first half-year is marked absent, not missing."""
    split = changed(["to-5"], [("to-5a", "Tổ 5A"), ("to-5b", "Tổ 5B")], [
        {"month": "2022-07", "split": {"from": "to-5", "into": [
            {"code": "to-5a", "name": "Tổ 5A"}, {"code": "to-5b", "name": "Tổ 5B"}]}}])
    async with open_services(split, db_url, clock=clock, migrate=False) as app, \
            app.sessions() as s:
        rows = {g.code: g for g in (await year_summary(s, split, 2022,
                                                          date(2023, 1, 20))).groups}
    assert rows["to-5"].months[6] == MISSING and rows["to-5"].months[7] == ABSENT
    assert rows["to-5a"].months[6] == ABSENT and rows["to-5a"].months[7] == MISSING
    assert rows["to-5a"].count(MISSING) == 6


def test_settings_name_the_history(settings: Settings) -> None:
    history = merged_in_july().group_history
    by_code = {v.code: v for v in history.versions}
    assert (by_code["to-11"].valid_until, by_code["to-11"].current) == ("2022-07", False)
    assert (by_code["to-13"].valid_from, by_code["to-13"].valid_until) == ("2022-07", None)
    assert by_code["to-1"].valid_from is None and by_code["to-1"].current
    # Without changes every group is today's, valid always.
    plain = settings.group_history
    assert not plain.edges and all(v.valid_from is None and v.valid_until is None
                                   for v in plain.versions)


async def test_db_upgrade_applies_the_changes(cli_db: str, monkeypatch: Any,
                                              tmp_path: Any) -> None:
    from bot.subcommands import db_upgrade
    from models.db import make_engine, make_sessions

    merged = merged_in_july()
    assert await db_upgrade(merged) == 0
    engine = make_engine(cli_db)
    try:
        async with make_sessions(engine)() as s:
            rows = {g.code: (g.active, g.valid_from, g.valid_until)
                    for g in await s.scalars(select(Group))}
    finally:
        await engine.dispose()
    assert rows["to-12"] == (False, None, "2022-07") and rows["to-13"] == (True, "2022-07", None)
    assert len(rows) == 16




async def test_a_leader_moved_by_a_merge_reports_for_the_new_group_from_its_month(
        services: Services, db_url: str, clock: Clock) -> None:
    lan = await register(services, "111", "Nguyễn Thị Lan", group="to-11")
    async with open_services(merged_in_july(), db_url, clock=clock, migrate=False) as app:
        lan = Person(app, lan.user_id, lan.name)
        # 2 July: June's window is still open, but June belongs to Tổ 11 and Tổ 12.
        clock.set_local(2022, 7, 2)
        await lan.send("/baocao")
        assert "07/2022" in lan.last_text and "06/2022" in lan.last_text
        async with app.sessions() as s:
            assert (await s.scalar(select(func.count()).select_from(Report))) == 0
        # 26 July: July's window, Tổ 13's first month.
        clock.set_local(2022, 7, 26)
        await lan.send("/baocao")
        async with app.sessions() as s:
            report = await s.scalar(select(Report))
            to13 = await group_by_code(s, "to-13")
        assert report is not None and to13 is not None and report.group_id == to13.id


async def test_a_leader_of_a_split_group_is_told_to_ask_for_a_new_code(
        services: Services, db_url: str, clock: Clock) -> None:
    thao = await register(services, "155", "Lò Thị Thảo", group="to-5")
    async with open_services(split_in_january(), db_url, clock=clock, migrate=False) as app:
        thao = Person(app, thao.user_id, thao.name)
        clock.set_local(2023, 1, 2)  # December 2022 is still Tổ 5's to report
        await thao.send("/baocao")
        assert "12/2022" in thao.last_text
        clock.set_local(2023, 1, 26)  # January 2023: Tổ 5 no longer reports
        await thao.send("/baocao")
        assert "01/2023" in thao.last_text
        # December's report was started; January's was refused, not made for a dead group.
        async with app.sessions() as s:
            keys = (await s.scalars(select(Period.key).join(
                Report, Report.period_id == Period.id))).all()
        assert keys == ["2022-12"]
