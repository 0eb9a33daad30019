"""The fake Zalo Bot API, spoken to over loopback HTTP the way the bot's Zalo client will.

These tests pin down what the bot's Zalo channel (and ``thidua demo --channel zalo``)
relies on: Zalo's envelope and shapes, one update per ``getUpdates`` with 408 when none
came, webhook pushes with the secret header in both body shapes, the documented limits on
what may be sent, send limits and injected failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from fakes.zalo import SECRET_HEADER, FakeZaloApi, ZaloEvent, ZaloUserAction

JPEG = b"\xff\xd8\xff\xe0" + b"thidua-photo" * 40 + b"\xff\xd9"
Answer = tuple[int, dict[str, Any]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloApi]:
    async with FakeZaloApi() as api:
        yield api


async def call(fake: FakeZaloApi, method: str, token: str | None = None,
               **params: Any) -> Answer:
    """POST a JSON body like Zalo's documentation shows; (HTTP status, JSON body)."""
    url = f"{fake.base_url}{token or fake.token}/{method}"
    async with aiohttp.ClientSession() as http, http.post(url, json=params) as response:
        return response.status, await response.json()


def error_code(answer: Answer) -> int | None:
    status, body = answer
    assert body["ok"] is False, body
    assert status == body["error_code"]  # the HTTP status mirrors the error code
    return int(body["error_code"])


