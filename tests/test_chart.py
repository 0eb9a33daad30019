"""The progress chart: size, one bar per target, colours, lengths and Vietnamese text.

Read twice: in its layout (`chart_layout`: what is drawn where, in pixels) and in the
PNG itself (Pillow reads the pixels back: the bars' colours where the layout puts them,
the target line, every character a glyph of the shipped font).
"""

from __future__ import annotations

import gc
import itertools
import struct
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from reporting import chart
from reporting.chart import ChartLayout, chart_layout, chart_png
from reporting.chart_paint import Fonts, Text
from reporting.config import Settings
from reporting.config_file import load_settings
from reporting.digest import Digest, GroupReport, TargetResult, Values
from reporting.periods import period_dates
from reporting.plan_config import Plan
from reporting.targets import Figures, Verdict, compare, judge_plan

CONFIG = Path(__file__).parent.parent / "config.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(CONFIG)


def _groups(settings: Settings, submitted: int) -> list[GroupReport]:
    out = []
    for i, g in enumerate(settings.groups):
        values: Values = {
            "households": "100", "cultured_families": str(95 + i % 5), "residents": "400",
            "health_insured": str(370 + 4 * i), "internet_users": "300",
            "children_under_5": "30", "children_under_6": "40", "safe_area": "yes",
            "drug_free": "yes" if i else "no", "cultured_group": "yes",
        }
        state = "submitted" if i < submitted else "missing"
        out.append(GroupReport(g.code, g.name, state, late=i == 1,
                               values=values if i < submitted else {}))
    return out


def _plan(settings: Settings) -> Plan:
    plan = settings.plan(2022)
    assert plan is not None
    return plan


def _result(settings: Settings, code: str, value: str | None, based_on: int = 15,
            of_total: int = 15) -> TargetResult:
    """Met or not met against the plan's figure (the chart draws what it is given)."""
    t = next(t for t in _plan(settings).targets if t.code == code)
    assert t.value is not None
    number = None if value is None else Decimal(value)
    verdict = Verdict.NO_DATA if number is None else \
        Verdict.MET if compare(t.comparator, number, t.value) else Verdict.NOT_MET
    unit = "groups" if t.compute.kind in ("ratio", "share_of_groups") else "months"
    return TargetResult(t, number, based_on, of_total, verdict, unit, goal=t.value)


@pytest.fixture(scope="module")
def precise(settings: Settings) -> Digest:
    """Hand-made results: met, not met, no data, partial, capped, zero-length not met."""
    results = [
        _result(settings, "vaccination_rate", "98.5"),  # met, just over 100
        _result(settings, "cultured_families_rate", "97.5"),  # not met
        _result(settings, "nursery_enrolment", None, 0, 1),  # no data
        _result(settings, "internet_rate", "75", 3, 15),  # partial, not met
        _result(settings, "budget_revenue", "20000", 2, 3),  # 198%: capped at 150
        _result(settings, "new_poor_households", "0"),  # met, "exactly 0"
        _result(settings, "serious_incidents", "2"),  # not met, progress 0
        _result(settings, "agencies_security_standard", "100", 1, 1),  # long label
    ]
    period = period_dates(settings.calendar, 2022, 3)
    return Digest(settings.ward.name, period, date(2022, 4, 3), _groups(settings, 3), results)


@pytest.fixture(scope="module")
def real(settings: Settings) -> Digest:
    """Every configured target, computed from 15 groups of which 9 reported."""
    groups = _groups(settings, 9)
    ward_months: list[Values] = [
        {"production_value": "400", "budget_revenue": "3000.5", "nursery_enrolment": "70",
         "malnutrition_rate": "0.02", "new_poor_households": "0"},
        {"production_value": "1000", "kindergarten_enrolment": "95", "serious_incidents": "1"},
        {"recruitment_done": "100", "bright_green_roads": "5", "vaccination_rate": "98.5"},
    ]
    period = period_dates(settings.calendar, 2022, 3)
    figures = Figures(month=3, groups_total=len(groups),
                      groups=[g.values for g in groups if g.submitted],
                      groups_ytd=[g.values for g in groups if g.submitted],
                      ward_months=ward_months,
                      group_indicators=frozenset(i.code for i in settings.report.indicators))
    return Digest(settings.ward.name, period, date(2022, 4, 3), groups,
                  judge_plan(_plan(settings), figures))


