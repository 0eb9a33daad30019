"""The loudspeaker bulletin ("Bản tin gương người tốt, việc tốt") of a week or a month.

The ward's radio (đài truyền thanh) reads good-deed examples aloud. The announcer reads
what is written, so the text is made to be heard, not seen: dates as they are spoken
("ngày 12 tháng 3"), the count in words, no emoji (a reader cannot say them), and the
abbreviations leaders type ("TDP", "UBND") spelled out. Names stay as the leader gave
them: a misspoken name is worse than an odd capital.

Told are the deeds the Council featured or proposed for commendation (both were judged
worth telling), submitted in the span by the ward's calendar. A bulletin is read in a
few minutes, so at most `MAX_DEEDS` deeds go in, the oldest first; the Council is told
how many were left out. Every word comes from `templates/doc_bulletin.yaml`; the chat
message around the text (handlers) escapes it like any user text.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeedStatus, GoodDeed
from reporting.config import Settings, Ward
from reporting.digest import DeedLine
from reporting.digest_load import deed_lines
from reporting.doc_texts import doc_texts
from reporting.docx_layout import (
    BODY_PT,
    FONT,
    HEADER_PT,
    authority,
    blank_page,
    document_bytes,
    paragraph,
)
from reporting.docx_layout import place as place_of_issue
from reporting.number_words import vietnamese_words

MAX_DEEDS = 10  # about five minutes of reading
TOLD = [DeedStatus.FEATURED, DeedStatus.PROPOSED]
_END = ".!?…"


@dataclass(frozen=True)
class Bulletin:
    ward: Ward  # its name mid-sentence and its unit come from config
    first: date  # the span, both days included
    last: date
    deeds: list[DeedLine]
    left_out: int = 0  # deeds of the span beyond MAX_DEEDS

    @property
    def kind(self) -> Literal["month", "days"]:
        """A whole calendar month is named as one ("tháng 3"); anything else by its days."""
        whole = (self.first.day == 1 and self.first.year == self.last.year
                 and self.first.month == self.last.month
                 and self.last.day == calendar.monthrange(self.last.year, self.last.month)[1])
        return "month" if whole else "days"

    @property
    def empty(self) -> bool:
        return not self.deeds

    @property
    def key(self) -> str:
        """For file names: "2022-03" for a month, "2022-03-05_2022-03-11" for days."""
        if self.kind == "month":
            return f"{self.first.year:04d}-{self.first.month:02d}"
        return f"{self.first.isoformat()}_{self.last.isoformat()}"


async def bulletin(session: AsyncSession, settings: Settings, start: date,
                   end: date) -> Bulletin:
    """The deeds to tell for the local days `start` to `end` (both included)."""
    if end < start:
        raise ValueError(f"a bulletin's span ends before it starts: {start} to {end}")
    since, until = settings.ward.start_of(start), settings.ward.start_of(end + timedelta(days=1))
    deeds = await deed_lines(session, settings, TOLD, since=since, until=until,
                             limit=MAX_DEEDS)
    total = await session.scalar(select(func.count(GoodDeed.id)).where(
        GoodDeed.status.in_(TOLD), GoodDeed.submitted_at >= since,
        GoodDeed.submitted_at < until))
    return Bulletin(settings.ward, start, end, deeds, max(int(total or 0) - len(deeds), 0))


# --- the words -----------------------------------------------------------------------

@cache
def _spelled_out() -> tuple[tuple[re.Pattern[str], str], ...]:
    pairs = []
    for line in doc_texts()("bulletin_spelled_out").splitlines():
        short, _, words = line.partition(":")
        if short.strip() and words.strip():
            pairs.append((re.compile(rf"(?<!\w){re.escape(short.strip())}(?!\w)"),
                          words.strip()))
    return tuple(pairs)


def _unsaid(ch: str) -> bool:
    """An emoji or a pictograph (symbols from U+2000 on: "°", "©" stay), or an
    invisible joiner or selector of one."""
    kind = unicodedata.category(ch)
    return (kind == "So" and ord(ch) >= 0x2000) or kind in ("Cf", "Co", "Cs") \
        or 0xFE00 <= ord(ch) <= 0xFE0F


def spoken(text: str) -> str:
    """User text as the announcer reads it: emoji dropped, known abbreviations spelled
    out, spaces tidied."""
    kept = "".join(ch for ch in unicodedata.normalize("NFC", text) if not _unsaid(ch))
    for pattern, words in _spelled_out():
        kept = pattern.sub(words, kept)
    return " ".join(kept.split())


def spoken_day(day: date, year: int | None) -> str:
    """"ngày 12 tháng 3", with "năm …" only when it is not the bulletin's year."""
    return doc_texts()("bulletin_day", day=day.day, month=day.month,
                       year=day.year if day.year != year else None)


