"""config.yaml's `groups:` read without the YAML parser when written plainly.

A ward of 15,000 groups has a config.yaml of 30,000 lines of `- {code: to-1, name: Tổ 1}`
or `- code: to-1` / `  name: Tổ 1`, and the YAML parser takes half a second over them
(its C parser hands every scalar to Python to construct and resolve). When every line of
the top-level `groups:` block has one of those two shapes, with codes and names of plain
characters, this reads them with a regular expression, and the rest of the file goes to
the YAML parser with the block blanked, so that line numbers in its messages stay right.
Any other shape (quotes, comments after an item, more keys, anchors, another
indentation…) and the whole file is read by the YAML parser as before: this never
decides what a line means where YAML could read it otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reporting.config import GROUP_CODE

_BLOCK = re.compile(r"^groups:[ ]*\n", re.MULTILINE)
# A code as config allows it (`reporting.config.GROUP_CODE`); a name: a letter, then
# letters, digits, spaces and . ( ) / -, ending on no space. Nothing YAML gives a
# meaning to (: # , [ ] { } & * ! | > ' " % @ `) can appear in either.
_CODE = GROUP_CODE.removeprefix("^").removesuffix("$")
_NAME = r"[^\W\d_](?:[\w .()/-]*[\w.)])?"
_FLOW = re.compile(rf"( *)- \{{code: ({_CODE}), name: ({_NAME})\}}")
_BLOCK_ITEM = re.compile(rf"( *)- code: ({_CODE})")
_BLOCK_NAME = re.compile(rf"( *)name: ({_NAME})")
_SKIPPED = re.compile(r" *(#.*)?")  # a blank line or a comment on its own line


@dataclass(frozen=True)
class Apart:
    """The groups read, and the file's text with `groups: []` in place of the block."""

    groups: list[dict[str, str]]
    rest: str


def _plain(value: str, resolvers: Mapping[Any, Sequence[tuple[str, re.Pattern[str]]]]
           ) -> bool:
    """Would YAML read this plain scalar as text (not true/false, null, a number)?
    Asked of the loader's own implicit resolvers, as it asks them."""
    return not any(tag != "tag:yaml.org,2002:str" and pattern.match(value)
                   for tag, pattern in resolvers.get(value[0], ()))


def groups_apart(text: str, resolvers: Mapping[Any, Sequence[tuple[str, re.Pattern[str]]]]
                 ) -> Apart | None:
    """The `groups:` block read by shape, or None when the YAML parser must read it.

    `resolvers`: the YAML loader's `yaml_implicit_resolvers`."""
    if "\r" in text or "\t" in text:
        return None
    found = list(_BLOCK.finditer(text))
    if len(found) != 1:
        return None  # none, or written twice (the loader says so, with the line)
    start = found[0].end()
    lines = text[start:].split("\n")
    groups: list[dict[str, str]] = []
    indent: str | None = None
    pending: str | None = None  # a block item's code, its name on the next line
    used = 0
    for line in lines:
        if line and not line.startswith((" ", "-", "#")):
            break  # the next top-level key
        used += 1
        if pending is not None:
            named = _BLOCK_NAME.fullmatch(line)
            if named is None or indent is None or named.group(1) != indent + "  ":
                return None
            groups.append({"code": pending, "name": named.group(2)})
            pending = None
            continue
        if _SKIPPED.fullmatch(line):
            continue
        item = _FLOW.fullmatch(line)
        block = None if item else _BLOCK_ITEM.fullmatch(line)
        shape = item or block
        if shape is None:
            return None
        if indent is None:
            indent = shape.group(1)
        elif shape.group(1) != indent:
            return None
        if item is not None:
            groups.append({"code": item.group(2), "name": item.group(3)})
        else:
            assert block is not None
            pending = block.group(2)
    if pending is not None or not groups:
        return None
    if not all(_plain(g["code"], resolvers) and _plain(g["name"], resolvers)
               for g in groups):
        return None
    # The block's lines left empty: the rest keeps its line numbers.
    if used < len(lines):
        blanked, tail = "\n" * used, "\n".join(lines[used:])
    else:  # the block runs to the end of the file
        blanked, tail = "\n" * (used - 1), ""
    return Apart(groups, f"{text[:found[0].start()]}groups: []\n{blanked}{tail}")
