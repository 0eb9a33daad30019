"""The Zalo Bot API methods, as the fake serves them.

Shapes and limits follow Zalo's published documentation: ``sendMessage`` takes plain
text of 1 to 2,000 characters, ``sendPhoto`` a photo **URL** (Zalo downloads it; there
is no upload) and an optional caption of the same length, ``sendChatAction`` only
``typing`` (``upload_photo`` is announced, not available), ``setWebhook`` an https URL
and a ``secret_token`` of 8 to 256 characters. A webhook on a loopback address may be
plain http so tests can run one locally.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import CONFLICT, ZaloError, bad_request
from .faults import Faults, SendLimits
from .files import FetchedPhoto, fetch_photo
from .params import check_known, get_str, get_timeout
from .updates import UpdateQueue
from .webhook import WebhookPusher

MAX_TEXT = 2000
"""Longest ``text`` (and ``caption``) Zalo accepts, in characters."""
MIN_SECRET, MAX_SECRET = 8, 256
DEFAULT_POLL_SECONDS = 30.0
"""``getUpdates`` without ``timeout`` waits this long (Zalo's documented default)."""
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class Call:
    """What the server learns about one call; becomes a ``ZaloEvent``."""

    method: str
    params: dict[str, Any]
    chat_id: str | None = None
    text: str | None = None
    photo_url: str | None = None
    photo: FetchedPhoto | None = None
    message_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PhotoSettings:
    """How ``sendPhoto`` fetches the bot's URL."""

    timeout: float = 5.0
    max_bytes: int = 10 * 1024 * 1024


Handler = Callable[[Call], Awaitable[Any]]


def now_ms() -> int:
    """Zalo's timestamps: milliseconds since the epoch."""
    return int(time.time() * 1000)


class BotMethods:
    """Every method the fake serves; chats it knows are passed in by the server."""

    def __init__(self, bot_info: dict[str, Any], chats: dict[str, str], faults: Faults,
                 limits: SendLimits, updates: UpdateQueue, webhook: WebhookPusher,
                 photos: PhotoSettings) -> None:
        self.bot_info = bot_info
        self.chats = chats  # chat id -> "PRIVATE" | "GROUP"
        self.faults = faults
        self.limits = limits
        self.updates = updates
        self.webhook = webhook
        self.photos = photos
        self._sent = 0

    def table(self) -> dict[str, tuple[str, Handler]]:
        """Lower-case method name -> (canonical name, handler)."""
        handlers: dict[str, Handler] = {
            "getMe": self.get_me, "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook, "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info, "sendMessage": self.send_message,
            "sendPhoto": self.send_photo, "sendSticker": self.send_sticker,
            "sendChatAction": self.send_chat_action,
        }
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    def new_message_id(self, prefix: str) -> str:
        """An opaque 20-hex-digit id, like Zalo's."""
        self._sent += 1
        return hashlib.sha1(f"{prefix}:{self._sent}".encode()).hexdigest()[:20]  # noqa: S324

    # -- bot and updates ---------------------------------------------------------------

    async def get_me(self, call: Call) -> Any:
        check_known(call.params, frozenset())
        return dict(self.bot_info)

    async def get_updates(self, call: Call) -> Any:
        check_known(call.params, frozenset({"timeout"}))
        seconds = get_timeout(call.params, DEFAULT_POLL_SECONDS)
        if self.webhook.active:
            raise ZaloError(CONFLICT, "Conflict: can't use getUpdates while a webhook is set; "
                                      "call deleteWebhook first")
        return await self.updates.poll(seconds)

    async def set_webhook(self, call: Call) -> Any:
        check_known(call.params, frozenset({"url", "secret_token"}))
        url = get_str(call.params, "url") or ""
        secret = get_str(call.params, "secret_token") or ""
        parts = urlsplit(url)
        loopback_http = parts.scheme == "http" and parts.hostname in _LOOPBACK
        if not parts.hostname or not (parts.scheme == "https" or loopback_http):
            raise bad_request("url must be an https URL")
        if not MIN_SECRET <= len(secret) <= MAX_SECRET:
            raise bad_request(f"secret_token must be {MIN_SECRET} to {MAX_SECRET} characters")
        self.webhook.set(url, secret, now_ms())
        return {"url": url, "updated_at": self.webhook.updated_at}

    async def delete_webhook(self, call: Call) -> Any:
        check_known(call.params, frozenset())
        await self.webhook.delete(now_ms())
        return {"url": "", "updated_at": self.webhook.updated_at}

    async def get_webhook_info(self, call: Call) -> Any:
        check_known(call.params, frozenset())
        return {"url": self.webhook.url or "", "updated_at": self.webhook.updated_at}

    # -- sending -----------------------------------------------------------------------

    def _chat(self, call: Call) -> str:
        chat_id = get_str(call.params, "chat_id") or ""
        call.chat_id = chat_id
        if chat_id not in self.chats:
            raise bad_request("chat not found")
        self.faults.check_chat(chat_id)
        return chat_id

    def _sent_result(self, call: Call, chat_id: str) -> dict[str, Any]:
        self.limits.take(chat_id)  # last: a refused call consumes no allowance
        call.message_id = self.new_message_id("bot")
        return {"message_id": call.message_id, "date": now_ms()}

    async def send_message(self, call: Call) -> Any:
        check_known(call.params, frozenset({"chat_id", "text"}))
        chat_id = self._chat(call)
        call.text = _text(call.params, "text", required=True)
        return self._sent_result(call, chat_id)

    async def send_photo(self, call: Call) -> Any:
        check_known(call.params, frozenset({"chat_id", "photo", "caption"}))
        chat_id = self._chat(call)
        call.text = _text(call.params, "caption", required=False)
        call.photo_url = get_str(call.params, "photo") or ""
        self.limits.take(chat_id, consume=False)  # no fetch for a send that will be refused
        call.photo = await fetch_photo(call.photo_url, self.photos.timeout, self.photos.max_bytes)
        return self._sent_result(call, chat_id)

    async def send_sticker(self, call: Call) -> Any:
        check_known(call.params, frozenset({"chat_id", "sticker"}))
        chat_id = self._chat(call)
        sticker = get_str(call.params, "sticker") or ""
        if not sticker.strip():
            raise bad_request("sticker is required")
        call.extra["sticker"] = sticker
        return self._sent_result(call, chat_id)

    async def send_chat_action(self, call: Call) -> Any:
        check_known(call.params, frozenset({"chat_id", "action"}))
        self._chat(call)
        action = get_str(call.params, "action")
        if action != "typing":
            raise bad_request(f"action {action!r} is not supported (only 'typing')")
        return None  # Zalo answers a bare {"ok": true}


def _text(params: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = get_str(params, name, required=required)
    if value is None:
        return None
    if not value:
        raise bad_request(f"{name} must not be empty")
    if len(value) > MAX_TEXT:
        raise bad_request(f"{name} is longer than {MAX_TEXT} characters ({len(value)})")
    return value
