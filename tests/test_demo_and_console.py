"""`thidua demo` plays its story to the end; `thidua chat` works without buttons."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.channels.console import choose, run_console
from bot.cli import main
from models import ReportValue
from reporting.messages import Option
from reporting.services import Services
from tests.helpers import make_invite


def test_demo_completes_and_prints_the_story(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no config.yaml here: the demo finds the shipped one
    monkeypatch.delenv("THIDUA_CONFIG", raising=False)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for line in ("👤 Nguyễn Thị Lan: /start", "đăng ký thành công", "👤 Nguyễn Thị Lan: 25",
                 # the rejected answer: fewer children under 6 than under 5, then 40
                 "Số trẻ em dưới 6 tuổi (25) không thể nhỏ hơn số trẻ em dưới 5 tuổi ở câu 6 (30)",
                 "👤 Nguyễn Thị Lan: 40", "bấm [✏️ Sửa một mục]",
                 "1. Số hộ: 125 hộ", "— đúng hạn", "Tháng 03/2022: ✅ đã gửi ngày 03/04/2022",
                 "⭐ Bà Lò Thị Xuân (Tổ 1)", "📬 Đã gửi xong: đã gửi tới 1/1 người.",
                 # April, unchanged: the carried figures kept in one tap
                 "Số liệu theo báo cáo tháng 03/2022:", "bấm [✅ Không thay đổi]",
                 "Giữ nguyên 10 mục theo báo cáo tháng trước",
                 "✅ Đã gửi báo cáo tháng 04/2022 của Tổ 1",
                 "✅ Demo completed"):
        assert line in out, line
    # It ends by filing the year: the six-month report and the year's review, written
    # into the working folder and named on the last lines.
    names = ["bao-cao-thi-dua-2022-H1.docx", "binh-xet-thi-dua-2022.xlsx",
             "to-trinh-khen-thuong-2022.docx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    assert [line.strip() for line in out.splitlines()[-3:]] == [str(tmp_path / n) for n in names]
    report = docx.Document(str(tmp_path / "bao-cao-thi-dua-2022-H1.docx"))
    texts = [p.text for p in report.paragraphs]
    assert "BÁO CÁO" in texts and any("6 tháng đầu năm 2022" in t for t in texts)
    proposal = docx.Document(str(tmp_path / "to-trinh-khen-thuong-2022.docx"))
    assert "TỜ TRÌNH" in [p.text for p in proposal.paragraphs]
    assert len(load_workbook(tmp_path / "binh-xet-thi-dua-2022.xlsx").sheetnames) == 4


def test_numbered_menu_choice() -> None:
    options = [Option("Có", "a"), Option("Không", "b"), Option("⏸ Tạm dừng", "c")]
    assert choose("2", options) == options[1]
    assert choose("tạm dừng", options) == options[2]
    assert choose("4", options) is None
    assert choose("120", options) is None
    # A question that asks for a number: "2" is the answer, the menu is by label only.
    assert choose("2", options, expects="number") is None
    assert choose("tạm dừng", options, expects="number") == options[2]


async def test_console_chat_registers_and_answers_by_number(
        services: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = await make_invite(services, "to-5")
    script = f"/start {code}\n/baocao\n120\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    await run_console(services)
    out = capsys.readouterr().out
    assert "đăng ký thành công" in out and "Tổ 5" in out
    assert "Câu 2/12" in out
    assert "[1] ⬅️ Quay lại" in out  # options shown as a numbered menu


async def test_console_takes_a_typed_number_as_the_answer_to_a_numeric_question(
        services: Services, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """At question 2 the menu is [1] Quay lại [2] Bỏ qua? … : "2" must be 2 families."""
    code = await make_invite(services, "to-5")
    script = f"/start {code}\n/baocao\n2\n2\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    await run_console(services)
    out = capsys.readouterr().out
    assert "[1] ⬅️ Quay lại" in out  # question 2 had a numbered menu
    assert "Câu 3/12" in out  # both "2"s were answers: question 3 is next
    async with services.sessions() as s:
        values = {v.indicator: v.value for v in await s.scalars(select(ReportValue))}
    assert values == {"households": "2", "cultured_families": "2"}
