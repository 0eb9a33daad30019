"""`thidua demo --channel zalo`: the Telegram demo's story, played on Zalo.

The real Zalo channel (client, long polling, inbox, renderer, outbox sender) talks to
the fake Zalo Bot API from `fakes.zalo` on loopback; the database is a temporary SQLite
file and the clock starts on 3 April 2022, 09:00 in the ward, as in `bot.demo`.

What Zalo changes, and so what this story shows: there are no buttons, so every menu
is a numbered list and the user types the number or the label (a typed number at a
number question is the answer); photos arrive as URLs the bot downloads; the digest's
chart goes out as a photo by link, because Zalo uploads nothing and fetches the URL
itself — so the demo runs the bot's HTTP server with its signed media links
(`THIDUA_PUBLIC_URL` pointing at loopback); and messages cannot be edited, so a
broadcast's progress arrives once, as the delivery report at the end.

`run_zalo_demo(webhook=True)` plays the same story with Zalo pushing updates to the
bot's webhook route (on the same HTTP server as the media links) instead of the bot
polling, and ends with what only a webhook meets: a push Zalo repeats, answered once,
and a push with the wrong secret, refused (403) and never handled.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.assembly import background, open_services
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo.webhook import ZaloWebhookSettings
from bot.demo import DemoFailed, demo_clock, demo_photo, demo_settings, indent
from bot.http import HttpServer
from bot.media_links import mount_media
from fakes.zalo import FakeZaloApi, FakeZaloUser, ZaloEvent, ZaloUserAction
from models import Group, InboxUpdate, Role
from models.inbox import InboxState
from models.invites import create_invite
from models.queries import group_by_code
from reporting.services import Services

PNG = b"\x89PNG\r\n\x1a\n"


def print_zalo_event(item: ZaloEvent | ZaloUserAction) -> None:
    """The transcript: what each user typed or sent, and what the bot answered."""
    if isinstance(item, ZaloUserAction):
        shown = item.text if item.kind == "text" else f"(ảnh) {item.text or ''}".rstrip()
        print(f"\n👤 {item.name}: {shown}")
        return
    if item.method == "sendPhoto":
        print(f"🤖 Bot (ảnh theo đường dẫn {item.photo_url}):\n{indent(item.text or '')}")
    elif item.method == "sendMessage":
        print(f"🤖 Bot:\n{indent(item.text or '')}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _say(services: Services, user: FakeZaloUser, text: str | None = None, *,
               photo: bytes | None = None, expect: str | None = None) -> str:
    """`user` types `text` (or sends `photo`); wait until the bot has handled and
    answered it — Zalo's updates carry no id to wait on but the inbox's own key — and
    check that the answer says `expect`."""
    update = await (user.send_photo(photo) if photo is not None else user.send(text or ""))
    key = f"{update['event_name']}:{update['message']['message_id']}"
    said = text or "(ảnh)"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    # Handled (its reply committed) first; the inbox notes the reply as delivered only
    # later (`bot.inbox`), so the answer is read as it arrives rather than waited on.
    while await _state(services, key) != InboxState.DONE:
        if loop.time() > deadline:
            raise DemoFailed(f"the bot did not answer {said!r} within 15 s")
        await asyncio.sleep(0.025)
    parts: list[str] = []
    while loop.time() < deadline:
        parts += [e.text or "" for e in await user.settle(quiet=0.15, timeout=1.0)]
        answer = "\n".join(parts)
        if parts and (expect is None or expect in answer):
            return answer
        if await _replied(services, key):  # delivered in full: nothing more will come
            parts += [e.text or "" for e in user.drain()]
            break
    answer = "\n".join(parts)
    if expect is not None and expect not in answer:
        raise DemoFailed(f"expected {expect!r} in the bot's answer to {said!r}, "
                         f"got: {answer!r}")
    return answer


async def _state(services: Services, key: str) -> str | None:
    async with services.sessions() as s:
        return await s.scalar(select(InboxUpdate.state).where(InboxUpdate.update_key == key))


async def _replied(services: Services, key: str) -> bool:
    async with services.sessions() as s:
        return await s.scalar(select(InboxUpdate.replied_at)
                              .where(InboxUpdate.update_key == key)) is not None


async def _invite(services: Services, group_code: str | None, role: Role) -> str:
    async with services.sessions() as session, session.begin():
        group: Group | None = await group_by_code(session, group_code) if group_code else None
        code, _ = await create_invite(session, group, role, services.clock(),
                                      timedelta(days=7), key=services.invites)
    # Zalo has no start links: the member types the code to the bot.
    print(f"\n$ thidua invite --group {group_code or '-'} --role {role.value}\n"
          f"Invite code: {code}\nOn Zalo: send “/start {code}” to the bot")
    return code


async def _report(services: Services, fake: FakeZaloApi) -> None:
    """Lan registers and reports March, typing menu numbers and labels."""
    code = await _invite(services, "to-1", Role.LEADER)
    lan = fake.user("zl-lan-7f3a", "Nguyễn Thị Lan")
    await _say(services, lan, f"/start {code}", expect="đăng ký thành công")
    await _say(services, lan, "/baocao", expect="Câu 1/12")
    for figure in ("120", "118", "450", "430", "440", "30"):
        await _say(services, lan, figure)
    # Fewer children under 6 than under 5: refused, then corrected.
    await _say(services, lan, "25", expect="không thể nhỏ hơn")
    await _say(services, lan, "40", expect="Câu 8/12")
    await _say(services, lan, "1")  # the menu's first line: Đạt
    await _say(services, lan, "đạt")  # or its label
    await _say(services, lan, "chưa đạt")
    await _say(services, lan, "khá", expect="Câu 12/12")
    await _say(services, lan, "bỏ qua", expect="Kiểm tra lại báo cáo")
    await _say(services, lan, "sửa một mục", expect="sửa mục nào")
    await _say(services, lan, "1", expect="Câu 1/12")  # item 1, Số hộ
    await _say(services, lan, "125", expect="Số hộ: 125 hộ")  # a number: the answer
    await _say(services, lan, "gửi báo cáo", expect="đúng hạn")
    await _say(services, lan, "/trangthai", expect="đã gửi ngày 03/04/2022")


async def _good_deed_and_digest(services: Services, fake: FakeZaloApi) -> None:
    lan = fake.user("zl-lan-7f3a", "Nguyễn Thị Lan")
    await _say(services, lan, "/guongtot", expect="1/6")
    await _say(services, lan, "cá nhân", expect="2/6")
    await _say(services, lan, "Bà Lò Thị Xuân", expect="3/6")
    await _say(services, lan, "Nhặt được ví có 5 triệu đồng, trả lại cho người đánh rơi.")
    await _say(services, lan, "hôm qua", expect="5/6")
    await _say(services, lan, "việc tốt khác", expect="6/6")
    await _say(services, lan, photo=demo_photo(), expect="Đã nhận 1/5 ảnh")
    await _say(services, lan, "xong", expect="📷 1 ảnh")
    await _say(services, lan, "gửi", expect="Cảm ơn đồng chí")

    code = await _invite(services, None, Role.COUNCIL)
    mai = fake.user("zl-mai-council", "Trần Thị Mai")
    await _say(services, mai, f"/start {code}", expect="Hội đồng Thi đua")
    await _say(services, mai, "/guongtot", expect="Bà Lò Thị Xuân")
    await _say(services, mai, "đưa vào bản tin", expect="⭐")
    await _say(services, mai, "/tonghop", expect="⭐ Bà Lò Thị Xuân (Tổ 1)")
    charts = [e for e in fake.sent(mai.chat_id) if e.method == "sendPhoto"]
    if not charts or not (charts[-1].photo or b"").startswith(PNG):
        raise DemoFailed("the digest's chart did not reach Zalo as a photo by link")


async def _broadcast(services: Services, fake: FakeZaloApi) -> None:
    """Thảo (ward office) calls every leader out for Sunday's clean-up."""
    code = await _invite(services, None, Role.ADMIN)
    thao = fake.user("zl-thao-admin", "Lò Thị Thảo")
    await _say(services, thao, f"/start {code}", expect="quản trị viên")
    await _say(services, thao, "/phatdong", expect="soạn thông báo")
    await _say(services, thao, "Sáng Chủ nhật 10/4, các tổ, bản ra quân tổng vệ sinh đường, "
                               "ngõ, khu dân cư. Trân trọng!", expect="Gửi tới ai?")
    await _say(services, thao, "1", expect="Người nhận: 1")  # 1. all leaders
    await _say(services, thao, "gửi cho 1 người")
    lan = fake.user("zl-lan-7f3a", "Nguyễn Thị Lan")
    try:
        await lan.next(timeout=15)
    except TimeoutError as exc:
        raise DemoFailed("the broadcast did not reach Lan") from exc
    for _ in range(150):  # no edits on Zalo: the delivery report comes once, at the end
        if any("Đã gửi xong" in (m.text or "") for m in thao.messages()):
            break
        await asyncio.sleep(0.1)
    else:
        raise DemoFailed("the broadcast's delivery report did not arrive")


