"""Telegram HTML measured and cut safely: the one place that knows the length rule.

Telegram counts a message "1-4096 characters after entities parsing" (Bot API), and a
measured report shows 4,096 astral emoji accepted, so it counts code points of the
parsed text. We measure the HTML source instead, in UTF-16 code units. That is never
less than what Telegram counts (a tag or an entity only adds characters; an astral
character counts two), so a part that fits by our measure fits under every rule one may
meet: the raw HTML length, code points after parsing, UTF-16 units after parsing. The
price is a few more parts for text full of `&amp;`: a safe limit beats a refused one.

`split_html` cuts a long message into parts that each fit and each parse on their own:
a tag still open at a cut is closed at the end of the part and opened again, with its
attributes, at the start of the next; an entity (`&amp;`) is never cut. It prefers to
cut after a line break, then after a space (either only where the part is at least half
full), and between any two characters only when neither is found.

`abbreviate` bounds user text before it is escaped (so "…" never lands inside an
entity): a free-text answer may be long, a summary must stay readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["ELLIPSIS", "SHOWN_CHARS", "abbreviate", "html_length", "split_html"]

ELLIPSIS: Final = "…"

# How much of one free-text answer, good-deed story or other user text a message shows
# in full: a few lines on a phone. The stored value is always complete (exports, audit).
SHOWN_CHARS = 400

# One token of our own HTML: a start or end tag, an entity, or one character. Anything
# else (a lone `<` or `&`) cannot come out of the templates, which escape user text;
# it is taken character by character and left for Telegram to judge.
_TOKEN: Final = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>"
    r"|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);"
    r"|.",
    re.DOTALL,
)


def html_length(html: str) -> int:
    """The length we hold a message to: UTF-16 code units of the HTML source."""
    return len(html.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class _Token:
    text: str
    kind: str  # "open", "close" or "text" (a character or an entity)
    name: str = ""

    @property
    def visible(self) -> bool:
        """Text a reader sees that Telegram would not trim away."""
        return self.kind == "text" and not self.text.isspace()


def _tokens(html: str) -> list[_Token]:
    out: list[_Token] = []
    for m in _TOKEN.finditer(html):
        if m.group(2):
            out.append(_Token(m.group(0), "close" if m.group(1) else "open", m.group(2).lower()))
        else:
            out.append(_Token(m.group(0), "text"))
    return out


# The tags open at a point, outermost first: (name, the start tag as written).
_Stack = tuple[tuple[str, str], ...]
_Cut = tuple[int, _Stack, int]


def _after(stack: _Stack, tok: _Token) -> _Stack:
    if tok.kind == "open":
        return (*stack, (tok.name, tok.text))
    if tok.kind == "close" and stack:
        return stack[:-1]
    return stack


def _closing(stack: _Stack) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def split_html(html: str, limit: int) -> list[str]:
    """Cut `html` into parts of at most `limit` (by `html_length`), each valid on its own.

    Joined, the parts' visible text is the original's; a tail of nothing but spaces
    (which Telegram would refuse as an empty message) is dropped. Raises ValueError if
    `limit` cannot hold even the tags open at some point plus one character.
    """
    if html_length(html) <= limit:
        return [html]
    tokens = _tokens(html)
    parts: list[str] = []
    stack: _Stack = ()
    i = 0
    while i < len(tokens):
        head = "".join(tag for _, tag in stack)
        size = html_length(head)
        local = stack
        # Last cut so far of each kind: (token index after it, tags open there, size).
        line: _Cut | None = None
        space: _Cut | None = None
        anywhere: _Cut | None = None
        seen_text = False
        j = i
        while j < len(tokens):
            tok = tokens[j]
            nxt = _after(local, tok)
            # Opening a tag adds its closer too; closing one moves a closer we had already
            # counted into the body: the total never shrinks, so the first miss ends it.
            if size + html_length(tok.text) + len(_closing(nxt)) > limit:
                break
            size += html_length(tok.text)
            local = nxt
            j += 1
            seen_text = seen_text or tok.visible
            if not seen_text or tok.kind == "open":  # no part ends on an empty tag
                continue
            anywhere = (j, local, size)
            if tok.text == "\n":
                line = (j, local, size)
            elif tok.kind == "text" and tok.text.isspace():
                space = (j, local, size)
        if j == len(tokens):
            if seen_text or not parts:
                parts.append(head + "".join(t.text for t in tokens[i:]) + _closing(local))
            break
        # A line break or a space is worth it only if the part is at least half full:
        # a few words must not become a message of their own.
        cut = next((c for c in (line, space) if c and c[2] >= limit // 2), anywhere)
        if cut is None:
            raise ValueError(f"a limit of {limit} cannot hold the open tags and a character")
        end, open_there, _ = cut
        parts.append(head + "".join(t.text for t in tokens[i:end]) + _closing(open_there))
        i, stack = end, open_there
    return parts


def abbreviate(text: str, limit: int | None = None) -> str:
    """`text` if it has at most `limit` characters (default `SHOWN_CHARS`), else its start
    and "…", `limit` characters in all.

    Cuts after a word where one ends in the last fifth, so a name is not cut in half.
    Meant for user text before it is escaped.
    """
    limit = SHOWN_CHARS if limit is None else limit
    if len(text) <= limit:
        return text
    keep = text[:max(limit - len(ELLIPSIS), 0)]
    word_end = max(keep.rfind(" "), keep.rfind("\n"))
    if word_end >= len(keep) * 4 // 5:
        keep = keep[:word_end]
    return keep.rstrip() + ELLIPSIS
