"""What every benchmark case reports: Deskboard's figure, the baseline's, their ratio, the goal.

Figures are ratios to a baseline measured in the same run on the same data, so they hold on a
noisy machine; absolute times are reported beside them. A case also says whether Deskboard's
*numbers* equal the baseline's (the fast path and the reference must never disagree): the
small-size runs in the test suite assert exactly that.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Size = Literal["small", "full"]


@dataclass(frozen=True)
class Figure:
    """One measured line of a case: ``deskboard`` against ``baseline`` (same unit)."""

    label: str
    deskboard: float
    baseline: float | None
    unit: str  # "s", "ms", "MiB"
    goal: str  # human: "≤ 2× baseline", "median ≤ 300 ms"
    met: bool

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.deskboard / self.baseline


@dataclass
class CaseResult:
    case: str
    size: Size
    figures: list[Figure] = field(default_factory=list)
    numbers_agree: bool = True  # Deskboard's results equal the baseline's
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["figures"] = [{**asdict(f), "ratio": f.ratio} for f in self.figures]
        return data


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs (seconds) and the last result: the least noisy figure."""
    times = []
    result: Any = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return min(times), result


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
