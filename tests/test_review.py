"""The year's review of a seeded 2022 (bot.demo_year), read in February 2023.

The seed's story, by the ward's list of groups: Tổ 2 never sent August, Tổ 4 never
sent February and November; Tổ 1 sent June late, Tổ 5 March and September, Tổ 8
December; Tổ 6 never signed up. Tổ 5 says it is not yet drug-free, Tổ 8 not yet "an
toàn về ANTT", Bản 3 none of the three titles. Four good deeds were proposed for
commendation (from Tổ 5, 6, 7 and 8), seven featured. The numbers a test checks are
read from the rows the seed wrote, not from the review's own code.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from itertools import pairwise

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from openpyxl import load_workbook
from sqlalchemy import delete, select

from bot.demo_year import seed_year
from models import DeedStatus, GoodDeed, Group, Period, Pledge, Report, ReportValue
from reporting.config import Settings
from reporting.doc_texts import doc_texts
from reporting.review import GroupReview, YearReview, year_review
from reporting.review_docs import commendation_document, review_files, review_workbook
from reporting.services import Services
from tests.conftest import Clock

FEBRUARY_2023 = date(2023, 2, 1)  # December 2022 locked on 10 January


@pytest.fixture
async def seeded(services: Services, clock: Clock) -> Services:
    clock.set_local(2023, 2, 1)
    async with services.sessions() as s, s.begin():
        await seed_year(s, services.settings, 2022)
    return services


async def _review(app: Services) -> YearReview:
    async with app.sessions() as s:
        return await year_review(s, app.settings, 2022, FEBRUARY_2023)


async def _december(app: Services, code: str, indicator: str) -> str | None:
    """What the group's December report says, straight from its rows."""
    async with app.sessions() as s:
        return await s.scalar(
            select(ReportValue.value).join(Report, Report.id == ReportValue.report_id)
            .join(Period, Period.id == Report.period_id).join(Group, Group.id == Report.group_id)
            .where(Group.code == code, Period.key == "2022-12",
                   ReportValue.indicator == indicator))


async def _pledge(app: Services, code: str) -> Pledge | None:
    async with app.sessions() as s:
        return await s.scalar(select(Pledge).join(Group, Group.id == Pledge.group_id)
                              .where(Group.code == code, Pledge.year == 2022))


async def test_to_4_missed_two_months_and_to_6_never_signed_up(seeded: Services) -> None:
    review = await _review(seeded)
    by = {g.code: g for g in review.groups}
    assert review.final and review.months == 12 and len(review.groups) == 15

    to_4 = by["to-4"]  # never sent February and November
    assert (to_4.on_time, to_4.late, to_4.missing) == (10, 0, 2)
    pledge = await _pledge(seeded, "to-4")
    assert pledge is not None and to_4.signed_up
    assert set(to_4.pledged) == set(pledge.titles) == {"cultured_group", "safe_area",
                                                       "drug_free"}
    assert set(to_4.achieved) == set(to_4.pledged) and to_4.kept_pledge
    assert to_4.title_report == "2022-12"
    assert to_4.households_registered == pledge.households
    assert to_4.households_achieved == int(await _december(seeded, "to-4",
                                                           "cultured_families") or -1)

    to_6 = by["to-6"]  # reported every month on time, reached every title, never signed up
    assert await _pledge(seeded, "to-6") is None
    assert not to_6.signed_up and to_6.pledged == () and to_6.households_registered is None
    assert (to_6.on_time, to_6.missing) == (12, 0)
    assert len(to_6.achieved) == 3 and not to_6.kept_pledge
    assert to_6.households_achieved == int(await _december(seeded, "to-6",
                                                           "cultured_families") or -1)
    assert (to_6.deeds_submitted, to_6.deeds_proposed) == (1, 1)

    to_5 = by["to-5"]  # March and September late; not drug-free, and did not pledge it
    assert (to_5.on_time, to_5.late) == (10, 2)
    assert await _december(seeded, "to-5", "drug_free") == "no"
    assert "drug_free" not in to_5.pledged and to_5.kept_pledge
    to_8 = by["to-8"]  # pledged "an toàn về ANTT" and did not reach it
    assert "safe_area" in to_8.pledged and "safe_area" not in to_8.achieved
    assert not to_8.kept_pledge and to_8.late == 1


