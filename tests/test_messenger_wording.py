"""Messages read right on the reader's messenger (issue 11).

Telegram has buttons and edits its messages; Zalo has neither: options come as a
numbered menu ("1. Có  2. Không") the user answers by typing the number or the label,
and a broadcast's progress arrives as one final report. Lan leads Tổ 1 on Zalo, Hùng
leads Tổ 2 on Telegram; the clock is 3 April 2022 (March is being reported).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.channels.telegram.render import LIMITS as TELEGRAM
from bot.channels.zalo.render import LIMITS as ZALO
from reporting.services import Services
from scheduler.runner import run_due
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, MONTH, Person, make_invite, plain
from tests.test_scheduler import outbox

BUTTONS = re.compile(r"\bbấm\b", re.IGNORECASE)


@pytest.fixture
def both(services: Services) -> Services:
    # What the two running channels register as they start.
    services.limits.update(telegram=TELEGRAM, zalo=ZALO)
    return services


async def leader(app: Services, user_id: str, name: str, group: str, channel: str) -> Person:
    person = Person(app, user_id, name, channel=channel)
    await person.send(f"/start {await make_invite(app, group)}")
    assert "đăng ký thành công" in person.last_text, person.last_text
    return person


async def report_march(person: Person) -> list[str]:
    """Registration is done; /baocao, every answer typed, the summary, then "gửi"."""
    await person.send("/baocao")
    for code in MONTH:
        await person.send(LAN_MARCH.get(code, "bỏ qua"))
    await person.send("gửi")
    assert "Đã gửi báo cáo" in person.last_text, person.last_text
    return [plain(m.text) for r in person.replies for m in r.messages]


async def test_lan_on_zalo_is_never_told_to_press_a_button(both: Services) -> None:
    lan = await leader(both, "zl-lan", "Lan", "to-1", "zalo")
    heard = await report_march(lan)
    summary = next(t for t in heard if "Gửi báo cáo" in t and "Sửa một mục" in t)
    assert not [t for t in heard if BUTTONS.search(t)]
    # The summary names the menu's label to choose, as the numbered menu shows it.
    assert "chọn Gửi báo cáo" in summary
    # A yes/no and a choice question say the answer is typed: a number or a label.
    assert sum("Gõ số hoặc tên mục" in t for t in heard) >= 2


async def test_hung_on_telegram_keeps_todays_wording(both: Services) -> None:
    hung = await leader(both, "tg-hung", "Hùng", "to-2", "telegram")
    heard = await report_march(hung)
    summary = next(t for t in heard if "Gửi báo cáo" in t and "Sửa một mục" in t)
    assert "Nếu đúng, bấm Gửi báo cáo. Muốn sửa, bấm Sửa một mục." in summary
    assert sum("Bấm một trong hai nút trả lời" in t for t in heard) >= 3  # 3 yes/no


async def test_a_reminder_is_worded_for_each_leaders_messenger(both: Services,
                                                               clock: Clock) -> None:
    await leader(both, "zl-lan", "Lan", "to-1", "zalo")
    await leader(both, "tg-hung", "Hùng", "to-2", "telegram")
    clock.set_local(2022, 4, 5, 10, 0)  # the due date's reminder; neither has reported
    await run_due(both, clock())
    reminders = {m.to: plain(m.text) for m in await outbox(both) if m.kind == "reminder"}
    assert set(reminders) == {"Lan", "Hùng"}
    assert BUTTONS.search(reminders["Hùng"]) and not BUTTONS.search(reminders["Lan"])
    assert "Báo cáo ngay" in reminders["Lan"]  # the menu's label, still named


@pytest.mark.parametrize(("channel", "promises_an_edit"), [
    ("telegram", True), ("zalo", False), (None, True), ("unknown", True)])
def test_a_broadcast_promises_progress_below_only_where_messages_are_edited(
        both: Services, channel: str | None, promises_an_edit: bool) -> None:
    # The admin's own messenger decides: Zalo cannot edit, so one report comes at the end;
    # where messages are edited, the preview itself turns into the progress (no promise).
    text = both.t("broadcast_queued", "vi", read_on=channel, count=300)
    assert ("gửi xong" in text) is not promises_an_edit


async def test_the_weekly_digest_is_worded_for_each_council_members_messenger(
        both: Services, clock: Clock, tmp_path: Path) -> None:
    """Minh (Council) reads on Zalo, Thảo on Telegram: one chart, the text worded twice."""
    both.media_dir = tmp_path
    for user_id, name, channel in (("zl-minh", "Minh", "zalo"), ("tg-thao", "Thảo", "telegram")):
        person = Person(both, user_id, name, channel=channel)
        await person.send(f"/start {await make_invite(both, None, 'council')}")
        assert "đăng ký thành công" in person.last_text, person.last_text
    clock.set_local(2022, 3, 28, 10, 0)  # Monday morning: the weekly digest
    await run_due(both, clock())
    texts = {m.to: plain(m.text) for m in await outbox(both)
             if m.kind == "weekly_digest" and m.photo is None}
    assert set(texts) == {"Minh", "Thảo"}
    assert BUTTONS.search(texts["Thảo"]) and not BUTTONS.search(texts["Minh"])
    assert "Xem chi tiết" in texts["Minh"]  # the menu's label, still named
