"""How the bot's HTML messages read on Zalo: plain text, numbered menus, 2,000-char parts."""

from __future__ import annotations

from bot.channels.zalo.render import LIMITS, Renderer, coalesce, menu, plain, split_plain
from reporting.messages import Attachment, Option, Outgoing


class Recorder:
    """The API calls a render makes, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    async def text(self, chat_id: str, text: str) -> str:
        self.calls.append(("text", text, None))
        return f"t{len(self.calls)}"

    async def photo(self, chat_id: str, url: str, caption: str | None) -> str:
        self.calls.append(("photo", url, caption))
        return f"p{len(self.calls)}"


async def direct(call, first):  # type: ignore[no-untyped-def]
    return await call()


def test_html_becomes_plain_text_that_reads_well() -> None:
    html = ('<b>Báo cáo tháng 03/2022</b>\nTổ 1 &amp; Tổ 2: <i>đúng hạn</i> &lt;3&gt;\n'
            '<code>/baocao</code> — <a href="https://x.vn/a?b=1&amp;c=2">xem</a> '
            '<a href="https://x.vn">https://x.vn</a>')
    assert plain(html) == ("Báo cáo tháng 03/2022\nTổ 1 & Tổ 2: đúng hạn <3>\n"
                           "/baocao — xem (https://x.vn/a?b=1&c=2) https://x.vn")


def test_options_are_numbered_across_rows() -> None:
    options = [[Option("Có", "y"), Option("Không", "n")], [Option("Bỏ qua", "s")]]
    assert menu(options) == "1. Có   2. Không\n3. Bỏ qua"
    # The summary's "which item?" labels carry their numbers already: not doubled.
    items = [[Option("1. Số hộ", "e1"), Option("2. Gia đình văn hóa", "e2")],
             [Option("⬅️ Về bảng tóm tắt", "back")]]
    assert menu(items) == "1. Số hộ   2. Gia đình văn hóa\n3. ⬅️ Về bảng tóm tắt"


def test_long_text_is_split_at_line_breaks_within_2000_characters() -> None:
    lines = [f"Dòng {i}: " + "x" * 90 for i in range(60)]  # ~6,000 characters
    parts = split_plain("\n".join(lines), LIMITS.max_text)
    assert len(parts) == 3 and all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts).split("\n") == lines  # nothing lost, no line cut


def test_one_line_longer_than_a_message_is_cut_at_spaces() -> None:
    words = " ".join(["chữ"] * 1500)  # 5,999 characters, no line break
    parts = split_plain(words, 2000)
    assert all(len(p) <= 2000 for p in parts) and " ".join(parts) == words


async def test_a_question_with_options_is_one_message_ending_in_its_menu() -> None:
    rec = Recorder()
    out = Outgoing("<b>Câu 8/12</b>\nAn toàn ANTT?",
                   [[Option("Đạt", "a"), Option("Chưa đạt", "b")]])
    assert await Renderer(rec.text, rec.photo).render("u1", out, direct) == "t1"
    assert rec.calls == [("text", "Câu 8/12\nAn toàn ANTT?\n\n1. Đạt   2. Chưa đạt", None)]


async def test_a_chart_without_public_links_becomes_a_line_saying_where_it_is() -> None:
    rec = Recorder()
    out = Outgoing("Tổng hợp tuần", attachments=[Attachment("photo", b"png", "chart.png")])
    await Renderer(rec.text, rec.photo, unavailable="(xem Telegram)").render("c", out, direct)
    assert rec.calls == [("text", "(xem Telegram)\n\nTổng hợp tuần", None)]


async def test_files_with_links_go_first_a_photo_as_a_photo_a_document_as_its_link() -> None:
    rec = Recorder()

    async def links(att: Attachment) -> str | None:
        return f"https://bot.vn/m/{att.filename}?sig=1"

    out = Outgoing("Tổng hợp tuần", attachments=[Attachment("photo", b"png", "chart.png"),
                                                  Attachment("document", b"x", "t3.xlsx")])
    await Renderer(rec.text, rec.photo, links).render("c", out, direct)
    assert rec.calls == [("photo", "https://bot.vn/m/chart.png?sig=1", None),
                         ("text", "https://bot.vn/m/t3.xlsx?sig=1\n\nTổng hợp tuần", None)]


async def test_a_progress_edit_is_dropped_and_other_edits_are_sent_anew() -> None:
    rec = Recorder()
    renderer = Renderer(rec.text, rec.photo)
    assert await renderer.render("a", Outgoing("12/300", edit="5", resend=False), direct) is None
    assert await renderer.render("a", Outgoing("Đã lưu", edit="5"), direct) == "t1"
    assert rec.calls == [("text", "Đã lưu", None)]


async def test_a_single_photo_takes_a_short_text_as_its_caption() -> None:
    rec = Recorder()

    async def links(att: Attachment) -> str | None:
        return "https://bot.vn/m/1"

    out = Outgoing("<b>Biểu đồ</b> tháng 3", attachments=[Attachment("photo", b"", "c.png")])
    await Renderer(rec.text, rec.photo, links).render("c", out, direct)
    assert rec.calls == [("photo", "https://bot.vn/m/1", "Biểu đồ tháng 3")]


def test_a_reply_of_a_confirmation_and_the_next_question_is_one_message() -> None:
    done = Outgoing("Câu 8. An toàn ANTT: <b>Đạt</b> ✓", edit="7")
    ask = Outgoing("<b>Câu 9/12</b>", [[Option("Đạt", "a")]], expects=None)
    chart = Outgoing("Biểu đồ", attachments=[Attachment("photo", b"", "c.png")])
    merged = coalesce([done, ask, chart, Outgoing("Tiến độ", edit="3", resend=False)])
    assert [m.text for m in merged] == [f"{done.text}\n\n{ask.text}", "Biểu đồ", "Tiến độ"]
    assert merged[0].options == ask.options
