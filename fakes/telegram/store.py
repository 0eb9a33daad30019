"""Chats, users and messages as the fake Telegram server remembers them.

The bot never sees this state directly: it only sees Message objects returned by the API
and embedded in updates.  Keeping one authoritative copy per message means a button press
carries the message *as currently edited*, exactly like Telegram, which is what the bot's
callback handlers rely on.
"""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ApiError
from .events import BotMessage, Buttons


@dataclass
class StoredMessage:
    """One message in a private chat, sent by the bot or by the user."""

    chat_id: int
    message_id: int
    from_bot: bool
    kind: Literal["text", "photo", "document"]
    data: dict[str, Any]
    """The Bot API ``Message`` object, kept current across edits."""
    text: str | None = None
    html: str | None = None
    keyboard: list[list[dict[str, Any]]] | None = None
    buttons: Buttons = field(default_factory=list)
    edited: bool = False

    def snapshot(self) -> BotMessage:
        """The public, read-only view of this message."""
        return BotMessage(
            chat_id=self.chat_id,
            message_id=self.message_id,
            kind=self.kind,
            text=self.text,
            html=self.html,
            buttons=[list(row) for row in self.buttons],
            edited=self.edited,
            raw=copy.deepcopy(self.data),
        )


@dataclass
class CallbackQueryInfo:
    """A callback query the server issued, so ``answerCallbackQuery`` can be validated."""

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


class ChatStore:
    """Users, their private chats with the bot, and every message in those chats."""

    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user
        self.users: dict[int, dict[str, Any]] = {}
        self.queries: dict[str, CallbackQueryInfo] = {}
        self._messages: dict[int, dict[int, StoredMessage]] = {}
        self._last_message_id: dict[int, int] = {}
        self._query_ids = itertools.count(1)

    def add_user(self, user: dict[str, Any]) -> None:
        """Register a user; their private chat (same id) now exists."""
        self.users[user["id"]] = user
        self._messages.setdefault(user["id"], {})

    def require_chat(self, chat_id: int) -> int:
        """Telegram answers ``chat not found`` for chats the bot has never met."""
        if chat_id not in self.users:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def chat_json(self, chat_id: int) -> dict[str, Any]:
        """The ``Chat`` object of a private chat."""
        user = self.users[chat_id]
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def new_message(
        self,
        chat_id: int,
        *,
        from_bot: bool,
        kind: Literal["text", "photo", "document"],
        fields: dict[str, Any],
    ) -> StoredMessage:
        """Create and store a message; ids are per chat, shared by bot and user messages."""
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        sender = self.bot_user_short() if from_bot else self.users[chat_id]
        data: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": self.chat_json(chat_id),
            "date": int(time.time()),
            **fields,
        }
        stored = StoredMessage(chat_id, message_id, from_bot, kind, data)
        self._messages[chat_id][message_id] = stored
        return stored

    def bot_user_short(self) -> dict[str, Any]:
        """The bot as it appears in ``Message.from`` (no getMe-only capability flags)."""
        keys = ("id", "is_bot", "first_name", "username")
        return {key: self.bot_user[key] for key in keys}

    def get(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """A message in a chat, or ``None``."""
        return self._messages.get(chat_id, {}).get(message_id)

    def delete(self, chat_id: int, message_id: int) -> bool:
        """Remove a message; ``False`` if it did not exist."""
        return self._messages.get(chat_id, {}).pop(message_id, None) is not None

    def bot_messages(self, chat_id: int) -> list[StoredMessage]:
        """The bot's messages in a chat, oldest first."""
        chat = self._messages.get(chat_id, {})
        return [chat[key] for key in sorted(chat) if chat[key].from_bot]

    def new_query(self, user_id: int, message: StoredMessage, data: str) -> CallbackQueryInfo:
        """Issue a callback query id for a button press."""
        query_id = str(4_000_000_000_000_000 + next(self._query_ids))
        info = CallbackQueryInfo(query_id, user_id, message.chat_id, message.message_id, data)
        self.queries[query_id] = info
        return info