def _status_answers(events: list[ZaloEvent]) -> list[ZaloEvent]:
    # Only answers to /trangthai count: a notice the outbox sends Lan late (it keeps
    # Zalo's pace) may arrive meanwhile and is no answer to the push.
    return [e for e in events if "đã gửi ngày" in (e.text or "")]


async def _webhook_guard(services: Services, fake: FakeZaloApi) -> None:
    """Webhook mode only. Zalo pushes Lan's next message twice: the bot stores it once
    and answers once. Then a push arrives with the wrong secret (the fake plays a
    stranger who found the address): refused with 403, so never stored nor answered."""
    lan = fake.user("zl-lan-7f3a", "Nguyễn Thị Lan")
    print("\n(Zalo đẩy tin nhắn tiếp theo tới webhook hai lần)")
    fake.webhook.repeat_next()
    await _say(services, lan, "/trangthai", expect="đã gửi ngày 03/04/2022")
    for _ in range(200):
        if any(d.repeat for d in fake.webhook.deliveries):
            break
        await asyncio.sleep(0.05)
    else:
        raise DemoFailed("the fake did not repeat the push")
    if _status_answers(await lan.settle(quiet=0.5)):
        raise DemoFailed("the repeated push was answered a second time")
    print("(Tin đẩy lặp lại: bot nhận và bỏ qua, không trả lời lần thứ hai)")

    right, attempts = fake.webhook.secret or "", fake.webhook.max_attempts
    fake.webhook.secret, fake.webhook.max_attempts = "not-" + right, 1
    try:
        await lan.send("/trangthai")
        for _ in range(200):
            if fake.webhook.dropped:
                break
            await asyncio.sleep(0.05)
        else:
            raise DemoFailed("the push with the wrong secret was not refused")
    finally:
        fake.webhook.secret, fake.webhook.max_attempts = right, attempts
    if fake.webhook.deliveries[-1].status != 403 or _status_answers(await lan.settle(quiet=0.5)):
        raise DemoFailed("a push with the wrong secret was not refused with 403")
    print("(Tin đẩy sai mã bí mật: bot từ chối — HTTP 403 — và không xử lý)")


