"""The Zalo channel: Zalo's Bot Platform over a thin httpx client (see channel.py)."""

from bot.channels.zalo.channel import ZaloChannel

__all__ = ["ZaloChannel"]
