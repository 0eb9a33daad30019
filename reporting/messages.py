"""What a channel hands to the handlers, and what it gets back.

Handlers never see a Telegram object: a channel turns its update into an `Incoming`
and renders each `Outgoing` its own way (inline keyboard on Telegram, numbered menu
where a channel has no buttons).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from reporting.html_text import split_html


@dataclass(frozen=True)
class ChannelLimits:
    """What a messenger accepts: read by its renderer, the sender, broadcast progress and
    the handlers (e.g. how long a broadcast may be). Each running channel registers its
    own in `Services.limits`."""

    max_text: int  # characters of one message, counted after escaping
    max_caption: int  # characters of a photo's or document's caption
    buttons: bool  # inline buttons; without them options become a numbered menu
    edits: bool  # a sent message can be edited (broadcast progress is edited in place)
    # Files can be uploaded. Without it (Zalo, a terminal) a chart or an export reaches
    # the user as a signed link the bot serves itself (`bot.media_links`).
    files: bool = True


# What handlers assume when no channel has registered (tests, `thidua chat`): Telegram's.
DEFAULT_LIMITS = ChannelLimits(max_text=4096, max_caption=1024, buttons=True, edits=True)


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
    edited: bool = False  # a message the user edited after sending: never read as an answer


@dataclass(frozen=True)
class Option:
    label: str
    data: str


@dataclass(frozen=True)
class Attachment:
    """A file sent before the message text: a photo (chart) or a document (export).

    Its content is one of: `data` (bytes in hand, for a reply), `file_id` (a file the
    channel already has), `media_id` (a row of `models.media`, for the outbox, whose rows
    must be storable as JSON and sendable from any host) or `media` (a path under the
    media folder: outbox rows written before the files moved to the database).
    """

    kind: Literal["photo", "document"]
    data: bytes
    filename: str
    caption: str | None = None  # HTML, at most the channel's max_caption characters
    file_id: str | None = None  # a file the channel already has (sent instead of data)
    media: str | None = None  # a path relative to the media folder (older rows)
    media_id: int | None = None  # a file kept in the database (`models.media`)


@dataclass
class Outgoing:
    """One message as every channel renders it: replies and outbox rows alike.

    Rendering rule shared by the channels: attachments first, then the text split to
    the channel's limit, options under the last thing sent; a single attachment with
    no caption of its own takes the text as its caption when the text fits.
    """

    text: str  # Telegram-flavoured HTML; user text already escaped by the templates
    options: list[list[Option]] = field(default_factory=list)
    edit: str | None = None  # edit this message instead of sending a new one
    attachments: list[Attachment] = field(default_factory=list)
    # Where an edit is refused (the message was deleted, or is too old): send the text
    # as a new message (True), or let it go (False: a progress update that the next one
    # supersedes, which must not pile up as new messages).
    resend: bool = True
    # What a typed reply may be besides the options. "number": the message asks for a
    # number, so a typed number is an answer, never a pick from a numbered menu (channels
    # without buttons: the console, Zalo); None: typed text picks an option by its number.
    expects: Literal["number"] | None = None
    # Filled by the channel as it sends, never stored: attachment index → the channel's
    # own id for a file it has just uploaded, so the outbox can send that id to the next
    # recipient of the same file instead of uploading it again.
    uploaded: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def to_payload(self) -> dict[str, Any]:
        """The JSON an outbox row stores. Bytes cannot be stored: use `media`."""
        body: dict[str, Any] = {"v": PAYLOAD_VERSION, "text": str(self.text)}
        if self.options:
            body["options"] = [[[str(o.label), o.data] for o in row] for row in self.options]
        if self.edit is not None:
            body["edit"] = self.edit
            if not self.resend:
                body["resend"] = False
        if self.expects is not None:
            body["expects"] = self.expects
        if self.attachments:
            body["attachments"] = [_attachment_json(a) for a in self.attachments]
            first = self.attachments[0]
            if (len(self.attachments) == 1 and first.kind == "photo" and not first.caption
                    and (first.media or first.file_id)):
                # Read by a first-release sender still draining during an upgrade (it
                # cannot read the database's media: it sends the text alone).
                body["photo"] = (f"{MEDIA_PREFIX}{first.media}" if first.media
                                 else first.file_id)
        return body

    @classmethod
    def from_payload(cls, body: dict[str, Any]) -> Outgoing:
        """Read an outbox row's JSON, also the shape of the first release (no "v")."""
        options = [[Option(str(label), str(data)) for label, data in row]
                   for row in body.get("options") or []]
        if "v" not in body:
            photo = body.get("photo")
            atts = [_photo_ref(str(photo))] if photo else []
            return cls(str(body.get("text") or ""), options, attachments=atts)
        if body["v"] != PAYLOAD_VERSION:
            raise ValueError(f"outbox payload version {body['v']!r} is not known here")
        atts = [Attachment(a["kind"], b"", str(a.get("filename") or ""), a.get("caption"),
                           a.get("file_id"), a.get("media"), _int_or_none(a.get("media_id")))
                for a in body.get("attachments") or []]
        return cls(str(body.get("text") or ""), options, body.get("edit"), atts,
                   resend=body.get("resend", True) is not False,
                   expects="number" if body.get("expects") == "number" else None)


PAYLOAD_VERSION = 2


def _attachment_json(a: Attachment) -> dict[str, Any]:
    if a.file_id is None and a.media is None and a.media_id is None:
        raise ValueError(f"attachment {a.filename!r} has only bytes: keep it in the "
                         "database (models.media.store) and refer to it with `media_id`")
    body: dict[str, Any] = {"kind": a.kind, "filename": a.filename, "caption": a.caption,
                            "file_id": a.file_id, "media": a.media}
    if a.media_id is not None:
        body["media_id"] = a.media_id
    return body


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


MEDIA_PREFIX = "media:"


def _photo_ref(ref: str) -> Attachment:
    """`media:<path>` (a file in the media folder) or a channel file id → a photo."""
    if ref.startswith(MEDIA_PREFIX):
        path = ref.removeprefix(MEDIA_PREFIX)
        return Attachment("photo", b"", path.rsplit("/", 1)[-1], media=path)
    return Attachment("photo", b"", "photo.jpg", file_id=ref)


def payload(text: str, options: list[list[tuple[str, str]]] | None = None,
            photo: str | None = None) -> dict[str, Any]:
    """The outbox JSON of a text with buttons and an optional photo (`media:<path>` or a
    channel file id): the common case of a proactive message, spelled short."""
    return Outgoing(str(text), [[Option(str(label), data) for label, data in row]
                                for row in options or []],
                    attachments=[_photo_ref(photo)] if photo else []).to_payload()


@dataclass
class Reply:
    messages: list[Outgoing] = field(default_factory=list)
    toast: str | None = None  # a short notice for the pressed button, where supported
    # The database could not be reached: the reply only says "try again later", and the
    # event was not applied (or, if the connection died during COMMIT, maybe was). A
    # caller that keeps events (an inbox) should keep this one and handle it again later.
    retry_later: bool = False

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
    """Split a message so each part fits the channel's limit and parses on its own
    (`reporting.html_text.split_html`: tags re-opened across parts, entities kept whole)."""
    return split_html(text, limit)
