"""The ward's IT officer manages the roster from a shell: `thidua members` and a handover
with `thidua invite --replaces`."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from bot.assembly import open_services
from bot.cli import main
from models import Identity, Member
from reporting.config_file import load_settings
from tests.conftest import ROOT, Clock
from tests.helpers import Person, register

SETTINGS = load_settings(ROOT / "config.yaml")


def _clock() -> Clock:
    clock = Clock(datetime(2022, 1, 1, tzinfo=UTC))
    clock.set_local(2022, 4, 3)
    return clock


def _seed(url: str) -> None:
    """Thảo (admin, #1), Lan (Tổ 1, #2) half-way through March, Hùng (Tổ 3, #3) who
    blocked the bot."""
    async def go() -> None:
        async with open_services(SETTINGS, url, clock=_clock()) as app:
            await register(app, "9", "Thảo", None, "admin")
            lan = await register(app, "1", "Lan")
            await register(app, "3", "Hùng", "to-3")
            await lan.send("/baocao")
            await lan.send("120")
            async with app.sessions() as s, s.begin():
                await s.execute(update(Identity).where(Identity.external_id == "3")
                                .values(unreachable=True))

    asyncio.run(go())


def _member(url: str, mid: int) -> Member:
    async def get() -> Member:
        async with open_services(SETTINGS, url) as app, app.sessions() as s:
            member = await s.get(Member, mid)
            assert member is not None
            return member

    return asyncio.run(get())


def _line(out: str, handle: str) -> list[str]:
    return next(line.split("  ") for line in out.splitlines() if line.startswith(handle + " "))


def test_members_lists_activity_and_reach(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(cli_db)
    assert main(["members"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["ID", "NAME", "ROLE", "GROUP", "STATUS", "CHANNELS",
                                           "LAST", "ACTIVE"]
    lan = [c.strip() for c in _line(out, "#2") if c.strip()]
    assert lan == ["#2", "Lan", "leader", "to-1", "active", "test", "2022-04-03 09:00"]
    hung = [c.strip() for c in _line(out, "#3") if c.strip()]
    assert hung[3:6] == ["to-3", "unreachable", "test!"]
    assert out.index("#2 ") < out.index("#3 ") < out.index("#1 ")  # groups, then the office

    assert main(["members", "--group", "to-3"]) == 0
    out = capsys.readouterr().out
    assert "#3 " in out and "#2 " not in out
    assert main(["members", "--group", "to-99"]) == 2
    assert "Unknown group 'to-99'" in capsys.readouterr().err


def test_members_deactivate_reactivate_and_move(cli_db: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _seed(cli_db)
    assert main(["members", "--deactivate", "2", "--reason", "chuyển đi nơi khác"]) == 0
    assert "Member 2 (Lan) deactivated." in capsys.readouterr().out
    lan = _member(cli_db, 2)
    assert not lan.active and lan.inactive_reason == "chuyển đi nơi khác"
    assert main(["members"]) == 0
    assert "inactive since" in " ".join(_line(capsys.readouterr().out, "#2"))
    assert main(["members", "--deactivate", "2"]) == 2
    assert "already" in capsys.readouterr().err
    assert main(["members", "--reactivate", "2"]) == 0
    assert _member(cli_db, 2).active

    assert main(["members", "--move", "2", "--to", "to-3"]) == 0
    assert "moved to to-3" in capsys.readouterr().out
    assert main(["members", "--group", "to-3"]) == 0
    assert "#2 " in capsys.readouterr().out
    for argv, why in ((["members", "--move", "2"], "go together"),
                      (["members", "--move", "1", "--to", "to-1"], "not a group leader"),
                      (["members", "--move", "2", "--to", "to-99"], "Unknown group"),
                      (["members", "--deactivate", "99"], "no member with id 99")):
        assert main(argv) == 2, argv
        assert why in capsys.readouterr().err, argv


def test_invite_replaces_hands_the_group_over(cli_db: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _seed(cli_db)
    assert main(["invite", "--group", "to-1", "--replaces", "3"]) == 2  # Hùng leads Tổ 3
    assert "not an active leader of to-1" in capsys.readouterr().err
    assert main(["invite", "--group", "to-1", "--role", "council", "--replaces", "2"]) == 2
    capsys.readouterr()
    assert main(["invite", "--group", "to-1", "--replaces", "2"]) == 0
    out = capsys.readouterr().out
    assert "Replaces: #2 Lan" in out
    match = re.search(r"Invite code: (\w+)", out)
    assert match is not None

    async def hoa_registers() -> str:
        async with open_services(SETTINGS, cli_db, clock=_clock()) as app:
            hoa = Person(app, "11", "Hoa")
            await hoa.send(f"/start {match.group(1)}")
            await hoa.send("/baocao")
            return hoa.last_text

    assert "đã trả lời 1/12 câu" in asyncio.run(hoa_registers())  # Lan's draft, continued
    assert not _member(cli_db, 2).active
