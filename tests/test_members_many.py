"""Thảo (admin) of a commune of 1,500 groups asks for /thanhvien: counts, who cannot be
reached and which groups have no active leader, in a message or two, not forty; one
group in full with `/thanhvien MÃ-TỔ`. A ward the plan's size keeps its full list."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import insert, select

from models import Group, Identity, Member
from reporting.config import Group as GroupConfig
from reporting.digest_lists import MAX_LISTED
from reporting.messages import DEFAULT_LIMITS, split_text
from reporting.roster_summary import MAX_ROSTER
from reporting.services import Services
from tests.helpers import plain, register

GROUPS = 1_500


def vn(n: int) -> str:
    """A number as the Vietnamese text writes it: 1.515."""
    return f"{n:,}".replace(",", ".")


async def _commune(app: Services) -> None:
    """1,500 more groups in config, a leader each: every 100th cannot be reached, every
    250th deactivated; the ward's Tổ 2 to Bản 3 have nobody (Lan leads Tổ 1)."""
    app.settings = app.settings.model_copy(update={"groups": [
        *app.settings.groups, *(GroupConfig(code=f"g-{i}", name=f"Tổ dân phố số {i}")
                                for i in range(1, GROUPS + 1))]})
    now = datetime(2022, 4, 3, tzinfo=UTC)
    async with app.sessions() as s, s.begin():
        await s.execute(insert(Group), [{"code": f"g-{i}", "name": f"Tổ dân phố số {i}"}
                                        for i in range(1, GROUPS + 1)])
        ids = {code: gid for code, gid in await s.execute(select(Group.code, Group.id))}
        await s.execute(insert(Member), [
            {"display_name": f"Tổ trưởng <{i}>", "role": "leader", "group_id": ids[f"g-{i}"],
             "active": i % 250 != 0, "created_at": now} for i in range(1, GROUPS + 1)])
        members = {name: mid for name, mid in await s.execute(
            select(Member.display_name, Member.id).where(Member.group_id.is_not(None)))}
        await s.execute(insert(Identity), [
            {"member_id": members[f"Tổ trưởng <{i}>"], "channel": "test",
             "external_id": f"x{i}", "chat_id": f"x{i}", "created_at": now,
             "unreachable": i % 100 == 0} for i in range(1, GROUPS + 1)])


async def test_a_communes_roster_is_counts_and_who_needs_the_admin(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    await register(services, "1", "Lan")
    await thao.send("/thanhvien")
    small = str(thao.replies[-1].messages[0].text)
    assert "Lan" in small and "#" in small  # the ward's roster: every member's line

    await _commune(services)
    await thao.send("/thanhvien")
    out = thao.replies[-1].messages
    text = plain(str(out[0].text))
    assert len(out) == 1 and len(split_text(str(out[0].text), DEFAULT_LIMITS.max_text)) == 1
    total, off = GROUPS + 2, GROUPS // 250
    assert f"{vn(total - off)} đang hoạt động" in text
    assert f"{off} đã ngừng hoạt động" in text
    assert re.search(r"#\d+ Thảo \(quản trị viên\)", text)
    # Unreachable: the active ones of every 100th (1,500/100 = 15, less the 500th…)
    unreachable = [i for i in range(1, GROUPS + 1) if i % 100 == 0 and i % 250 != 0]
    line = next(ln for ln in text.splitlines() if ln.startswith("🟠"))
    assert re.search(rf"\({len(unreachable)}\)", line)
    assert line.count("Tổ trưởng <") == min(len(unreachable), MAX_LISTED)
    assert "Tổ trưởng <100> (Tổ dân phố số 100)" in line  # names escaped, then shown plain
    assert "&lt;100&gt;" in str(out[0].text)
    # Groups with no active leader: the ward's 14 without Lan's Tổ 1, and the six whose
    # leader was deactivated; the first 15 named, in the ward's order.
    assert f"; tổng số {vn(15 + GROUPS)} tổ, bản." in text
    line = next(ln for ln in text.splitlines() if "chưa có tổ trưởng" in ln)
    assert f"({14 + off})" in line and "Tổ 2" in line and "Tổ 1," not in line
    named = line.split("): ", 1)[1].split(" và ")[0].split(", ")
    assert len(named) == MAX_LISTED and named[-1] == "Tổ dân phố số 250"
    assert f"và {14 + off - MAX_LISTED} tổ, bản khác" in line
    assert len(text.splitlines()) < 12

    await thao.send("/thanhvien g-100")  # one group, in full
    one = plain(str(thao.replies[-1].messages[0].text))
    assert "Tổ trưởng <100>" in one and "Tổ trưởng <101>" not in one
    assert total > MAX_ROSTER
