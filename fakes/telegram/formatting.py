"""Telegram-flavoured HTML parsing and inline keyboard validation.

The bot formats almost everything with ``parse_mode=HTML`` and interpolates Vietnamese user
input into it, so the most likely production failure is Telegram refusing a message because
of a stray ``<`` or an unsupported tag such as ``<br>``.  This module reproduces Telegram's
parser closely enough to catch those mistakes in tests: the same tag whitelist, the same
attribute grammar, the same error wording (``can't parse entities: Unsupported start tag
"br" at byte offset 5``), and the same output (plain text plus UTF-16 based entities).

One deliberate difference: Telegram keeps a bare ``&`` that does not start a supported
entity as a literal character.  By default the fake rejects it, because a bare ``&`` in the
bot's output almost always means a user string was interpolated without ``html.escape`` and
the next user may type ``<`` instead.  Pass ``strict_ampersand=False`` to get Telegram's
lenient behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, bad_request
from .events import Buttons

_SUPPORTED_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre",
     "span", "tg-spoiler", "blockquote", "tg-emoji"}
)
_SIMPLE_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "code": "code", "span": "spoiler", "tg-spoiler": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\f\v"
_INLINE_ACTIONS = frozenset(
    {"callback_data", "url", "login_url", "switch_inline_query",
     "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "web_app",
     "callback_game", "pay", "copy_text"}
)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class ParsedText:
    """Text after entity parsing: what the user reads plus how it is formatted."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int  # UTF-16 offset in the output where the tag's content starts
    text_start: int  # index into the output pieces list where the content starts


