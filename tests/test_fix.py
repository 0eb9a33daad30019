"""Thảo (admin) corrects Tổ 1's March figure herself, with a reason, instead of reopening
the month; the Council sees it as a correction and Lan is told."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEntry, OutboxMessage, ReportValue
from reporting.digest_load import group_reports
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, register, submit_month


async def _audit(app: Services) -> list[AuditEntry]:
    async with app.sessions() as s:
        return list(await s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def _value(app: Services, indicator: str) -> str | None:
    async with app.sessions() as s:
        return await s.scalar(select(ReportValue.value)
                              .where(ReportValue.indicator == indicator))


async def test_an_admin_corrects_a_figure_with_a_reason(services: Services,
                                                        clock: Clock) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    await submit_month(lan, LAN_MARCH)
    clock.set_local(2022, 5, 20)  # March is locked: no reopening needed for this

    await thao.send("/suaso to-1 3/2022 households 125 Rà soát lại theo sổ hộ khẩu")
    assert "120 hộ → 125 hộ" in thao.last_text
    assert await _value(services, "households") == "125"
    [entry] = await _audit(services)
    thao_id = await _member_id(services, "Thảo")
    assert (entry.indicator, entry.old_value, entry.new_value) == ("households", "120", "125")
    assert entry.member_id == thao_id and entry.reason == "correction"
    assert entry.note == "Rà soát lại theo sổ hộ khẩu"
    async with services.sessions() as s:
        march = {g.code: g for g in await group_reports(s, "2022-03")}
        told = list(await s.scalars(select(OutboxMessage)
                                    .where(OutboxMessage.kind == "corrected")))
    assert march["to-1"].corrections == 1 and march["to-1"].values["households"] == "125"
    assert [m.chat_id for m in told] == ["1"]  # Lan, the leader of Tổ 1

    # By the question's number, in any month form; forgiving input as for leaders.
    await thao.send("/suaso to-1 T3/2022 3 451 Cộng thêm một nhân khẩu mới chuyển đến")
    assert await _value(services, "residents") == "451"
    await thao.send("/suaso to-1 2022-03 safe_area không_đạt lý do")
    assert len(await _audit(services)) == 2  # no such choice: refused, nothing stored
    await thao.send("/suaso to-1 3/2022 3 451 Cùng số")
    assert len(await _audit(services)) == 2  # the same figure: nothing to record


async def _member_id(app: Services, name: str) -> int:
    from models import Member

    async with app.sessions() as s:
        mid = await s.scalar(select(Member.id).where(Member.display_name == name))
    assert mid is not None
    return mid


async def test_bad_corrections_are_refused_clearly(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    await register(services, "3", "Hùng", "to-3")
    await submit_month(lan, LAN_MARCH)

    await lan.send("/suaso to-1 3/2022 households 125 tự sửa")
    assert "chỉ dành cho quản trị viên" in lan.last_text
    await thao.send("/suaso to-1 3/2022 households 125")  # no reason
    assert "Cách dùng" in thao.last_text
    await thao.send("/suaso to-99 3/2022 households 125 lý do")
    assert "to-99" in thao.last_text and "to-3" in thao.last_text
    await thao.send("/suaso to-1 tháng-ba households 125 lý do")
    assert "Không hiểu kỳ" in thao.all_text
    await thao.send("/suaso to-1 3/2022 hogiadinh 125 lý do")
    assert "households" in thao.last_text and "1 đến 12" in thao.last_text
    await thao.send("/suaso to-1 3/2022 13 125 lý do")
    assert "1 đến 12" in thao.last_text
    await thao.send("/suaso to-1 3/2022 households 1,250 lý do")  # 1.250 or 1,25?
    assert "1.250" in thao.last_text and "1234" in thao.last_text
    await thao.send("/suaso to-1 3/2022 households nhiều lý do")
    assert "Không sửa được" in thao.last_text
    # The same cross-field rules as the leader's: more cultured families than households.
    await thao.send("/suaso to-1 3/2022 cultured_families 121 lý do")
    assert "Không sửa được" in thao.last_text and "120" in thao.last_text
    await thao.send("/suaso to-3 3/2022 households 80 lý do")  # Tổ 3 has not reported
    assert "chưa gửi báo cáo tháng 03/2022" in thao.last_text
    await thao.send("/suaso to-1 3/2021 households 80 lý do")
    assert "chưa gửi báo cáo tháng 03/2021" in thao.last_text
    assert await _audit(services) == []
    assert await _value(services, "households") == "120"
