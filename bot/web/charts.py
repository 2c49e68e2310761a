"""Charts drawn on the server as SVG (no script, no library, nothing from another site):
the personal page's trend lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 120.0, 32.0, 4.0


@dataclass(frozen=True, slots=True)
class Sparkline:
    """A line through ``values`` (oldest first) scaled to a ``WIDTH``×``HEIGHT`` box: the
    polylines (a missing value breaks the line) and a dot on every known value."""

    lines: tuple[str, ...]
    dots: tuple[tuple[float, float], ...]


def sparkline(values: Sequence[float | None]) -> Sparkline:
    known = [v for v in values if v is not None]
    if not known:
        return Sparkline(lines=(), dots=())
    low, high = min(known), max(known)
    span = high - low
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)

    def y(value: float) -> float:
        if span == 0:
            return HEIGHT / 2
        return round(HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD), 2)

    lines: list[str] = []
    run: list[str] = []
    dots: list[tuple[float, float]] = []
    for i, value in enumerate(values):
        if value is None:
            if len(run) > 1:
                lines.append(" ".join(run))
            run = []
            continue
        point = (round(PAD + i * step, 2), y(value))
        dots.append(point)
        run.append(f"{point[0]:g},{point[1]:g}")
    if len(run) > 1:
        lines.append(" ".join(run))
    return Sparkline(lines=tuple(lines), dots=tuple(dots))
