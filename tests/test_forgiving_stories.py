"""Stories for issue 9, point 4: Lan answers as people do, and is shown fitting examples."""

from __future__ import annotations

from sqlalchemy import select

from models import ReportValue
from reporting.services import Services
from tests.helpers import LAN_MARCH, register, submit_month


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