def _layout(digest: Digest, lang: str = "vi") -> ChartLayout:
    return chart_layout(digest, lang, Fonts())


@pytest.fixture(scope="module")
def layout(precise: Digest) -> ChartLayout:
    return _layout(precise)


Rendered = dict[tuple[str, str], bytes]


@pytest.fixture(scope="module")
def rendered(precise: Digest, real: Digest) -> Rendered:
    """Both digests in both languages, as PNG."""
    return {(which, lang): chart_png(digest, lang)
            for which, digest in (("precise", precise), ("real", real))
            for lang in ("vi", "en")}


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _pixels(png: bytes) -> Image.Image:
    image = Image.open(BytesIO(png))
    return image.convert("RGB")


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _texts(layout: ChartLayout) -> list[str]:
    return [t.text for t in layout.values + layout.texts]


@pytest.mark.parametrize("which", ["precise", "real"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_png_is_1080_wide_and_grows_with_the_targets(
        which: str, lang: str, rendered: Rendered, request: pytest.FixtureRequest) -> None:
    digest: Digest = request.getfixturevalue(which)
    n = len(digest.targets)
    assert _png_size(rendered[which, lang]) == (1080, chart.chart_height_px(n))
    assert _pixels(rendered[which, lang]).size == (1080, chart.chart_height_px(n))
    assert chart.chart_height_px(n) == chart.HEADER_PX + chart.ROW_PX * n + chart.FOOTER_PX
    assert chart.ROW_PX == 55  # px per target


def test_one_bar_per_target_in_config_order(precise: Digest, layout: ChartLayout,
                                            real: Digest) -> None:
    assert [b.row for b in layout.bars] == list(range(len(precise.targets)))
    middles = [(b.rect.y0 + b.rect.y1) / 2 for b in layout.bars]
    assert middles == sorted(middles)  # row 0 (the first target in the config) on top
    assert all(b - a == chart.ROW_PX for a, b in itertools.pairwise(middles))
    assert len(_layout(real).bars) == len(real.targets) == 23  # the 2022 plan


def test_colours_follow_met_and_not_met(precise: Digest, layout: ChartLayout,
                                        rendered: Rendered) -> None:
    colours = [b.colour for b in layout.bars]
    expected = {True: chart.GREEN, False: chart.ORANGE, None: chart.GREY}
    assert colours == [expected[r.met] for r in precise.targets]
    assert colours[:3] == [chart.GREEN, chart.ORANGE, chart.GREY]
    # In the picture: the middle of each bar, or the diamond of an empty one.
    pixels = _pixels(rendered["precise", "vi"])
    for b in layout.bars:
        y = round((b.rect.y0 + b.rect.y1) / 2)
        x = round((b.rect.x0 + b.rect.x1) / 2) if b.marker is None else round(b.marker.x)
        assert _hex(pixels.getpixel((x, y))) == b.colour, b  # type: ignore[arg-type]


def test_bar_lengths_are_progress_capped_at_150(precise: Digest, layout: ChartLayout,
                                                real: Digest, rendered: Rendered) -> None:
    for digest, lay in ((precise, layout), (real, _layout(real))):
        for r, bar in zip(digest.targets, lay.bars, strict=True):
            p = r.progress
            assert bar.percent == pytest.approx(0 if p is None else max(0, min(p, 150)))
            assert bar.rect.x0 == lay.x_of(0)
            assert bar.rect.x1 == pytest.approx(lay.x_of(bar.percent))
            assert (bar.marker is not None) == (bar.percent == 0)
    widths = [b.percent for b in layout.bars]
    assert widths[0] == pytest.approx(100 * 98.5 / 98)
    assert widths[2] == 0  # no data
    assert widths[4] == 150  # 20.000 of 10.082: capped
    assert widths[6] == 0  # 2 serious incidents where none are allowed
    # In the picture the capped bar ends at 150%: its colour just before, white after.
    pixels = _pixels(rendered["precise", "vi"])
    capped = layout.bars[4]
    y = round(capped.rect.y0 + 3)  # above its white text
    assert _hex(pixels.getpixel((round(layout.x_of(150)) - 2, y))) == chart.GREEN  # type: ignore[arg-type]
    assert _hex(pixels.getpixel((round(layout.x_of(150)) + 3, y))) == "#ffffff"  # type: ignore[arg-type]


def test_line_at_100_and_labels_with_diacritics(precise: Digest, layout: ChartLayout,
                                                rendered: Rendered) -> None:
    # A dashed line at 100% from the top of the bars to the axis: dark and white in turn.
    pixels = _pixels(rendered["precise", "vi"])
    x = round(layout.x_of(100))
    column = [_hex(pixels.getpixel((x, y)))  # type: ignore[arg-type]
              for y in range(round(layout.plot.y0), round(layout.plot.y1))]
    no_data = layout.bars[2]  # an empty row: nothing but the line at 100%
    row = column[round(no_data.rect.y0 - layout.plot.y0):round(no_data.rect.y1
                                                                - layout.plot.y0)]
    assert row.count(chart.MUTED) >= len(row) / 2 and "#ffffff" in row
    labels = [t.text for t in layout.labels]
    # The 2022 plan's wording (config labels changed with the plan, issue 8).
    assert labels[:4] == ["Trẻ em dưới 6 tuổi được tiêm chủng", "Tỷ lệ gia đình văn hóa",
                          "Huy động trẻ em đến nhà trẻ", "Tỷ lệ người dân sử dụng Internet"]
    full = "Cơ quan, đơn vị, nhà trường đạt chuẩn an toàn về an ninh trật tự"
    # Issue 8: whole labels, wrapped on two lines instead of cut with "…".
    assert labels[7].replace("\n", " ") == full and "…" not in labels[7]
    assert all(t.size >= chart.LABEL_SIZE for t in layout.labels)


def test_value_texts_title_and_subtitle(layout: ChartLayout) -> None:
    texts = _texts(layout)
    # Issue 8: value and goal in the same decimals; counts that must stay zero in words.
    for expected in ("98,5% / >98,0%", "97,5% / ≥98,0%", "chưa có số liệu / ≥66,0%",
                     "75,0% / ≥98,0% (3/15 tổ, bản)", "20.000 / ≥10.082 triệu đồng (2/3 tháng)",
                     "100,0% / ≥100,0%", "đạt chỉ tiêu",
                     "Tiến độ chỉ tiêu tháng 03/2022",
                     "Phường Quyết Thắng · 3/15 tổ, bản đã báo cáo"):
        assert expected in texts
    assert all(t.size >= chart.TEXT_SIZE for t in layout.labels + layout.values + layout.texts)


def test_texts_stay_inside_the_picture(precise: Digest, real: Digest) -> None:
    """Values end before the right edge (a long one after a capped bar moves inside it,
    in white); labels end left of the bars and start inside the picture."""
    fonts = Fonts()
    for digest in (precise, real):
        for lang in ("vi", "en"):
            lay = chart_layout(digest, lang, fonts)
            for t in lay.values:
                assert fonts.box(t)[2] <= lay.plot.x1 + 1, t.text
            for t in lay.labels:
                x0, _, x1, _ = fonts.box(t)
                assert x0 >= 0 and x1 < lay.plot.x0, t.text
            for t in lay.texts:
                x0, y0, x1, y1 = fonts.box(t)
                assert x0 >= 0 and x1 <= lay.width and y0 >= 0 and y1 <= lay.height, t.text
    budget = next(t for t in _layout(precise).values if t.text.startswith("20.000 "))
    assert (budget.anchor, budget.colour, budget.bold) == ("rm", "white", True)


def test_english(precise: Digest) -> None:
    lay = _layout(precise, "en")
    texts = _texts(lay)
    for expected in ("98.5% / >98.0%", "no data yet / ≥66.0%", "75.0% / ≥98.0% (3/15 groups)",
                     "Progress against targets, 03/2022", "target"):
        assert expected in texts
    assert lay.labels[0].text == "Children under 6 vaccinated"


def _glyph(fonts: Fonts, char: str, bold: bool) -> bytes:
    mask = fonts.font(chart.LABEL_SIZE, bold).getmask(char)
    return bytes(mask) + bytes(mask.size)


def test_every_character_is_a_glyph_of_the_shipped_font(precise: Digest, real: Digest) -> None:
    """A character missing from the font would be drawn as its empty box (.notdef), on
    the phone as "□": each one drawn must look unlike the glyph of a private-use one."""
    fonts = Fonts()
    chars: set[str] = set()
    for digest in (precise, real):
        for lang in ("vi", "en"):
            lay = chart_layout(digest, lang, fonts)
            for t in lay.labels + lay.values + lay.texts:
                chars |= {c for line in t.lines for c in line if not c.isspace()}
    assert {"ư", "ơ", "ạ", "ể", "ỷ", "đ", "≥", "·"} <= chars  # Vietnamese and the signs
    for bold in (False, True):
        missing = _glyph(fonts, "\ue000", bold)
        assert sorted(c for c in chars if _glyph(fonts, c, bold) == missing) == []


def test_decomposed_text_is_drawn_as_precomposed(settings: Settings) -> None:
    """A label typed with combining accents (NFD) is drawn with the same glyphs as NFC."""
    nfd = Text("Tie\u0302\u0301n \u0111o\u0323\u0302", 0, 20, "lm", 17, "#000000")
    assert nfd.lines == ["Tiến độ"]


def test_a_drawn_chart_leaves_no_image_behind(real: Digest) -> None:
    """The picture (~5 MB at 23 targets) is freed once its PNG is made: no cycle keeps it
    alive until a full collection, which a server's large heap seldom runs."""
    gc.collect()
    before = sum(isinstance(o, Image.Image) for o in gc.get_objects())
    gc.disable()  # no automatic collection may do the work the function must do
    try:
        for _ in range(3):
            assert chart_png(real, "vi").startswith(PNG_SIGNATURE)
        assert sum(isinstance(o, Image.Image) for o in gc.get_objects()) == before
    finally:
        gc.enable()


def test_a_long_label_and_a_long_value_stay_readable(settings: Settings) -> None:
    """A ward's own target named at length, and a value too long to follow its short bar:
    the label wraps, smaller if it must, and stays left of the bars; the value is never
    white on the white background."""
    from dataclasses import replace

    from reporting.config_base import Text as Label

    long_name = ("Tỷ lệ hộ gia đình ở các tổ dân phố và bản đạt danh hiệu gia đình văn hóa "
                 "tiêu biểu ba năm liền theo tiêu chí của Ủy ban nhân dân phường")
    base = _result(settings, "cultured_families_rate", "2.5")  # a very short bar
    target = base.target.model_copy(update={"label": Label(vi=long_name)})
    results = [replace(base, target=target),
               _result(settings, "budget_revenue", "20000", 2, 3)]  # capped: value inside
    period = period_dates(settings.calendar, 2022, 3)
    digest = Digest(settings.ward.name, period, date(2022, 4, 3), _groups(settings, 3), results)
    fonts = Fonts()
    lay = chart_layout(digest, "vi", fonts)
    label = lay.labels[0]
    assert label.text.replace("\n", " ") == long_name  # whole, never cut
    x0, _, x1, _ = fonts.box(label)
    assert x0 >= 0 and x1 < lay.plot.x0
    for value, bar in zip(lay.values, lay.bars, strict=True):
        x0, _, x1, _ = fonts.box(value)
        assert x0 >= 0 and x1 <= lay.plot.x1 + 1, value.text
        if value.colour == "white":  # only ever drawn on its bar
            assert bar.rect.x0 <= x0 and x1 <= bar.rect.x1, value.text
