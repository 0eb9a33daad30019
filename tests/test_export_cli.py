"""`thidua export`: a month or a year to Excel or CSV, against a SQLite file."""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.assembly import open_services
from bot.cli import main
from models import DeedPhoto, DeedStatus, Member, Role
from reporting.config_file import load_settings
from reporting.media import keep_photo
from tests.conftest import ROOT
from tests.test_export import (
    FEBRUARY,
    MARCH,
    NUMBERS,
    YES_NO,
    by_code,
    insert_deed,
    insert_report,
    local,
)


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("THIDUA_DATABASE_URL", url)
    monkeypatch.setenv("THIDUA_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.delenv("THIDUA_MEDIA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings(ROOT / "config.yaml")

    async def fill() -> None:
        async with open_services(settings, url) as app, app.sessions() as s, s.begin():
            numbers, answers, sanitation, _ = FEBRUARY["to-5"]
            values: dict[str, str | None] = {
                **dict(zip(NUMBERS, numbers, strict=True)),
                **dict(zip(YES_NO, answers, strict=True)), "sanitation": sanitation}
            await insert_report(s, settings, MARCH, "to-5", values, at=local(2022, 4, 1))

    asyncio.run(fill())
    return url


def test_cli_exports_a_month(db_env: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--period", MARCH]) == 0
    assert capsys.readouterr().out.split() == ["thidua-2022-03.xlsx"]
    wb = load_workbook(tmp_path / "thidua-2022-03.xlsx")
    groups = by_code(wb["Số liệu tổ"])
    assert groups["to-5"][:6] == ["to-5", "Tổ 5", "Đã gửi", 150, 150, 500]
    assert by_code(wb["Nộp báo cáo"])["to-5"][3] == datetime(2022, 4, 1, 9, 0)

    out = tmp_path / "out" / "bang.csv"
    out.parent.mkdir()
    assert main(["export", "--period", MARCH, "--out", str(out)]) == 0  # csv from the name
    printed = capsys.readouterr().out.split()
    assert printed == [str(out.parent / f"bang-{s}.csv") for s in (
        "so-lieu-to", "so-lieu-phuong", "chi-tieu", "guong-nguoi-tot", "nop-bao-cao")]
    assert all(Path(p).exists() for p in printed)


def test_cli_exports_a_year(db_env: str, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--year", "2022", "--format", "csv"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == ["thidua-2022-tong-ket-nam-2022.csv",
                       "thidua-2022-nop-bao-cao-nam-2022.csv"]
    with (tmp_path / printed[0]).open(encoding="utf-8-sig", newline="") as f:
        summary = {r[0]: r for r in csv.reader(f)}
    assert summary["to-5"][2:4] == ["1", "0"]  # March, on time
    assert main(["export", "--year", "2022"]) == 0
    assert (tmp_path / "thidua-2022.xlsx").exists()


def test_cli_refuses_a_bad_period(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--period", "2022-13"]) == 2
    assert "Not a period: '2022-13'" in capsys.readouterr().err
    assert main(["export", "--period", "March"]) == 2
    assert main(["export", "--year", "22"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["export", "--period", MARCH, "--year", "2022"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["export"])


def test_cli_writes_the_months_photos_beside_the_workbook(
        db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lan's photo of March was received by another instance: it is in the database, and
    `thidua export` run here puts it beside the workbook, where the "Ảnh" column points."""
    settings = load_settings(ROOT / "config.yaml")

    async def lan_sends_a_photo() -> int:
        async with open_services(settings, db_env) as app, app.sessions() as s, s.begin():
            lan = Member(display_name="Lò Thị Lan", role=Role.LEADER, created_at=local(2022, 3, 1))
            s.add(lan)
            await s.flush()
            deed_id = await insert_deed(s, "to-5", lan.id, DeedStatus.NEW, local(2022, 3, 20),
                                        "Bà Lò Thị Xuân")
            photo = DeedPhoto(deed_id=deed_id, channel="telegram", file_id="AgAC", position=1)
            await keep_photo(s, photo, b"\xff\xd8 Xuan", local(2022, 3, 20))
            s.add(photo)
            return deed_id

    deed_id = asyncio.run(lan_sends_a_photo())
    out = tmp_path / "out" / "thang-3.xlsx"
    out.parent.mkdir()
    assert main(["export", "--period", MARCH, "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out), str(out.parent / "thang-3-anh")]
    name = f"thang-3-anh/good-deeds/{deed_id}/1.jpg"
    assert (out.parent / name).read_bytes() == b"\xff\xd8 Xuan"
    deeds = load_workbook(out)["Gương người tốt"]
    assert [row[-1].value for row in deeds.iter_rows(min_row=2)] == [name]


def test_the_command_exits_at_once_with_its_workbook_whole(db_env: str,
                                                             tmp_path: Path) -> None:
    """`thidua export` ends without the interpreter's teardown (`bot.cli.entry`), so
    without its exit hooks either: what it printed, the saved workbook and openpyxl's
    temporary sheet files (removed at save, not by its hook) must not depend on them."""
    spool = tmp_path / "tmp"
    spool.mkdir()
    out = tmp_path / "thang-3.xlsx"
    # Block-buffered output, as a script or a pipe gets it: nothing printed may be lost.
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
           "PYTHONPATH": str(ROOT), "TMPDIR": str(spool)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "export", "--period", MARCH,  # noqa: S603
                           "--out", str(out)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(out)]
    rows = by_code(load_workbook(out)["Số liệu tổ"])
    assert rows["to-5"][2] == "Đã gửi"
    assert list(spool.iterdir()) == []
