"""The `thidua` command line, as a ward's engineer would use it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.assembly import open_services
from bot.cli import main
from models import HashScheme, Invite
from models.invites import InviteKey
from reporting.config_file import load_settings
from tests.conftest import ROOT


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("THIDUA_DATABASE_URL", url)
    monkeypatch.setenv("THIDUA_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return url


def test_db_upgrade_creates_the_schema(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0  # idempotent


def test_invite_prints_a_code_that_is_stored_hashed(db_env: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invite", "--group", "to-3", "--role", "council", "--expires", "3d"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"Invite code: ([A-Z0-9]{8})", out)
    assert match, out
    assert "Tổ 3" in out and "council" in out
    assert "/start " + match.group(1) in out  # no username known: tells how to use it

    async def stored() -> tuple[list[Invite], InviteKey]:
        settings = load_settings(ROOT / "config.yaml")
        async with open_services(settings, db_env) as svc, svc.sessions() as s:
            return list(await s.scalars(select(Invite))), svc.invites

    invites, key = asyncio.run(stored())
    assert [(i.code_hash, i.hash_scheme) for i in invites] == [
        (key.hash(match.group(1)), HashScheme.HMAC)]  # keyed with the database's key
    assert match.group(1) not in invites[0].code_hash


def test_invite_link_uses_the_configured_username(db_env: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text.replace("username: null", "username: ThiDuaQTBot"), encoding="utf-8")
    assert main(["--config", str(cfg), "invite", "--group", "to-1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Link: https://t\.me/ThiDuaQTBot\?start=[A-Z0-9]{8}", out), out


def test_unknown_group_is_refused(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invite", "--group", "to-99"]) == 2
    assert "Unknown group 'to-99'" in capsys.readouterr().err


def test_invalid_config_stops_start_with_file_key_and_reason(
        db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text.replace("timezone: Asia/Ho_Chi_Minh", "timezone: Asia/Hanoi_Typo"),
                   encoding="utf-8")
    assert main(["--config", str(cfg), "run"]) == 2
    err = capsys.readouterr().err
    assert str(cfg) in err and "ward.timezone" in err and "Asia/Hanoi_Typo" in err


def test_run_without_token_points_to_the_demo(db_env: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert "thidua demo" in capsys.readouterr().err
