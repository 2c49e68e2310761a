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

from bot.formatting import format_measure
from bot.views import Person, person_for
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
