"""A contest's standings as a horizontal bar chart (PNG), posted with the scheduled standings.

Drawn with matplotlib's object API on the Agg canvas (``Figure`` + ``FigureCanvasAgg``), never
through ``pyplot``: no backend is chosen for the process, no figure is registered in global
state, and nothing needs closing (the figure is garbage once the PNG is written), so charts
can be drawn from any thread. Names come from ``people``, which the caller builds with
opted-out technicians as "a teammate"; ``chart_bars`` is every text the chart shows about
people, so what it returns is what the picture says.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image, UnidentifiedImageError

from bot.chat.formatting import format_measure
from bot.chat.views import Person, person_for
from metrics.standings import Standings

WINNER_COLOUR = "#e3a21a"
OTHER_COLOUR = "#5b7fa6"
WIDTH_INCHES = 8.0
BAR_INCHES = 0.42
DPI = 110
LABEL_CHARS = 32
UNIT_NAMES = {"#": "tickets", "#/day": "tickets per day", "h": "hours", "min": "minutes"}


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # "1. Jane Smith"
    value: float
    value_text: str  # with the unit: "92.5%", "12 pts"
    winner: bool


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chart_title(standings: Standings) -> str:
    return f"{standings.contest.name} — {standings.window.label()}"


def chart_bars(standings: Standings, *, people: Mapping[str, Person], top: int = 15) -> list[Bar]:
    """The bars in rank order (best first): the first ``top`` qualified members."""
    unit = standings.contest.unit
    return [
        Bar(
            label=f"{s.rank}. {_cut(person_for(people, s.member).display, LABEL_CHARS)}",
            value=s.value if s.value is not None else 0.0,
            value_text=format_measure(s.value, unit),
            winner=s.wins,
        )
        for s in standings.ranked[: max(top, 1)]
    ]


def chart_alt_text(standings: Standings, *, people: Mapping[str, Person], top: int = 15) -> str:
    """What the chart shows, in words, for screen readers (the upload's alt text)."""
    bars = chart_bars(standings, people=people, top=top)
    if not bars:
        return f"{chart_title(standings)}: nobody qualifies yet"
    listed = "; ".join(f"{b.label} {b.value_text}{' (winning)' if b.winner else ''}" for b in bars)
    return f"{chart_title(standings)}: {listed}"


def _literal(text: str) -> str:
    """Text matplotlib must not read as mathtext (``$...$``)."""
    return text.replace("$", r"\$")


def standings_figure(
    standings: Standings, *, people: Mapping[str, Person], top: int = 15
) -> Figure:
    bars = chart_bars(standings, people=people, top=top)
    height = 1.6 + BAR_INCHES * max(len(bars), 2)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(_literal(chart_title(standings)), loc="left", fontsize=12, fontweight="bold")
    if not bars:
        axes.text(0.5, 0.5, "Nobody qualifies yet", ha="center", va="center", fontsize=11)
        axes.set_axis_off()
        return figure
    positions = list(range(len(bars)))
    container = axes.barh(
        positions,
        [b.value for b in bars],
        color=[WINNER_COLOUR if b.winner else OTHER_COLOUR for b in bars],
        height=0.7,
    )
    axes.bar_label(container, labels=[_literal(b.value_text) for b in bars], padding=4)
    axes.set_yticks(positions, labels=[_literal(b.label) for b in bars])
    axes.invert_yaxis()  # rank 1 at the top
    axes.margins(x=0.15)
    axes.axvline(0, color="#888888", linewidth=0.8)
    unit = UNIT_NAMES.get(standings.contest.unit, standings.contest.unit)
    axes.set_xlabel(_literal(f"{standings.contest.label} ({unit})"))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if any(b.winner for b in bars):
        figure.legend(
            handles=[Patch(color=WINNER_COLOUR, label="winning")],
            loc="outside lower right",
            frameon=False,
        )
    return figure


def standings_chart(standings: Standings, *, people: Mapping[str, Person], top: int = 15) -> bytes:
    """The chart as PNG bytes: bars in rank order, winners highlighted, values with units."""
    figure = standings_figure(standings, people=people, top=top)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer, metadata={"Title": chart_title(standings)})
    return buffer.getvalue()


# ---- compact charts, for messages with a small size budget (Teams cards) ----------------------

COMPACT_WIDTH_INCHES = 6.0
COMPACT_BAR_INCHES = 0.3
COMPACT_DPIS = (80, 64, 52)
COMPACT_COLOURS = (32, 16)
COMPACT_SCALES = (1.0, 0.8, 0.65, 0.5)
COMPACT_TITLE_CHARS = 60
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _palette_png(image: Image.Image, colours: int) -> bytes:
    """``image`` as a PNG with a palette of ``colours`` (a chart has few colours, so this
    keeps it sharp at a fraction of the size of a true-colour PNG)."""
    quantized = image.convert("RGB").quantize(
        colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    buffer = io.BytesIO()
    quantized.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _smallest_fitting(image: Image.Image, budget: int, scales: tuple[float, ...]) -> bytes | None:
    for scale in scales:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        resized = image if scale == 1.0 else image.resize(size, Image.Resampling.LANCZOS)
        for colours in COMPACT_COLOURS:
            png = _palette_png(resized, colours)
            if len(png) <= budget:
                return png
    return None


def compact_chart(
    standings: Standings, *, people: Mapping[str, Person], top: int = 10, budget: int = 16_000
) -> bytes | None:
    """The standings chart as a small PNG of at most ``budget`` bytes (for an Adaptive Card,
    where it travels base64-encoded inside the message): ``top`` bars at most, drawn narrower
    and at a lower resolution with a small palette; fewer bars and lower resolutions are
    tried until it fits. None when not even three bars at the lowest resolution fit."""
    counts = sorted({max(top, 1), min(max(top, 1), 5), min(max(top, 1), 3)}, reverse=True)
    for count in counts:
        figure = standings_figure(standings, people=people, top=count)
        # The title moves from above the bars to the figure's left edge: on a narrow chart,
        # long name labels would push it out of the picture.
        (axes,) = figure.axes
        axes.set_title("", loc="left")
        figure.suptitle(
            _literal(_cut(chart_title(standings), COMPACT_TITLE_CHARS)),
            x=0.01,
            ha="left",
            fontsize=11,
            fontweight="bold",
        )
        rows = len(chart_bars(standings, people=people, top=count))
        figure.set_size_inches(COMPACT_WIDTH_INCHES, 1.3 + COMPACT_BAR_INCHES * max(rows, 2))
        canvas = FigureCanvasAgg(figure)
        for dpi in COMPACT_DPIS:
            buffer = io.BytesIO()
            canvas.print_figure(buffer, format="png", dpi=dpi)
            with Image.open(io.BytesIO(buffer.getvalue())) as drawn:
                png = _smallest_fitting(drawn, budget, (1.0,))
            if png is not None:
                return png
    return None


def compact_png(png: bytes, *, budget: int) -> bytes | None:
    """An image already drawn (``standings_chart``) made to fit ``budget`` bytes: as it is if
    it is a PNG that fits, else with a small palette and, if need be, scaled down. None when
    it cannot fit (or is not an image)."""
    if png.startswith(PNG_MAGIC) and len(png) <= budget:
        return png
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            return _smallest_fitting(image, budget, COMPACT_SCALES)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
