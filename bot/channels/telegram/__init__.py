"""Everything Telegram: updates in, one renderer out, the sender's transport, webhook.

`TelegramChannel` (channel.py) is what the rest of the bot uses; only this folder
imports python-telegram-bot.
"""

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.render import CHANNEL, LIMITS

__all__ = ["CHANNEL", "LIMITS", "TelegramChannel"]
