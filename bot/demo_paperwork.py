"""The demo's last act: a whole year filed as the ward files it.

After the chat story, the rest of 2022 is seeded (`bot.demo_year`: fifteen groups,
twelve months, sign-ups and good deeds; Tổ 1's own reports from the story are kept),
and the documents the ward office files are written into the working folder: the
six-month report (báo cáo sơ kết, 2022-H1) and the year's review (the ranking workbook
and the Tờ trình đề nghị khen thưởng).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.demo_year import seed_year
from reporting.doc_report import report_document, report_file_name
from reporting.review_docs import review_files
from reporting.services import Services
from reporting.spans import parse_span

# The dates the documents carry: the six-month report early in July, the review once
# December's reports have locked.
H1_ON = date(2022, 7, 5)
REVIEW_ON = date(2023, 1, 16)


async def write_paperwork(services: Services, folder: Path) -> list[Path]:
    """Seed the rest of 2022, write the documents into `folder`, return their paths."""
    settings = services.settings
    async with services.sessions() as session, session.begin():
        seeded = await seed_year(session, settings, 2022)
    print(f"\nGiả lập cả năm 2022: {seeded.reports} báo cáo tháng của các tổ, bản, "
          f"{seeded.pledges} bản đăng ký thi đua, {seeded.deeds} gương người tốt, việc tốt.")
    span = parse_span("2022-H1")
    async with services.sessions() as session:
        files = [(report_file_name(span),
                  await report_document(session, settings, span, H1_ON)),
                 *await review_files(session, settings, 2022, REVIEW_ON)]
    written = []
    for name, data in files:
        path = folder / name
        path.write_bytes(data)
        written.append(path)
    return written