class Receiver:
    """A bot-side webhook endpoint that answers with scripted statuses (then 200)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.json(), request.headers.get(SECRET_HEADER)))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    app = web.Application()
    app.router.add_post("/zalo", recv.handle)
    recv.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await recv.runner.setup()
    site = web.TCPSite(recv.runner, "127.0.0.1", 0)
    await site.start()
    recv.url = f"http://127.0.0.1:{recv.runner.addresses[0][1]}/zalo"
    yield recv
    await recv.runner.cleanup()


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


# -- the bot itself and the envelope --------------------------------------------------------


async def test_get_me_answers_the_bot_and_a_wrong_token_is_unauthorized(fake: FakeZaloApi) -> None:
    status, body = await call(fake, "getMe")
    assert status == 200 and body["ok"] is True
    assert body["result"]["id"] == fake.token.split(":")[0]
    assert body["result"]["account_name"]

    wrong = await call(fake, "getMe", token=fake.token.split(":")[0] + ":not-the-secret")
    assert error_code(wrong) == 401
    assert (await call(fake, "getMe", token="no-colon"))[1]["error_code"] == 401
    assert error_code(await call(fake, "sendButtons", chat_id="x")) == 404
    refused = [e for e in fake.events if not e.ok]
    assert [e.error_code for e in refused] == [401, 401, 404]


ALL_METHODS = ["getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
               "sendMessage", "sendPhoto", "sendSticker", "sendChatAction"]


@pytest.mark.parametrize("method", ALL_METHODS)
async def test_every_method_refuses_a_wrong_token_and_a_parameter_zalo_does_not_take(
        fake: FakeZaloApi, method: str) -> None:
    lan = fake.user("u-lan", "Lan")
    wrong = await call(fake, method, token="1234567890:wrong", chat_id=lan.id, timeout=0)
    assert error_code(wrong) == 401
    odd = await call(fake, method, reply_markup={"keyboard": [["Có"]]})
    assert error_code(odd) == 400 and "reply_markup" in odd[1]["description"]
    assert [e.ok for e in fake.events] == [False, False] and lan.drain() == []


async def test_a_malformed_token_is_refused_when_the_fake_is_made() -> None:
    with pytest.raises(ValueError, match="bot_id"):
        FakeZaloApi(token="secret-only")


# -- polling ----------------------------------------------------------------------------------


async def test_each_get_updates_hands_out_one_update_then_408_after_the_timeout(
        fake: FakeZaloApi) -> None:
    lan = fake.user("a1b2c3d4e5f6a7b8c9d0", "Nguyễn Thị Lan")
    await lan.send("/start")
    await lan.send("Xin chào")

    first = await call(fake, "getUpdates", timeout="1")
    second = await call(fake, "getUpdates", timeout=1)
    assert [a[0] for a in (first, second)] == [200, 200]
    updates = [first[1]["result"], second[1]["result"]]
    assert [u["message"]["text"] for u in updates] == ["/start", "Xin chào"]
    assert all(isinstance(u, dict) and "update_id" not in u for u in updates)
    message = updates[0]["message"]
    assert updates[0]["event_name"] == "message.text.received"
    assert message["from"] == {"id": lan.id, "display_name": "Nguyễn Thị Lan", "is_bot": False}
    assert message["chat"] == {"id": lan.id, "chat_type": "PRIVATE"}
    assert isinstance(message["message_id"], str)
    assert updates[0]["message"]["message_id"] != updates[1]["message"]["message_id"]
    assert abs(message["date"] - time.time() * 1000) < 60_000  # milliseconds

    started = time.monotonic()
    empty = await call(fake, "getUpdates", timeout=0.6)
    waited = time.monotonic() - started
    assert error_code(empty) == 408
    assert 0.55 <= waited < 3.0  # the timeout is honoured, not cut short nor overrun
    assert fake.pending_updates == [] and len(fake.handed_out) == 2
    assert all(e.method != "getUpdates" for e in fake.events)  # polls are plumbing


async def test_a_waiting_poll_returns_as_soon_as_a_user_writes(fake: FakeZaloApi) -> None:
    lan = fake.user("u-lan", "Lan")
    poll = asyncio.create_task(call(fake, "getUpdates", timeout=10))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await lan.send("1.234")
    status, body = await poll
    assert status == 200 and body["result"]["message"]["text"] == "1.234"
    assert time.monotonic() - started < 3.0  # well before the 10 s poll ends


async def test_an_update_whose_answer_is_lost_is_gone_there_is_no_confirmation(
        fake: FakeZaloApi) -> None:
    lan = fake.user("u-lan", "Lan")
    await lan.send("Số liệu tháng 5")
    fake.drop_next("getUpdates", after=True)
    with pytest.raises(aiohttp.ClientError):
        await call(fake, "getUpdates", timeout=1)
    assert error_code(await call(fake, "getUpdates", timeout=0.2)) == 408
    assert [u["message"]["text"] for u in fake.handed_out] == ["Số liệu tháng 5"]


async def test_a_newer_poll_ends_the_older_one_with_409(fake: FakeZaloApi) -> None:
    older = asyncio.create_task(call(fake, "getUpdates", timeout=10))
    await asyncio.sleep(0.2)
    newer = asyncio.create_task(call(fake, "getUpdates", timeout=0.3))
    assert error_code(await older) == 409
    assert error_code(await newer) == 408


async def test_photo_sticker_unsupported_and_group_updates(fake: FakeZaloApi) -> None:
    lan = fake.user("u-lan", "Lan")
    council = fake.group("g-council", "Hội đồng Thi đua")
    await lan.send_photo(JPEG, caption="Dọn vệ sinh ngõ 5")
    await lan.send_sticker()
    await lan.send_unsupported()
    await council.send(lan, "/tonghop")

    got = [(await call(fake, "getUpdates", timeout=1))[1]["result"] for _ in range(4)]
    assert [u["event_name"] for u in got] == [
        "message.image.received", "message.sticker.received",
        "message.unsupported.received", "message.text.received"]
    photo = got[0]["message"]
    assert photo["caption"] == "Dọn vệ sinh ngõ 5" and "text" not in photo
    async with aiohttp.ClientSession() as http, http.get(photo["photo_url"]) as response:
        assert response.status == 200 and response.content_type == "image/jpeg"
        assert await response.read() == JPEG
    assert got[1]["message"]["sticker"]
    assert "text" not in got[2]["message"]
    assert got[3]["message"]["chat"] == {"id": "g-council", "chat_type": "GROUP"}
    assert got[3]["message"]["from"]["id"] == "u-lan"
    assert [a.kind for a in fake.actions] == ["photo", "sticker", "unsupported", "text"]


# -- sending -----------------------------------------------------------------------------------


async def test_send_message_reaches_the_user_and_the_events_log(fake: FakeZaloApi) -> None:
    lan = fake.user("u-lan", "Lan")
    status, body = await call(fake, "sendMessage", chat_id=lan.id, text="Chào chị Lan")
    assert status == 200 and isinstance(body["result"]["message_id"], str)
    assert body["result"]["date"] > 1e12
    reply = await lan.next()
    assert (reply.method, reply.chat_id, reply.text) == ("sendMessage", lan.id, "Chào chị Lan")
    assert reply.message_id == body["result"]["message_id"]
    assert lan.last_text == "Chào chị Lan"
    assert await lan.settle(quiet=0.1) == []


async def test_send_message_refuses_what_zalo_refuses(fake: FakeZaloApi) -> None:
    fake.rate_limit(None, None)
    lan = fake.user("u-lan", "Lan")
    assert error_code(await call(fake, "sendMessage", chat_id=lan.id, text="x" * 2001)) == 400
    assert error_code(await call(fake, "sendMessage", chat_id=lan.id, text="")) == 400
    assert error_code(await call(fake, "sendMessage", chat_id=lan.id)) == 400
    assert error_code(await call(fake, "sendMessage", chat_id=12345, text="số")) == 400
    assert error_code(await call(fake, "sendMessage", chat_id=lan.id, text="<b>a</b>",
                                 parse_mode="HTML")) == 400
    unknown = await call(fake, "sendMessage", chat_id="nobody", text="Chào")
    assert error_code(unknown) == 400 and "chat not found" in unknown[1]["description"]
    assert lan.drain() == []  # nothing refused reached the user
    ok = await call(fake, "sendMessage", chat_id=lan.id, text="y" * 2000)
    assert ok[0] == 200 and len((await lan.next()).text or "") == 2000
    assert [e.ok for e in fake.events] == [False] * 6 + [True]


async def test_a_user_who_blocked_the_bot_answers_403_until_unblocked(fake: FakeZaloApi) -> None:
    lan = fake.user("u-lan", "Lan")
    lan.block()
    blocked = await call(fake, "sendMessage", chat_id=lan.id, text="Nhắc báo cáo")
    assert error_code(blocked) == 403
    assert fake.events[-1].chat_id == lan.id and fake.events[-1].error_code == 403
    lan.unblock()
    assert (await call(fake, "sendMessage", chat_id=lan.id, text="Nhắc báo cáo"))[0] == 200


async def test_send_photo_fetches_the_url_and_keeps_the_bytes(fake: FakeZaloApi) -> None:
    lan = fake.user("u-lan", "Lan")
    chart = b"\x89PNG\r\n\x1a\n" + b"chart" * 100
    url = fake.serve_file(chart, "image/png")
    status, _ = await call(fake, "sendPhoto", chat_id=lan.id, photo=url, caption="Biểu đồ")
    assert status == 200
    sent = await lan.next()
    assert (sent.method, sent.photo, sent.photo_type, sent.text) == (
        "sendPhoto", chart, "image/png", "Biểu đồ")
    assert sent.photo_url == url


async def test_send_photo_refuses_a_url_that_is_not_a_reachable_image(
        fake: FakeZaloApi) -> None:
    fake.rate_limit(None, None)
    lan = fake.user("u-lan", "Lan")
    text_url = fake.serve_file(b"not an image", "text/plain")
    missing = f"http://127.0.0.1:{fake.port}/files/missing.jpg"
    closed = await _closed_port_url()
    for photo in (text_url, missing, closed, "file:///etc/passwd", ""):
        answer = await call(fake, "sendPhoto", chat_id=lan.id, photo=photo)
        assert error_code(answer) == 400, photo
    long_caption = await call(fake, "sendPhoto", chat_id=lan.id,
                              photo=fake.serve_file(JPEG), caption="c" * 2001)
    assert error_code(long_caption) == 400
    assert lan.drain() == []


async def test_send_photo_gives_up_on_a_slow_url_after_its_timeout(fake: FakeZaloApi) -> None:
    lan = fake.user("u-lan", "Lan")
    fake.photos.timeout = 0.3

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(body=JPEG, content_type="image/jpeg")

    async with _serve(slow) as url:
        started = time.monotonic()
        answer = await call(fake, "sendPhoto", chat_id=lan.id, photo=url)
        assert error_code(answer) == 400 and "not reachable" in answer[1]["description"]
        assert time.monotonic() - started < 3.0  # the photo server would take 5 s


async def test_sticker_and_typing(fake: FakeZaloApi) -> None:
    fake.rate_limit(None, None)
    lan = fake.user("u-lan", "Lan")
    assert (await call(fake, "sendSticker", chat_id=lan.id, sticker="0e078a2f"))[0] == 200
    assert error_code(await call(fake, "sendSticker", chat_id=lan.id, sticker="")) == 400
    typing = await call(fake, "sendChatAction", chat_id=lan.id, action="typing")
    assert typing == (200, {"ok": True})
    assert error_code(await call(fake, "sendChatAction", chat_id=lan.id,
                                 action="upload_photo")) == 400
    assert lan.drain() == []  # neither is a message the user reads


async def test_a_group_reads_what_the_bot_sends_there(fake: FakeZaloApi) -> None:
    lan = fake.user("u-lan", "Lan")
    council = fake.group("g-council", "Hội đồng")
    await call(fake, "sendMessage", chat_id=council.id, text="Tổng hợp tuần")
    assert (await council.next()).text == "Tổng hợp tuần"
    assert lan.drain() == []


async def test_on_event_sees_user_actions_and_bot_calls() -> None:
    seen: list[ZaloEvent | ZaloUserAction] = []
    async with FakeZaloApi(on_event=seen.append) as fake:
        lan = fake.user("u-lan", "Lan")
        await lan.send("/start")
        await call(fake, "sendMessage", chat_id=lan.id, text="Chào")
        await call(fake, "sendMessage", chat_id=lan.id, text="")  # refused: not in a transcript
        await call(fake, "getMe")
    assert [type(item).__name__ for item in seen] == ["ZaloUserAction", "ZaloEvent"]
    assert isinstance(seen[1], ZaloEvent) and seen[1].text == "Chào"


# -- limits and injected failures ----------------------------------------------------------


class StepClock:
    """Time that moves only when told, so limit tests do not depend on the machine's speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_per_chat_limit_refuses_a_second_message_within_the_second() -> None:
    clock = StepClock()
    async with FakeZaloApi(clock=clock) as fake:  # default limits: 10/s, 1/s per chat
        lan, minh = fake.user("u-lan", "Lan"), fake.user("u-minh", "Minh")
        assert (await call(fake, "sendMessage", chat_id=lan.id, text="1"))[0] == 200
        clock.now += 0.9
        too_soon = await call(fake, "sendMessage", chat_id=lan.id, text="2")
        assert error_code(too_soon) == 429 and "per-chat" in too_soon[1]["description"]
        assert "100 ms" in too_soon[1]["description"]
        assert (await call(fake, "sendMessage", chat_id=minh.id, text="1"))[0] == 200
        clock.now += 0.1  # the refused attempt took nothing: one second after the first
        assert (await call(fake, "sendMessage", chat_id=lan.id, text="2"))[0] == 200
        assert [e.text for e in lan.drain()] == ["1", "2"]
        assert [e.error_code for e in fake.events if not e.ok] == [429]


