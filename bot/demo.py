"""`thidua demo`: one full story, the real bot against the fake Bot API, as a transcript.

No token and no network: the fake Telegram server from `bot.fakeapi` runs on loopback,
the real python-telegram-bot Application polls it, and the database is a temporary
SQLite file. The clock starts on 3 April 2022, 09:00 in the ward (March is being
reported, due on 5 April), so the story is the same whatever day it is run.
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import open_services
from bot.fakeapi import BotEvent, FakeBotApi, FakeUser, UserAction
from bot.stack import bot_stack
from models import Group, Role
from models.invites import create_invite
from models.queries import group_by_code
from reporting.config import config_path, load_settings

START = datetime(2022, 4, 3, 2, 0, tzinfo=UTC)  # 09:00 in Asia/Ho_Chi_Minh
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


class DemoFailed(Exception):
    pass


def demo_clock() -> Callable[[], datetime]:
    """The story's clock: 3 April 2022 09:00 local, moving on in real time."""
    t0 = time.monotonic()
    return lambda: START + timedelta(seconds=time.monotonic() - t0)


def _indent(text: str) -> str:
    return textwrap.indent(text, "    ")


def print_event(item: BotEvent | UserAction) -> None:
    if isinstance(item, UserAction):
        if item.kind == "button":
            print(f"\n👤 {item.name} bấm [{item.text}]")
        else:
            print(f"\n👤 {item.name}: {item.text or '(ảnh)'}")
        return
    if item.method == "answerCallbackQuery":
        if item.text:
            print(f"   (thông báo nhanh: {item.text})")
        return
    label = "🤖 Bot (sửa tin nhắn trước)" if item.method.startswith("edit") else "🤖 Bot"
    print(f"{label}:\n{_indent(item.text or '')}")
    for row in item.buttons:
        print("    " + "  ".join(f"[{text}]" for text, _ in row))


async def _step(user: FakeUser, action: Awaitable[object], replies: int,
                expect: str | None = None) -> list[BotEvent]:
    """Do one thing as the user, wait for the bot's replies, check what they say."""
    await action
    events = await user.expect(replies, timeout=15)
    if expect is not None and not any(expect in (e.text or "") for e in events):
        raise DemoFailed(f"expected {expect!r} in the bot's reply, got: "
                         f"{[e.text for e in events]}")
    return events


async def run_demo(config: str | None = None, keep_db: str | None = None) -> int:
    path = config_path(config)
    if not path.exists() and config is None:
        path = REPO_CONFIG
    settings = load_settings(path)
    with tempfile.TemporaryDirectory(prefix="thidua-demo-") as tmp:
        db_file = Path(keep_db) if keep_db else Path(tmp) / "demo.db"
        url = f"sqlite+aiosqlite:///{db_file}"
        print(f"Thi Đua Bot — demo · {settings.ward.name} · cơ sở dữ liệu {db_file}")
        print("Giả lập: ngày 03/04/2022, 09:00 — kỳ báo cáo tháng 03/2022 đang mở (hạn 05/04).")
        try:
            async with (open_services(settings, url, clock=demo_clock()) as services,
                        FakeBotApi(on_event=print_event) as fake,
                        bot_stack(services, fake)):
                await _story(services, fake)
        except (DemoFailed, TimeoutError) as exc:
            print(f"\n❌ Demo failed: {exc}", file=sys.stderr)
            return 1
    print("\n✅ Demo completed: invite, registration, report with a rejected answer and a "
          "correction, submission on time, status.")
    return 0


async def _story(services: object, fake: FakeBotApi) -> None:
    from handlers.context import Services

    assert isinstance(services, Services)
    async with services.sessions() as session, session.begin():
        group: Group | None = await group_by_code(session, "to-1")
        code, _ = await create_invite(session, group, Role.LEADER, services.clock(),
                                      timedelta(days=7))
    print(f"\n$ thidua invite --group to-1\nInvite code: {code}\n"
          f"Link: https://t.me/{fake.bot_username}?start={code}")

    lan = fake.user(1001, "Nguyễn Thị", "Lan")
    await _step(lan, lan.send(f"/start {code}"), 1, "đăng ký thành công")
    await _step(lan, lan.send("/baocao"), 1, "Câu 1/16")
    for answer in ["120", "118", "450", "430", "440", "30", "0", "40"]:
        await _step(lan, lan.send(answer), 1)
    await _step(lan, lan.send("52"), 1, "không thể lớn hơn")  # more vaccinated than children
    await _step(lan, lan.send("39"), 1, "Câu 10/16")
    await _step(lan, lan.send("0"), 1)
    await _step(lan, lan.send("không"), 1, "Câu 12/16")
    await _step(lan, lan.press("Có"), 2)
    await _step(lan, lan.press("Có"), 2)
    await _step(lan, lan.press("Không"), 2)
    await _step(lan, lan.press("Khá"), 2, "Câu 16/16")
    await _step(lan, lan.press("Bỏ qua"), 2, "Kiểm tra lại báo cáo")
    await _step(lan, lan.press("Sửa một mục"), 1, "sửa mục nào")
    await _step(lan, lan.press("1. Số hộ"), 1, "Câu 1/16")
    await _step(lan, lan.send("125"), 1, "Số hộ: 125 hộ")
    await _step(lan, lan.press("Gửi báo cáo"), 2, "đúng hạn")
    await _step(lan, lan.send("/trangthai"), 1, "đã gửi ngày 03/04/2022")
