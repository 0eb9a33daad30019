"""A fake Telegram Bot API server for end-to-end tests and ``thidua demo``.

The real python-telegram-bot stack talks HTTP to :class:`FakeBotApi`; scripted
:class:`FakeUser` objects play the people on the other side, and every bot call is recorded
as a :class:`BotEvent`.
"""

from __future__ import annotations

from .events import BotEvent, BotMessage, UserAction
from .server import FakeBotApi
from .users import FakeUser

__all__ = ["BotEvent", "BotMessage", "FakeBotApi", "FakeUser", "UserAction"]