async def test_overall_limit_refuses_the_eleventh_message_in_a_second() -> None:
    clock = StepClock()
    async with FakeZaloApi(clock=clock) as fake:
        users = [fake.user(f"u{i}", f"Tổ trưởng {i}") for i in range(11)]
        answers = [await call(fake, "sendMessage", chat_id=u.id, text="Nhắc") for u in users]
        assert [a[0] for a in answers] == [200] * 10 + [429]
        assert "overall" in answers[-1][1]["description"]
        assert users[-1].drain() == []
        clock.now += 0.1  # one message's worth of allowance back
        assert (await call(fake, "sendMessage", chat_id=users[-1].id, text="Nhắc"))[0] == 200
        fake.rate_limit(overall_per_second=None, per_chat_per_second=None)
        answers = [await call(fake, "sendMessage", chat_id=u.id, text="Lần 2") for u in users]
        assert {a[0] for a in answers} == {200}


async def test_injected_errors_fail_the_next_calls_then_clear(fake: FakeZaloApi) -> None:
    fake.rate_limit(None, None)
    lan = fake.user("u-lan", "Lan")
    fake.fail_next("sendMessage", 502, count=2)
    fake.fail_next("getMe", 500, description="Internal Server Error: try again")
    assert error_code(await call(fake, "sendMessage", chat_id=lan.id, text="a")) == 502
    assert error_code(await call(fake, "sendMessage", chat_id=lan.id, text="a")) == 502
    assert (await call(fake, "sendMessage", chat_id=lan.id, text="a"))[0] == 200
    assert (await call(fake, "getMe"))[1]["description"] == "Internal Server Error: try again"
    assert [e.text for e in lan.drain()] == ["a"]


