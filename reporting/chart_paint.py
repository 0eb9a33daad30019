"""A picture of boxes, lines and texts painted into a PNG with Pillow: the chart's canvas.

Only what the progress chart needs, in pixels: filled rectangles, vertical (dashed)
lines, diamonds and texts with a Pillow anchor ("lm": left, middle). Pillow alone is
~5 MB of the bot's memory and a tenth of a second a chart, where matplotlib with numpy
was ~50 MB and two seconds for the first chart (issue 14).

The font is DejaVu Sans (regular and bold) shipped in `reporting/fonts`, cut down to the
Latin, Vietnamese and sign glyphs (LICENSE_DEJAVU there): a font on the system cannot be
assumed, a slim Docker image has none. Texts are NFC-normalised and laid out by Pillow's
basic engine, glyph by glyph: Vietnamese letters are single precomposed glyphs in NFC, and
the picture is the same whether or not libraqm is installed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).parent / "fonts"
LINE_SPACING = 1.2  # a line of a multi-line text is this many font sizes below the last
DIAMOND_SUPERSAMPLING = 4  # a diamond is drawn 4× larger and shrunk: smooth slanted edges
BACKDROP_ALPHA = 217  # 85%: a text's white backdrop lets a grid or target line show faintly


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float
    colour: str


@dataclass(frozen=True)
class VLine:
    """A vertical line `width` px wide centred on x; dashed: `dash` px drawn, `gap` px not."""
    x: float
    y0: float
    y1: float
    colour: str
    width: int = 1
    dash: int = 0
    gap: int = 0


@dataclass(frozen=True)
class Diamond:
    x: float
    y: float
    radius: float  # centre to a corner
    colour: str


@dataclass(frozen=True)
class Text:
    """Text at (x, y) by a Pillow anchor: "lm" left-middle, "rm", "ma" top-centre, "md"
    bottom-centre (descender). Several lines: aligned on the anchor's side, centred as a
    block on y when the anchor's second letter is "m"."""
    text: str
    x: float
    y: float
    anchor: str
    size: int  # px (the font's em)
    colour: str
    bold: bool = False
    backdrop: bool = False  # a white box (85%) behind it, over grid and target lines

    @property
    def lines(self) -> list[str]:
        return unicodedata.normalize("NFC", self.text).split("\n")


Shape = Rect | VLine | Diamond | Text


@dataclass
class Fonts:
    """DejaVu Sans by size and weight, loaded once per picture: a FreeType face is not
    shared between threads (the scheduler draws charts in a worker thread)."""
    _loaded: dict[tuple[int, bool], ImageFont.FreeTypeFont] = field(default_factory=dict)

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        key = (size, bold)
        if key not in self._loaded:
            name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
            self._loaded[key] = ImageFont.truetype(
                str(FONTS / name), size, layout_engine=ImageFont.Layout.BASIC)
        return self._loaded[key]

    def width(self, text: str, size: int, bold: bool = False) -> float:
        """The widest line of `text` in px."""
        font = self.font(size, bold)
        return max(font.getlength(line) for line in
                   unicodedata.normalize("NFC", text).split("\n"))

    def box(self, t: Text) -> tuple[float, float, float, float]:
        """Where the text's ink lands: (x0, y0, x1, y1)."""
        font = self.font(t.size, t.bold)
        boxes = [(x + b[0], y + b[1], x + b[2], y + b[3])
                 for line, (x, y, anchor) in zip(t.lines, _line_positions(t), strict=True)
                 for b in [font.getbbox(line, anchor=anchor)]]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes))


def _line_positions(t: Text) -> list[tuple[float, float, str]]:
    """Each line's own anchor point: a block of n lines is centred on y ("?m" anchors) or
    hangs from it / stands on it, lines LINE_SPACING × size apart."""
    n = len(t.lines)
    step = t.size * LINE_SPACING
    if t.anchor[1] == "m":
        first = t.y - step * (n - 1) / 2
    elif t.anchor[1] in "ad":
        first = t.y if t.anchor[1] == "a" else t.y - step * (n - 1)
    else:
        raise ValueError(f"unsupported anchor {t.anchor!r}")
    return [(t.x, first + i * step, t.anchor) for i in range(n)]


def _diamond(image: Image.Image, d: Diamond) -> None:
    """Paste a smooth diamond: drawn as a mask DIAMOND_SUPERSAMPLING× larger, shrunk."""
    k = DIAMOND_SUPERSAMPLING
    side = int(2 * d.radius) + 2
    mask = Image.new("L", (side * k, side * k), 0)
    c = side * k / 2
    r = d.radius * k
    ImageDraw.Draw(mask).polygon([(c, c - r), (c + r, c), (c, c + r), (c - r, c)], fill=255)
    small = mask.resize((side, side), Image.Resampling.LANCZOS)
    image.paste(d.colour, (round(d.x - side / 2), round(d.y - side / 2)), small)


def png(width: int, height: int, shapes: list[Shape], fonts: Fonts) -> bytes:
    """Paint `shapes` in order (later ones on top) on white; the PNG's bytes."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image, "RGBA")  # RGBA: a backdrop's alpha blends with what is under
    for s in shapes:
        if isinstance(s, Rect):
            if s.x1 > s.x0 and s.y1 > s.y0:  # at least a pixel; Pillow's corners are inclusive
                x0, y0 = round(s.x0), round(s.y0)
                draw.rectangle((x0, y0, max(x0, round(s.x1) - 1), max(y0, round(s.y1) - 1)),
                               fill=s.colour)
        elif isinstance(s, VLine):
            x0 = round(s.x - s.width / 2)
            y = s.y0
            while y < s.y1:
                end = min(s.y1, y + s.dash) if s.dash else s.y1
                draw.rectangle((x0, round(y), x0 + s.width - 1, round(end) - 1), fill=s.colour)
                y = end + s.gap
        elif isinstance(s, Diamond):
            _diamond(image, s)
        else:
            font = fonts.font(s.size, s.bold)
            if s.backdrop:
                left, top, right, bottom = fonts.box(s)
                pad = 2
                draw.rectangle((left - pad, top - pad, right + pad, bottom + pad),
                               fill=(255, 255, 255, BACKDROP_ALPHA))
            for line, (x, y, anchor) in zip(s.lines, _line_positions(s), strict=True):
                draw.text((x, y), line, font=font, fill=s.colour, anchor=anchor)
    buffer = BytesIO()
    image.save(buffer, format="PNG")  # optimize=True: 3% smaller, 2.5× the time
    return buffer.getvalue()
