"""The loudspeaker bulletin: Mai (Council) gets the good deeds of a month or a week as a
text the ward's announcer reads aloud, and as a .docx; a seeded 2022 tells the deeds.

In the seeded year (`bot.demo_year`) January has two featured deeds, February two
proposed ones and March only a new one; the tests add their own deeds around them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from io import BytesIO

import docx
import pytest
from sqlalchemy import select

from bot.channels.zalo.render import menu
from bot.demo_year import seed_year
from models import DeedStatus, GoodDeed, Group, Member
from reporting.bulletin import (
    MAX_DEEDS,
    bulletin,
    bulletin_document,
    bulletin_text,
    mid_sentence,
)
from reporting.buttons import Button, CommandAction, decode
from reporting.config import Settings
from reporting.html_text import html_length
from reporting.messages import DEFAULT_LIMITS, split_text
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import TAGS, register

pytestmark = pytest.mark.usefixtures("db_url")
TOLD = {DeedStatus.FEATURED, DeedStatus.PROPOSED}


def _local(settings: Settings, moment: datetime) -> date:
    """The ward's day of a stored moment (SQLite hands it back without its zone: UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(settings.ward.tz).date()


async def _seeded(app: Services) -> None:
    async with app.sessions() as s, s.begin():
        await seed_year(s, app.settings, 2022)


async def _deed(app: Services, status: DeedStatus, local: datetime, *,
                subject: str = "Ông Lò Văn Pắng",
                story: str = "Sửa giúp mái nhà cho cụ già neo đơn.",
                category: str = "other") -> int:
    """A deed of Tổ 2 submitted at `local` (the ward's time)."""
    at = local.replace(tzinfo=app.settings.ward.tz).astimezone(UTC)
    async with app.sessions() as s, s.begin():
        group = await s.scalar(select(Group).where(Group.code == "to-2"))
        assert group is not None
        member = await s.scalar(select(Member).where(Member.group_id == group.id))
        assert member is not None
        deed = GoodDeed(group_id=group.id, reported_by=member.id, subject_kind="person",
                        subject_name=subject, description=story,
                        happened_on=local.date(), category=category, status=status,
                        created_at=at, submitted_at=at, reviewed_at=at)
        s.add(deed)
        await s.flush()
        return deed.id


async def _month_ids(app: Services, year: int, month: int) -> tuple[set[int], set[int]]:
    """(told, not told) deed ids submitted in the month, by the ward's calendar."""
    async with app.sessions() as s:
        deeds = (await s.scalars(select(GoodDeed))).all()
    mine = [d for d in deeds if d.submitted_at is not None
            and _local(app.settings, d.submitted_at).replace(day=1) == date(year, month, 1)]
    return ({d.id for d in mine if d.status in TOLD},
            {d.id for d in mine if d.status not in TOLD})


async def test_a_month_tells_exactly_its_featured_and_proposed_deeds(services: Services) -> None:
    await _seeded(services)
    # Around January's two featured deeds: one not chosen, one new, and featured deeds
    # just outside the month by the ward's clock (UTC would put them the other side).
    not_now = await _deed(services, DeedStatus.NOT_NOW, datetime(2022, 1, 20, 10))
    new = await _deed(services, DeedStatus.NEW, datetime(2022, 1, 21, 10))
    proposed = await _deed(services, DeedStatus.PROPOSED, datetime(2022, 1, 31, 23, 30))
    february = await _deed(services, DeedStatus.FEATURED, datetime(2022, 2, 1, 0, 30))
    told, other = await _month_ids(services, 2022, 1)
    assert len(told) == 3 and {not_now, new} <= other and proposed in told
    async with services.sessions() as s:
        b = await bulletin(s, services.settings, date(2022, 1, 1), date(2022, 1, 31))
    assert {d.id for d in b.deeds} == told and february not in told
    assert b.kind == "month" and b.key == "2022-01" and b.left_out == 0


async def test_a_week_and_the_days_that_bound_it(services: Services) -> None:
    await _seeded(services)
    inside = await _deed(services, DeedStatus.FEATURED, datetime(2022, 3, 31, 23, 30))
    await _deed(services, DeedStatus.FEATURED, datetime(2022, 4, 1, 0, 10))  # the next week
    await _deed(services, DeedStatus.FEATURED, datetime(2022, 3, 24, 23, 50))  # the last one
    async with services.sessions() as s:
        b = await bulletin(s, services.settings, date(2022, 3, 25), date(2022, 3, 31))
    assert [d.id for d in b.deeds] == [inside] and b.kind == "days"
    text = bulletin_text(b)
    assert "(Từ ngày 25 đến ngày 31 tháng 3 năm 2022)" in text  # spoken, not 25/03–31/03


