"""What the fake Zalo Bot API remembers: every bot call, and what the users did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DELIVERY_METHODS = frozenset({"sendMessage", "sendPhoto"})
"""Calls whose success puts something a user reads into a chat."""
SEND_METHODS = DELIVERY_METHODS | {"sendSticker"}
"""Calls that count against the send limits."""


@dataclass
class ZaloEvent:
    """One Bot API call by the bot, successful or refused.

    ``text`` is the message text (``sendMessage``) or the caption (``sendPhoto``);
    ``photo`` holds the bytes the fake fetched from ``photo_url``, so a test can check the
    chart really arrived. ``error_code`` 0: the connection was dropped (injected).
    """

    method: str
    chat_id: str | None
    ok: bool
    text: str | None = None
    photo_url: str | None = None
    photo: bytes | None = None
    photo_type: str | None = None
    message_id: str | None = None
    error_code: int | None = None
    error: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for timeout messages and debugging."""
        where = f"chat={self.chat_id}" if self.chat_id is not None else "no chat"
        status = "ok" if self.ok else f"REFUSED {self.error_code} {self.error}"
        text = "" if self.text is None else f" {self.text[:60]!r}"
        photo = "" if self.photo_url is None else f" photo={self.photo_url}"
        return f"{self.method} [{where}] {status}{text}{photo}"


@dataclass
class ZaloUserAction:
    """Something a fake user did (for transcripts, like the Telegram fake's UserAction)."""

    user_id: str
    name: str
    chat_id: str
    kind: Literal["text", "photo", "sticker", "unsupported"]
    text: str | None
    update: dict[str, Any]
