"""What a channel hands to the handlers, and what it gets back.

Handlers never see a Telegram object: a channel turns its update into an `Incoming`
and renders each `Outgoing` its own way (inline keyboard on Telegram, numbered menu
where a channel has no buttons).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Incoming:
    channel: str
    chat_id: str
    user_id: str
    display_name: str
    text: str | None = None
    command: str | None = None  # lower-case, without "/" and "@botname"
    args: tuple[str, ...] = ()
    callback: str | None = None  # the data of a chosen option (`reporting.buttons`)
    message_id: str | None = None  # the message the chosen option belonged to
    photos: tuple[str, ...] = ()
    language: str | None = None
    private: bool = True  # a one-to-one chat (not the Council's group chat)


@dataclass(frozen=True)
class Option:
    label: str
    data: str


@dataclass(frozen=True)
class Attachment:
    """A file sent before the message text: a photo (chart) or a document (export)."""

    kind: Literal["photo", "document"]
    data: bytes
    filename: str
    caption: str | None = None  # HTML, at most 1,024 characters on Telegram
    file_id: str | None = None  # a file the channel already has (sent instead of data)


@dataclass
class Outgoing:
    text: str  # Telegram-flavoured HTML; user text already escaped by the templates
    options: list[list[Option]] = field(default_factory=list)
    edit: str | None = None  # edit this message instead of sending a new one
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Reply:
    messages: list[Outgoing] = field(default_factory=list)
    toast: str | None = None  # a short notice for the pressed button, where supported

    def add(self, text: str, options: list[list[Option]] | None = None,
            edit: str | None = None) -> Reply:
        self.messages.append(Outgoing(text, options or [], edit))
        return self


def parse_command(text: str | None) -> tuple[str | None, tuple[str, ...]]:
    """`"/BaoCao@ThiDuaBot a b"` → `("baocao", ("a", "b"))`; not a command → `(None, ())`."""
    if not text or not text.startswith("/") or len(text) < 2:
        return None, ()
    word, *rest = text.split()
    return word[1:].split("@", 1)[0].lower(), tuple(rest)


def split_text(text: str, limit: int) -> list[str]:
    """Split a message at line breaks so each part fits the channel's limit.

    Our templates never open a tag on one line and close it on another, so cutting
    between lines keeps every part valid HTML. A single over-long line is cut hard
    (only user free text can be that long, and it is escaped, so no tag is cut; an
    entity like `&amp;` is kept whole).
    """
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = limit
            amp = line.rfind("&", 0, cut)
            if amp != -1 and ";" not in line[amp:cut]:
                cut = amp
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts
