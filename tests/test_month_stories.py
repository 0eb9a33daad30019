"""Stories for issue 9, point 4: a month written as people write it, in every command."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import Period, Report
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, register, submit_month

MARCH_FORMS = ["3/2022", "03/2022", "T3/2022", "t3/2022", "tháng 3", "tháng 3/2022", "2022-03"]


@pytest.mark.parametrize("form", MARCH_FORMS)
async def test_lan_opens_march_however_she_writes_it(services: Services, form: str) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send(f"/baocao {form}")
    assert "Câu 1/12" in lan.last_text and "tháng 03/2022" in lan.last_text
    async with services.sessions() as s:
        keys = [p.key for p in await s.scalars(select(Period).join(Report))]
    assert keys == ["2022-03"]


async def test_lan_is_told_when_the_month_is_garbage(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send("/baocao tháng ba")
    assert "Không hiểu kỳ “tháng ba”" in lan.last_text
    async with services.sessions() as s:
        assert await s.scalar(select(Report)) is None


@pytest.mark.parametrize("form", MARCH_FORMS)
async def test_mai_digests_and_exports_march(services: Services, form: str) -> None:
    lan = await register(services, "1", "Lan")
    mai = await register(services, "5", "Mai", None, "council")
    await submit_month(lan, LAN_MARCH)
    canonical = (await mai.send("/tonghop 2022-03")).messages[0].text
    assert (await mai.send(f"/tonghop {form}")).messages[0].text == canonical
    assert (await mai.send(f"/tonghop {form} chitiet")).messages[0].text == \
        (await mai.send("/tonghop 2022-03 chitiet")).messages[0].text
    exported = await mai.send(f"/xuat {form}")
    assert exported.messages[0].attachments[0].filename == "thidua-2022-03.xlsx"
    await mai.send("/xuat T13/2022")
    assert "Không hiểu kỳ “T13/2022”" in mai.last_text


@pytest.mark.parametrize(("command", "until"), [
    ("/mokhoa 3/2022", date(2022, 4, 17)),
    ("/mokhoa T3/2022 2", date(2022, 4, 16)),
    ("/mokhoa tháng 3 5", date(2022, 4, 19)),
    ("/mokhoa tháng 3/2022 1", date(2022, 4, 15)),
    ("/mokhoa 03/2022", date(2022, 4, 17)),
])
async def test_thao_reopens_march_however_she_writes_it(
        services: Services, clock: Clock, command: str, until: date) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    clock.set_local(2022, 4, 15)
    await thao.send(command)
    async with services.sessions() as s:
        period = await s.scalar(select(Period).where(Period.key == "2022-03"))
    assert period is not None and period.reopened_until == until


async def test_thao_is_told_when_the_month_is_garbage(services: Services, clock: Clock) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    clock.set_local(2022, 4, 15)
    await thao.send("/mokhoa tháng-ba 2")
    assert "Không hiểu kỳ “tháng-ba”" in thao.all_text and "Cách dùng" in thao.all_text
    async with services.sessions() as s:
        assert await s.scalar(select(Period)) is None
