"""``metrics.ratings``: each source's answer as a rating, against hand-computed values
(docs/metrics.md, "Customer satisfaction")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from metrics.ratings import (
    Credit,
    RatedTicket,
    Rating,
    RatingScale,
    RatingSource,
    RatingValue,
    SurveyQuestion,
    credit_ratings,
    infer_scale,
    latest_ratings,
    rating_from_share,
    rating_from_text,
    respondent_key,
    survey_max_points,
    survey_rating,
)

POS, NEU, NEG = RatingValue.POSITIVE, RatingValue.NEUTRAL, RatingValue.NEGATIVE


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (1.0, POS),
        (0.8, POS),  # at positive_at: positive
        (0.7999, NEU),
        (0.5, NEU),
        (0.4001, NEU),
        (0.4, NEG),  # at negative_at: negative
        (0.0, NEG),
    ],
)
def test_share_against_the_default_thresholds(share: float, expected: RatingValue):
    assert rating_from_share(share) is expected


def test_share_against_configured_thresholds():
    assert rating_from_share(0.85, positive_at=0.9, negative_at=0.5) is NEU
    assert rating_from_share(0.5, positive_at=0.9, negative_at=0.5) is NEG
    assert rating_from_share(0.9, positive_at=0.9, negative_at=0.5) is POS


SURVEY = (
    SurveyQuestion(1, counted=True, option_points=(0, 5, 10)),  # highest 10
    SurveyQuestion(2, counted=True, option_points=(1, 3, 5)),  # highest 5
    SurveyQuestion(3, counted=False, option_points=(0, 100)),  # not in the total
    SurveyQuestion(4, counted=True, option_points=()),  # a free-form question: no points
)


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (15, POS),  # 15/15
        (12, POS),  # 12/15 = 0.8 exactly
        (11, NEU),  # 0.733
        (7, NEU),  # 0.467
        (6, NEG),  # 6/15 = 0.4 exactly
        (0, NEG),
        (30, POS),  # more than the maximum (a survey edited since): capped at 1
    ],
)
def test_a_survey_result_by_its_share_of_the_maximum(total: float, expected: RatingValue):
    assert survey_max_points(SURVEY) == 15
    assert survey_rating(total, SURVEY) is expected


def test_a_survey_without_scored_questions_or_a_bad_total_is_refused():
    with pytest.raises(ValueError, match="no scored selection question"):
        survey_rating(3, [SurveyQuestion(1, counted=True, option_points=())])
    with pytest.raises(ValueError, match="not a score"):
        survey_rating(float("nan"), SURVEY)
    with pytest.raises(ValueError, match="not a score"):
        survey_rating(-1, SURVEY)


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("positive", None, POS),
        ("Neutral", None, NEU),
        (" NEGATIVE ", None, NEG),
        ("love", None, POS),
        ("good", None, NEU),
        ("bad", None, NEG),
        ("happy", None, POS),
        ("unhappy", None, NEG),
        ("5", RatingScale.FIVE, POS),
        ("4", RatingScale.FIVE, POS),
        ("3", RatingScale.FIVE, NEU),
        ("2", RatingScale.FIVE, NEG),
        ("1", RatingScale.FIVE, NEG),
        ("10", RatingScale.TEN, POS),
        ("9", RatingScale.TEN, POS),
        ("8", RatingScale.TEN, NEU),
        ("7", RatingScale.TEN, NEU),
        ("6", RatingScale.TEN, NEG),
        ("0", RatingScale.TEN, NEG),
        ("4.0", RatingScale.FIVE, POS),
    ],
)
def test_an_imported_rating(text: str, scale: RatingScale | None, expected: RatingValue):
    assert rating_from_text(text, scale) is expected


@pytest.mark.parametrize(
    ("text", "scale", "reason"),
    [
        ("meh", None, "not positive/neutral/negative"),
        ("4", None, "ambiguous"),
        ("6", RatingScale.FIVE, "not on the 1-5 scale"),
        ("11", RatingScale.TEN, "not on the 0-10 scale"),
        ("4.5", RatingScale.FIVE, "not positive/neutral/negative"),
        ("", RatingScale.FIVE, "not positive/neutral/negative"),
    ],
)
def test_an_imported_rating_refused(text: str, scale: RatingScale | None, reason: str):
    with pytest.raises(ValueError, match=reason):
        rating_from_text(text, scale)


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (["positive", "bad"], RatingScale.WORDS),
        (["1", "5", "3"], None),  # both scales fit
        (["1", "7"], RatingScale.TEN),
        (["0", "good"], RatingScale.TEN),
    ],
)
def test_the_scale_is_recognized_only_when_unambiguous(
    column: list[str], expected: RatingScale | None
):
    assert infer_scale(column) is expected


def test_the_respondent_is_the_email_else_the_contact():
    assert respondent_key(email=" Ann@Example.COM ", contact_id=7) == "ann@example.com"
    assert respondent_key(email=None, contact_id=7) == "contact:7"
    assert respondent_key(email="  ", contact_id=None) is None


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 12, tzinfo=UTC)


def answer(ticket: int, who: str, value: RatingValue, day: int) -> Rating:
    return Rating(ticket, who, value, at(day), RatingSource.LINK)


def test_only_the_latest_answer_of_a_respondent_counts():
    answers = [
        answer(1, "a", NEG, 3),
        answer(1, "a", POS, 5),
        answer(1, "a", NEU, 4),  # older than the positive one: ignored whatever the order
        answer(1, "b", NEG, 1),
        answer(2, "a", NEU, 2),
    ]
    assert latest_ratings(answers) == [answers[1], answers[3], answers[4]]


def test_credit_goes_to_the_resolver_the_owner_or_who_worked():
    tickets = {
        1: RatedTicket("alice", "bob", True, 1),
        2: RatedTicket(None, "bob", True, 0),
    }
    answers = [answer(1, "a", POS, 1), answer(2, "a", NEG, 1), answer(3, "a", POS, 1)]
    workers = {1: ["carol", "alice", "carol"]}

    def members(credit: Credit) -> list[tuple[str, int]]:
        credited = credit_ratings(answers, tickets=tickets, credit=credit, workers=workers)
        return [(c.member, c.ticket_id) for c in credited]

    assert members(Credit.RESOLVER) == [("alice", 1)]  # 2 has no resolver, 3 is unknown
    assert members(Credit.OWNER) == [("bob", 1), ("bob", 2)]
    assert members(Credit.WORKED) == [("alice", 1), ("carol", 1)]  # each worker once
