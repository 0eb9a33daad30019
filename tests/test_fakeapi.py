"""The fake Bot API, driven by the real python-telegram-bot stack over loopback HTTP.

These tests pin down the behaviour the rest of the suite (and ``thidua demo``) relies on:
that PTB's requests are understood, that Telegram's validation rules are enforced with the
errors PTB maps to its real exception classes, and that scripted users see what the bot sent.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from fakes.telegram import BotEvent, FakeBotApi, UserAction
from fakes.telegram.errors import ApiError
from fakes.telegram.formatting import parse_html

App = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE


def tiny_jpeg(width: int, height: int) -> bytes:
    """Enough of a JPEG (SOI, a comment, SOF0 with dimensions, EOI) for size sniffing."""
    comment = b"thidua" * 50
    com = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    sof = (b"\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")
           + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01")
    return b"\xff\xd8" + com + sof + b"\xff\xd9"


# -- a tiny bot exercising the API surface the real bot uses -------------------------------

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Đồng ý", callback_data="agree"),
      InlineKeyboardButton("Từ chối", callback_data="deny")]]
)


async def on_start(update: Update, context: Context) -> None:
    assert update.effective_message
    await update.effective_message.reply_text(
        "Chào <b>bạn</b>!", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query and query.data is not None
    await query.answer(f"Đã chọn {query.data}")
    await query.edit_message_text(
        f"Bạn chọn: <i>{html.escape(query.data)}</i>", parse_mode=ParseMode.HTML
    )


async def on_text(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message and message.text
    await message.reply_text(
        f"Bạn nói: <b>{html.escape(message.text)}</b>", parse_mode=ParseMode.HTML
    )


async def on_photo(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message and message.photo
    file = await message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    context.bot_data["photo"] = bytes(data)
    context.bot_data["sizes"] = [(size.width, size.height) for size in message.photo]
    await message.reply_text(f"Đã nhận ảnh {len(data)} byte")


async def track(update: Update, context: Context) -> None:
    context.bot_data.setdefault("update_ids", []).append(update.update_id)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def app(fake: FakeBotApi) -> AsyncIterator[App]:
    application = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    application.add_handler(TypeHandler(Update, track), group=-1)
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(MessageHandler(filters.PHOTO, on_photo))
    await application.initialize()
    await application.start()
    assert application.updater
    await application.updater.start_polling(poll_interval=0, timeout=5)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


# -- PTB end to end ------------------------------------------------------------------------


async def test_get_me_and_bootstrap(app: App, fake: FakeBotApi) -> None:
    assert app.bot.username == "ThiDuaDemoBot"
    assert app.bot.first_name == "Thi Đua Bot"
    methods = [event.method for event in fake.events]
    assert "getMe" in methods and "deleteWebhook" in methods
    assert "getUpdates" not in methods  # successful polls are plumbing, not recorded
    assert all(event.ok for event in fake.events)


async def test_start_press_and_edit(app: App, fake: FakeBotApi) -> None:
    lan = fake.user(1001, "Lan", "Nguyễn")
    await lan.send("/start")
    greeting = await lan.next()
    assert greeting.method == "sendMessage"
    assert greeting.text == "Chào bạn!"
    assert greeting.html == "Chào <b>bạn</b>!"
    assert greeting.buttons == [[("Đồng ý", "agree"), ("Từ chối", "deny")]]
    assert lan.last_keyboard() == greeting.buttons

    await lan.press("đồng")  # case-insensitive, unique substring
    edit = await lan.next()
    assert edit.method == "editMessageText"
    assert edit.message_id == greeting.message_id
    assert edit.text == "Bạn chọn: agree"
    assert [answer.text for answer in lan.callback_answers] == ["Đã chọn agree"]

    [current] = fake.messages(lan.id)
    assert current.edited and current.text == "Bạn chọn: agree"
    assert current.buttons == []  # editing text without reply_markup drops the keyboard
    assert lan.last_keyboard() == []
    assert await lan.settle(quiet=0.2) == []


async def test_press_unknown_label_lists_buttons(app: App, fake: FakeBotApi) -> None:
    lan = fake.user(1002, "Lan")
    await lan.send("/start@ThiDuaDemoBot")
    await lan.next()
    with pytest.raises(AssertionError, match="Từ chối"):
        await lan.press("Huỷ")


async def test_polling_delivers_in_order_once(app: App, fake: FakeBotApi) -> None:
    minh = fake.user(1003, "Minh")
    texts = [f"tin {i} <b>&" for i in range(6)]
    started = time.monotonic()
    for text in texts:
        await minh.send(text)
    replies = await minh.expect(len(texts))
    assert time.monotonic() - started < 3  # long poll wakes up, no 5 s poll timeout
    assert [reply.text for reply in replies] == [f"Bạn nói: {text}" for text in texts]
    assert replies[0].html == "Bạn nói: <b>tin 0 &lt;b&gt;&amp;</b>"

    ids = app.bot_data["update_ids"]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == len(texts)
    assert set(fake.delivery_counts.values()) == {1}
    confirmed = await fake.wait_until(lambda: True if not fake.pending_updates else None, 5)
    assert confirmed, "offsets were not confirmed"


async def test_html_validation(app: App, fake: FakeBotApi) -> None:
    hoa = fake.user(1004, "Hoa")
    bad = ["dòng 1<br>dòng 2", "<p>đoạn</p>", "a < b", "AT&T", "<b>đậm", "<b><i>x</b></i>"]
    for text in bad:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await app.bot.send_message(hoa.id, text, parse_mode=ParseMode.HTML)
    rejected = [event for event in fake.events if not event.ok]
    assert [event.params["text"] for event in rejected] == bad
    assert all(event.error and "can't parse entities" in event.error for event in rejected)

    sent = await app.bot.send_message(
        hoa.id,
        '<b>a</b> &lt;tag&gt; &amp; &quot; &#8364; <a href="https://x.vn/?a=1&amp;b=2">l</a> '
        "<tg-spoiler>s</tg-spoiler> <blockquote expandable>q</blockquote> "
        "<pre><code class=\"language-python\">x = 1</code></pre>",
        parse_mode=ParseMode.HTML,
    )
    assert sent.text == 'a <tag> & " € l s q x = 1'
    assert {entity.type for entity in sent.entities} >= {"bold", "text_link", "pre"}
    assert (await hoa.next()).text == sent.text


async def test_button_data_limit_is_bytes(app: App, fake: FakeBotApi) -> None:
    hoa = fake.user(1005, "Hoa")
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("Chọn", callback_data="ư" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):  # 33 chars, 66 bytes
        await app.bot.send_message(hoa.id, "x", reply_markup=too_long)
    fits = InlineKeyboardMarkup([[InlineKeyboardButton("Chọn", callback_data="ư" * 32)]])
    await app.bot.send_message(hoa.id, "x", reply_markup=fits)


async def test_edit_rules(app: App, fake: FakeBotApi) -> None:
    hoa = fake.user(1006, "Hoa")
    sent = await app.bot.send_message(hoa.id, "Báo cáo <b>tuần</b>", parse_mode=ParseMode.HTML,
                                      reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await sent.edit_text("Báo cáo <b>tuần</b>", parse_mode=ParseMode.HTML,
                             reply_markup=KEYBOARD)
    await sent.edit_text("Báo cáo <b>tuần</b>", parse_mode=ParseMode.HTML)  # drops keyboard
    await sent.edit_reply_markup(KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await sent.edit_reply_markup(KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await app.bot.edit_message_text("x", chat_id=hoa.id, message_id=9999)
    [current] = fake.messages(hoa.id)
    assert current.buttons == [[("Đồng ý", "agree"), ("Từ chối", "deny")]]


async def test_length_and_chat_checks(app: App, fake: FakeBotApi) -> None:
    hoa = fake.user(1007, "Hoa")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await app.bot.send_message(hoa.id, "x" * 4097)
    # the limit applies after entity parsing: tags do not count
    await app.bot.send_message(hoa.id, "<b>" + "đ" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await app.bot.send_message(hoa.id, "<b> </b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await app.bot.send_message(424242, "xin chào")


async def test_length_is_what_telegram_counts_after_parsing(app: App, fake: FakeBotApi) -> None:
    """Telegram counts the parsed text in code points: 4,096 `&amp;` (20,480 characters of
    HTML) or 4,096 astral emoji (8,192 UTF-16 units) are accepted, one more is not."""
    hoa = fake.user(1011, "Hoa")
    await app.bot.send_message(hoa.id, "<b>" + "&amp;" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    await app.bot.send_message(hoa.id, "😀" * 4096, parse_mode=ParseMode.HTML)
    for text in ("&amp;" * 4097, "😀" * 4097):
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await app.bot.send_message(hoa.id, text, parse_mode=ParseMode.HTML)
    sent = await app.bot.send_message(hoa.id, "x", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await sent.edit_text("&lt;" * 4097, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await app.bot.send_photo(hoa.id, photo=tiny_jpeg(10, 10), caption="&quot;" * 1025,
                                 parse_mode=ParseMode.HTML)
    await app.bot.send_photo(hoa.id, photo=tiny_jpeg(10, 10), caption="&quot;" * 1024,
                             parse_mode=ParseMode.HTML)


async def test_only_telegrams_tags_and_entities_parse(app: App, fake: FakeBotApi) -> None:
    """A part cut badly is refused as Telegram refuses it; the fake is stricter only on a
    bare `&` or an HTML entity Telegram does not know (it keeps those as text)."""
    hoa = fake.user(1012, "Hoa")
    bad = {"<b>Ghi chú: &amp;&amp": "Can't find end tag",  # a part cut inside <b>…</b>
           "<b>đậm</i>": "Unmatched end tag",
           "đậm</b>": "Unexpected end tag", "<b>đậm": "Can't find end tag",
           "<span>x</span>": "tg-spoiler", "dòng<br/>": "Unsupported start tag",
           "&nbsp;": "Bare", "R&D": "Bare", "<b>x</b": "Unclosed end tag"}
    for text, detail in bad.items():
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as err:
            await app.bot.send_message(hoa.id, text, parse_mode=ParseMode.HTML)
        assert detail.lower() in str(err.value).lower(), (text, str(err.value))
    sent = await app.bot.send_message(hoa.id, "&lt;&gt;&amp;&quot;&#39;&#x1F600;&amp",
                                      parse_mode=ParseMode.HTML)
    assert sent.text == "<>&\"'😀&"  # named, numeric and a missing `;`, as Telegram reads them


async def test_photo_round_trip(app: App, fake: FakeBotApi) -> None:
    tuan = fake.user(1008, "Tuấn")
    jpeg = tiny_jpeg(800, 600)
    await tuan.send_photo(jpeg, caption="Ảnh minh chứng")
    reply = await tuan.next()
    assert reply.text == f"Đã nhận ảnh {len(jpeg)} byte"
    assert app.bot_data["photo"] == jpeg
    assert app.bot_data["sizes"] == [(90, 68), (800, 600)]  # largest last

    sent = await app.bot.send_photo(tuan.id, photo=jpeg, caption="<b>Biểu đồ</b> tuần",
                                    parse_mode=ParseMode.HTML)
    event = await tuan.next()
    assert (event.method, event.text, event.message_id) == ("sendPhoto", "Biểu đồ tuần",
                                                            sent.message_id)
    assert event.params["photo"]["size"] == len(jpeg)  # uploads are recorded by size
    file = await sent.photo[-1].get_file()
    assert bytes(await file.download_as_bytearray()) == jpeg

    await app.bot.send_photo(tuan.id, photo=sent.photo[-1].file_id)  # re-send by file_id
    assert (await tuan.next()).text is None
    doc = await app.bot.send_document(tuan.id, document=b"a,b\n1,2\n", filename="bao_cao.csv")
    assert doc.document and doc.document.file_name == "bao_cao.csv"
    assert (await tuan.next()).method == "sendDocument"
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await app.bot.send_photo(tuan.id, photo=jpeg, caption="x" * 1025)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_failure_injection(app: App, fake: FakeBotApi) -> None:
    blocked, other = fake.user(1009, "An"), fake.user(1010, "Bình")
    fake.fail_chat(blocked.id)
    with pytest.raises(Forbidden, match="blocked"):
        await app.bot.send_message(blocked.id, "nhắc việc")
    await app.bot.send_message(other.id, "nhắc việc")
    fake.unfail_chat(blocked.id)
    await app.bot.send_message(blocked.id, "nhắc việc")

    fake.fail_next("SENDMESSAGE", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await app.bot.send_message(other.id, "lần 1")
    await app.bot.send_message(other.id, "lần 2")

    fake.rate_limit(per_chat_per_second=1.0, overall_per_second=30.0)
    await app.bot.send_message(other.id, "một")
    with pytest.raises(RetryAfter):
        await app.bot.send_message(other.id, "hai")
    assert fake.events[-1].error == "Too Many Requests: retry after 1"
    await app.bot.send_message(blocked.id, "chat khác vẫn gửi được")
    fake.clear_faults()
    await app.bot.send_message(other.id, "hết giới hạn")

    rejected = [(event.method, event.chat_id, event.ok) for event in fake.events if not event.ok]
    assert rejected == [("sendMessage", blocked.id, False), ("sendMessage", other.id, False),
                        ("sendMessage", other.id, False)]


async def test_forged_callback_and_bad_answer(app: App, fake: FakeBotApi) -> None:
    lan = fake.user(1011, "Lan")
    await lan.send("/start")
    await lan.next()
    await lan.press_data("forged<&>")
    edit = await lan.next()
    assert edit.text == "Bạn chọn: forged<&>"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await app.bot.answer_callback_query("123")


async def test_on_event_transcript(app: App, fake: FakeBotApi) -> None:
    transcript: list[BotEvent | UserAction] = []
    fake.on_event = transcript.append
    mai = fake.user(1012, "Mai")
    await mai.send("xin chào")
    await mai.next()
    assert isinstance(transcript[0], UserAction) and transcript[0].text == "xin chào"
    assert isinstance(transcript[1], BotEvent) and transcript[1].text == "Bạn nói: xin chào"


# -- raw HTTP protocol (no PTB) ------------------------------------------------------------


async def test_raw_protocol(fake: FakeBotApi) -> None:
    api = f"{fake.base_url}{fake.token}"
    user = fake.user(2001, "Khoa")
    async with aiohttp.ClientSession() as http:

        async def call(method: str, **params: Any) -> tuple[int, dict[str, Any]]:
            async with http.post(f"{api}/{method}", json=params) as response:
                return response.status, await response.json()

        status, body = await call("GETME")  # method names are case-insensitive
        assert status == 200 and body["result"]["username"] == "ThiDuaDemoBot"
        async with http.get(f"{fake.base_url}0:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401,
                                             "description": "Unauthorized"}
        assert await call("getNothing") == (404, {"ok": False, "error_code": 404,
                                                  "description": "Not Found"})

        # form encoding with JSON-in-a-string values, as PTB sends them
        markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
        form = {"chat_id": str(user.id), "text": "hi", "reply_markup": json.dumps(markup)}
        async with http.post(f"{api}/sendMessage", data=form) as response:
            assert (await response.json())["result"]["reply_markup"] == markup

        await user.send("/start@ThiDuaDemoBot ngay")
        await user.send("hai")
        _, body = await call("getUpdates", timeout=0)
        first, second = body["result"]
        # Not confirmed (no later offset asked for): a restarted bot gets them again.
        _, again = await call("getUpdates", timeout=0)
        assert [u["update_id"] for u in again["result"]] == [first["update_id"],
                                                            second["update_id"]]
        assert first["message"]["entities"] == [
            {"type": "bot_command", "offset": 0, "length": len("/start@ThiDuaDemoBot")}]
        _, body = await call("getUpdates", offset=first["update_id"] + 1)
        assert [u["update_id"] for u in body["result"]] == [second["update_id"]]
        _, body = await call("getUpdates", offset=second["update_id"] + 1, timeout=0.3)
        assert body["result"] == [] and fake.pending_updates == []

        # long poll returns as soon as an update is queued
        poll = asyncio.create_task(call("getUpdates", offset=second["update_id"] + 1, timeout=5))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await user.send("ba")
        _, body = await poll
        assert time.monotonic() - started < 1
        assert body["result"][0]["message"]["text"] == "ba"

        # allowed_updates filters (and is remembered), as on Telegram
        await user.send("bốn")
        _, body = await call("getUpdates", allowed_updates=["callback_query"])
        assert body["result"] == [] and fake.pending_updates == []

        # a second concurrent poll terminates the first with 409, as Telegram does
        older = asyncio.create_task(call("getUpdates", offset=10**6, timeout=5))
        await asyncio.sleep(0.1)
        newer = asyncio.create_task(call("getUpdates", offset=10**6, timeout=0.2))
        status, body = await older
        assert status == 409 and "Conflict" in body["description"]
        assert (await newer)[1]["result"] == []


def test_lenient_ampersand_option() -> None:
    assert parse_html("AT&T <b>&amp;</b>", strict_ampersand=False).text == "AT&T &"
    with pytest.raises(ApiError, match="Bare"):
        parse_html("AT&T")