async def test_the_ranking_follows_its_stated_rule(seeded: Services) -> None:
    groups = (await _review(seeded)).groups

    def rule(g: GroupReview) -> tuple[bool, int, int, int]:
        # The rule as the Tờ trình states it: kept the pledge, on time, targets, deeds.
        return (not g.kept_pledge, -g.on_time, -g.targets_met,
                -(g.deeds_featured + g.deeds_proposed))

    assert [rule(g) for g in groups] == sorted(rule(g) for g in groups)
    for n, (before, after) in enumerate(pairwise(groups), start=2):
        # Equal on every criterion: the same rank; otherwise the place in the list.
        assert after.rank == (before.rank if rule(before) == rule(after) else n)
    kept = [g.code for g in groups if g.kept_pledge]
    assert [g.code for g in groups[:len(kept)]] == kept  # every kept pledge first
    by = {g.code: g for g in groups}
    # Tổ 6 reported all twelve months on time but never signed up: below every group
    # that kept its pledge, even Tổ 5 with two late months.
    assert by["to-6"].rank > by["to-5"].rank
    assert any(a.rank == b.rank for a, b in pairwise(groups))  # a tie


async def test_the_three_lists(seeded: Services) -> None:
    review = await _review(seeded)
    cultured = [g.code for g in review.cultured]
    assert "ban-2" in cultured and "to-9" in cultured
    assert "to-1" not in cultured  # reached it, but had not signed up for it
    assert "ban-3" not in cultured  # signed up for it, did not reach it
    assert "to-6" not in cultured  # did not sign up at all
    for code in cultured:
        pledge = await _pledge(seeded, code)
        assert pledge is not None and "cultured_group" in pledge.titles
        assert await _december(seeded, code, "cultured_group") == "yes"

    async with seeded.sessions() as s:
        proposed = set(await s.scalars(select(GoodDeed.id).where(
            GoodDeed.status == DeedStatus.PROPOSED)))
        featured = set(await s.scalars(select(GoodDeed.id).where(
            GoodDeed.status == DeedStatus.FEATURED)))
    listed = {d.id for d in review.deeds}
    assert listed == proposed and len(listed) == 4 and not listed & featured
    assert {d.group_code for d in review.deeds} == {"to-5", "to-6", "to-7", "to-8"}

    leaders = review.leaders  # top 3, a tie at the edge taking all who share it
    assert [g.rank for g in leaders] == sorted(g.rank for g in leaders)
    assert all(g.rank <= 3 and g.kept_pledge for g in leaders) and len(leaders) >= 3
    assert [g.code for g in leaders] == [g.code for g in review.groups
                                        if g.rank <= 3 and g.kept_pledge]


