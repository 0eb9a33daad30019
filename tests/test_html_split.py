"""Long messages cut into parts Telegram accepts: each part parses, fits, and together
they read as the whole.

The oracle is the fake Bot API's parser (`fakes.telegram.formatting.parse_html`), which
refuses what Telegram refuses (unclosed or mismatched tags, unknown tags, a bare `&`).
"""

from __future__ import annotations

import html
import re
from datetime import date
from types import SimpleNamespace

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fakes.telegram.formatting import parse_html
from reporting.html_text import ELLIPSIS, SHOWN_CHARS, abbreviate, html_length, split_html
from reporting.messages import split_text
from reporting.texts import texts

# Vietnamese with the characters that grow when escaped, an astral emoji (two UTF-16
# units) and line breaks.
_ALPHABET = "aăâbđêôơưạảãấầẩẫậ ÀĐỨ\n\n  &<>\"'😀🏅0123456789"

_text = st.text(_ALPHABET, min_size=1, max_size=40).map(html.escape)


def _wrap(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    tags = st.sampled_from([
        ("<b>", "</b>"), ("<strong>", "</strong>"), ("<i>", "</i>"), ("<u>", "</u>"),
        ("<s>", "</s>"), ("<code>", "</code>"), ("<tg-spoiler>", "</tg-spoiler>"),
        ('<span class="tg-spoiler">', "</span>"), ("<blockquote>", "</blockquote>"),
        ('<a href="https://x.vn/?a=1&amp;b=2">', "</a>"),
    ])
    return st.builds(lambda t, body: t[0] + body + t[1], tags, inner)


_html = st.recursive(_text, lambda inner: _wrap(st.lists(inner, min_size=1, max_size=4)
                                                 .map("".join)), max_leaves=40)
_document = st.lists(_html, min_size=1, max_size=30).map("\n".join)


def _visible(part: str) -> str:
    return parse_html(part).text


_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")


def _deepest(doc: str) -> int:
    """The most the tags open at one point cost in a part: their start and end tags."""
    stack: list[int] = []
    worst = 0
    for m in _TAG.finditer(doc):
        if m.group(1):
            stack.pop()
        else:
            stack.append(len(m.group(0)) + len(m.group(2)) + 3)
            worst = max(worst, sum(stack))
    return worst


@settings(max_examples=300, deadline=None)
@given(_document, st.sampled_from([100, 160, 257, 1024, 4096]))
def test_every_part_parses_fits_and_the_parts_read_as_the_whole(doc: str, limit: int) -> None:
    # Room for the deepest nesting, a run of spaces (never a part of its own) and one
    # character; below that the splitter says so (tested apart).
    assume(_deepest(doc) + 6 * 40 + 6 <= limit or _deepest(doc) + html_length(doc) <= limit)
    original = _visible(doc)  # the generator builds valid HTML
    assume(original.strip())  # a blank message is never sent, split or not
    parts = split_html(doc, limit)
    for part in parts:
        assert html_length(part) <= limit  # so also len(part): the raw-HTML rule
        assert _visible(part).strip(), "an empty part would be refused"
    joined = "".join(_visible(p) for p in parts)
    # Only a tail of spaces and line breaks may be left out (Telegram trims it anyway).
    assert original.startswith(joined) and not original[len(joined):].strip()
    if html_length(doc) <= limit:
        assert parts == [doc]


def test_the_issue_case_a_bold_answer_of_a_thousand_ampersands() -> None:
    """Lan's note of 1,000 `&`, shown in bold, escapes to 5,000 characters."""
    note = "<b>" + html.escape("&" * 1000) + "</b>"
    doc = "<b>Kiểm tra lại báo cáo tháng 03/2022 · Tổ 1</b>\n12. Ghi chú: " + note
    parts = split_text(doc, 4096)
    assert len(parts) == 2
    assert parts[0].endswith("</b>") and parts[1].startswith("<b>&amp;")
    assert all(html_length(p) <= 4096 for p in parts)
    assert "".join(_visible(p) for p in parts) == _visible(doc)
    assert _visible(parts[1]) == "&" * (1000 - _visible(parts[0]).count("&"))


def test_a_cut_prefers_a_line_break_then_a_space() -> None:
    lines = ["Dòng " + str(n) + " " + "chữ " * 10 for n in range(20)]
    parts = split_html("\n".join(lines), 200)
    assert all(p.endswith("\n") for p in parts[:-1])  # whole lines in every part
    one_line = "chữ " * 100
    parts = split_html(one_line, 50)
    assert all(p.endswith(" ") for p in parts[:-1])  # words kept whole
    assert "".join(parts) == one_line


def test_an_entity_and_an_astral_character_are_never_cut() -> None:
    doc = "&quot;😀" * 50
    parts = split_html(doc, 13)  # room for one pair, and not quite two
    assert parts == ["&quot;😀"] * 50
    assert split_html("x" + "&amp;" * 4, 8) == ["x&amp;", "&amp;", "&amp;", "&amp;"]


def test_attributes_of_a_reopened_tag_are_kept() -> None:
    doc = '<a href="https://x.vn/a">' + "liên kết " * 20 + "</a>"
    parts = split_html(doc, 60)
    assert len(parts) > 2
    assert all(p.startswith('<a href="https://x.vn/a">') and p.endswith("</a>") for p in parts)
    assert all(e["url"] == "https://x.vn/a" for p in parts for e in parse_html(p).entities)


def test_a_limit_too_small_for_the_open_tags_is_an_error_not_a_bad_part() -> None:
    try:
        split_html("<blockquote><b>" + "a" * 50 + "</b></blockquote>", 30)
    except ValueError:
        pass
    else:
        raise AssertionError("a limit below the tags' own length was accepted")


def test_abbreviate_bounds_user_text_before_it_is_escaped() -> None:
    assert abbreviate("ngắn", 10) == "ngắn"
    long = "Đề nghị phường hỗ trợ " * 40  # 880 characters
    short = abbreviate(long, 100)
    assert len(short) <= 100 and short.endswith(ELLIPSIS)
    kept = short.removesuffix(ELLIPSIS)
    assert long.startswith(kept) and long[len(kept)] == " "  # cut after a whole word
    assert abbreviate("&" * 1000, 100) == "&" * 99 + ELLIPSIS  # escaping comes later


def test_a_long_good_deed_is_abbreviated_for_the_council_and_in_the_notice() -> None:
    """Thảo's story of 1,000 quotes would escape to 6,000 characters; the Council's card
    and the notice to every leader show its start."""
    deed = SimpleNamespace(subject_name="Bà Hoa", description='"' * 1000,
                           happened_on=date(2022, 4, 2), subject_kind="person")
    for key in ("review_card", "deed_broadcast_text"):
        text = texts()(key, deed=deed, group="Tổ 3", photos=0, author="Thảo", category="")
        shown = parse_html(text).text
        assert shown.count('"') == SHOWN_CHARS - 1 and ELLIPSIS in shown, key
        assert html_length(text) < 6 * SHOWN_CHARS + 300, key