@asynccontextmanager
async def zalo_stack(services: Services, fake: FakeZaloApi, *,
                     webhook: bool = False) -> AsyncIterator[HttpServer]:
    """The bot as `thidua run` serves Zalo: its HTTP server with the signed media links
    (Zalo fetches the chart from there), the channel polling the fake or, with
    `webhook`, taking the fake's pushes on a route of that same server, and the outbox
    sender (not the scheduler: the story drives every step)."""
    port = _free_port()
    services.public_url = f"http://127.0.0.1:{port}"
    async with HttpServer("127.0.0.1", port).serving() as server:
        mount_media(server, services)
        hook = None
        if webhook:  # a fresh secret each run: the demo has no ZALO_WEBHOOK_SECRET
            hook = ZaloWebhookSettings(url=f"{services.public_url}/zalo",
                                       secret=secrets.token_urlsafe(24),
                                       host="127.0.0.1", port=port)
        channel = ZaloChannel(fake.token, fake.base_url, hook=hook, server=server,
                              poll_timeout=1)
        async with channel.serve(services) as transport, \
                background(services, {channel.name: transport},
                           {channel.name: channel.limits}, scheduler=False, idle_sleep=0.1):
            yield server


async def run_zalo_demo(config: str | None = None, keep_db: str | None = None, *,
                        webhook: bool = False) -> int:
    settings = demo_settings(config)
    with tempfile.TemporaryDirectory(prefix="thidua-demo-") as tmp:
        db_file = Path(keep_db) if keep_db else Path(tmp) / "demo.db"
        url = f"sqlite+aiosqlite:///{db_file}"
        print(f"Thi Đua Bot — demo trên Zalo · {settings.ward.name} · cơ sở dữ liệu {db_file}")
        print("Giả lập: ngày 03/04/2022, 09:00 — kỳ báo cáo tháng 03/2022 đang mở (hạn 05/04).")
        print("Zalo không có nút bấm: người dùng gõ số thứ tự hoặc tên mục trong danh sách.")
        if webhook:
            print("Chế độ webhook: Zalo đẩy từng tin nhắn tới địa chỉ webhook của bot.")
        try:
            # The fake's 1 message/s per chat is off: the bot keeps it (its own limits),
            # but the demo's users type faster than a person and would only wait.
            async with (open_services(settings, url, clock=demo_clock()) as services,
                        FakeZaloApi(per_chat_per_second=None,
                                    on_event=print_zalo_event) as fake,
                        zalo_stack(services, fake, webhook=webhook)):
                services.media_dir = Path(tmp) / "media"
                await _report(services, fake)
                await _good_deed_and_digest(services, fake)
                await _broadcast(services, fake)
                if webhook:
                    await _webhook_guard(services, fake)
        except (DemoFailed, TimeoutError) as exc:
            print(f"\n❌ Demo failed: {exc}", file=sys.stderr)
            return 1
    print("\n✅ Demo completed on Zalo: invite, registration, report with a rejected answer "
          "and a correction (menus answered by number and by label), submission on time, "
          "status, a good deed with a photo, the Council's review and digest with the chart "
          "as a photo by link, a broadcast with its delivery report"
          + (" — by webhook: a repeated push answered once, a wrong secret refused."
             if webhook else "."))
    return 0