async def test_a_dropped_connection_before_or_after_the_send(fake: FakeZaloApi) -> None:
    fake.rate_limit(None, None)
    lan = fake.user("u-lan", "Lan")
    fake.drop_next("sendMessage")
    with pytest.raises(aiohttp.ClientError):
        await call(fake, "sendMessage", chat_id=lan.id, text="lost")
    assert lan.drain() == []
    fake.drop_next("sendMessage", after=True)
    with pytest.raises(aiohttp.ClientError):
        await call(fake, "sendMessage", chat_id=lan.id, text="sent, answer lost")
    assert [e.text for e in lan.drain()] == ["sent, answer lost"]


# -- webhook -----------------------------------------------------------------------------------


async def test_set_webhook_validates_and_blocks_polling_until_deleted(fake: FakeZaloApi) -> None:
    for url, secret in (("https://ward.example/zalo", "short77"),
                        ("https://ward.example/zalo", "s" * 257),
                        ("http://ward.example/zalo", "long-enough-secret"),
                        ("not a url", "long-enough-secret")):
        assert error_code(await call(fake, "setWebhook", url=url, secret_token=secret)) == 400
    assert error_code(await call(fake, "setWebhook", url="https://ward.example/zalo")) == 400

    status, body = await call(fake, "setWebhook", url="https://ward.example/zalo",
                              secret_token="s" * 8)
    assert status == 200 and body["result"]["url"] == "https://ward.example/zalo"
    info = (await call(fake, "getWebhookInfo"))[1]["result"]
    assert info["url"] == "https://ward.example/zalo" and info["updated_at"] > 1e12
    assert error_code(await call(fake, "getUpdates", timeout=0)) == 409

    assert (await call(fake, "deleteWebhook"))[1]["result"]["url"] == ""
    assert (await call(fake, "getWebhookInfo"))[1]["result"]["url"] == ""
    assert error_code(await call(fake, "getUpdates", timeout=0)) == 408


