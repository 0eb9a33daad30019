"""One `Outgoing` → Telegram API calls: the same code for replies and outbox rows.

Rendering: attachments first (a file id as is, a media-folder file uploaded, bytes in
hand uploaded, and the id Telegram gives an uploaded file noted in `out.uploaded`),
then the text split at 4,096 characters (`reporting.html_text`: measured on the HTML,
tags re-opened across parts), the inline keyboard under the last thing sent. A single
attachment without its own caption takes a text that fits 1,024 characters as its
caption (a broadcast with a photo is one message); a caption too long for its file
follows as text rather than being dropped. An `edit`
edits the message in place; where Telegram refuses (too old, deleted) a new message
is sent instead, and "not modified" counts as done.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import ChannelLimits, DeliveryError
from bot.limits import SENDS
from reporting.html_text import html_length
from reporting.messages import Attachment, Option, Outgoing, split_text

log = logging.getLogger(__name__)

CHANNEL = "telegram"
LIMITS = ChannelLimits(max_text=4096, max_caption=1024, buttons=True, edits=True)

Call = Callable[[], Awaitable[Message | bool]]
# Runs one call (pacing it, and waiting out a 429 where that is safe); `first` says
# whether anything of this message has gone out yet.
Runner = Callable[[Call, bool], Awaitable[Message | bool]]


def retry_seconds(exc: RetryAfter) -> float:
    """A 429's wait in seconds (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def keyboard(options: list[list[Option]]) -> InlineKeyboardMarkup | None:
    if not options:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(o.label, callback_data=o.data) for o in row] for row in options])


def media_file(media_dir: Path, relative: str) -> InputFile:
    """A file of the media folder, refusing paths that climb out of it."""
    root = media_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise DeliveryError(f"file path outside the media folder: {relative}", permanent=True)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DeliveryError(f"file not readable: {relative}: {exc.strerror or exc}",
                            permanent=True) from exc
    return InputFile(data, filename=path.name)


def _content(att: Attachment, media_dir: Path) -> InputFile | str:
    if att.file_id:
        return att.file_id
    if att.media:
        return media_file(media_dir, att.media)
    return InputFile(att.data, filename=att.filename)


async def render(bot: Bot, chat_id: str, out: Outgoing, media_dir: Path,
                 run: Runner) -> str | None:
    """Send (or edit) `out`; return the id of the last message, None if nothing went."""
    run = partial(_noted, run, chat_id)
    markup = keyboard(out.options)
    text = str(out.text)
    if (out.edit is not None and text and not out.attachments
            and html_length(text) <= LIMITS.max_text):
        try:
            await run(partial(bot.edit_message_text, text, chat_id=chat_id,
                              message_id=int(out.edit), parse_mode=ParseMode.HTML,
                              reply_markup=markup), True)
            return out.edit
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return out.edit
            if not out.resend:
                log.info("edit refused (%s); a later update will say it", exc)
                return out.edit
            log.info("edit refused (%s); sending a new message instead", exc)
    calls: list[Call] = []
    uploads: dict[int, int] = {}  # call index → attachment index, for uploaded bytes
    atts = list(out.attachments)
    # A caption too long for its file is sent as text after the files, never dropped.
    spilled = [a.caption for a in atts
               if a.caption and html_length(a.caption) > LIMITS.max_caption]
    text = "\n\n".join(part for part in (*spilled, text) if part)
    if (len(atts) == 1 and not atts[0].caption and text
            and html_length(text) <= LIMITS.max_caption):
        atts[0] = replace(atts[0], caption=text)
        text = ""
    for i, att in enumerate(atts):
        last = i == len(atts) - 1 and not text
        caption = att.caption if att.caption and html_length(att.caption) <= LIMITS.max_caption \
            else None
        send = bot.send_photo if att.kind == "photo" else bot.send_document
        content = _content(att, media_dir)
        if isinstance(content, InputFile):
            uploads[len(calls)] = i
        calls.append(partial(send, chat_id, content, caption=caption,
                             parse_mode=ParseMode.HTML, reply_markup=markup if last else None))
    parts = split_text(text, LIMITS.max_text) if text else []
    for i, part in enumerate(parts):
        calls.append(partial(bot.send_message, chat_id, part, parse_mode=ParseMode.HTML,
                             reply_markup=markup if i == len(parts) - 1 else None))
    message_id: str | None = None
    for i, call in enumerate(calls):
        sent = await run(call, i == 0)
        if isinstance(sent, Message):
            message_id = str(sent.message_id)
            if i in uploads and (file_id := _file_id(sent)):
                out.uploaded[uploads[i]] = file_id
    return message_id


async def _noted(run: Runner, chat_id: str, call: Call, first: bool) -> Message | bool:
    """Run the call and note it in `SENDS`: the outbox's pacer then keeps its next send
    to the chat an interval after a reply's (the fake and Telegram count edits too),
    and tells a 429 for the chat from one for everyone."""
    result = await run(call, first)
    SENDS.note(chat_id)
    return result


def _file_id(message: Message) -> str | None:
    """Telegram's id of the file a message carries (the largest size of a photo)."""
    if message.photo:
        return message.photo[-1].file_id
    return message.document.file_id if message.document else None
