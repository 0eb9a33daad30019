"""The digest's progress chart: one horizontal bar per target, as a PNG for Telegram.

Drawn with matplotlib's Agg canvas directly (never pyplot): no display, no global
figure registry, so it is safe to call from worker threads. DejaVu Sans ships with
matplotlib and covers Vietnamese diacritics and the ≥ ≤ … signs.
"""

from __future__ import annotations

import gc
import textwrap
from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reporting.digest import Digest, TargetResult, places_for
from reporting.numbers import format_number

FONT = "DejaVu Sans"
DPI = 100
WIDTH_PX = 1080
HEADER_PX = 130  # title, subtitle and the "target" label above the bars
ROW_PX = 55  # per target
FOOTER_PX = 60  # the x axis
LEFT_PX, RIGHT_PX = 340, 20  # room for labels on the left
CAP = 150.0  # bars stop at 150% of the target
LABEL_CHARS = 34  # per line: a longer label is wrapped (two lines), never cut
LABEL_LINES = 2
GREEN, ORANGE, GREY = "#2e7d32", "#ef6c00", "#c4c4c4"
SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}

_TEXT = {
    "vi": {"title": "Tiến độ chỉ tiêu tháng {label}", "reported": "{n}/{total} tổ, bản đã báo cáo",
           "no_data": "chưa có số liệu", "target": "đạt chỉ tiêu", "groups": "tổ, bản",
           "months": "tháng", "axis": "mức hoàn thành so với chỉ tiêu",
           "zero_plan": "chỉ tiêu: không để phát sinh", "zero_kept": "không phát sinh"},
    "en": {"title": "Progress against targets, {label}", "reported": "{n}/{total} groups reported",
           "no_data": "no data yet", "target": "target", "groups": "groups", "months": "months",
           "axis": "progress towards the target",
           "zero_plan": "plan: none at all", "zero_kept": "none so far"},
}


def chart_height_px(n_targets: int) -> int:
    return HEADER_PX + ROW_PX * max(n_targets, 1) + FOOTER_PX


def bar_length(r: TargetResult) -> float:
    """The bar's length in % of the target: 0 without data, capped at CAP."""
    p = r.progress
    return 0.0 if p is None else max(0.0, min(p, CAP))


def bar_colour(r: TargetResult) -> str:
    return GREY if r.met is None else GREEN if r.met else ORANGE


def short_label(r: TargetResult, lang: str) -> str:
    """The target's whole label, never cut: a long one on two balanced lines."""
    text = " ".join(r.target.label.get(lang).split())
    if len(text) <= LABEL_CHARS:
        return text
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: max(i, len(text) - i - 1))
    lines = [text[:cut], text[cut + 1:]]
    if max(len(line) for line in lines) <= LABEL_CHARS + 6:
        return "\n".join(lines)
    width = LABEL_CHARS  # longer still: wrapped on as few lines as fit LABEL_LINES
    wrapped = textwrap.wrap(text, width, break_long_words=False)
    while len(wrapped) > LABEL_LINES:
        width += 4
        wrapped = textwrap.wrap(text, width, break_long_words=False)
    return "\n".join(wrapped)


def value_text(r: TargetResult, lang: str) -> str:
    """ "97,5% / ≥98,0%", "2 hộ (chỉ tiêu: không để phát sinh)", "12 / ≥9 tuyến (2/3 tháng)",
    "chưa có số liệu / ≥66,0%": value and goal in the same decimals."""
    t, words = r.target, _TEXT.get(lang, _TEXT["vi"])
    unit = t.unit.get(lang) if t.unit else ""
    percent = unit == "%"
    places = places_for(t)
    goal_value = r.goal if r.goal is not None else t.value
    if goal_value == 0 and t.comparator in ("==", "<="):  # a count that must stay zero
        if r.value is None:
            return f"{words['no_data']} ({words['zero_plan']})"
        shown = format_number(r.value, lang, places) + (f" {unit}" if unit else "")
        return f"{shown}, {words['zero_kept']}" if r.value == 0 else \
            f"{shown} ({words['zero_plan']})"
    goal = SIGNS[t.comparator] + (format_number(goal_value, lang, places)
                                  if goal_value is not None else "—") + (unit if percent else "")
    if unit and not percent:
        goal += " " + unit
    if r.value is None:
        return f"{words['no_data']} / {goal}"
    # A cumulative amount as entered (95,5 is not "96"), as the digest writes it.
    value_places = None if t.compute.kind == "cumulative" else places
    shown = format_number(r.value, lang, value_places) + ("%" if percent else "")
    text = f"{shown} / {goal}"
    if r.partial:
        of = words["groups"] if r.unit_of_count == "groups" else words["months"]
        text += f" ({r.based_on}/{r.of_total} {of})"
    return text


def chart_figure(digest: Digest, lang: str = "vi") -> Figure:
    words = _TEXT.get(lang, _TEXT["vi"])
    results = digest.targets
    n = len(results)
    height = chart_height_px(n)
    # +0.5 px: Agg truncates the size to whole pixels, so never land just below one.
    fig = Figure(figsize=(WIDTH_PX / DPI, (height + 0.5) / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)  # attaches itself: text sizes are measured with Agg
    ax = fig.add_axes((LEFT_PX / WIDTH_PX, FOOTER_PX / height,
                       (WIDTH_PX - LEFT_PX - RIGHT_PX) / WIDTH_PX, ROW_PX * max(n, 1) / height))
    rows = list(range(n))
    lengths = [bar_length(r) for r in results]
    ax.barh(rows, lengths, height=0.62, color=[bar_colour(r) for r in results], zorder=2)
    for y, (r, length) in enumerate(zip(results, lengths, strict=True)):
        if length == 0:  # a zero-length bar is invisible: mark the row at 0
            ax.plot([0], [y], marker="D", markersize=9, color=bar_colour(r), clip_on=False,
                    zorder=3)
    ax.set_xlim(0, CAP + 60)
    ax.set_ylim(max(n, 1) - 0.5, -0.5)  # config order, top to bottom
    ax.axvline(100, color="#555555", linestyle="--", linewidth=1.3, zorder=1)
    ax.text(100, 1.0, words["target"], transform=ax.get_xaxis_transform(), ha="center",
            va="bottom", fontsize=11, color="#555555", fontfamily=FONT)
    ax.set_yticks(rows, labels=[short_label(r, lang) for r in results])
    ax.set_xticks([0, 50, 100, 150], labels=["0%", "50%", "100%", "150%"])
    ax.tick_params(axis="y", length=0, pad=9, labelsize=12, labelfontfamily=FONT)
    ax.tick_params(axis="x", labelsize=11, labelfontfamily=FONT, colors="#555555")
    ax.set_xlabel(words["axis"], fontsize=11, fontfamily=FONT, color="#555555")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#eeeeee", zorder=0)
    right_edge = ax.get_window_extent().x1
    for y, (r, length) in enumerate(zip(results, lengths, strict=True)):
        label = ax.text(max(length, 3) + 2, y, value_text(r, lang), va="center", ha="left",
                        fontsize=11, fontfamily=FONT, color="#222222", zorder=4,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5,
                              "alpha": 0.85})
        if label.get_window_extent().x1 > right_edge:  # no room after a long bar
            label.set(x=length - 2, ha="right", color="white", fontweight="bold",
                      bbox={"facecolor": "none", "edgecolor": "none"})
    top = 1 - 22 / height
    fig.text(0.5, top, words["title"].format(label=digest.period.label), ha="center",
             va="top", fontsize=17, fontweight="bold", fontfamily=FONT)
    reported = words["reported"].format(n=len(digest.on_time) + len(digest.late),
                                        total=len(digest.groups))
    fig.text(0.5, top - 36 / height, f"{digest.ward} · {reported}", ha="center", va="top",
             fontsize=12, color="#555555", fontfamily=FONT)
    return fig


def chart_png(digest: Digest, lang: str = "vi") -> bytes:
    fig = chart_figure(digest, lang)
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    fig.clear()
    del fig
    # The figure's artists, canvas and Agg renderer (its pixel buffer: ~7 MB at 1080 px
    # wide) hold one another in reference cycles, so they outlive the call until a full
    # collection, which on a server's large, long-lived heap comes rarely: every
    # /tonghop kept another 7 MB meanwhile. Collected here, they are freed at once
    # (a millisecond in `thidua run`, which freezes its start-up objects).
    gc.collect()
    return buffer.getvalue()
