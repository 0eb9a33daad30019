"""Stories for issue 9, point 4: Lan answers as people do, and is shown fitting examples."""

from __future__ import annotations

from sqlalchemy import select

from models import ReportValue
from reporting.services import Services
from tests.helpers import LAN_MARCH, Person, register, submit_month


async def _values(services: Services) -> dict[str, str | None]:
    async with services.sessions() as s:
        return {v.indicator: v.value for v in await s.scalars(select(ReportValue))}


async def test_lan_says_none_in_words_and_zero_is_stored(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    answers = {**LAN_MARCH, "cultured_families": "chưa có", "children_under_5": "Không có ai",
               "children_under_6": "ko có ai"}
    await submit_month(lan, answers)
    values = await _values(services)
    assert values["cultured_families"] == "0"
    assert values["children_under_5"] == values["children_under_6"] == "0"
    assert values["households"] == "120"


async def test_hung_sees_examples_of_the_right_kind(services: Services) -> None:
    hung = await register(services, "2", "Hùng", "to-2")
    await hung.send("/baocao")
    assert "ví dụ 120" in hung.last_text  # households
    await hung.send("không ai")  # none: 0 households is a figure, not an error
    assert "Câu 2/12" in hung.last_text
    await hung.send("chưa có")
    await hung.send("bốn trăm")
    assert "⚠️" in hung.last_text and "ví dụ 450" in hung.last_text  # residents
    await hung.send("450")
    assert "Câu 4/12" in hung.last_text
    values = await _values(services)
    assert values == {"households": "0", "cultured_families": "0", "residents": "450"}


async def _to_residents(person: Person) -> None:
    await person.send("/baocao")
    await person.send("120")
    await person.send("118")
    assert "Câu 3/12" in person.last_text


async def test_minh_confirms_1234_typed_with_a_comma(services: Services) -> None:
    minh = await register(services, "3", "Minh", "to-3")
    await _to_residents(minh)
    await minh.send("1,234")
    assert "Có phải là 1.234 (một nghìn hai trăm ba mươi tư) không?" in minh.last_text
    assert await _values(services) == {"households": "120", "cultured_families": "118"}
    await minh.press("Đúng")
    assert "Câu 4/12" in minh.last_text
    assert (await _values(services))["residents"] == "1234"


async def test_minh_retypes_or_answers_in_words(services: Services) -> None:
    minh = await register(services, "3", "Minh", "to-3")
    await _to_residents(minh)
    await minh.send("1,234")
    await minh.press("Gõ lại")
    assert "Câu 3/12" in minh.last_text and "Ý là" not in minh.last_text
    await minh.send("2,345")
    assert "Có phải là 2.345" in minh.last_text
    await minh.send("không")  # no: the question again, nothing stored
    assert "Câu 3/12" in minh.last_text
    assert "residents" not in await _values(services)
    await minh.send("3,456")
    await minh.send("đúng")
    assert (await _values(services))["residents"] == "3456"
    await minh.send("3,500")  # health insured: confirmed, but over the residents: refused
    await minh.send("có")
    assert "không thể lớn hơn" in minh.last_text and "Câu 4/12" in minh.last_text
    await minh.send("3,000")  # typed straight over the question: asked again
    await minh.send("450")  # ...and a plain figure typed instead of answering the prompt
    assert (await _values(services))["health_insured"] == "450"
    assert "Câu 5/12" in minh.last_text


async def test_mai_corrects_from_the_summary_with_a_comma(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    await submit_month(lan, LAN_MARCH)
    await lan.send("/baocao")
    await lan.press("Sửa một mục")
    await lan.press("3. Nhân khẩu")
    await lan.send("1,450")
    await lan.press("Đúng")
    assert "450 người → 1.450 người" in lan.all_text  # back at the summary, corrected
    assert (await _values(services))["residents"] == "1450"


async def test_an_old_confirm_button_does_nothing(services: Services) -> None:
    minh = await register(services, "3", "Minh", "to-3")
    await _to_residents(minh)
    await minh.send("1,234")
    stale = minh.find("Đúng").data
    await minh.send("1234")
    assert "Câu 4/12" in minh.last_text
    await minh.press_data(stale)
    assert (await _values(services))["residents"] == "1234"
    assert "Câu 4/12" in minh.last_text
