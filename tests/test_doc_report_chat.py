"""Asking for a report document: `/vanban` in chat and `thidua document` on the command line.

Mai sits on the Council; Lan leads Tổ 1. It is 3 April 2022 and the ward has its year
seeded. Mai asks for the six-month report, the second quarter's, and the last month
whose figures are final; Lan, who may see only her own group, is refused. The ward
office writes the same documents from the command line.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import docx
import pytest

from bot.cli import main
from bot.demo_year import seed_year
from handlers.router import handle
from reporting.messages import Incoming, Reply
from reporting.services import Services
from reporting.span_words import read_span
from reporting.spans import Span
from tests.helpers import Person, register

TODAY = date(2022, 4, 3)


def _document(reply: Reply) -> tuple[str, docx.document.Document, str | None]:
    [message] = reply.messages
    [attachment] = message.attachments
    assert attachment.kind == "document"
    return attachment.filename, docx.Document(BytesIO(attachment.data)), attachment.caption


async def _ward(app: Services) -> tuple[Person, Person]:
    async with app.sessions() as s, s.begin():
        await seed_year(s, app.settings, 2022)
    mai = await register(app, "5", "Mai", group=None, role="council")
    lan = await register(app, "1", "Lan")
    return mai, lan


async def test_council_gets_the_document_and_a_leader_does_not(services: Services) -> None:
    mai, lan = await _ward(services)

    name, doc, caption = _document(await mai.send("/vanban 2022-H1"))
    assert name == "bao-cao-thi-dua-2022-H1.docx"
    assert caption and "6 tháng đầu năm 2022" in caption
    texts = [p.text for p in doc.paragraphs]
    assert texts[texts.index("BÁO CÁO") + 1].startswith("Sơ kết")
    plan = services.settings.plan(2022)
    assert plan is not None
    targets = [t for t in doc.tables if t.rows[0].cells[1].text == "Chỉ tiêu"]
    assert len(targets) == 1 and len(targets[0].rows) == 1 + len(plan.targets)

    # People's words for the same spans.
    for words, file_name in (("6 tháng đầu năm 2022", "bao-cao-thi-dua-2022-H1.docx"),
                             ("quý II/2022", "bao-cao-thi-dua-2022-Q2.docx"),
                             ("Quy 1 nam 2022", "bao-cao-thi-dua-2022-Q1.docx"),
                             ("tháng 3/2022", "bao-cao-thi-dua-2022-03.docx")):
        assert _document(await mai.send(f"/vanban {words}"))[0] == file_name, words
    # Without a period: February, the last month locked on 3 April (March locks on 10 April).
    assert _document(await mai.send("/document"))[0] == "bao-cao-thi-dua-2022-02.docx"

    await mai.send("/trogiup")
    assert "/vanban" in mai.last_text
    await lan.send("/trogiup")
    assert "/vanban" not in lan.last_text
    refused = await lan.send("/vanban 2022-H1")
    assert lan.last_text == services.t("council_only", "vi")
    assert not any(m.attachments for m in refused.messages)


async def test_unknown_or_future_periods_are_explained(services: Services) -> None:
    mai, _ = await _ward(services)
    for text in ("/vanban quý 5/2022", "/vanban hôm qua", "/vanban 2022-13"):
        reply = await mai.send(text)
        assert not reply.messages[0].attachments
        assert "/vanban quý II/2022" in mai.last_text, text  # examples to copy
    reply = await mai.send("/vanban 6 tháng cuối năm 2022")
    assert not reply.messages[0].attachments and "2022-H2" in mai.last_text


async def test_not_in_a_group_that_is_not_the_councils(services: Services) -> None:
    mai, _ = await _ward(services)
    inc = Incoming(channel="test", chat_id="-100777", user_id=mai.user_id, display_name="Mai",
                   text="/vanban 2022-H1", command="vanban", args=("2022-H1",), private=False)
    reply = await handle(services, inc)
    assert [m.text for m in reply.messages] == [services.t("council_chat_only", "vi")]
    assert not reply.messages[0].attachments


@pytest.mark.parametrize(("text", "span"), [
    ("2022-H1", Span(2022, 1, 6, "half")), ("2022-q2", Span(2022, 4, 6, "quarter")),
    ("2022", Span(2022, 1, 12, "year")), ("năm 2022", Span(2022, 1, 12, "year")),
    ("Năm 2021", Span(2021, 1, 12, "year")),
    ("quý 2/2022", Span(2022, 4, 6, "quarter")), ("quý II/2022", Span(2022, 4, 6, "quarter")),
    ("Quý IV năm 2021", Span(2021, 10, 12, "quarter")),
    ("quy iii 2022", Span(2022, 7, 9, "quarter")), ("Q1/2022", Span(2022, 1, 3, "quarter")),
    ("6 tháng đầu năm 2022", Span(2022, 1, 6, "half")),
    ("6 thang cuoi nam 2021", Span(2021, 7, 12, "half")),
    ("sáu tháng đầu năm", Span(2022, 1, 6, "half")),
    ("6 tháng cuối năm", Span(2021, 7, 12, "half")),  # in April: last year's
    ("quý 2", Span(2022, 4, 6, "quarter")), ("quý 3", Span(2021, 7, 9, "quarter")),
    ("tháng 3/2022", Span(2022, 3, 3, "month")), ("T3/2022", Span(2022, 3, 3, "month")),
    ("tháng 12", Span(2021, 12, 12, "month")),
])
def test_people_write_periods_so(text: str, span: Span) -> None:
    assert read_span(text, TODAY) == span


@pytest.mark.parametrize("text", ["quý 5/2022", "quý V/2022", "6 tháng giữa năm 2022",
                                  "năm 1999", "2022-Q0", "3", "", "x" * 200])
def test_not_periods(text: str) -> None:
    with pytest.raises(ValueError):
        read_span(text, TODAY)


def test_cli_writes_the_document(seeded_cli_db: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["document", "--period", "2022-H1"]) == 0
    assert capsys.readouterr().out.split() == ["bao-cao-thi-dua-2022-H1.docx"]
    doc = docx.Document(str(tmp_path / "bao-cao-thi-dua-2022-H1.docx"))
    texts = [p.text for p in doc.paragraphs]
    assert texts[texts.index("BÁO CÁO") + 1].startswith("Sơ kết")

    out = tmp_path / "van-ban" / "tong-ket.docx"
    out.parent.mkdir()
    assert main(["document", "--period", "2022", "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out)]
    texts = [p.text for p in docx.Document(str(out)).paragraphs]
    assert texts[texts.index("BÁO CÁO") + 1].startswith("Tổng kết")


def test_cli_refuses_a_bad_period(seeded_cli_db: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["document", "--period", "2022-H3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["Not a period: '2022-H3'. Use 2022-03, 2022-Q2, 2022-H1, 2022-H2 or 2022"]
    assert not list(tmp_path.glob("*.docx"))
    with pytest.raises(SystemExit) as exc:
        main(["document"])
    assert exc.value.code == 2
