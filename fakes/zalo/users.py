"""Fake Zalo users and group chats: they send updates and read what the bot sent.

Tests read like a conversation: ``await lan.send("/start")``, ``reply = await lan.next()``.
Each user or group keeps its own read cursor over the bot's ``sendMessage`` and
``sendPhoto`` calls to its chat, so several conversations can run at once.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Literal

from ..reader import ChatReader
from .events import DELIVERY_METHODS, ZaloEvent, ZaloUserAction

if TYPE_CHECKING:
    from .server import FakeZaloApi

ChatType = Literal["PRIVATE", "GROUP"]
Kind = Literal["text", "photo", "sticker", "unsupported"]
_EVENT_NAMES: dict[Kind, str] = {
    "text": "message.text.received",
    "photo": "message.image.received",
    "sticker": "message.sticker.received",
    "unsupported": "message.unsupported.received",
}


class _ChatReader(ChatReader[ZaloEvent]):
    """Reads the bot's messages in one chat: ``next``, ``expect``, ``settle``."""

    def __init__(self, api: FakeZaloApi, chat_id: str, label: str) -> None:
        super().__init__(api, chat_id, label, DELIVERY_METHODS)
        self.api = api
        self.chat_id = chat_id

    def messages(self) -> list[ZaloEvent]:
        """Everything the bot delivered to this chat, read or not."""
        return self.api.sent(self.chat_id)

    @property
    def last_text(self) -> str | None:
        """The text (or photo caption) of the newest bot message in this chat."""
        sent = self.messages()
        return sent[-1].text if sent else None


class FakeZaloUser(_ChatReader):
    """A Zalo user in a private chat with the bot (chat id == user id, as on Zalo)."""

    def __init__(self, api: FakeZaloApi, user_id: str, name: str) -> None:
        super().__init__(api, user_id, name)
        self.id = user_id
        self.name = name

    def __repr__(self) -> str:
        return f"FakeZaloUser({self.id!r}, {self.name!r})"

    def to_json(self) -> dict[str, Any]:
        """The update's ``from`` object."""
        return {"id": self.id, "display_name": self.name, "is_bot": False}

    async def send(self, text: str) -> dict[str, Any]:
        """Send a text message; returns the queued update."""
        return await self._message(self.chat_id, "PRIVATE", "text", text=text)

    async def send_photo(self, jpeg_bytes: bytes, caption: str | None = None) -> dict[str, Any]:
        """Send a photo: the fake serves the bytes and the update carries their URL."""
        return await self._message(self.chat_id, "PRIVATE", "photo", photo=jpeg_bytes,
                                   caption=caption)

    async def send_sticker(self, sticker: str = "0e078a2fb66a5f34067b") -> dict[str, Any]:
        """Send a sticker."""
        return await self._message(self.chat_id, "PRIVATE", "sticker", sticker=sticker)

    async def send_unsupported(self) -> dict[str, Any]:
        """Something the bot cannot see (Zalo sends this for protected users)."""
        return await self._message(self.chat_id, "PRIVATE", "unsupported")

    def block(self) -> None:
        """The user blocks the bot: sends to them fail with 403."""
        self.api.block(self.chat_id)

    def unblock(self) -> None:
        """The user unblocks the bot."""
        self.api.unblock(self.chat_id)

    async def _message(self, chat_id: str, chat_type: ChatType, kind: Kind, *,
                       text: str | None = None, photo: bytes | None = None,
                       caption: str | None = None, sticker: str | None = None,
                       ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "from": self.to_json(),
            "chat": {"id": chat_id, "chat_type": chat_type},
            "message_id": self.api.new_message_id(f"user:{self.id}"),
            "date": int(time.time() * 1000),
        }
        if kind == "text":
            if not text:
                raise ValueError("Zalo clients cannot send an empty message")
            message["text"] = text
        elif kind == "photo":
            if not photo:
                raise ValueError("a photo needs bytes")
            message["photo_url"] = self.api.serve_file(photo, "image/jpeg")
            if caption:
                message["caption"] = caption
        elif kind == "sticker":
            message["sticker"] = sticker
            message["url"] = f"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid={sticker}"
        update = self.api.queue_update({"event_name": _EVENT_NAMES[kind], "message": message})
        self.api.emit_action(ZaloUserAction(self.id, self.name, chat_id, kind,
                                            text if kind == "text" else caption, update))
        await asyncio.sleep(0)  # let a waiting long poll pick it up promptly
        return update


class FakeZaloGroup(_ChatReader):
    """A group chat with the bot in it; members speak through :meth:`send`."""

    def __init__(self, api: FakeZaloApi, group_id: str, name: str) -> None:
        super().__init__(api, group_id, f"group {name or group_id}")
        self.id = group_id
        self.name = name

    def __repr__(self) -> str:
        return f"FakeZaloGroup({self.id!r}, {self.name!r})"

    async def send(self, user: FakeZaloUser, text: str) -> dict[str, Any]:
        """``user`` writes ``text`` in this group."""
        return await user._message(self.id, "GROUP", "text", text=text)

    async def send_photo(self, user: FakeZaloUser, jpeg_bytes: bytes,
                         caption: str | None = None) -> dict[str, Any]:
        """``user`` posts a photo in this group."""
        return await user._message(self.id, "GROUP", "photo", photo=jpeg_bytes,
                                   caption=caption)
