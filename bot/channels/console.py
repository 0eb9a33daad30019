"""`thidua chat`: talk to the bot in a terminal, as a channel without buttons.

Like Zalo, a terminal has no buttons: options become a numbered menu, and typing the
number (or the label) chooses it. Everything else goes to the handlers as text.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from dataclasses import replace

from bot.channels.base import ChannelLimits
from handlers.router import handle
from reporting.messages import Incoming, Option, Reply, parse_command
from reporting.services import Services

TAGS = re.compile(r"<[^>]+>")
NAME = "console"
# A terminal shows any length and has neither buttons nor edits. It only answers the
# person typing, so the outbox never sends to it (models.outbox_ops.NOT_DELIVERABLE).
LIMITS = ChannelLimits(max_text=1_000_000, max_caption=1_000_000, buttons=False, edits=False)


def plain(text: str) -> str:
    return html.unescape(TAGS.sub("", text))


def show(reply: Reply) -> list[Option]:
    """Print a reply; return the numbered options of its last message."""
    options: list[Option] = []
    if reply.toast:
        print(f"  ({reply.toast})")
    for out in reply.messages:
        print("\n" + plain(out.text))
        options = [o for row in out.options for o in row]
        for i, o in enumerate(options, 1):
            print(f"  [{i}] {o.label}")
    return options


def choose(line: str, options: list[Option]) -> Option | None:
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(options):
        return options[int(text) - 1]
    return next((o for o in options if o.label.lower().endswith(text.lower()) and text), None)


async def run_console(services: Services, user_id: str = "console-user",
                      name: str = "Người dùng thử") -> None:
    print("Thi Đua Bot — gõ tin nhắn hoặc lệnh (/start MÃ, /baocao, /trogiup); Ctrl-D để thoát.")
    options: list[Option] = []
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        line = line.rstrip("\n")
        picked = choose(line, options) if options else None
        base = Incoming(channel=NAME, chat_id=user_id, user_id=user_id,
                        display_name=name)
        if picked is not None:
            inc = replace(base, callback=picked.data)
        else:
            command, args = parse_command(line)
            inc = replace(base, text=line, command=command, args=args)
        options = show(await handle(services, inc))
