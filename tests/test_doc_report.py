"""The report documents (.docx) on a seeded year, opened again with python-docx.

The ward has seeded 2022 (`bot.demo_year`): fifteen groups, a few months late or never
sent, the ward office's figures, good deeds featured, proposed or still new, and leaders'
notes. The office asks for the report on March, on the second quarter, the six-month
report (sơ kết) and the year's (tổng kết); each must carry the targets exactly as the
digest and the workbook of the span's last month show them, and the months each group
sent on time, late or never.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.table import Table
from sqlalchemy import select

from bot.demo_year import LATE, MISSING, seed_year
from models import DeedStatus, GoodDeed, Group, Period, Report, ReportValue
from reporting.digest import places_for
from reporting.digest_load import group_reports, target_results
from reporting.doc_report import report_document, report_file_name
from reporting.export import period_workbook
from reporting.export_targets import requirement, verdict_text
from reporting.numbers import parse_number
from reporting.periods import period_dates
from reporting.services import Services
from reporting.spans import Span, parse_span

YEAR_DONE = date(2023, 1, 20)  # every month of 2022 has locked: the year can be reported
SPANS = ["2022-03", "2022-Q2", "2022-H1", "2022"]
SUBMITTED = re.compile(r"phải nộp (\d+) lượt báo cáo tháng; đã nộp (\d+) lượt, đạt ([\d,]+)%")
NOTE_LINE = re.compile(r"- (.+) \(tháng ([\d, ]+)\): (.+)")


async def _seeded(app: Services) -> None:
    async with app.sessions() as s, s.begin():
        await seed_year(s, app.settings, 2022)


async def _document(app: Services, span: Span, today: date = YEAR_DONE) -> DocxDocument:
    async with app.sessions() as s:
        data = await report_document(s, app.settings, span, today)
    return docx.Document(BytesIO(data))


def _table(doc: DocxDocument, *headers: str) -> Table:
    """The one table whose header row starts with `headers`."""
    found = [t for t in doc.tables if len(t.columns) >= len(headers)
             and [c.text for c in t.rows[0].cells[:len(headers)]] == list(headers)]
    assert len(found) == 1, [t.rows[0].cells[0].text for t in doc.tables]
    return found[0]


def _body(table: Table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows[1:]]


def _texts(doc: DocxDocument) -> list[str]:
    return [p.text for p in doc.paragraphs]


def _shown(text: str) -> Decimal | None:
    return None if text == "—" else parse_number(text.rstrip("%"))


def _rounded(value: Decimal | float, places: int) -> Decimal:
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    return exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


@pytest.mark.parametrize("key", SPANS)
async def test_targets_read_as_the_digest_and_the_workbook(services: Services,
                                                          key: str) -> None:
    await _seeded(services)
    span = parse_span(key)
    doc = await _document(services, span)
    last = period_dates(services.settings.calendar, 2022, span.last)
    async with services.sessions() as s:
        digest = await target_results(s, services.settings, last)
        sheet = (await period_workbook(s, services.settings, last.key, YEAR_DONE))["Chỉ tiêu"]
    workbook = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)][:-1]  # no total
    plan = services.settings.plan(2022)
    assert plan is not None and len(digest) == len(plan.targets) == len(workbook)

    rows = _body(_table(doc, "STT", "Chỉ tiêu"))
    assert len(rows) == len(plan.targets)
    judged = 0
    for row, result, cells in zip(rows, digest, workbook, strict=True):
        _, label, planned, done, _, verdict = row
        t = result.target
        assert label.startswith(t.label.vi) and cells[1] == t.label.vi
        assert planned == requirement(t, result.goal) == cells[3]
        assert verdict == verdict_text(result) == cells[6]
        shown = _shown(done)
        if result.value is None:
            assert shown is None and cells[2] is None
            continue
        judged += 1
        in_workbook = cells[2]
        assert isinstance(in_workbook, float | int)
        assert shown == _rounded(result.value, places_for(t)) \
            == _rounded(in_workbook, places_for(t)), (t.code, done, result.value, in_workbook)
    assert judged >= 10  # the seeded year gives most targets a value
    # The figures are read at the span's last month, year to date: said under the table.
    assert any(f"hết tháng {span.last}/2022" in text for text in _texts(doc))


SUMMARIES = {
    "2022-03": "Kết quả thực hiện phong trào thi đua tháng 3 năm 2022",
    "2022-Q2": "Kết quả thực hiện phong trào thi đua quý II năm 2022",
    "2022-H1": "Sơ kết phong trào thi đua 6 tháng đầu năm 2022",
    "2022-H2": "Sơ kết phong trào thi đua 6 tháng cuối năm 2022",
    "2022": "Tổng kết phong trào thi đua năm 2022",
}


async def test_letterhead_title_layout_and_signature(services: Services) -> None:
    await _seeded(services)
    for key, summary in SUMMARIES.items():
        doc = await _document(services, parse_span(key), date(2023, 1, 5))
        left, right = doc.tables[0].rows[0].cells
        assert left.text.splitlines() == ["UBND PHƯỜNG QUYẾT THẮNG",
                                          "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"]
        assert right.paragraphs[1].runs[0].underline
        number, when = doc.tables[0].rows[1].cells
        assert number.text == "Số: …/BC-HĐTĐKT"
        assert when.text == "Quyết Thắng, ngày 05 tháng 01 năm 2023"
        texts = _texts(doc)
        title = texts.index("BÁO CÁO")
        assert texts[title + 1].startswith(summary), key
        # The opening names the plan the targets come from (config's `source`).
        assert "Kế hoạch số 21/KH-UBND" in texts[title + 2]

        section = doc.sections[0]
        sizes = (section.page_width, section.page_height, section.top_margin,
                 section.bottom_margin, section.left_margin, section.right_margin)
        assert [round(m.mm) if m is not None else None for m in sizes] == \
            [210, 297, 20, 20, 30, 15]

        marked = [p.text for p in doc.paragraphs
                  if p.runs and p.runs[0].font.highlight_color is not None]
        headings = [t for t in texts if re.match(r"[IV]+\. ", t)]
        assert [h.split(".")[0] for h in headings] == ["I", "II", "III", "IV", "V", "VI"]
        # "Tồn tại, hạn chế" and "Phương hướng": marked, for the office to write.
        assert [texts.index(m) for m in marked] == [texts.index(headings[4]) + 1,
                                                    texts.index(headings[5]) + 1]

        to, sign = doc.tables[-1].rows[0].cells
        assert to.paragraphs[0].text == "Nơi nhận:"
        assert [p.text for p in sign.paragraphs][:2] == [
            "TM. HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG", "CHỦ TỊCH"]
        assert {run.font.name for p in doc.paragraphs for run in p.runs} == \
            {"Times New Roman"}


def _expected(group: int, months: list[int]) -> tuple[int, int, int]:
    """(on time, late, missing) of the seeded group at index `group` over `months`."""
    missing = [m for m in months if m in MISSING.get(group, ())]
    late = [m for m in months if m in LATE.get(group, ()) and m not in missing]
    return len(months) - len(missing) - len(late), len(late), len(missing)


def _group_table(doc: DocxDocument) -> list[list[str]]:
    return _body(_table(doc, "STT", "Tổ dân phố, bản", "Số tháng đúng hạn"))


async def test_completeness_per_group(services: Services) -> None:
    """Tổ 4 never sent February and November; Tổ 5 sent March and September late."""
    await _seeded(services)
    for key in SPANS:
        span = parse_span(key)
        doc = await _document(services, span)
        rows = _group_table(doc)
        groups, total = rows[:-1], rows[-1]
        assert len(groups) == len(services.settings.groups)
        for n, row in enumerate(groups):
            assert tuple(int(v) for v in row[2:5]) == _expected(n, span.months), (key, row)
        tổ_4, tổ_5 = groups[3], groups[4]
        assert tổ_4[1] == "Tổ 4" and tổ_5[1] == "Tổ 5"
        # The note names the months: late ones, then those never sent.
        assert [int(m) for m in re.findall(r"\d+", tổ_4[5])] == \
            [m for m in span.months if m in MISSING[3]]
        assert [int(m) for m in re.findall(r"\d+", tổ_5[5])] == \
            [m for m in span.months if m in LATE[4]]
        sums = [sum(int(r[c]) for r in groups) for c in (2, 3, 4)]
        assert [int(v) for v in total[2:5]] == sums
        assert sum(sums) == len(groups) * len(span.months)
        # The ward's totals and rate, said above the table.
        [said] = [m for t in _texts(doc) if (m := SUBMITTED.search(t)) is not None]
        assert int(said.group(1)) == sum(sums) and int(said.group(2)) == sums[0] + sums[1]
        assert parse_number(said.group(3)) == _rounded(
            Decimal(100 * (sums[0] + sums[1])) / sum(sums), 1)


async def test_a_month_not_yet_due_is_not_counted_missing(services: Services) -> None:
    """Tổ 2 never sent August. Drafted on 8 September, before August's period locks
    (10 September), the third quarter's report does not count it missing yet, and says
    which months are not counted; after the lock it does."""
    await _seeded(services)
    early = await _document(services, parse_span("2022-Q3"), date(2022, 9, 8))
    rows = _group_table(early)
    assert rows[1][1] == "Tổ 2" and rows[1][2:5] == ["2", "0", "0"]
    assert any("tháng 8, 9 chưa đến hạn khóa sổ" in t for t in _texts(early))
    later = _group_table(await _document(services, parse_span("2022-Q3"), YEAR_DONE))
    assert later[1][2:5] == ["2", "0", "1"]


def _deed_table(doc: DocxDocument) -> list[list[str]]:
    return _body(_table(doc, "STT", "Tổ dân phố, bản", "Người, tập thể"))


async def test_featured_and_proposed_deeds_of_the_span(services: Services) -> None:
    await _seeded(services)
    tz = services.settings.ward.tz
    labels = {c.label.vi for c in services.settings.good_deeds.categories}
    async with services.sessions() as s:
        every = list(await s.scalars(select(GoodDeed)))
    assert any(d.status == DeedStatus.NEW for d in every)  # new ones stay out
    for key in ("2022-Q2", "2022"):
        span = parse_span(key)
        shown = [d for d in every if d.submitted_at is not None
                 and d.submitted_at.astimezone(tz).month in span.months
                 and d.status in (DeedStatus.FEATURED, DeedStatus.PROPOSED)]
        rows = _deed_table(await _document(services, span))
        assert sorted(r[2] for r in rows) == sorted(d.subject_name or "" for d in shown)
        proposed = [r for r in rows if r[5] == "Đề nghị khen thưởng"]
        assert len(proposed) == sum(d.status == DeedStatus.PROPOSED for d in shown) > 0
        assert all(r[3] in labels for r in rows)


async def test_leaders_notes_gathered_per_group(services: Services) -> None:
    """Each group's request once, with every month it wrote it (the digest's reading of
    the reports says which), even typed again differently (case, final stop)."""
    await _seeded(services)
    async with services.sessions() as s, s.begin():
        # Tổ 7 asked for the same lamp in March and December: December's typed anew.
        december = await s.scalar(
            select(ReportValue).join(Report, Report.id == ReportValue.report_id)
            .join(Group, Group.id == Report.group_id).join(Period, Period.id == Report.period_id)
            .where(ReportValue.indicator == "notes", Group.name == "Tổ 7",
                   Period.key == "2022-12"))
        assert december is not None and december.value
        december.value = december.value.lower().rstrip(".") + "  "
    for key in ("2022-H1", "2022"):
        span = parse_span(key)
        expected: dict[str, set[int]] = {}
        async with services.sessions() as s:
            for month in span.months:
                for g in await group_reports(s, f"2022-{month:02d}"):
                    if g.submitted and g.values.get("notes"):
                        expected.setdefault(g.name, set()).add(month)
        found: dict[str, set[int]] = {}
        for text in _texts(await _document(services, span)):
            if (m := NOTE_LINE.fullmatch(text)) is not None:
                assert m.group(1) not in found, f"{m.group(1)} twice for one request"
                found[m.group(1)] = {int(x) for x in m.group(2).split(", ")}
        assert found == expected and found
        if span.kind == "year":
            assert found["Tổ 7"] == {3, 12}  # one line, both months


async def test_a_year_without_a_plan_says_so(services: Services) -> None:
    doc = await _document(services, parse_span("2023-Q1"), date(2023, 4, 20))
    texts = _texts(doc)
    assert any("chưa được cập nhật" in t for t in texts)
    assert not [t for t in doc.tables if t.rows[0].cells[0].text == "STT"
                and t.rows[0].cells[1].text == "Chỉ tiêu"]
    assert texts[texts.index("BÁO CÁO") + 2].startswith("Trên cơ sở")  # no plan to cite


def test_file_names() -> None:
    assert report_file_name(parse_span("2022-H1")) == "bao-cao-thi-dua-2022-H1.docx"
    assert report_file_name(parse_span("2022-03")) == "bao-cao-thi-dua-2022-03.docx"
    assert report_file_name(parse_span("2022")) == "bao-cao-thi-dua-2022.docx"
