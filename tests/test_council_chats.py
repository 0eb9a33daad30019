"""Where the Council's reading commands answer: a private chat or a configured Council chat.

Mai is on the Council. The ward's config names one Telegram group as the Council's chat
(`schedule.council_chats`); Mai is also in the "Hội phụ nữ Tổ 3" group with the bot,
where residents read along. Lan leads Tổ 1 and has submitted March, so there is a name
and figures to leak.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from handlers.router import handle
from reporting.buttons import Button, CommandAction, Flow, decode
from reporting.config import Settings
from reporting.messages import Incoming, Reply
from reporting.services import Services
from tests.helpers import LAN_MARCH, Person, make_invite, plain, register, submit_month

COUNCIL_CHAT = -1001234
WOMEN_UNION_CHAT = -1009876  # a group Mai is in that is not the Council's


@pytest.fixture
def ward(services: Services, settings: Settings) -> Services:
    schedule = settings.schedule.model_copy(update={"council_chats": [COUNCIL_CHAT]})
    return replace(services, settings=settings.model_copy(update={"schedule": schedule}))


async def _mai(app: Services) -> Person:
    mai = Person(app, "5", "Mai", channel="telegram")
    await mai.send(f"/start {await make_invite(app, None, 'council')}")
    assert "đăng ký thành công" in mai.last_text
    return mai


def _in(chat: int, mai: Person, text: str | None = None, **kw: object) -> Incoming:
    command: str | None = None
    args: tuple[str, ...] = ()
    if text is not None and text.startswith("/"):
        word, *rest = text.split()
        command, args = word[1:], tuple(rest)
    return Incoming(channel="telegram", chat_id=str(chat), user_id=mai.user_id,
                    display_name=mai.name, text=text, command=command, args=args,
                    private=False, **kw)  # type: ignore[arg-type]


def _told_where(app: Services, reply: Reply) -> bool:
    """The reply is only the one line saying where the command works."""
    return [m.text for m in reply.messages] == [app.t("council_chat_only", "vi")] \
        and not any(m.attachments for m in reply.messages)


async def test_mais_export_in_another_group_posts_no_workbook(ward: Services) -> None:
    lan = await register(ward, "1", "Lan")
    await submit_month(lan, LAN_MARCH)
    mai = await _mai(ward)
    for command in ("/xuat", "/export 3/2022", "/tonghop", "/digest chitiet", "/trangthai",
                    "/status"):
        reply = await handle(ward, _in(WOMEN_UNION_CHAT, mai, command))
        assert _told_where(ward, reply), (command, [m.text for m in reply.messages])


async def test_mais_export_works_in_the_council_chat_and_in_private(ward: Services) -> None:
    lan = await register(ward, "1", "Lan")
    await submit_month(lan, LAN_MARCH)
    mai = await _mai(ward)
    in_council = await handle(ward, _in(COUNCIL_CHAT, mai, "/xuat 3/2022"))
    [doc] = in_council.messages[0].attachments
    assert doc.kind == "document" and doc.filename == "thidua-2022-03.xlsx" and doc.data
    private = await mai.send("/xuat 3/2022")
    assert private.messages[0].attachments[0].filename == "thidua-2022-03.xlsx"
    status = await handle(ward, _in(COUNCIL_CHAT, mai, "/trangthai"))
    assert "Tổ 1" in plain(status.messages[0].text)  # the ward's status, names and all
    digest = await handle(ward, _in(COUNCIL_CHAT, mai, "/tonghop"))
    assert not _told_where(ward, digest) and digest.messages[0].attachments  # the chart


async def test_the_digests_detail_button_follows_the_same_rule(ward: Services) -> None:
    """The "Xem chi tiết" button works in the Council's chat; pressed on a copy of the
    digest forwarded into another group, it answers with the one line instead."""
    mai = await _mai(ward)
    short = await handle(ward, _in(COUNCIL_CHAT, mai, "/tonghop"))
    [[option, loudspeaker]] = short.messages[0].options
    button = decode(option.data)
    assert isinstance(button, Button) and button.flow is Flow.COMMAND
    assert button.action is CommandAction.DETAIL
    elsewhere = await handle(ward, _in(WOMEN_UNION_CHAT, mai, callback=option.data,
                                       message_id="7"))
    assert _told_where(ward, elsewhere)
    here = await handle(ward, _in(COUNCIL_CHAT, mai, callback=option.data, message_id="8"))
    plan = ward.settings.plan(2022)
    assert plan is not None
    assert all(t.label.vi in plain(here.messages[0].text) for t in plan.targets)
    # The loudspeaker bulletin's button is a reading of /tonghop too: the same rule.
    elsewhere = await handle(ward, _in(WOMEN_UNION_CHAT, mai, callback=loudspeaker.data,
                                       message_id="9"))
    assert _told_where(ward, elsewhere)
    here = await handle(ward, _in(COUNCIL_CHAT, mai, callback=loudspeaker.data,
                                  message_id="10"))
    assert here.messages and not _told_where(ward, here)


async def test_help_still_answers_in_any_group(ward: Services) -> None:
    mai = await _mai(ward)
    reply = await handle(ward, _in(WOMEN_UNION_CHAT, mai, "/trogiup"))
    assert reply.messages and not _told_where(ward, reply)


def test_council_chats_are_telegram_chat_ids(settings: Settings) -> None:
    schedule = settings.schedule.model_copy(update={"council_chats": [COUNCIL_CHAT]})
    assert schedule.is_council_chat("telegram", str(COUNCIL_CHAT))
    assert not schedule.is_council_chat("zalo", str(COUNCIL_CHAT))  # another messenger's id
    assert not schedule.is_council_chat("telegram", str(WOMEN_UNION_CHAT))
