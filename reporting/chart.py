"""The digest's progress chart: one horizontal bar per target, as a PNG for Telegram.

First laid out as plain data (`chart_layout`: every bar, text and line with its place in
pixels, which the tests read), then painted by Pillow (`reporting.chart_paint`, which
says why not matplotlib). Pure Python and Pillow: safe in worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporting.chart_paint import Diamond, Fonts, Rect, Shape, Text, VLine, png
from reporting.digest import Digest, TargetResult, places_for
from reporting.numbers import format_number

WIDTH_PX = 1080
HEADER_PX = 130  # title, subtitle and the "target" label above the bars
ROW_PX = 55  # per target
FOOTER_PX = 60  # the x axis
LEFT_PX, RIGHT_PX = 340, 20  # room for labels on the left
CAP = 150.0  # bars stop at 150% of the target
GREEN, ORANGE, GREY = "#2e7d32", "#ef6c00", "#c4c4c4"
INK, MUTED, GRID = "#222222", "#555555", "#eeeeee"
# Text sizes in px, as matplotlib drew 17, 12 and 11 pt at 100 dpi.
TITLE_SIZE, LABEL_SIZE, TEXT_SIZE = 24, 17, 15
# A target's label: the usual size, smaller only when two lines of it do not fit.
LABEL_SIZES = (LABEL_SIZE, 15, 13, 11)
BAR_FILL = 0.62  # of a row's height
LABEL_PAD = 12  # px between a target's label and the bars
TICK_PX = 5
TICKS = (0, 50, 100, 150)  # % of the target, marked on the x axis
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


def short_label(r: TargetResult, lang: str, fonts: Fonts) -> tuple[str, int]:
    """The target's whole label, never cut, and its size in px: on one line if it fits
    the room left of the bars, else on two lines split where the longer one is shortest;
    smaller text only when two lines at the usual size do not fit (at 11 px three lines
    still fit a row)."""
    text = " ".join(r.target.label.get(lang).split())
    room = LEFT_PX - LABEL_PAD
    spaces = [i for i, c in enumerate(text) if c == " "]
    for size in LABEL_SIZES:
        if fonts.width(text, size) <= room:
            return text, size
        if spaces:
            cut = min(spaces, key=lambda i: fonts.width(f"{text[:i]}\n{text[i + 1:]}", size))
            two = f"{text[:cut]}\n{text[cut + 1:]}"
            if fonts.width(two, size) <= room:
                return two, size
    size = LABEL_SIZES[-1]  # longer still: at the smallest size, as many lines as it takes
    lines: list[str] = []
    for word in text.split(" "):
        if lines and fonts.width(f"{lines[-1]} {word}", size) <= room:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return "\n".join(lines), size


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


@dataclass(frozen=True)
class Bar:
    """A target's bar: `percent` of the target (0 to CAP) in `colour`, drawn as `rect`;
    a zero-length bar is invisible, so its row is marked by a diamond at 0 instead."""
    row: int
    percent: float
    colour: str
    rect: Rect
    marker: Diamond | None


@dataclass(frozen=True)
class ChartLayout:
    """The whole chart in pixels: what `chart_png` paints and the tests read."""
    width: int
    height: int
    plot: Rect  # the bars' area: x from 0 to CAP + 60 %, one row per target
    bars: list[Bar]
    labels: list[Text]  # the targets' names, left of their bars
    values: list[Text]  # value / goal, after the bar (or inside a long one)
    texts: list[Text]  # title, subtitle, "target" over the line at 100%, ticks, axis

    def x_of(self, percent: float) -> float:
        return self.plot.x0 + percent * (self.plot.x1 - self.plot.x0) / (CAP + 60)

    def shapes(self) -> list[Shape]:
        """What is painted, bottom to top: grid, target line, bars, values over them."""
        p = self.plot
        out: list[Shape] = [VLine(self.x_of(t), p.y0, p.y1, GRID) for t in TICKS]
        out.append(VLine(self.x_of(100), p.y0, p.y1, MUTED, width=2, dash=7, gap=3))
        out.append(Rect(p.x0, p.y1, p.x1, p.y1 + 1, "#000000"))  # the x axis
        out += [Rect(self.x_of(t) - 0.5, p.y1 + 1, self.x_of(t) + 0.5, p.y1 + 1 + TICK_PX,
                     MUTED) for t in TICKS]
        out += [b.rect for b in self.bars]
        out += [b.marker for b in self.bars if b.marker is not None]
        return out + self.labels + self.texts + self.values



def chart_layout(digest: Digest, lang: str, fonts: Fonts) -> ChartLayout:
    words = _TEXT.get(lang, _TEXT["vi"])
    results = digest.targets
    height = chart_height_px(len(results))
    plot = Rect(LEFT_PX, HEADER_PX, WIDTH_PX - RIGHT_PX, height - FOOTER_PX, "white")  # unpainted
    layout = ChartLayout(WIDTH_PX, height, plot, [], [], [], [])
    zero = layout.x_of(0)
    half = ROW_PX * BAR_FILL / 2
    for row, r in enumerate(results):  # config order, top to bottom
        y = HEADER_PX + ROW_PX * (row + 0.5)
        length, colour = bar_length(r), bar_colour(r)
        marker = Diamond(zero, y, 10, colour) if length == 0 else None
        layout.bars.append(Bar(row, length, colour,
                               Rect(zero, y - half, layout.x_of(length), y + half, colour),
                               marker))
        label, size = short_label(r, lang, fonts)
        layout.labels.append(Text(label, LEFT_PX - LABEL_PAD, y, "rm", size, INK))
        value = Text(value_text(r, lang), layout.x_of(max(length, 3) + 2), y, "lm",
                     TEXT_SIZE, INK, backdrop=True)
        fits_after = value.x + fonts.width(value.text, TEXT_SIZE) <= plot.x1
        inside = layout.x_of(length - 2) - fonts.width(value.text, TEXT_SIZE, bold=True)
        if not fits_after and inside >= zero:  # white on the bar, which is long enough
            value = Text(value.text, layout.x_of(length - 2), y, "rm", TEXT_SIZE, "white",
                         bold=True)
        elif not fits_after:  # neither: dark on its backdrop, ending at the plot's edge
            value = Text(value.text, plot.x1, y, "rm", TEXT_SIZE, INK, backdrop=True)
        layout.values.append(value)
    ticks_y = plot.y1 + 1 + TICK_PX + 4
    layout.texts.extend([
        Text(words["title"].format(label=digest.period.label), WIDTH_PX / 2, 22, "ma",
             TITLE_SIZE, INK, bold=True),
        Text(f"{digest.ward} · " + words["reported"].format(
            n=len(digest.on_time) + len(digest.late), total=len(digest.groups)),
             WIDTH_PX / 2, 58, "ma", LABEL_SIZE, MUTED),
        Text(words["target"], layout.x_of(100), plot.y0 - 3, "md", TEXT_SIZE, MUTED),
        *(Text(f"{t}%", layout.x_of(t), ticks_y, "ma", TEXT_SIZE, MUTED) for t in TICKS),
        Text(words["axis"], (plot.x0 + plot.x1) / 2, ticks_y + TEXT_SIZE + 8, "ma",
             TEXT_SIZE, MUTED)])
    return layout


def chart_png(digest: Digest, lang: str = "vi") -> bytes:
    fonts = Fonts()
    layout = chart_layout(digest, lang, fonts)
    return png(layout.width, layout.height, layout.shapes(), fonts)
