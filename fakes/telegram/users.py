"""``FakeUser``: a scripted person chatting with the bot in a private chat.

Tests read like a conversation: ``await lan.send("/start")``, ``await lan.press("Gửi báo
cáo")``, ``reply = await lan.next()``.  Each user turns actions into the same updates
Telegram would deliver (with ``bot_command`` entities, photo size arrays, callback queries
carrying the pressed message) and keeps a private read cursor over the bot's output, so
several users can talk to the bot concurrently without stealing each other's replies.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

from ..reader import ChatReader
from .events import DELIVERY_METHODS, BotEvent, BotMessage, Buttons, UserAction
from .formatting import utf16_len
from .methods import MAX_TEXT
from .store import StoredMessage

if TYPE_CHECKING:
    from .server import FakeBotApi

# Telegram only marks latin-alphabet commands (optionally addressed as /cmd@bot) as commands.
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?(?![\w@])")


class FakeUser(ChatReader[BotEvent]):
    """A user of the bot; create through :meth:`FakeBotApi.user`."""

    def __init__(self, api: FakeBotApi, user_id: int, first_name: str, last_name: str | None,
                 username: str | None, language_code: str) -> None:
        self.api = api
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        super().__init__(api, user_id, self.name, DELIVERY_METHODS)

    @property
    def chat_id(self) -> int:
        """Private chat id; equal to the user id, as on Telegram."""
        return self.id

    @property
    def name(self) -> str:
        """Full display name."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_json(self) -> dict[str, Any]:
        """The Bot API ``User`` object for this user."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        user["language_code"] = self.language_code
        return user

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.name!r})"

    # -- actions --------------------------------------------------------------------------

    async def send(self, text: str) -> dict[str, Any]:
        """Send a text message; returns the Message as queued in the update.

        A leading ``/command`` (optionally ``/command@botname``) gets a ``bot_command``
        entity.  Like Telegram, only latin letters, digits and ``_`` form a command, so
        ``/báo_cáo`` arrives as plain text without an entity.
        """
        if not text:
            raise ValueError("Telegram clients cannot send an empty message")
        if len(text) > MAX_TEXT:  # a client splits a longer one: the bot never gets it whole
            raise ValueError(f"Telegram delivers at most {MAX_TEXT} characters in a message")
        fields: dict[str, Any] = {"text": text}
        match = _COMMAND.match(text)
        if match:
            fields["entities"] = [{"type": "bot_command", "offset": 0,
                                   "length": utf16_len(match.group())}]
        stored = self.api.store.new_message(self.id, from_bot=False, kind="text", fields=fields)
        return await self._queue("message", stored.data, UserAction(self.id, self.name, "text",
                                                                     text))

    async def edit(self, sent: dict[str, Any], text: str) -> dict[str, Any]:
        """Edit a text message this user sent (the Message ``send`` returned): Telegram
        delivers an ``edited_message`` update carrying the message as it reads now."""
        stored = self.api.store.get(self.id, int(sent["message_id"]))
        if stored is None or stored.from_bot:
            raise AssertionError(f"{self.name}: no message {sent['message_id']} of theirs")
        stored.data["text"] = text
        stored.data["edit_date"] = int(time.time())
        stored.data.pop("entities", None)
        return await self._queue("edited_message", stored.data,
                                 UserAction(self.id, self.name, "text", text))

    async def send_photo(self, jpeg_bytes: bytes, caption: str | None = None) -> dict[str, Any]:
        """Send a photo (stored on the server so the bot can getFile + download it)."""
        fields: dict[str, Any] = {"photo": self.api.files.photo_sizes(jpeg_bytes)}
        if caption:
            fields["caption"] = caption
        stored = self.api.store.new_message(self.id, from_bot=False, kind="photo", fields=fields)
        action = UserAction(self.id, self.name, "photo", caption)
        return await self._queue("message", stored.data, action)

    async def press(self, label: str) -> str:
        """Press an inline button by label on the newest message that shows it.

        Exact label match first (newest message wins), then a case-insensitive substring
        match that must be unique within the newest message containing one.  Returns the
        callback query id.
        """
        keyboards = [m for m in reversed(self.api.store.bot_messages(self.id)) if m.keyboard]
        for message in keyboards:
            for button in _flat(message):
                if button.get("text") == label:
                    return await self._press_button(message, button)
        needle = label.casefold()
        for message in keyboards:
            found = [b for b in _flat(message) if needle in str(b.get("text", "")).casefold()]
            if len(found) > 1:
                raise AssertionError(f"{self.name}: button label {label!r} is ambiguous in "
                                     f"message {message.message_id}: "
                                     f"{[b.get('text') for b in found]}")
            if found:
                return await self._press_button(message, found[0])
        available = {m.message_id: [label for row in m.buttons for label, _ in row]
                     for m in keyboards}
        raise AssertionError(f"{self.name}: no button {label!r} in chat {self.id}; "
                             f"available buttons by message id: {available or 'none'}")

    async def press_data(self, data: str, message_id: int | None = None) -> str:
        """Send a callback query with arbitrary (possibly forged) data."""
        if message_id is None:
            messages = self.api.store.bot_messages(self.id)
            message = messages[-1] if messages else None
        else:
            message = self.api.store.get(self.id, message_id)
        if message is None or not message.from_bot:
            raise AssertionError(f"{self.name}: no bot message {message_id} to press on")
        return await self._callback(message, data, label=None)

    async def _press_button(self, message: StoredMessage, button: dict[str, Any]) -> str:
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise AssertionError(f"{self.name}: button {button.get('text')!r} is not a callback "
                                 f"button: {button}")
        return await self._callback(message, data, label=str(button["text"]))

    async def _callback(self, message: StoredMessage, data: str, label: str | None) -> str:
        info = self.api.store.new_query(self.id, message, data)
        payload = {"id": info.query_id, "from": self.to_json(), "message": message.data,
                   "chat_instance": f"{self.id}000", "data": data}
        await self._queue("callback_query", payload,
                          UserAction(self.id, self.name, "button", label, data))
        return info.query_id

    async def _queue(self, kind: str, payload: dict[str, Any],
                     action: UserAction) -> dict[str, Any]:
        self.api.emit_action(action)
        self.api.queue_update(kind, payload)
        await asyncio.sleep(0)  # let a waiting long poll pick it up promptly
        return payload

    # -- reading the bot's output ----------------------------------------------------------

    def last_keyboard(self) -> Buttons:
        """Buttons of the newest bot message that currently has an inline keyboard."""
        for message in reversed(self.api.store.bot_messages(self.id)):
            if message.keyboard:
                return [list(row) for row in message.buttons]
        return []

    def messages(self) -> list[BotMessage]:
        """Current state of the bot's messages in this chat."""
        return self.api.messages(self.id)

    @property
    def callback_answers(self) -> list[BotEvent]:
        """Successful ``answerCallbackQuery`` calls for this user's button presses."""
        return [e for e in self.api.events
                if e.method == "answerCallbackQuery" and e.ok and e.chat_id == self.id]


def _flat(message: StoredMessage) -> list[dict[str, Any]]:
    return [button for row in message.keyboard or [] for button in row]
