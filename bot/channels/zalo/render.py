"""One `Outgoing` → Zalo API calls: the same code for replies and outbox rows.

Zalo shows plain text only, has no buttons and no edits, and takes photos by public
URL only. So:
* the HTML of the templates becomes plain text (`plain`): tags dropped, entities
  unescaped, line breaks kept, a link shown as "text (url)". Bold and italic are shown
  as the plain words: the templates already put titles on lines of their own, and
  stray `*` or capitals read worse to an older leader than no emphasis at all;
* options become a numbered menu under the text ("1. Có   2. Không", a row a line),
  and the caller keeps that menu for the chat (`bot.channels.zalo.menus`);
* an edit is sent as a new message (`resend=False` progress updates are dropped);
* attachments go first as photos by URL when a link can be made (`LinkMaker`, the
  signed media links of the bot's HTTP server), else one line says where the file is;
* the text is split at 2,000 characters at line breaks.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.channels.base import ChannelLimits
from reporting.messages import Attachment, Option, Outgoing

CHANNEL = "zalo"
# sendMessage takes 1–2,000 characters. The caption's limit is not published: kept
# lower so that a long caption goes as its own message rather than being refused.
LIMITS = ChannelLimits(max_text=2000, max_caption=1000, buttons=False, edits=False)

# An API call of one message; `first` says whether nothing of the message went out yet.
Call = Callable[[], Awaitable[str]]
Runner = Callable[[Call, bool], Awaitable[str]]
# A public URL for an attachment (signed, expiring), or None when the bot has none.
LinkMaker = Callable[[Attachment], Awaitable[str | None]]


async def no_links(_: Attachment) -> str | None:
    return None


_BREAK = re.compile(r"<br\s*/?>|</p>|</div>|</li>|</blockquote>|</pre>", re.IGNORECASE)
_LINK = re.compile(r"<a\s[^>]*href=\"([^\"]*)\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _link(match: re.Match[str]) -> str:
    url, text = html.unescape(match.group(1)), match.group(2)
    shown = html.unescape(_TAG.sub("", text)).strip()
    return url if not shown or shown == url else f"{shown} ({url})"


def plain(text: str) -> str:
    """Telegram-flavoured HTML → the plain text Zalo shows."""
    text = _BREAK.sub("\n", str(text))
    text = _LINK.sub(lambda m: _link(m).replace("<", "&lt;"), text)
    return html.unescape(_TAG.sub("", text))


def menu(options: list[list[Option]]) -> str:
    """Options numbered across rows, one row a line: "1. Có   2. Không". A label that
    already starts with its number ("3. Nhân khẩu") is not numbered twice."""
    lines, n = [], 0
    for row in options:
        items = []
        for option in row:
            n += 1
            label = str(option.label)
            items.append(label if label.startswith(f"{n}. ") else f"{n}. {label}")
        lines.append("   ".join(items))
    return "\n".join(lines)


def flat(options: list[list[Option]]) -> list[Option]:
    return [o for row in options for o in row]


def coalesce(messages: list[Outgoing]) -> list[Outgoing]:
    """The messages of one reply, texts run together where nothing is lost by it.

    "Câu 8: Đạt ✓" and the next question become one Zalo message: one notification for
    the leader, and one send within Zalo's per-chat pace instead of two in a second. A
    message with a menu, a file or a dropped edit stays a message of its own.
    """
    merged: list[Outgoing] = []
    for out in messages:
        prev = merged[-1] if merged else None
        if (prev is not None and not prev.options and not prev.attachments
                and not out.attachments and _sent_anew(prev) and _sent_anew(out)):
            merged[-1] = Outgoing(f"{prev.text}\n\n{out.text}", out.options,
                                  expects=out.expects)
        else:
            merged.append(out)
    return merged


def _sent_anew(out: Outgoing) -> bool:
    return out.edit is None or out.resend


def split_plain(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, cut at line breaks (a longer line at a space)."""
    parts: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        pieces = []
        while len(line) > limit:  # one line too long for a message
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        pieces.append(line)
        for piece in pieces:
            if current is None:
                current = piece
            elif len(current) + 1 + len(piece) <= limit:
                current += "\n" + piece
            else:
                parts.append(current)
                current = piece
    if current is not None:
        parts.append(current)
    return [p.strip("\n") for p in parts if p.strip()]


@dataclass(frozen=True)
class Renderer:
    """Renders for one Zalo bot: `send_text`/`send_photo` are its API calls."""

    send_text: Callable[[str, str], Awaitable[str]]
    send_photo: Callable[[str, str, str | None], Awaitable[str]]
    links: LinkMaker = no_links
    # The line sent instead of a file no link can be made for (a template, already
    # rendered in the ward's language).
    unavailable: str = ""

    async def render(self, chat_id: str, out: Outgoing, run: Runner) -> str | None:
        """Send `out`; the id of the last message, None if nothing went out."""
        if out.edit is not None and not out.resend:
            return None  # a progress edit: Zalo cannot edit, and new ones must not pile up
        calls: list[Call] = []
        text = plain(out.text).strip()
        notes: list[str] = []
        for att in out.attachments:
            url = att.file_id if att.file_id and att.file_id.startswith("http") else \
                await self.links(att)
            caption = plain(att.caption).strip() if att.caption else ""
            if url is None:
                if caption:
                    notes.append(caption)
                if self.unavailable and self.unavailable not in notes:
                    notes.append(self.unavailable)
                continue
            if att.kind == "document":  # Zalo sends no files: the link is the document
                notes.append(f"{caption}\n{url}" if caption else url)
                continue
            if (len(out.attachments) == 1 and not caption and text and not out.options
                    and len(text) <= LIMITS.max_caption):
                caption, text = text, ""
            short = caption if caption and len(caption) <= LIMITS.max_caption else None
            if caption and short is None:
                notes.append(caption)
            calls.append(_bind(self.send_photo, chat_id, url, short))
        body = "\n\n".join(part for part in (*notes, text, menu(out.options)) if part)
        for part in split_plain(body, LIMITS.max_text) if body else []:
            calls.append(_bind_text(self.send_text, chat_id, part))
        message_id: str | None = None
        for i, call in enumerate(calls):
            message_id = await run(call, i == 0)
        return message_id


def _bind(send: Callable[[str, str, str | None], Awaitable[str]], chat_id: str, url: str,
          caption: str | None) -> Call:
    async def call() -> str:
        return await send(chat_id, url, caption)
    return call


def _bind_text(send: Callable[[str, str], Awaitable[str]], chat_id: str, text: str) -> Call:
    async def call() -> str:
        return await send(chat_id, text)
    return call
