"""`thidua chat`: talk to the bot in a terminal, as a channel without buttons.

Like Zalo, a terminal has no buttons: options become a numbered menu, and typing the
number (or the label) chooses it. Everything else goes to the handlers as text. When
the message asks for a number (`Outgoing.expects`), a typed number is the answer: the
menu is then chosen from by label only.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from dataclasses import replace

from bot.channels.base import ChannelLimits
from bot.media_links import linked_reply
from handlers.router import handle
from reporting.messages import Incoming, Option, Outgoing, Reply, parse_command
from reporting.services import Services

TAGS = re.compile(r"<[^>]+>")
NAME = "console"
# A terminal shows any length and has neither buttons nor edits. It only answers the
# person typing, so the outbox never sends to it (models.outbox_route.NOT_DELIVERABLE). It
# cannot show a file: a chart or an export is offered as a link (`bot.media_links`).
LIMITS = ChannelLimits(max_text=1_000_000, max_caption=1_000_000, buttons=False, edits=False,
                       files=False)


def plain(text: str) -> str:
    return html.unescape(TAGS.sub("", text))


def show(reply: Reply) -> Outgoing | None:
    """Print a reply; return its last message, whose options are the menu now."""
    last: Outgoing | None = None
    if reply.toast:
        print(f"  ({reply.toast})")
    for out in reply.messages:
        print("\n" + plain(out.text))
        for i, o in enumerate(_options(out), 1):
            print(f"  [{i}] {o.label}")
        last = out
    return last


def _options(out: Outgoing | None) -> list[Option]:
    return [o for row in out.options for o in row] if out is not None else []


def choose(line: str, options: list[Option], expects: str | None = None) -> Option | None:
    """The option a typed line picks: by number (unless a number is the answer asked
    for) or by the end of its label; None when the line is an answer to send as text."""
    text = line.strip()
    if text.isdigit() and expects != "number" and 1 <= int(text) <= len(options):
        return options[int(text) - 1]
    return next((o for o in options if o.label.lower().endswith(text.lower()) and text), None)


async def run_console(services: Services, user_id: str = "console-user",
                      name: str = "Người dùng thử") -> None:
    print("Thi Đua Bot — gõ tin nhắn hoặc lệnh (/start MÃ, /baocao, /trogiup); Ctrl-D để thoát.")
    last: Outgoing | None = None
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        line = line.rstrip("\n")
        options = _options(last)
        picked = choose(line, options, last.expects if last else None) if options else None
        base = Incoming(channel=NAME, chat_id=user_id, user_id=user_id,
                        display_name=name)
        if picked is not None:
            inc = replace(base, callback=picked.data)
        else:
            command, args = parse_command(line)
            inc = replace(base, text=line, command=command, args=args)
        last = show(await _as_links(services, await handle(services, inc)))


async def _as_links(services: Services, reply: Reply) -> Reply:
    """A terminal shows no file: a chart or an export becomes a link (stored first)."""
    if any(out.attachments for out in reply.messages):
        async with services.sessions() as session, session.begin():
            await linked_reply(services, session, reply, services.clock(),
                               services.settings.ward.language)
    return reply