class _HtmlParser:
    """A single-pass tokenizer mirroring Telegram's HTML rules (not a general HTML parser)."""

    def __init__(self, source: str, strict_ampersand: bool) -> None:
        self.src = source
        self.strict_ampersand = strict_ampersand
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def fail(self, detail: str) -> ApiError:
        return bad_request(f"can't parse entities: {detail}")

    def byte_offset(self, pos: int) -> int:
        return len(self.src[:pos].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def parse(self) -> ParsedText:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == "&":
                self.entity()
            elif char == "<":
                if src.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                nxt = min((i for i in (src.find("&", self.pos), src.find("<", self.pos)) if i >= 0),
                          default=len(src))
                self.emit(src[self.pos:nxt])
                self.pos = nxt
        if self.stack:
            raise self.fail(
                f"Can't find end tag corresponding to start tag \"{self.stack[-1].name}\""
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def decode_entity(self, pos: int) -> tuple[str, int] | None:
        """Decode ``&...;`` at ``pos``; Telegram also accepts a missing ``;``."""
        src, end = self.src, pos + 1
        if end < len(src) and src[end] == "#":
            end += 1
            hexa = end < len(src) and src[end] in "xX"
            end += hexa
            digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
            start = end
            while end < len(src) and src[end] in digits:
                end += 1
            if end == start:
                return None
            code = int(src[start:end], 16 if hexa else 10)
            if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                return None
            value = chr(code)
        else:
            while end < len(src) and src[end].isascii() and src[end].isalnum():
                end += 1
            named = _NAMED_ENTITIES.get(src[pos + 1:end])
            if named is None:
                return None
            value = named
        return value, end + 1 if end < len(src) and src[end] == ";" else end

    def entity(self) -> None:
        decoded = self.decode_entity(self.pos)
        if decoded is not None:
            self.emit(decoded[0])
            self.pos = decoded[1]
            return
        if self.strict_ampersand:
            raise self.fail(
                f"Bare \"&\" or unsupported HTML entity at byte offset "
                f"{self.byte_offset(self.pos)}; escape it as &amp; "
                "(the fake API is stricter than Telegram here)"
            )
        self.emit("&")
        self.pos += 1

    def skip_spaces(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos] in _SPACES:
            self.pos += 1

    def start_tag(self) -> None:
        src, begin = self.src, self.pos
        at = self.byte_offset(begin)
        self.pos += 1
        while self.pos < len(src) and src[self.pos] not in _SPACES and src[self.pos] != ">":
            self.pos += 1
        if self.pos >= len(src):
            raise self.fail(f"Unclosed start tag at byte offset {at}")
        name = src[begin + 1:self.pos].lower()
        if name not in _SUPPORTED_TAGS:
            raise self.fail(f"Unsupported start tag \"{name}\" at byte offset {at}")
        attrs: dict[str, str] = {}
        while True:
            self.skip_spaces()
            if self.pos >= len(src):
                raise self.fail(f"Unclosed start tag \"{name}\" at byte offset {at}")
            if src[self.pos] == ">":
                self.pos += 1
                break
            attr_start = self.pos
            while self.pos < len(src) and src[self.pos] not in _SPACES + "=>":
                self.pos += 1
            attr = src[attr_start:self.pos].lower()
            if not attr:
                raise self.fail(f"Empty attribute name in the tag \"{name}\" at byte offset {at}")
            self.skip_spaces()
            if self.pos < len(src) and src[self.pos] != "=":
                attrs[attr] = ""  # a valueless attribute such as <blockquote expandable>
                continue
            self.pos += 1
            self.skip_spaces()
            attrs[attr] = self.attribute_value(name, at)
        self.check_tag(name, attrs, at)
        self.stack.append(_OpenTag(name, attrs, self.utf16, len(self.out)))

    def attribute_value(self, tag: str, at: int) -> str:
        src = self.src
        if self.pos >= len(src):
            raise self.fail(f"Unclosed start tag \"{tag}\" at byte offset {at}")
        quote = src[self.pos]
        if quote not in "'\"":
            start = self.pos
            while self.pos < len(src) and (src[self.pos].isalnum() or src[self.pos] in ".-"):
                self.pos += 1
            if self.pos < len(src) and src[self.pos] not in _SPACES + ">":
                raise self.fail(f"Unexpected end of name token at byte offset "
                                f"{self.byte_offset(self.pos)}")
            return src[start:self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.pos < len(src) and src[self.pos] != quote:
            decoded = self.decode_entity(self.pos) if src[self.pos] == "&" else None
            if decoded is not None:
                value.append(decoded[0])
                self.pos = decoded[1]
            else:
                value.append(src[self.pos])
                self.pos += 1
        if self.pos >= len(src):
            raise self.fail(f"Unclosed start tag at byte offset {at}")
        self.pos += 1
        return "".join(value)

    def check_tag(self, name: str, attrs: dict[str, str], at: int) -> None:
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise self.fail(f"Tag \"span\" must have class \"tg-spoiler\" at byte offset {at}")
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise self.fail(f"Tag \"tg-emoji\" must have a valid emoji-id at byte offset {at}")

    def end_tag(self) -> None:
        src, begin = self.src, self.pos
        at = self.byte_offset(begin)
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {at}")
        self.pos += 2
        while self.pos < len(src) and src[self.pos] not in _SPACES and src[self.pos] != ">":
            self.pos += 1
        name = src[begin + 2:self.pos].lower()
        self.skip_spaces()
        if self.pos >= len(src) or src[self.pos] != ">":
            raise self.fail(f"Unclosed end tag at byte offset {at}")
        self.pos += 1
        tag = self.stack.pop()
        if name and name != tag.name:
            raise self.fail(f"Unmatched end tag at byte offset {at}, expected \"</{tag.name}>\", "
                            f"found \"</{name}>\"")
        self.close_entity(tag)

    def close_entity(self, tag: _OpenTag) -> None:
        length = self.utf16 - tag.offset
        if length <= 0:
            return
        entity: dict[str, Any] = {"offset": tag.offset, "length": length}
        if tag.name in _SIMPLE_TYPES:
            entity["type"] = _SIMPLE_TYPES[tag.name]
        elif tag.name == "a":
            entity["type"] = "text_link"
            entity["url"] = tag.attrs.get("href") or "".join(self.out[tag.text_start:])
        elif tag.name == "blockquote":
            entity["type"] = ("expandable_blockquote" if "expandable" in tag.attrs
                              else "blockquote")
        elif tag.name == "tg-emoji":
            entity["type"] = "custom_emoji"
            entity["custom_emoji_id"] = tag.attrs["emoji-id"]
        else:  # pre; a <code class="language-x"> directly inside turns it into pre+language
            entity["type"] = "pre"
            last = self.entities[-1] if self.entities else None
            if last and last["type"] == "code" and last["offset"] == tag.offset \
                    and last["length"] == length:
                self.entities.pop()
                if "language" in last:
                    entity["language"] = last["language"]
        if tag.name == "code" and tag.attrs.get("class", "").startswith("language-"):
            entity["language"] = tag.attrs["class"][len("language-"):]
        self.entities.append(entity)


def parse_html(source: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse Telegram HTML into plain text and entities, or raise a 400 :class:`ApiError`."""
    parsed = _HtmlParser(source, strict_ampersand).parse()
    for entity in parsed.entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # only meaningful inside <pre>
    return parsed


def prepare_text(
    text: str, parse_mode: str | None, entities: Any, *, strict_ampersand: bool
) -> tuple[ParsedText, str]:
    """Turn a text/caption parameter into ``(parsed, html)``.

    ``html`` is the message as Telegram HTML: the source itself in HTML mode, the escaped
    text otherwise, so recorded events always carry a renderable form.
    """
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        return parse_html(text, strict_ampersand=strict_ampersand), text
    if mode:
        raise bad_request(
            f"unsupported parse_mode {parse_mode!r}: the fake Bot API only implements HTML"
        )
    explicit = entities if isinstance(entities, list) else []
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return ParsedText(text, list(explicit)), escaped


def parse_reply_markup(markup: Any) -> tuple[list[list[dict[str, Any]]] | None, Buttons]:
    """Validate ``reply_markup``; return the inline keyboard (if any) and its button pairs.

    Reply keyboards (``keyboard``/``remove_keyboard``/``force_reply``) are accepted but, as
    on Telegram, are not part of the returned Message.
    """
    if markup is None or markup == "":
        return None, []
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None, []
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays"
        )
    pairs: Buttons = []
    for row in rows:
        pair_row: list[tuple[str, str]] = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            if not _INLINE_ACTIONS & button.keys():
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64
            ):
                raise bad_request("BUTTON_DATA_INVALID")
            pair_row.append((button["text"], data or ""))
        pairs.append(pair_row)
    return rows, pairs