@pytest.mark.parametrize(("shape", "expected"), [
    ("wrapped", ["wrapped", "wrapped", "wrapped"]),
    ("bare", ["bare", "bare", "bare"]),
    ("alternate", ["wrapped", "bare", "wrapped"]),
])
async def test_webhook_pushes_with_the_secret_header_in_each_body_shape(
        fake: FakeZaloApi, receiver: Receiver, shape: str, expected: list[str]) -> None:
    lan = fake.user("u-lan", "Lan")
    fake.webhook.shape = shape  # type: ignore[assignment]
    await call(fake, "setWebhook", url=receiver.url, secret_token="ward-secret-1")
    for text in ("một", "hai", "ba"):
        await lan.send(text)
    await until(lambda: len(receiver.received) == 3)
    shapes = ["wrapped" if "result" in body else "bare" for body, _ in receiver.received]
    assert shapes == expected
    updates = [body.get("result", body) for body, _ in receiver.received]
    assert [u["message"]["text"] for u in updates] == ["một", "hai", "ba"]
    assert all(body.get("ok", True) is True for body, _ in receiver.received)
    assert {secret for _, secret in receiver.received} == {"ward-secret-1"}


async def test_webhook_redelivers_after_500_and_gives_up_after_max_attempts(
        fake: FakeZaloApi, receiver: Receiver) -> None:
    lan = fake.user("u-lan", "Lan")
    fake.webhook.retry_delay = 0.05
    receiver.statuses = [500, 503]
    await call(fake, "setWebhook", url=receiver.url, secret_token="ward-secret-1")
    await lan.send("Báo cáo")
    await until(lambda: fake.webhook.responses == [500, 503, 200])
    ids = {body["result"]["message"]["message_id"] for body, _ in receiver.received}
    assert len(ids) == 1  # the same update each time

    receiver.statuses = [500] * fake.webhook.max_attempts
    await lan.send("Mất")
    await until(lambda: len(fake.webhook.dropped) == 1)
    assert fake.webhook.dropped[0]["message"]["text"] == "Mất"
    assert fake.webhook.responses[3:] == [500] * fake.webhook.max_attempts


