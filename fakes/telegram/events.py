"""What the fake Bot API remembers: bot calls, user actions and chat state snapshots.

Tests and ``thidua demo`` look at the conversation from the outside, the way a person
holding the phone would.  These small dataclasses are that outside view: they carry plain
text (what the user reads) next to the raw HTML (what the bot sent), so a test can assert
on either without re-parsing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Buttons = list[list[tuple[str, str]]]
"""Inline keyboard rows as ``(label, callback_data)`` pairs; non-callback buttons get ``""``."""

# Methods whose successful result is something the user sees appear or change in the chat.
DELIVERY_METHODS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendDocument"})
# Methods reported live through ``FakeBotApi.on_event`` (the demo transcript).
TRANSCRIPT_METHODS = DELIVERY_METHODS | {
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
}


@dataclass
class BotEvent:
    """One Bot API call made by the bot, successful or rejected.

    ``text`` is the plain text the user would read (tags stripped, entities decoded) and
    ``html`` the markup as sent (plain sends are HTML-escaped so ``html`` is always valid
    Telegram HTML).  For ``answerCallbackQuery`` ``text`` is the toast/alert text.
    """

    method: str
    chat_id: int | None
    message_id: int | None
    text: str | None
    html: str | None
    buttons: Buttons
    params: dict[str, Any]
    ok: bool
    error: str | None

    def summary(self) -> str:
        """A one-line description, used in timeout messages and debugging output."""
        where = f"chat={self.chat_id}" if self.chat_id is not None else "no chat"
        if self.message_id is not None:
            where += f" msg={self.message_id}"
        status = "ok" if self.ok else f"REJECTED {self.error}"
        text = "" if self.text is None else f" {self.text[:60]!r}"
        labels = [label for row in self.buttons for label, _ in row]
        keys = f" buttons={labels}" if labels else ""
        return f"{self.method} [{where}] {status}{text}{keys}"


@dataclass
class UserAction:
    """Something a :class:`~fakes.telegram.users.FakeUser` did, for the live transcript."""

    user_id: int
    name: str
    kind: Literal["text", "button", "photo"]
    text: str | None
    data: str | None = None


@dataclass
class BotMessage:
    """The current state of one bot message in a chat, after any edits."""

    chat_id: int
    message_id: int
    kind: Literal["text", "photo", "document"]
    text: str | None
    html: str | None
    buttons: Buttons
    edited: bool
    raw: dict[str, Any]


@dataclass
class CallInfo:
    """Mutable notes about the call being served; method handlers fill in what they learn.

    The HTTP layer turns it into a :class:`BotEvent` whether the call succeeds or fails, so
    even a rejected call is recorded with as much detail as was known when it failed.
    """

    method: str
    params: dict[str, Any]
    chat_id: int | None = None
    message_id: int | None = None
    text: str | None = None
    html: str | None = None
    buttons: Buttons = field(default_factory=list)