async def test_the_text_is_for_reading_aloud(services: Services, settings: Settings) -> None:
    await _seeded(services)
    await _deed(services, DeedStatus.FEATURED, datetime(2022, 1, 25, 9),
                subject="Cháu <b>Quàng Thị Mai</b> 👍",
                story="Cùng TDP 2 dọn sạch rãnh thoát nước 🧹 & trồng 30 cây xanh")
    async with services.sessions() as s:
        b = await bulletin(s, settings, date(2022, 1, 1), date(2022, 1, 31))
    text = bulletin_text(b)
    assert len(b.deeds) == 3
    assert not [ch for ch in text if unicodedata.category(ch) == "So"]  # nothing unsayable
    assert "TDP" not in text and "tổ dân phố 2" in text
    # Dates as spoken; the name as given (only the emoji went), "cháu" mid-sentence.
    assert "Ngày 25 tháng 1, tại Tổ 2, cháu <b>Quàng Thị Mai</b> là tấm gương" in text
    assert not re.search(r"\d{1,2}/\d{1,2}", text)
    assert text.startswith("BẢN TIN GƯƠNG NGƯỜI TỐT, VIỆC TỐT\n(Tháng 1 năm 2022)")
    assert "Kính thưa bà con nhân dân phường Quyết Thắng!" in text
    assert "ba tấm gương" in text  # the count as read
    assert text.endswith("Đài truyền thanh phường Quyết Thắng")


async def test_the_document_opens_and_holds_every_deed(services: Services,
                                                       settings: Settings) -> None:
    await _seeded(services)
    async with services.sessions() as s:
        b = await bulletin(s, settings, date(2022, 2, 1), date(2022, 2, 28))
    assert {d.status for d in b.deeds} == {DeedStatus.PROPOSED} and len(b.deeds) == 2
    doc = docx.Document(BytesIO(bulletin_document(settings, b, date(2022, 3, 2))))
    body = "\n".join(p.text for p in doc.paragraphs)
    for d in b.deeds:
        assert mid_sentence(d.subject) in body and d.group in body
    assert "BẢN TIN GƯƠNG NGƯỜI TỐT, VIỆC TỐT" in body
    assert "Quyết Thắng, ngày 02 tháng 3 năm 2022" in body
    section = doc.sections[0]
    sizes = (section.page_width, section.page_height, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in sizes if m is not None] == [210, 297, 30, 15]


async def test_a_busy_month_is_bounded_and_fits_telegram(services: Services) -> None:
    """Twelve long stories in May: ten are told (about five minutes of reading), the
    Council hears of the others, and the message goes in parts Telegram accepts."""
    await _seeded(services)
    story = "Vận động bà con & thanh niên <dọn> rác, " * 24 + "trồng cây xanh."
    for day in range(1, 13):
        await _deed(services, DeedStatus.FEATURED, datetime(2022, 5, day, 9), story=story)
    told, _ = await _month_ids(services, 2022, 5)  # with the seeded year's own
    mai = await register(services, "9", "Mai", None, "council")
    [out] = (await mai.send("/tonghop bantin 5/2022")).messages
    assert _told(out.text) == MAX_DEEDS == 10
    assert f"Còn {len(told) - 10} gương khác" in (out.attachments[0].caption or "")
    parts = split_text(out.text, DEFAULT_LIMITS.max_text)
    assert len(parts) > 1 and all(html_length(p) <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "") == out.text.replace("\n", "")


def _told(text: str) -> int:
    """Deeds in a bulletin's text: its paragraphs but the heading, greeting, opening,
    closing, thanks and sign-off."""
    return len(text.split("\n\n")) - 6


# --- in chat ---------------------------------------------------------------------------


async def test_mai_gets_the_text_and_the_document(services: Services, clock: Clock) -> None:
    await _seeded(services)
    await _deed(services, DeedStatus.FEATURED, datetime(2022, 4, 1, 8),
                story="Trả lại <b>ví</b> & giấy tờ cho người đánh rơi.")
    mai = await register(services, "9", "Mai", None, "council")
    reply = await mai.send("/tonghop bantin")  # April 2022: this month
    [out] = reply.messages
    [doc] = out.attachments
    assert doc.kind == "document" and doc.filename == "ban-tin-loa-2022-04.docx"
    assert "04/2022" in (doc.caption or "")
    read = docx.Document(BytesIO(doc.data))
    assert any("ông Lò Văn Pắng" in p.text for p in read.paragraphs)
    # The text to read out: user text escaped, and nothing else of markup.
    assert "trả lại &lt;b&gt;ví&lt;/b&gt; &amp; giấy tờ" in out.text
    assert not TAGS.search(out.text)
    # The week and a named month; January holds the seeded year's two featured deeds.
    week = (await mai.send("/tonghop bantin tuan")).messages[0]
    assert week.attachments[0].filename == "ban-tin-loa-2022-03-28_2022-04-03.docx"
    january = (await mai.send("/digest bulletin tháng 1/2022")).messages[0]
    assert january.attachments[0].filename == "ban-tin-loa-2022-01.docx"
    assert _told(january.text) == 2


async def test_nothing_to_tell_and_a_bad_span(services: Services) -> None:
    await _seeded(services)
    mai = await register(services, "9", "Mai", None, "council")
    reply = await mai.send("/tonghop bantin 3/2022")  # March: only a new deed
    [out] = reply.messages
    assert not out.attachments and "03/2022" in out.text and "/guongtot" in out.text
    await mai.send("/tonghop bantin hôm-kia")
    assert "/tonghop bantin tuan" in mai.last_text and "hôm-kia" in mai.last_text


