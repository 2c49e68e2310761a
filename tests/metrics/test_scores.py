"""Scores: Σ weight × value, nulls adding 0, always higher-is-better (docs/metrics.md, "Scores")."""

from __future__ import annotations

import pytest

from metrics.definitions import Direction, parse_metric_ref
from metrics.scores import Score


def ref(text: str):
    return parse_metric_ref(text, frozenset({"emergency"}))


SERVICE_STAR = Score(
    "Service Star",
    ((ref("resolved_without_escalation"), 2.0), (ref("catchall_resolved"), -3.0)),
)
SPEED = Score(
    "Speed",
    (
        (ref("resolved"), 1.0),
        (ref("avg_response_minutes@emergency"), -0.5),
        (ref("categorized_pct"), 0.1),
    ),
)


@pytest.mark.parametrize(
    ("score", "values", "expected"),
    [
        # 2 × 7 - 3 × 2 = 8
        (SERVICE_STAR, {"resolved_without_escalation": 7, "catchall_resolved": 2}, 8.0),
        # a negative weight can take the score below 0: 2 × 1 - 3 × 4 = -10
        (SERVICE_STAR, {"resolved_without_escalation": 1, "catchall_resolved": 4}, -10.0),
        # 10 - 0.5 × 12 + 0.1 × 80 = 12
        (
            SPEED,
            {"resolved": 10, "avg_response_minutes@emergency": 12.0, "categorized_pct": 80.0},
            12.0,
        ),
        # a null average adds 0: 10 + 0 + 0.1 × 80 = 18
        (
            SPEED,
            {"resolved": 10, "avg_response_minutes@emergency": None, "categorized_pct": 80.0},
            18.0,
        ),
        # all null: 0, never null
        (
            SPEED,
            {"resolved": 0, "avg_response_minutes@emergency": None, "categorized_pct": None},
            0.0,
        ),
    ],
)
def test_value_is_the_weighted_sum(score: Score, values: dict, expected: float):
    assert score.value(values) == pytest.approx(expected, rel=1e-12)


def test_values_not_in_the_score_are_ignored():
    values = {"resolved_without_escalation": 1, "catchall_resolved": 0, "resolved": 100}
    assert SERVICE_STAR.value(values) == 2.0


def test_a_metric_that_was_not_computed_is_an_error_not_a_zero():
    with pytest.raises(KeyError):
        SERVICE_STAR.value({"resolved_without_escalation": 1})


def test_refs_and_direction():
    assert [r.key for r in SPEED.refs] == [
        "resolved",
        "avg_response_minutes@emergency",
        "categorized_pct",
    ]
    # lower-is-better metrics inside are the weights' business: a score is higher-is-better
    assert SPEED.direction is Direction.HIGHER


@pytest.mark.parametrize(
    ("name", "weights", "message"),
    [
        ("Empty", (), "at least one"),
        ("  ", ((ref("resolved"), 1.0),), "needs a name"),
    ],
)
def test_invalid_scores_are_refused(name: str, weights: tuple, message: str):
    with pytest.raises(ValueError, match=message):
        Score(name, weights)