async def test_webhook_can_push_an_accepted_update_again(
        fake: FakeZaloApi, receiver: Receiver) -> None:
    lan = fake.user("u-lan", "Lan")
    fake.webhook.repeat_next()
    await call(fake, "setWebhook", url=receiver.url, secret_token="ward-secret-1")
    await lan.send("Một lần thôi")
    await lan.send("Sau đó")
    await until(lambda: len(receiver.received) == 3)
    ids = [body["result"]["message"]["message_id"] for body, _ in receiver.received]
    assert ids[0] == ids[1] != ids[2]
    assert [d.repeat for d in fake.webhook.deliveries] == [False, True, False]


async def test_a_set_webhook_survives_a_restart_of_the_fake(
        fake: FakeZaloApi, receiver: Receiver) -> None:
    lan = fake.user("u-lan", "Lan")
    await call(fake, "setWebhook", url=receiver.url, secret_token="ward-secret-1")
    await fake.stop()
    await lan.send("Trong lúc dừng")
    assert receiver.received == []
    await fake.start()
    await until(lambda: len(receiver.received) == 1)
    assert receiver.received[0][0]["result"]["message"]["text"] == "Trong lúc dừng"


async def test_updates_queued_under_a_webhook_wait_for_polling_after_delete(
        fake: FakeZaloApi) -> None:
    lan = fake.user("u-lan", "Lan")
    await call(fake, "setWebhook", url="http://127.0.0.1:9/zalo", secret_token="ward-secret-1")
    await call(fake, "deleteWebhook")
    await lan.send("Chờ")
    status, body = await call(fake, "getUpdates", timeout=1)
    assert status == 200 and body["result"]["message"]["text"] == "Chờ"


# -- helpers -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _serve(handler: Callable[[web.Request], Awaitable[web.Response]],
                 ) -> AsyncIterator[str]:
    """A one-route photo server for ``sendPhoto`` to fetch from; yields its URL."""
    app = web.Application()
    app.router.add_get("/photo.jpg", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/photo.jpg"
    finally:
        await runner.cleanup()


async def _closed_port_url() -> str:
    """A URL on a port nobody listens on (bound, then released)."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return f"http://127.0.0.1:{port}/chart.png"