async def test_the_workbook(seeded: Services) -> None:
    review = await _review(seeded)
    wb = load_workbook(BytesIO(_xlsx(review)))
    assert wb.sheetnames == ["Bình xét", "Tổ-Bản văn hóa", "Gia đình văn hóa",
                             "Đề nghị khen thưởng"]
    ranking = [r for r in wb["Bình xét"].iter_rows(min_row=2, values_only=True) if r[1]]
    assert [(r[0], r[1]) for r in ranking] == [(g.rank, g.code) for g in review.groups]
    rule = doc_texts()("review_rule", top=3)
    assert rule in [c for r in wb["Bình xét"].iter_rows(values_only=True) for c in r]

    cultured = [r[1] for r in wb["Tổ-Bản văn hóa"].iter_rows(min_row=2, values_only=True)]
    assert cultured == [g.code for g in review.cultured]
    families = list(wb["Gia đình văn hóa"].iter_rows(min_row=2, values_only=True))
    by_code = {r[1]: r for r in families if r[1]}
    to_4 = next(g for g in review.groups if g.code == "to-4")
    assert by_code["to-4"][3:5] == (to_4.households_registered, to_4.households_achieved)
    assert by_code["to-6"][3] is None  # not signed up
    total = families[-1]
    assert total[4] == sum(g.households_achieved or 0 for g in review.groups)

    proposals = list(wb["Đề nghị khen thưởng"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in proposals] == [*(g.name for g in review.leaders),
                                         *(d.subject for d in review.deeds)]


def _xlsx(review: YearReview) -> bytes:
    buf = BytesIO()
    review_workbook(review).save(buf)
    return buf.getvalue()


def _texts(table: docx.table.Table, column: int) -> list[str]:
    return [row.cells[column].text for row in table.rows[1:]]


async def test_the_to_trinh(seeded: Services, settings: Settings) -> None:
    review = await _review(seeded)
    doc = docx.Document(BytesIO(commendation_document(settings, review, FEBRUARY_2023)))
    section = doc.sections[0]
    assert [round(m.mm) for m in (section.page_width, section.page_height, section.top_margin,
                                  section.bottom_margin, section.left_margin,
                                  section.right_margin) if m is not None] == \
        [210, 297, 20, 20, 30, 15]
    head = doc.tables[0]
    assert head.rows[0].cells[0].text.splitlines() == ["UBND PHƯỜNG QUYẾT THẮNG",
                                                       "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"]
    assert head.rows[1].cells[0].text == "Số: …/TTr-HĐTĐKT"
    assert head.rows[1].cells[1].text == "Quyết Thắng, ngày 01 tháng 02 năm 2023"
    texts = [p.text for p in doc.paragraphs]
    title = doc.paragraphs[texts.index("TỜ TRÌNH")]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER and title.runs[0].bold
    assert "năm 2022" in doc.paragraphs[texts.index("TỜ TRÌNH") + 1].text
    to = next(p for p in doc.paragraphs if p.text.startswith("Kính gửi:"))
    assert to.alignment == WD_ALIGN_PARAGRAPH.CENTER and "phường Quyết Thắng" in to.text
    assert any(settings.plan(2022).source in t for t in texts)  # type: ignore[union-attr,operator]
    marked = [p for p in doc.paragraphs if p.text.startswith("[Văn phòng bổ sung:")]
    assert len(marked) == 2 and all(p.runs[0].font.highlight_color for p in marked)
    assert doc_texts()("review_rule", top=3) in texts

    ranking, cultured, families, collectives, deeds = doc.tables[1:6]
    assert _texts(ranking, 1) == [g.name for g in review.groups]
    assert _texts(ranking, 0) == [str(g.rank) for g in review.groups]
    assert _texts(cultured, 1) == [g.name for g in review.cultured]
    assert _texts(cultured, 2)[_texts(cultured, 1).index("Bản 2")] == "Bản văn hóa"
    assert _texts(cultured, 2)[_texts(cultured, 1).index("Tổ 9")] == "Tổ dân phố văn hóa"
    assert len(families.rows) == 1 + 15 + 1  # header, every group, the total
    assert _texts(collectives, 1) == [g.name for g in review.leaders]
    assert _texts(deeds, 1) == [d.subject for d in review.deeds]
    assert _texts(deeds, 2) == ["Tổ 5", "Tổ 8", "Tổ 6", "Tổ 7"]  # in the order they came

    to_list, sign = doc.tables[-1].rows[0].cells
    assert to_list.paragraphs[0].text == "Nơi nhận:"
    assert [p.text for p in sign.paragraphs][:2] == ["TM. HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG",
                                                     "CHỦ TỊCH"]


async def test_review_files_names_both(seeded: Services) -> None:
    async with seeded.sessions() as s:
        files = await review_files(s, seeded.settings, 2022, FEBRUARY_2023)
    assert [name for name, _ in files] == ["binh-xet-thi-dua-2022.xlsx",
                                           "to-trinh-khen-thuong-2022.docx"]
    assert load_workbook(BytesIO(files[0][1])).sheetnames[0] == "Bình xét"
    assert "TỜ TRÌNH" in [p.text for p in docx.Document(BytesIO(files[1][1])).paragraphs]


async def test_without_a_december_report_titles_come_from_the_latest(
        seeded: Services) -> None:
    """Tổ 3's December report never came: its titles and households are read from its
    November report, the latest it sent."""
    async with seeded.sessions() as s, s.begin():
        december = await s.scalar(
            select(Report).join(Period, Period.id == Report.period_id)
            .join(Group, Group.id == Report.group_id)
            .where(Group.code == "to-3", Period.key == "2022-12"))
        assert december is not None
        await s.execute(delete(ReportValue).where(ReportValue.report_id == december.id))
        await s.execute(delete(Report).where(Report.id == december.id))
    async with seeded.sessions() as s:
        november = await s.scalar(
            select(ReportValue.value).join(Report, Report.id == ReportValue.report_id)
            .join(Period, Period.id == Report.period_id).join(Group, Group.id == Report.group_id)
            .where(Group.code == "to-3", Period.key == "2022-11",
                   ReportValue.indicator == "cultured_families"))
    to_3 = next(g for g in (await _review(seeded)).groups if g.code == "to-3")
    assert to_3.title_report == "2022-11" and to_3.missing == 1
    assert to_3.households_achieved == int(november or -1)
