"""A fake Zalo Bot API server for tests, ``thidua demo --channel zalo`` and benchmarks.

Written from Zalo's published shapes (``https://bot-api.zapps.me/bot<TOKEN>/<method>``,
also documented under ``bot-api.zaloplatforms.com``); it imports nothing of the bot.

Usage::

    async with FakeZaloApi() as fake:          # token "1234567890:fake-zalo-secret"
        # the bot: ZALO_API_BASE_URL=fake.base_url (".../bot"), ZALO_BOT_TOKEN=fake.token
        lan = fake.user("u-lan", "Lan")        # private chat id == user id
        await lan.send("/start")
        reply = await lan.next()               # a ZaloEvent: .text, .photo, .photo_url
        council = fake.group("g-council", "Hội đồng")
        await council.send(lan, "/tonghop")

Public API (kept stable):

* ``FakeZaloApi(token=..., bot_name=..., overall_per_second=10.0,
  per_chat_per_second=1.0, on_event=None)``: an async context manager (or
  ``start()``/``stop()``); ``.base_url``, ``.api_url`` (base + token), ``.token``,
  ``.port``, ``.bot_info``.
* ``.user(id, name) -> FakeZaloUser`` with ``send(text)``, ``send_photo(jpeg_bytes,
  caption=None)``, ``send_sticker()``, ``send_unsupported()``, ``block()``/``unblock()``;
  ``.group(id, name) -> FakeZaloGroup`` with ``send(user, text)``, ``send_photo(user,
  ...)``. Both read the bot's ``sendMessage``/``sendPhoto`` to their chat with
  ``next()``, ``expect(n)``, ``settle()``, ``drain()``, ``messages()``, ``last_text``.
* ``.events``: every bot call (``ZaloEvent``: method, chat_id, ok, text, photo_url,
  photo bytes, error_code, error, params), refused ones included; served or empty
  ``getUpdates`` polls are left out. ``.actions``: what users did. ``.sent(chat_id)``.
* ``.webhook``: ``.url``, ``.secret``, ``.shape`` (``"wrapped"`` | ``"bare"`` |
  ``"alternate"``), ``.max_attempts`` (4), ``.retry_delay`` (0.2 s), ``.repeat_next()``,
  ``.deliveries``, ``.responses``, ``.dropped``.
* Limits and failures: ``.rate_limit(overall, per_chat)`` (``None`` turns one off),
  ``.fail_next(method, code=502, count=1)``, ``.drop_next(method, after=False)``,
  ``.block(chat_id)``, ``.clear_faults()``; ``.photos.timeout`` for ``sendPhoto``'s fetch;
  ``.queue_update(update)``, ``.pending_updates``, ``.handed_out``, ``.serve_file(...)``.

Behaviour a client must handle (see :mod:`.errors` for the codes):

* Every answer is ``{"ok": true, "result": ...}`` (``sendChatAction``: bare
  ``{"ok": true}``, as documented) or ``{"ok": false, "error_code", "description"}``;
  the HTTP status equals ``error_code``.
* ``getUpdates(timeout=seconds)`` (0..60, default 30, a string or a number) returns ONE
  update object, with no ``update_id`` and no offset; an update handed out is gone (Zalo
  has no confirmation), 408 when none came in time, 409 while a webhook is set or when a
  newer poll supersedes it.
* Sends: 400 ``chat not found`` for an unknown chat, 403 for a user who blocked the bot
  (unreachable), 429 past the send limits (a refused send consumes nothing; no
  ``retry_after``, Zalo documents none), 400 for text outside 1..2,000 characters, for a
  photo URL that does not answer 200 with ``image/*`` in time, and for any parameter Zalo
  does not take (``parse_mode``, ``reply_markup``, ...).
* Updates: ``{event_name, message: {from: {id, display_name, is_bot}, chat: {id,
  chat_type}, message_id, date (ms), text | photo_url [+caption] | sticker}}``.
"""

from __future__ import annotations

from .errors import BLOCKED, CHAT_NOT_FOUND, NO_UPDATE, TOO_MANY_REQUESTS, ZaloError
from .events import ZaloEvent, ZaloUserAction
from .server import FakeZaloApi
from .users import FakeZaloGroup, FakeZaloUser
from .webhook import SECRET_HEADER, Delivery

__all__ = [
    "BLOCKED",
    "CHAT_NOT_FOUND",
    "NO_UPDATE",
    "SECRET_HEADER",
    "TOO_MANY_REQUESTS",
    "Delivery",
    "FakeZaloApi",
    "FakeZaloGroup",
    "FakeZaloUser",
    "ZaloError",
    "ZaloEvent",
    "ZaloUserAction",
]
