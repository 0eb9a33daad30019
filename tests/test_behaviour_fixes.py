"""Issue 9, point 7: behaviour fixes found while trying the bot as its users would."""

from __future__ import annotations

from reporting.services import Services
from tests.helpers import register


async def test_cancel_speaks_of_the_flow_the_user_was_in(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send("/guongtot")
    await lan.press("Cá nhân")
    await lan.send("/huy")  # telling a deed: the story is kept, /guongtot carries on
    assert "kể gương" in lan.last_text and "/guongtot" in lan.last_text
    assert "/baocao" not in lan.last_text
    await lan.send("/baocao")
    await lan.send("120")
    await lan.send("/huy")  # the monthly report: answers are kept, /baocao carries on
    assert "báo cáo tháng 03/2022 của Tổ 1" in lan.last_text and "/baocao" in lan.last_text
    await lan.send("/huy")  # nothing left to stop
    assert "Không có việc nào đang làm dở" in lan.last_text

    thao = await register(services, "9", "Thảo", None, "admin")
    await thao.send("/phatdong")
    await thao.send("Họp tổ trưởng sáng thứ Hai.")
    await thao.send("/huy")  # a broadcast being written: dropped, nothing sent
    assert "thông báo" in thao.last_text and "chưa gửi" in thao.last_text
    assert "/baocao" not in thao.last_text and "câu trả lời" not in thao.last_text
    await thao.send("/baocao")  # the ward's own figures
    await thao.send("/huy")
    assert "số liệu của phường tháng 03/2022" in thao.last_text

    mai = await register(services, "5", "Mai", None, "council")
    await mai.send("/guongtot")  # reviewing is buttons, not a conversation
    await mai.send("/huy")
    assert "Không có việc nào đang làm dở" in mai.last_text
    assert "/baocao" not in mai.last_text and "/guongtot" in mai.last_text
