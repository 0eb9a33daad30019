"""`thidua demo`: one full story, the real bot against the fake Bot API, as a transcript.

`BotStack` (the real PTB application polling the fake, with the outbox sender) is also
what the end-to-end tests run.

No token and no network: the fake Telegram server from `fakes.telegram` runs on loopback,
the real python-telegram-bot Application polls it, and the database is a temporary
SQLite file. The clock starts on 3 April 2022, 09:00 in the ward (March is being
reported, due on 5 April), so the story is the same whatever day it is run.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.assembly import background, open_services
from bot.channels.telegram import TelegramChannel
from bot.demo_paperwork import write_paperwork
from fakes.telegram import BotEvent, FakeBotApi, FakeUser, UserAction
from models import Group, Role
from models.invites import create_invite
from models.queries import group_by_code
from reporting.config import Settings
from reporting.config_file import config_path, load_settings
from reporting.services import Services

START = datetime(2022, 4, 3, 2, 0, tzinfo=UTC)  # 09:00 in Asia/Ho_Chi_Minh
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


class DemoFailed(Exception):
    pass


@dataclass
class DemoClock:
    """The story's clock: 3 April 2022 09:00 local, moving on in real time (and by
    `skip`, for the next month's report)."""

    t0: float = field(default_factory=time.monotonic)
    skipped: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return START + self.skipped + timedelta(seconds=time.monotonic() - self.t0)

    def skip(self, by: timedelta) -> None:
        self.skipped += by


def demo_clock() -> DemoClock:
    return DemoClock()


def indent(text: str) -> str:
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
    label = {"editMessageText": "🤖 Bot (sửa tin nhắn trước)", "sendPhoto": "🤖 Bot (ảnh)",
             "sendDocument": "🤖 Bot (tệp)"}.get(item.method, "🤖 Bot")
    print(f"{label}:\n{indent(item.text or '')}")
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


@dataclass
class BotStack:
    """A fake Telegram and the real bot serving it (as `thidua run` does); restartable."""

    fake: FakeBotApi
    services: Services
    _exit: AsyncExitStack = field(default_factory=AsyncExitStack)

    background: bool = False  # also run the outbox sender (not the scheduler)
    idle_sleep: float = 0.1  # the sender's: how long it waits when it finds nothing to do

    async def start(self) -> None:
        self._exit = AsyncExitStack()
        channel = TelegramChannel(self.fake.token, self.fake.base_url, poll_timeout=1)
        transport = await self._exit.enter_async_context(channel.serve(self.services))
        if self.background:
            await self._exit.enter_async_context(
                background(self.services, {channel.name: transport},
                           {channel.name: channel.limits}, scheduler=False,
                           idle_sleep=self.idle_sleep))

    async def stop(self) -> None:
        await self._exit.aclose()

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@asynccontextmanager
async def bot_stack(services: Services, fake: FakeBotApi, background: bool = False,
                    idle_sleep: float = 0.1) -> AsyncIterator[BotStack]:
    stack = BotStack(fake, services, background=background, idle_sleep=idle_sleep)
    await stack.start()
    try:
        yield stack
    finally:
        await stack.stop()


def demo_settings(config: str | None) -> Settings:
    """The given config, else the working folder's, else the repository's own."""
    path = config_path(config)
    if not path.exists() and config is None:
        path = REPO_CONFIG
    return load_settings(path)


async def run_demo(config: str | None = None, keep_db: str | None = None) -> int:
    settings = demo_settings(config)
    with tempfile.TemporaryDirectory(prefix="thidua-demo-") as tmp:
        db_file = Path(keep_db) if keep_db else Path(tmp) / "demo.db"
        url = f"sqlite+aiosqlite:///{db_file}"
        print(f"Thi Đua Bot — demo · {settings.ward.name} · cơ sở dữ liệu {db_file}")
        print("Giả lập: ngày 03/04/2022, 09:00 — kỳ báo cáo tháng 03/2022 đang mở (hạn 05/04).")
        try:
            clock = demo_clock()
            async with (open_services(settings, url, clock=clock) as services,
                        FakeBotApi(on_event=print_event) as fake,
                        bot_stack(services, fake, background=True)):
                services.media_dir = Path(tmp) / "media"
                await _story(services, fake)
                await _good_deed_and_digest(services, fake)
                await _broadcast(services, fake)
                clock.skip(timedelta(days=30))  # 3 May 2022: April's report
                await _unchanged_month(fake)
                papers = await write_paperwork(services, Path.cwd())
        except (DemoFailed, TimeoutError) as exc:
            print(f"\n❌ Demo failed: {exc}", file=sys.stderr)
            return 1
    print("\n✅ Demo completed: invite, registration, report with a rejected answer and a "
          "correction, submission on time, status, a good deed with a photo, the Council's "
          "review and digest, a broadcast with its delivery report, and April sent in five "
          "messages and taps, the figures unchanged; then the year 2022 seeded and filed.")
    print("\nVăn bản đã ghi vào thư mục hiện tại (mở bằng Word hoặc LibreOffice):")
    for path in papers:
        print(f"  {path}")
    return 0


async def _invite(services: Services, fake: FakeBotApi, group_code: str | None,
                  role: Role) -> str:
    async with services.sessions() as session, session.begin():
        group: Group | None = await group_by_code(session, group_code) if group_code else None
        code, _ = await create_invite(session, group, role, services.clock(),
                                      timedelta(days=7), key=services.invites)
    print(f"\n$ thidua invite --group {group_code or '-'} --role {role.value}\n"
          f"Invite code: {code}\nLink: https://t.me/{fake.bot_username}?start={code}")
    return code


