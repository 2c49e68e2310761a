"""Scores (docs/metrics.md, "Scores"): a weighted sum of metric values, always higher-is-better.

``Service Star = 2 × resolved_without_escalation - 3 × catchall_resolved``. Weights may be
negative, so "lower is better" metrics are rewarded by giving them a negative weight. A null
value (a rate or average over no tickets) adds 0: a score is never null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from metrics.definitions import Direction, MetricRef


@dataclass(frozen=True, slots=True)
class Score:
    name: str
    weights: tuple[tuple[MetricRef, float], ...]

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a score needs a name")
        if not self.weights:
            raise ValueError(f"score {self.name!r} needs at least one weighted metric")

    @property
    def refs(self) -> tuple[MetricRef, ...]:
        """The metrics the score is built from, in the order the weights list them."""
        return tuple(ref for ref, _ in self.weights)

    @property
    def direction(self) -> Direction:
        return Direction.HIGHER

    def value(self, values: Mapping[str, float | None]) -> float:
        """Σ weight × value over ``values`` keyed by ``MetricRef.key``; a null value adds 0.

        A key missing from ``values`` raises ``KeyError``: it means the metric was never
        computed, which is a bug to surface, not a zero to hide.
        """
        total = 0.0
        for ref, weight in self.weights:
            value = values[ref.key]
            if value is not None:
                total += weight * value
        return total
