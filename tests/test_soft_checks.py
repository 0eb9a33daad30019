"""Issue 9, points 2 and 3: soft checks beside the hard rules, and rule messages that
name the question being answered and the other question's number.

Lan (Tổ 1) sent 120 households for February 2022; in March she types 1.200.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from models import ReportValue
from reporting.buttons import Button, ReportAction, decode
from reporting.services import Services
from reporting.soft_checks import SoftChecks, SoftIndicator
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, Person, plain, register, submit_month

CHANGED = "Số này khác nhiều so với tháng trước (120 → 1.200). Đúng không?"


async def _february_then_march(services: Services, clock: Clock) -> Person:
    """Lan sends February (120 households) and opens March's report: February's figures
    are offered ("Không thay đổi"), and a figure typed instead answers question 1."""
    clock.set_local(2022, 3, 3)
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await submit_month(lan, LAN_MARCH)
    clock.set_local(2022, 4, 3)
    await lan.send("/baocao")
    assert "Số hộ: 120 hộ" in lan.last_text and "Không thay đổi" in lan.last_text
    return lan


async def _stored(services: Services, code: str) -> tuple[str | None, str | None]:
    """(value, soft-check mark) of `code` in the latest report holding it."""
    async with services.sessions() as s:
        row = (await s.execute(select(ReportValue.value, ReportValue.soft_check)
                               .where(ReportValue.indicator == code)
                               .order_by(ReportValue.report_id.desc()).limit(1))).one()
    return row[0], row[1]


async def _finish(lan: Person, residents: str = "1.300") -> None:
    """The rest of March after households, consistent with 1.200 households."""
    for text in ["118", residents, "430", "440", "30", "40", "có", "có", "không", "1",
                 "bỏ qua"]:
        await lan.send(text)
        assert "⚠️" not in lan.all_text and "Đúng không?" not in lan.all_text, lan.all_text
    await lan.press("Gửi báo cáo")
    assert "Đã gửi báo cáo" in lan.all_text


async def test_lan_confirms_1200_households_and_the_council_sees_the_flag(
        services: Services, clock: Clock) -> None:
    lan = await _february_then_march(services, clock)
    await lan.send("1.200")
    assert CHANGED in lan.last_text and "Số hộ gia đình" in lan.last_text
    assert [o.label for o in lan.options()] == ["✅ Đúng", "✏️ Sửa"]
    # Kept at once, before any button: nothing typed is lost.
    assert await _stored(services, "households") == ("1200", "asked")
    reply = await lan.press("Đúng")
    assert reply.messages[0].edit == "1"
    assert "Câu 1. Số hộ: 1.200 hộ ✓ (đã xác nhận)" in plain(reply.messages[0].text)
    assert "Câu 2/12" in lan.last_text
    assert await _stored(services, "households") == ("1200", "confirmed")
    await _finish(lan)
    assert await _stored(services, "households") == ("1200", "confirmed")

    mai = await register(services, "c1", "Chị Mai", group=None, role="council")
    await mai.send("/tonghop chitiet")
    assert "⚠️ Số liệu cần lưu ý (1 tổ, bản): Tổ 1" in mai.last_text
    reply = await mai.send("/xuat")
    [doc] = [a for m in reply.messages for a in m.attachments]
    assert doc.data is not None
    ws = load_workbook(BytesIO(doc.data))["Số liệu tổ"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    column = rows[0].index("Số liệu cần lưu ý")
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code["to-1"][column] == "Số hộ: 120 → 1.200 (đã xác nhận)"
    assert by_code["to-2"][column] is None
    assert rows[-1][column] == "1 tổ"


async def test_lan_presses_sua_and_types_125_no_flag(services: Services,
                                                     clock: Clock) -> None:
    lan = await _february_then_march(services, clock)
    await lan.send("1.200")
    assert CHANGED in lan.last_text
    await lan.press("Sửa")
    # The same question again, the figure still shown as kept.
    assert "Câu 1/12" in lan.last_text and "Đang ghi: 1.200 hộ" in lan.last_text
    await lan.send("125")
    assert "Câu 2/12" in lan.last_text
    assert await _stored(services, "households") == ("125", None)
    await _finish(lan, residents="450")
    mai = await register(services, "c1", "Chị Mai", group=None, role="council")
    await mai.send("/tonghop chitiet")
    assert "Số liệu cần lưu ý" not in mai.last_text


async def test_typed_replies_and_a_new_figure_answer_the_check(services: Services,
                                                               clock: Clock) -> None:
    lan = await _february_then_march(services, clock)
    await lan.send("1.200")
    await lan.send("sửa")
    assert "Câu 1/12" in lan.last_text
    await lan.send("1.200")
    await lan.send("Đúng rồi")
    assert "Câu 2/12" in lan.last_text
    assert await _stored(services, "households") == ("1200", "confirmed")
    await lan.send("/baocao")  # coming back later: at question 2, the check is behind
    assert "Câu 2/12" in lan.last_text
    # A new figure typed at the check replaces the one asked about.
    await lan.send("quay lại")
    await lan.send("12")  # 120 → 12 is ÷10: asked again
    assert "(120 → 12)" in lan.last_text
    await lan.send("121")  # not "đúng" / "sửa": a new answer to the same question
    assert "Câu 2/12" in lan.last_text
    assert await _stored(services, "households") == ("121", None)


async def test_a_figure_above_the_soft_maximum_is_asked_about(services: Services) -> None:
    """No last month to compare with: the configured soft maximum (1.000 households)."""
    hung = await register(services, "200", "Trần Văn Hùng", group="to-2")
    await hung.send("/baocao")
    await hung.send("1.500")
    assert ("Số này cao hơn mức thường gặp (1.500, thường không quá 1.000). Đúng không?"
            in hung.last_text)
    await hung.press("Đúng")
    assert "Câu 2/12" in hung.last_text
    assert await _stored(services, "households") == ("1500", "confirmed")
    await hung.send("1.000")
    # Residents below households: refused by the new hard rule, naming question 1.
    await hung.send("900")
    assert ("⚠️ Số nhân khẩu (900) không thể nhỏ hơn số hộ gia đình ở câu 1 "
            "(1.500)") in hung.last_text
    assert "Câu 3/12" in hung.last_text


async def test_residents_fewer_than_households_are_refused(services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/baocao")
    for text in ["120", "118"]:
        await lan.send(text)
    await lan.send("100")
    assert ("Số nhân khẩu (100) không thể nhỏ hơn số hộ gia đình ở câu 1 (120)."
            in lan.last_text)
    assert "Câu 3/12" in lan.last_text
    await lan.send("450")
    for text in ["430", "440", "22"]:
        await lan.send(text)
    await lan.send("1")
    assert ("Số trẻ em dưới 6 tuổi (1) không thể nhỏ hơn số trẻ em dưới 5 tuổi ở câu 6 "
            "(22).") in lan.last_text
    assert "Câu 7/12" in lan.last_text


async def test_a_correction_after_submission_is_checked_too(services: Services,
                                                            clock: Clock) -> None:
    lan = await _february_then_march(services, clock)
    await lan.send("125")
    await _finish(lan, residents="450")
    await lan.send("/baocao")
    await lan.press("Sửa một mục")
    await lan.press("1. Số hộ")
    await lan.send("400")
    assert "(120 → 400)" in lan.last_text
    await lan.press("Đúng")
    # Back to the summary of the sent report, the figure confirmed.
    assert "Báo cáo đã gửi" in lan.last_text and "1. Số hộ: 400 hộ" in lan.last_text
    assert await _stored(services, "households") == ("400", "confirmed")


async def test_an_old_check_button_is_out_of_date(services: Services, clock: Clock) -> None:
    lan = await _february_then_march(services, clock)
    await lan.send("1.200")
    right = lan.find("Đúng").data
    button = decode(right)
    assert isinstance(button, Button) and button.action is ReportAction.SOFT_OK
    await lan.press("Đúng")
    reply = await lan.press_data(right)  # pressed twice
    assert reply.toast is not None and "Câu 2/12" in lan.last_text
    assert await _stored(services, "households") == ("1200", "confirmed")


def test_soft_check_thresholds() -> None:
    checks = SoftChecks(indicators={"a": SoftIndicator(soft_max=Decimal(1000)),
                                    "b": SoftIndicator(change_ratio=None),
                                    "c": SoftIndicator(change_ratio=Decimal(2))})
    assert checks.check("x", "360", "120") is None  # exactly ×3 is not "more than"
    assert checks.check("x", "361", "120") is not None
    assert checks.check("x", "40", "120") is None and checks.check("x", "39", "120")
    assert checks.check("x", "0", "120") is not None  # a figure gone to nothing
    assert checks.check("x", "5", "0") is None  # no ratio of 0
    assert checks.check("x", "5", None) is None and checks.check("x", None, "5") is None
    assert checks.check("b", "5000", "1") is None  # change check off for b
    assert checks.check("c", "241", "120") is not None
    flag = checks.check("a", "1001", None)
    assert flag is not None and flag.kind == "high" and flag.limit == 1000
    assert checks.check("a", "1000", None) is None
    assert SoftChecks(change_ratio=None).check("x", "5000", "1") is None
