"""Issue 9 (5): forms of address per role from config, a member's own form, given names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from models import Member
from reporting.address import Address, address_of, given_name
from reporting.services import Services
from tests.helpers import register


def test_the_given_name_is_the_last_word() -> None:
    assert given_name("Nguyễn Thị Lan") == "Lan"
    assert given_name(" Lường  Văn Hoà ") == "Hoà"
    assert given_name("Lan") == "Lan"
    assert address_of("Nguyễn Thị Lan", "leader", None, Address()) == "đồng chí Lan"
    assert address_of("Nguyễn Thị Lan", "leader", "chị", Address()) == "chị Lan"
    assert address_of("Nguyễn Thị Lan", "leader", "  ", Address()) == "đồng chí Lan"
    assert address_of("Nguyễn Thị Lan", "leader", None, Address(), "en") == "Nguyễn Thị Lan"


def test_the_config_is_validated() -> None:
    assert Address.model_validate({"leader": "  bác "}).leader == "bác"
    for bad in ({"leader": ""}, {"council": "<b>"}, {"chairman": "đồng chí"}):
        with pytest.raises(ValidationError):
            Address.model_validate(bad)


async def test_by_default_everyone_is_dong_chi_with_the_given_name(services: Services) -> None:
    lan = await register(services, "1", "Nguyễn Thị Lan")
    hoa = await register(services, "2", "Lường Văn Hoà", group=None, role="council")
    minh = await register(services, "3", "Trần Minh", group=None, role="admin")
    assert lan.last_text.startswith("Chào đồng chí Lan!")
    assert hoa.last_text.startswith("Chào đồng chí Hoà!")
    assert minh.last_text.startswith("Chào đồng chí Minh!")
    for person in (lan, hoa, minh):
        assert "bác" not in person.last_text.lower()
        assert "Chào bác" not in person.last_text


async def test_each_role_is_addressed_as_configured(services: Services) -> None:
    services.settings = services.settings.model_copy(update={"address": Address(
        leader="bác", council="đồng chí", admin="anh")})
    hoa = await register(services, "1", "Lường Văn Hoà")
    mai = await register(services, "2", "Nguyễn Thị Mai", group=None, role="council")
    minh = await register(services, "3", "Trần Minh", group=None, role="admin")
    await hoa.send("/start")
    assert hoa.last_text.startswith("Chào bác Hoà!")
    await mai.send("/start")
    assert mai.last_text.startswith("Chào đồng chí Mai!")
    await minh.send("/start")
    assert minh.last_text.startswith("Chào anh Minh!")


async def test_a_member_has_their_own_form(services: Services) -> None:
    lan = await register(services, "1", "Nguyễn Thị Lan")
    hoa = await register(services, "2", "Lường Văn Hoà", group="to-2")
    async with services.sessions() as s, s.begin():
        await s.execute(update(Member).where(Member.display_name == "Lường Văn Hoà")
                        .values(address="bác"))
    await hoa.send("/start")
    assert hoa.last_text.startswith("Chào bác Hoà!")
    await lan.send("/start")  # the others keep their role's form
    assert lan.last_text.startswith("Chào đồng chí Lan!")
    await hoa.send("/guongtot")
    assert "Cảm ơn bác Hoà đã giới thiệu" in hoa.last_text


async def test_a_member_chooses_their_own_form(services: Services) -> None:
    hoa = await register(services, "1", "Lường Văn Hoà")
    await hoa.send("/xungho")
    assert "đồng chí Hoà" in hoa.last_text and "/xungho bác" in hoa.last_text
    await hoa.send("/xungho bác")
    assert "bác Hoà" in hoa.last_text
    await hoa.send("/start")
    assert hoa.last_text.startswith("Chào bác Hoà!")
    await hoa.send("/xungho 123")  # refused, the form is kept
    assert "không có chữ số" in hoa.last_text and "bác Hoà" in hoa.last_text
    await hoa.send("/xungho mặc định")
    assert "đồng chí Hoà" in hoa.last_text
    async with services.sessions() as s:
        assert (await s.scalar(select(Member.address))) is None