def _sentence(text: str) -> str:
    return text if not text or text[-1] in _END else text + "."


# Words of address a leader writes before a name ("Bà Lò Thị Xuân"): mid-sentence they
# are common nouns ("tại Tổ 1, bà Lò Thị Xuân …"); the name itself keeps its capitals.
_ADDRESS = frozenset({"ông", "bà", "anh", "chị", "em", "cháu", "cô", "chú", "bác", "cụ",
                      "thầy", "đồng chí", "gia đình", "chi hội", "đoàn viên", "hội viên"})


def mid_sentence(text: str) -> str:
    """`text` after a comma or a colon: a leading word of address, or the first word of
    a story ("Nhặt được ví …" → "nhặt được ví …"), in lower case; an acronym or a name
    ("UBND", "Lò Văn Pắng") stays as written."""
    words = text.split(" ", 2)
    first = words[0]
    if not first or (first.isupper() and len(first) > 1):
        return text
    two = " ".join(words[:2]).casefold()
    if first.casefold() in _ADDRESS or two in _ADDRESS:
        return first[:1].lower() + text[1:]
    # A story starts with what was done; a capital there is the sentence's, not a name's,
    # unless the next word is capitalised too (a name: "Lò Văn Pắng đã …").
    if len(words) > 1 and words[1][:1].isupper():
        return text
    return first[:1].lower() + text[1:]


def _context(b: Bulletin) -> dict[str, object]:
    return {"place": b.ward.mid, "unit": b.ward.unit, "n": len(b.deeds),
            "n_words": vietnamese_words(len(b.deeds)), "kind": b.kind, "first": b.first,
            "last": b.last, "same_year": b.first.year == b.last.year}


def parts(b: Bulletin) -> list[tuple[str, str]]:
    """The bulletin as (role, text) paragraphs: "title", "span", "greeting", "body",
    "deed", "signoff". Shared by the chat text and the .docx."""
    t = doc_texts()
    ctx = _context(b)
    out = [("title", t("bulletin_title")), ("span", t("bulletin_span", **ctx)),
           ("greeting", t("bulletin_greeting", **ctx)), ("body", t("bulletin_opening", **ctx))]
    for i, d in enumerate(b.deeds):
        day = spoken_day(d.happened_on, b.last.year) if d.happened_on else None
        out.append(("deed", t("bulletin_deed", i=i, day=day, group=spoken(d.group),
                              subject=mid_sentence(spoken(d.subject)),
                              story=mid_sentence(_sentence(spoken(d.description))))))
    out += [("body", t("bulletin_closing", **ctx)), ("body", t("bulletin_thanks")),
            ("signoff", t("bulletin_signoff", **ctx))]
    return out


def bulletin_text(b: Bulletin) -> str:
    """The plain text to read aloud (no markup: the chat message escapes it)."""
    paras = parts(b)
    head = "\n".join(text for role, text in paras if role in ("title", "span"))
    rest = [text for role, text in paras if role not in ("title", "span")]
    return "\n\n".join([head, *rest])


# --- the .docx -----------------------------------------------------------------------

def bulletin_document(settings: Settings, b: Bulletin, today: date) -> bytes:
    """The bulletin on an A4 page (the decree's font and margins), to print or edit.

    Not a numbered document with a letterhead: it is a script for the announcer, so the
    page holds only what is read, the ward's name above it and the date it was made.
    """
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = blank_page()

    def line(text: str, *, size: int = BODY_PT, bold: bool = False, italic: bool = False,
             align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER) -> None:
        para = doc.add_paragraph()
        para.alignment = align
        run = para.add_run(text)
        run.font.name, run.font.size = FONT, Pt(size)
        run.font.bold, run.font.italic = bold or None, italic or None

    line(authority(settings).upper(), size=HEADER_PT)
    line(doc_texts()("doc_place_date", place=place_of_issue(settings), day=today.day,
                     month=today.month, year=today.year), italic=True,
         align=WD_ALIGN_PARAGRAPH.RIGHT)
    for role, text in parts(b):
        if role == "title":
            line(text, bold=True)
        elif role == "span":
            line(text, italic=True)
        elif role == "signoff":
            line(text, bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
        else:
            paragraph(doc, text, bold=role == "greeting")
    return document_bytes(doc)
