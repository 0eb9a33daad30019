"""The progress chart: size, one bar per target, colours, lengths and Vietnamese text."""

from __future__ import annotations

import gc
import struct
import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from reporting import chart
from reporting.chart import chart_figure, chart_png
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


@pytest.fixture(scope="module")
def figure(precise: Digest) -> Figure:
    return chart_figure(precise)


Rendered = tuple[dict[tuple[str, str], bytes], list[str]]


@pytest.fixture(scope="module")
def rendered(precise: Digest, real: Digest) -> Rendered:
    """Both digests in both languages, with every warning emitted while rendering."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pngs = {(which, lang): chart_png(digest, lang)
                for which, digest in (("precise", precise), ("real", real))
                for lang in ("vi", "en")}
    return pngs, [str(w.message) for w in caught]


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _bars(fig: Figure) -> list[Rectangle]:
    (ax,) = fig.axes
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(ax.containers) == 1
    assert list(ax.containers[0]) == bars
    return sorted(bars, key=lambda b: b.get_y())  # top to bottom: the y axis is inverted


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts] + [t.get_text() for t in fig.texts]


@pytest.mark.parametrize("which", ["precise", "real"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_png_is_1080_wide_and_grows_with_the_targets(
        which: str, lang: str, rendered: Rendered, request: pytest.FixtureRequest) -> None:
    digest: Digest = request.getfixturevalue(which)
    n = len(digest.targets)
    assert _png_size(rendered[0][which, lang]) == (1080, chart.chart_height_px(n))
    assert chart.chart_height_px(n) == chart.HEADER_PX + chart.ROW_PX * n + chart.FOOTER_PX
    assert chart.ROW_PX / chart.DPI == 0.55  # inches per target


def test_one_bar_per_target_in_config_order(precise: Digest, figure: Figure,
                                            real: Digest) -> None:
    bars = _bars(figure)
    assert len(bars) == len(precise.targets)
    assert [b.get_y() + b.get_height() / 2 for b in bars] == list(range(len(bars)))
    bottom, top = figure.axes[0].get_ylim()
    assert bottom > top  # row 0 (the first target in the config) is at the top
    assert len(_bars(chart_figure(real))) == len(real.targets) == 23  # the 2022 plan


def test_colours_follow_met_and_not_met(precise: Digest, figure: Figure) -> None:
    colours = [to_hex(b.get_facecolor()) for b in _bars(figure)]
    expected = {True: chart.GREEN, False: chart.ORANGE, None: chart.GREY}
    assert colours == [expected[r.met] for r in precise.targets]
    assert colours[:3] == [chart.GREEN, chart.ORANGE, chart.GREY]


def test_bar_lengths_are_progress_capped_at_150(precise: Digest, figure: Figure,
                                                real: Digest) -> None:
    for digest, fig in ((precise, figure), (real, chart_figure(real))):
        widths = [b.get_width() for b in _bars(fig)]
        for r, width in zip(digest.targets, widths, strict=True):
            p = r.progress
            assert width == pytest.approx(0 if p is None else max(0, min(p, 150)))
    widths = [b.get_width() for b in _bars(figure)]
    assert widths[0] == pytest.approx(100 * 98.5 / 98)
    assert widths[2] == 0  # no data
    assert widths[4] == 150  # 20.000 of 10.082: capped
    assert widths[6] == 0  # 2 serious incidents where none are allowed


def test_line_at_100_and_labels_with_diacritics(precise: Digest, figure: Figure) -> None:
    (ax,) = figure.axes
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [np.asarray(line.get_xdata()).tolist() for line in dashed] == [[100, 100]]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # The 2022 plan's wording (config labels changed with the plan, issue 8).
    assert labels[:4] == ["Trẻ em dưới 6 tuổi được tiêm chủng", "Tỷ lệ gia đình văn hóa",
                          "Huy động trẻ em đến nhà trẻ", "Tỷ lệ người dân sử dụng Internet"]
    full = "Cơ quan, đơn vị, nhà trường đạt chuẩn an toàn về an ninh trật tự"
    # Issue 8: whole labels, wrapped on two lines instead of cut with "…".
    assert labels[7].replace("\n", " ") == full and "…" not in labels[7]
    assert all(float(t.get_fontsize()) >= 11 for t in ax.get_yticklabels())


def test_value_texts_title_and_subtitle(figure: Figure) -> None:
    texts = _texts(figure)
    # Issue 8: value and goal in the same decimals; counts that must stay zero in words.
    for expected in ("98,5% / >98,0%", "97,5% / ≥98,0%", "chưa có số liệu / ≥66,0%",
                     "75,0% / ≥98,0% (3/15 tổ, bản)", "20.000 / ≥10.082 triệu đồng (2/3 tháng)",
                     "100,0% / ≥100,0%", "đạt chỉ tiêu",
                     "Tiến độ chỉ tiêu tháng 03/2022",
                     "Phường Quyết Thắng · 3/15 tổ, bản đã báo cáo"):
        assert expected in texts
    assert all(float(t.get_fontsize()) >= 11
               for t in figure.findobj(Text) if t.get_text())


def test_long_text_after_a_capped_bar_moves_inside_it(figure: Figure) -> None:
    (ax,) = figure.axes
    right = ax.get_window_extent().x1
    for text in ax.texts:
        assert text.get_window_extent().x1 <= right + 1
    budget = next(t for t in ax.texts if t.get_text().startswith("20.000 "))
    assert budget.get_horizontalalignment() == "right"


def test_english(precise: Digest) -> None:
    fig = chart_figure(precise, "en")
    texts = _texts(fig)
    for expected in ("98.5% / >98.0%", "no data yet / ≥66.0%", "75.0% / ≥98.0% (3/15 groups)",
                     "Progress against targets, 03/2022", "target"):
        assert expected in texts
    assert fig.axes[0].get_yticklabels()[0].get_text() == "Children under 6 vaccinated"


def test_rendering_emits_no_warnings(rendered: Rendered) -> None:
    """A glyph missing from the font would be a UserWarning (and a box on the phone)."""
    assert rendered[1] == []


def _live_figures() -> int:
    return sum(isinstance(o, Figure) for o in gc.get_objects())


def test_a_drawn_chart_is_freed_when_it_is_sent(real: Digest) -> None:
    """The figure, its canvas and its Agg pixel buffer (~7 MB) hold one another in
    cycles: without the collection in `chart_png` each /tonghop left one more behind
    until a full collection, which a server's large heap seldom runs."""
    gc.collect()
    before = _live_figures()
    gc.disable()  # no automatic collection may do the work the function must do
    try:
        for _ in range(3):
            assert chart_png(real, "vi").startswith(PNG_SIGNATURE)
        assert _live_figures() == before
    finally:
        gc.enable()