async def test_a_leader_is_refused(services: Services) -> None:
    await _seeded(services)
    lan = await register(services, "1", "Lan", "to-1")
    reply = await lan.send("/tonghop bantin tháng 1/2022")
    assert not reply.messages[0].attachments
    assert lan.last_text == services.t("council_only", "vi")


async def test_the_digest_button_gives_its_month(services: Services, clock: Clock) -> None:
    await _seeded(services)
    clock.set_local(2022, 2, 3)  # January is being reported: its digest
    mai = await register(services, "9", "Mai", None, "council")
    await mai.send("/tonghop")
    labels = [o.label for o in mai.options()]
    assert labels == ["📋 Xem chi tiết", "📢 Bản tin loa"]
    button = decode(mai.find("Bản tin loa").data)
    assert isinstance(button, Button) and button.action is CommandAction.BULLETIN
    assert button.ids == (2022, 1)
    [out] = (await mai.press("Bản tin loa")).messages
    assert out.attachments[0].filename == "ban-tin-loa-2022-01.docx"
    assert _told(out.text) == 2
    # Zalo has no buttons: the two read as a numbered menu.
    reply = await mai.send("/tonghop")
    assert menu(reply.messages[0].options) == "1. 📋 Xem chi tiết   2. 📢 Bản tin loa"
    # A leader who got hold of the button is refused like the command.
    lan = await register(services, "1", "Lan", "to-1")
    await lan.press_data(mai.find("Bản tin loa").data)
    assert lan.last_text == services.t("council_only", "vi")


# --- categories from the plan's movements ----------------------------------------------


async def test_a_deed_filed_under_dan_van_kheo(services: Services, clock: Clock) -> None:
    hung = await register(services, "2", "Hùng", "to-2")
    mai = await register(services, "9", "Mai", None, "council")
    await hung.send("/guongtot")
    await hung.press("Cá nhân")
    await hung.send("Bà Cầm Thị Xuân")
    await hung.send("Vận động 15 hộ hiến đất mở đường vào bản.")
    await hung.press("Hôm nay")
    labels = [o.label for o in hung.options()]
    for movement in ("Dân vận khéo", "Cải cách hành chính", "Sáng kiến, cải tiến kỹ thuật",
                     "Đời sống văn hóa ở khu dân cư"):  # the long name's short one
        assert movement in labels
    assert len(labels) == 12 and labels[-3] == "Việc tốt khác"  # 10, then back and discard
    assert max(len(label) for label in labels) <= 40  # a phone shows a button's whole label
    listed = menu(hung.replies[-1].messages[-1].options)  # Zalo: one a line, numbered
    assert "\n6. Dân vận khéo\n" in listed and "\n10. Việc tốt khác\n" in listed
    await hung.send("6")  # typed, as on Zalo
    await hung.press("Xong")
    await hung.press("Gửi")
    async with services.sessions() as s:
        deed = await s.scalar(select(GoodDeed).where(GoodDeed.subject_name == "Bà Cầm Thị Xuân"))
    assert deed is not None and deed.category == "dan_van_kheo"
    # Typed in full, the long name is understood as well as its button.
    lan = await register(services, "1", "Lan", "to-1")
    await lan.send("/guongtot")
    await lan.press("Tập thể")
    await lan.send("Chi đoàn thanh niên Tổ 1")
    await lan.send("Tổ chức đêm văn nghệ gây quỹ khuyến học.")
    await lan.press("Hôm nay")
    await lan.send("toan dan doan ket xay dung doi song van hoa o khu dan cu")
    async with services.sessions() as s:
        other = await s.scalar(select(GoodDeed).where(GoodDeed.group_id != deed.group_id))
    assert other is not None and other.category == "cultural_life"
    await mai.send("/guongtot")
    await mai.press("Đưa vào bản tin")
    from reporting.export import period_workbook

    async with services.sessions() as s:
        wb = await period_workbook(s, services.settings, "2022-04", clock().date())
    cells = [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert "Dân vận khéo" in cells
    async with services.sessions() as s:
        b = await bulletin(s, services.settings, date(2022, 4, 1), date(2022, 4, 30))
    assert [d.category for d in b.deeds] == ["Dân vận khéo"]


@pytest.mark.parametrize(("written", "read"), [
    ("Bà Lò Thị Xuân", "bà Lò Thị Xuân"), ("Chi hội Phụ nữ Tổ 9", "chi hội Phụ nữ Tổ 9"),
    ("Nhặt được ví, trả lại.", "nhặt được ví, trả lại."), ("Lò Văn Pắng", "Lò Văn Pắng"),
    ("UBND phường khen.", "UBND phường khen."), ("", "")])
def test_names_and_stories_mid_sentence(written: str, read: str) -> None:
    """Read after "tại Tổ 1, …" and after a colon: words of address and a story's first
    word in lower case, names and acronyms as written."""
    assert mid_sentence(written) == read