def demo_photo() -> bytes:
    """A small JPEG made on the spot (Pillow draws the charts too)."""
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("RGB", (320, 240), (46, 125, 50)).save(buf, format="JPEG")
    return buf.getvalue()


async def _good_deed_and_digest(services: Services, fake: FakeBotApi) -> None:
    lan = fake.user(1001, "Nguyễn Thị", "Lan")
    await _step(lan, lan.send("/guongtot"), 1, "1/6")
    await _step(lan, lan.press("Cá nhân"), 1, "2/6")
    await _step(lan, lan.send("Bà Lò Thị Xuân"), 1, "3/6")
    await _step(lan, lan.send("Nhặt được ví có 5 triệu đồng, trả lại cho người đánh rơi."), 1)
    await _step(lan, lan.press("Hôm qua"), 1, "5/6")
    await _step(lan, lan.press("Việc tốt khác"), 1, "6/6")
    await _step(lan, lan.send_photo(demo_photo()), 1, "Đã nhận 1/5 ảnh")
    await _step(lan, lan.press("Xong"), 1, "📷 1 ảnh")
    await _step(lan, lan.press("Gửi"), 2, "Cảm ơn đồng chí")

    code = await _invite(services, fake, None, Role.COUNCIL)
    mai = fake.user(2002, "Trần Thị", "Mai")
    await _step(mai, mai.send(f"/start {code}"), 1, "Hội đồng Thi đua")
    await _step(mai, mai.send("/guongtot"), 2, "Bà Lò Thị Xuân")
    await _step(mai, mai.press("Đưa vào bản tin"), 1, "⭐")
    await _step(mai, mai.send("/tonghop"), 2, "⭐ Bà Lò Thị Xuân (Tổ 1)")


async def _broadcast(services: Services, fake: FakeBotApi) -> None:
    """Thảo (ward office) calls every leader out for Sunday's clean-up."""
    code = await _invite(services, fake, None, Role.ADMIN)
    thao = fake.user(3003, "Lò Thị", "Thảo")
    await _step(thao, thao.send(f"/start {code}"), 1, "quản trị viên")
    await _step(thao, thao.send("/phatdong"), 1, "soạn thông báo")
    await _step(thao, thao.send("Sáng Chủ nhật 10/4, các tổ, bản ra quân tổng vệ sinh đường, "
                                "ngõ, khu dân cư. Trân trọng!"), 1, "Gửi tới ai?")
    await _step(thao, thao.press("Tất cả tổ trưởng"), 2, "Người nhận: 1")
    lan = fake.user(1001, "Nguyễn Thị", "Lan")
    await _step(thao, thao.press("Gửi cho 1 người"), 1, "đã gửi tới 0/1 người")
    await lan.expect(1, timeout=15)
    for _ in range(150):  # the sender edits the progress message into the report
        if any("Đã gửi xong" in (m.text or "") for m in thao.messages()):
            break
        await asyncio.sleep(0.1)
    else:
        raise DemoFailed("the broadcast's delivery report did not arrive")
    thao.drain()


async def _story(services: Services, fake: FakeBotApi) -> None:
    code = await _invite(services, fake, "to-1", Role.LEADER)

    lan = fake.user(1001, "Nguyễn Thị", "Lan")
    await _step(lan, lan.send(f"/start {code}"), 1, "đăng ký thành công")
    await _step(lan, lan.send("/baocao"), 1, "Câu 1/12")
    for answer in ["120", "118", "450", "430", "440", "30"]:
        await _step(lan, lan.send(answer), 1)
    # Fewer children under 6 than under 5: refused, then corrected.
    await _step(lan, lan.send("25"), 1, "không thể nhỏ hơn")
    await _step(lan, lan.send("40"), 1, "Câu 8/12")
    await _step(lan, lan.press("Đạt"), 2)
    await _step(lan, lan.press("Đạt"), 2)
    await _step(lan, lan.press("Chưa đạt"), 2)
    await _step(lan, lan.press("Khá"), 2, "Câu 12/12")
    await _step(lan, lan.press("Bỏ qua"), 2, "Kiểm tra lại báo cáo")
    await _step(lan, lan.press("Sửa một mục"), 1, "sửa mục nào")
    await _step(lan, lan.press("1. Số hộ"), 1, "Câu 1/12")
    await _step(lan, lan.send("125"), 1, "Số hộ: 125 hộ")
    await _step(lan, lan.press("Gửi báo cáo"), 2, "đúng hạn")
    await _step(lan, lan.send("/trangthai"), 1, "đã gửi ngày 03/04/2022")


async def _unchanged_month(fake: FakeBotApi) -> None:
    """A month later: nothing changed in Tổ 1, so April takes five messages and taps."""
    lan = fake.user(1001, "Nguyễn Thị", "Lan")
    lan.drain()  # the broadcast, read
    print("\n— Một tháng sau: 03/05/2022, kỳ báo cáo tháng 04/2022 —")
    await _step(lan, lan.send("/baocao"), 1, "Số liệu theo báo cáo tháng 03/2022")
    await _step(lan, lan.press("Không thay đổi"), 2, "Câu 11/12")
    await _step(lan, lan.press("Tốt"), 2, "Câu 12/12")
    await _step(lan, lan.press("Bỏ qua"), 2, "Kiểm tra lại báo cáo tháng 04/2022")
    await _step(lan, lan.press("Gửi báo cáo"), 2, "đúng hạn")
