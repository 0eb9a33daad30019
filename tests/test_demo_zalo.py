"""`thidua demo --channel zalo` plays the Telegram demo's story on Zalo, against the fake
Zalo Bot API: Lan reports March typing numbers and labels, sends a good deed with a
photo, Mai reads the digest (its chart fetched by Zalo from the bot's signed link) and
Thảo's broadcast ends with its delivery report. `thidua demo` alone stays on Telegram.
The same story plays with Zalo pushing to the bot's webhook instead of the bot polling.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

import bot.demo_zalo
from bot.cli import main
from fakes.zalo import FakeZaloApi
from models import DeedPhoto, InboxUpdate, OutboxMessage, Report, ReportStatus, ReportValue
from models.outbox_claim import delivery_status

ROOT = Path(__file__).resolve().parent.parent


class RecordedFake(FakeZaloApi):
    """The demo's own fake, unchanged, kept for the test to read after the story."""

    made: ClassVar[list[RecordedFake]] = []
    fault: ClassVar[str | None] = None  # a method whose every call the fake refuses (400)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        RecordedFake.made.append(self)
        if RecordedFake.fault is not None:
            self.fail_next(RecordedFake.fault, code=400, count=50)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> type[RecordedFake]:
    monkeypatch.chdir(tmp_path)  # no config.yaml here: the demo finds the shipped one
    monkeypatch.delenv("THIDUA_CONFIG", raising=False)
    monkeypatch.setattr(RecordedFake, "made", [])
    monkeypatch.setattr(bot.demo_zalo, "FakeZaloApi", RecordedFake)
    return RecordedFake


async def _stored(db: Path) -> dict[str, Any]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with async_sessionmaker(engine)() as s:
            report = await s.scalar(select(Report))
            values = {v.indicator: v.value for v in await s.scalars(select(ReportValue))}
            photos = list(await s.scalars(select(DeedPhoto)))
            broadcast_id = await s.scalar(select(OutboxMessage.broadcast_id)
                                          .where(OutboxMessage.broadcast_id.is_not(None)))
            status = await delivery_status(s, broadcast_id=broadcast_id, kind="broadcast")
            keys = list(await s.scalars(select(InboxUpdate.update_key)))
    finally:
        await engine.dispose()
    return {"report": report, "values": values, "photos": photos, "status": status,
            "keys": keys}


def _key(update: dict[str, Any]) -> str:
    return f"{update['event_name']}:{update['message']['message_id']}"


def _play(mode: str, db: Path) -> int:
    if mode == "polling":  # as `thidua demo --channel zalo` runs it
        return main(["demo", "--channel", "zalo", "--keep-db", str(db)])
    return asyncio.run(bot.demo_zalo.run_zalo_demo(keep_db=str(db), webhook=True))


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_the_zalo_demo_plays_the_whole_story(recorded: type[RecordedFake], mode: str,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "kept" / "demo.db"
    db.parent.mkdir()
    assert _play(mode, db) == 0
    out = capsys.readouterr().out
    [fake] = recorded.made

    # The report: the refused 25, the corrected 40, then 125 households after the edit.
    stored = asyncio.run(_stored(db))
    assert stored["report"].status == ReportStatus.SUBMITTED
    values = stored["values"]
    assert (values["households"], values["residents"], values["children_under_5"],
            values["children_under_6"]) == ("125", "450", "30", "40")
    # "1" and "đạt" both chose Đạt; "chưa đạt" the other answer.
    assert values["safe_area"] == values["drug_free"] != values["cultured_group"]
    assert "👤 Nguyễn Thị Lan: 25" in out and "👤 Nguyễn Thị Lan: 40" in out

    # The good deed's photo: the fake served it, the bot downloaded and kept a copy.
    [photo] = stored["photos"]
    assert photo.channel == "zalo" and photo.file_id.startswith(fake.base_url.split("/bot")[0])

    # The digest's chart: a photo by the bot's own signed link, which the fake fetched.
    mai = next(a.chat_id for a in fake.actions if a.name == "Trần Thị Mai")
    [chart] = [e for e in fake.sent(mai) if e.method == "sendPhoto"]
    assert chart.photo_url is not None and "/m/" in chart.photo_url
    assert chart.photo_url.startswith("http://127.0.0.1:")
    assert chart.photo is not None and chart.photo.startswith(b"\x89PNG")

    # The broadcast: one leader, reached on Zalo, and Thảo told so once it was done.
    status = stored["status"]
    assert status.by_channel == {"zalo": {"sent": 1}}
    thao = next(a.chat_id for a in fake.actions if a.name == "Lò Thị Thảo")
    assert "1/1" in (fake.sent(thao)[-1].text or "")
    assert not [e for e in fake.events if e.method == "editMessageText"]  # Zalo has none

    # Every update the bot stored came the way the mode says: pushed, or polled.
    pushed = fake.webhook.deliveries
    if mode == "polling":
        assert not pushed and fake.webhook.url is None
        assert len(stored["keys"]) == len(fake.actions)
    else:
        # One HTTP server takes the pushes and serves the chart's signed link.
        assert (fake.webhook.url or "").removesuffix("/zalo") == \
            chart.photo_url.split("/m/")[0]
        accepted = {_key(d.update) for d in pushed if d.status == 200}
        assert sorted(stored["keys"]) == sorted(accepted)
        assert len(accepted) == len(fake.actions) - 1  # all but the refused push
        # Zalo pushed Lan's second /trangthai twice: stored once, answered once.
        [repeat] = [d for d in pushed if d.repeat]
        assert repeat.status == 200 and repeat.update["message"]["text"] == "/trangthai"
        # A push with the wrong secret: refused, neither stored nor answered.
        [refused] = [d for d in pushed if d.status != 200]
        assert refused.status == 403 and fake.webhook.dropped == [refused.update]
        assert _key(refused.update) not in stored["keys"]
    lan = next(a.chat_id for a in fake.actions if a.name == "Nguyễn Thị Lan")
    asked = [a for a in fake.actions if a.chat_id == lan and a.text == "/trangthai"]
    answered = [e for e in fake.sent(lan) if "đã gửi ngày" in (e.text or "")]
    assert (len(asked), len(answered)) == ((1, 1) if mode == "polling" else (3, 2))
    assert "✅ Demo completed on Zalo" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # nothing else left


def test_a_failed_step_ends_the_zalo_demo_with_one_clear_line(
        recorded: type[RecordedFake], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Zalo refuses every photo: Mai's digest (its chart) cannot be delivered, and the
    demo stops there, naming the step on one line."""
    monkeypatch.setattr(RecordedFake, "fault", "sendPhoto")
    assert main(["demo", "--channel", "zalo"]) == 1
    captured = capsys.readouterr()
    [line] = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert line.startswith("❌ Demo failed") and "'/tonghop'" in line
    assert "✅ Demo completed" not in captured.out


@pytest.mark.slow  # 8-11 s: a fresh interpreter, then the whole story in real time
def test_thidua_demo_channel_zalo_as_a_command(tmp_path: Path) -> None:
    """The command as a deployer types it: no token, no network, no files left."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "ZALO_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--channel", "zalo"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "📬" in done.stdout and "✅ Demo completed on Zalo" in done.stdout
    assert not list(tmp_path.iterdir())
