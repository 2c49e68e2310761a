"""ConnectWise survey results as ratings: the mapping against hand-computed values, and the
simulator's surveys read through the real client."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from metrics.ratings import RatingSource, RatingValue
from psa.connectwise.simulator import SimulatorServer, generate_msp
from psa.connectwise.surveys import SurveyForm, map_questions, map_result, map_results, worker_keys

POS, NEU, NEG = RatingValue.POSITIVE, RatingValue.NEUTRAL, RatingValue.NEGATIVE

QUESTIONS: list[Any] = [
    {  # highest option 5
        "id": 1,
        "type": "Selection",
        "includeFlag": True,
        "options": [{"caption": "Great", "points": 5}, {"caption": "Bad", "points": 0}],
    },
    {  # highest 4 (the 9-point option is switched off)
        "id": 2,
        "type": "Selection",
        "options": [
            {"caption": "Yes", "points": 4},
            {"caption": "Bonus", "points": 9, "includeFlag": False},
        ],
    },
    {  # not counted in the total
        "id": 3,
        "type": "Selection",
        "includeFlag": False,
        "options": [{"caption": "x", "points": 100}],
    },
    {"id": 4, "type": "OpenEnded", "question": "Anything else?"},
    "not a question",
]
FORM = map_questions(9, QUESTIONS)


def result(**fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": 70,
        "surveyId": 9,
        "ticketId": 501,
        "totalPoints": 9,
        "contact": {"id": 33, "name": "Ann Lee"},
        "emailAddress": "Ann.Lee@Acme.example",
        "results": [{"questionId": 1, "answer": "Great"}],
        "footerResponse": "",
        "_info": {"dateEntered": "2026-11-03T10:00:00Z", "lastUpdated": "2026-11-04T09:30:00Z"},
    }
    raw.update(fields)
    return raw


def test_the_form_counts_included_selection_questions_only():
    assert FORM.open_ended == frozenset({4})
    counted = [(q.question_id, max(q.option_points)) for q in FORM.questions if q.counted]
    assert counted == [(1, 5.0), (2, 4.0)]  # maximum 9


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (9, POS),  # 9/9
        (7.2, POS),  # 0.8 exactly
        (7, NEU),  # 0.778
        (3.7, NEU),  # 0.411
        (3.6, NEG),  # 0.4 exactly
        (0, NEG),
    ],
)
def test_a_result_by_its_share_of_the_maximum(total: float, expected: RatingValue):
    rating = map_result(result(totalPoints=total), FORM, positive_at=0.8, negative_at=0.4)
    assert rating.value is expected


def test_thresholds_come_from_the_configuration():
    rating = map_result(result(totalPoints=7), FORM, positive_at=0.75, negative_at=0.5)
    assert rating.value is POS  # 0.778 ≥ 0.75
    rating = map_result(result(totalPoints=4.5), FORM, positive_at=0.75, negative_at=0.5)
    assert rating.value is NEG  # 0.5 ≤ 0.5


def test_what_a_rating_keeps_of_a_result():
    rating = map_result(
        result(
            results=[
                {"questionId": 1, "answer": "Great"},
                {"questionId": 4, "answer": "  Fast <b>and</b> kind  "},
            ],
            footerResponse="Thanks!",
        ),
        FORM,
        positive_at=0.8,
        negative_at=0.4,
    )
    assert rating.ticket_id == 501
    assert rating.respondent == "ann.lee@acme.example"
    assert rating.rated_at == datetime(2026, 11, 4, 9, 30, tzinfo=UTC)  # lastUpdated first
    assert rating.comment == "Fast <b>and</b> kind\nThanks!"  # text as given: escaped on show
    assert rating.source is RatingSource.CONNECTWISE
    assert rating.source_ref == "survey:9:result:70"


def test_without_an_email_the_contact_answers_and_without_lastupdated_dateentered_counts():
    raw = result(emailAddress=None, _info={"dateEntered": "2026-11-03T10:00:00Z"})
    rating = map_result(raw, FORM, positive_at=0.8, negative_at=0.4)
    assert rating.respondent == "contact:33"
    assert rating.rated_at == datetime(2026, 11, 3, 10, tzinfo=UTC)
    assert rating.comment is None


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"ticketId": None}, "ticketId", "not a ticket id"),
        ({"ticketId": "501"}, "ticketId", "not a ticket id"),
        ({"totalPoints": "9"}, "totalPoints", "not a number"),
        ({"totalPoints": True}, "totalPoints", "not a number"),
        ({"totalPoints": -1}, "totalPoints", "not a score"),
        ({"_info": {}}, "_info.lastUpdated", "no time"),
        ({"_info": {"lastUpdated": "yesterday"}}, "_info.lastUpdated", ""),
        ({"_info": {"lastUpdated": "9999-12-31T00:00:00Z"}}, "_info.lastUpdated", "out of range"),
    ],
)
def test_an_unreadable_result_is_skipped_and_the_rest_kept(fields, field, reason):
    page = [result(id=1), result(id=2, **fields), "junk", result(id=3, ticketId=502)]
    ratings, skipped, newest = map_results(page, FORM, positive_at=0.8, negative_at=0.4)
    assert [r.ticket_id for r in ratings] == [501, 502]
    assert [(s.ticket_id, s.field) for s in skipped] == [(2, field), (None, "result")]
    assert reason in skipped[0].reason
    assert newest == datetime(2026, 11, 4, 9, 30, tzinfo=UTC)


def test_a_survey_without_scored_questions_rates_nothing():
    form = SurveyForm(5, (), frozenset())
    ratings, skipped, _ = map_results([result()], form, positive_at=0.8, negative_at=0.4)
    assert ratings == []
    assert skipped[0].field == "totalPoints"


def test_time_entries_name_each_member_once():
    entries = [
        {"member": {"identifier": "JSmith"}},
        {"member": {"identifier": "jsmith"}},
        {"member": {"identifier": "kim"}},
        {"member": None},
        "junk",
    ]
    assert worker_keys(entries) == ["jsmith", "kim"]


START = datetime(2026, 11, 2, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulator():
    msp = generate_msp(seed=11, start=START, end=START + timedelta(days=12))
    with SimulatorServer(msp, clock=START + timedelta(days=12)) as server:
        yield server


def test_the_simulators_surveys_through_the_real_client(simulator: SimulatorServer):
    with simulator.connectwise_client() as client:
        pages = list(client.iter_rating_pages(updated_after=None, positive_at=0.8, negative_at=0.4))
        again = list(client.iter_rating_pages(updated_after=None, positive_at=0.8, negative_at=0.4))
    ratings = [r for page in pages for r in page.ratings]
    assert [r for page in again for r in page.ratings] == ratings  # deterministic
    assert all(not page.skipped for page in pages)
    assert len(ratings) > 40
    shares = Counter(r.value for r in ratings)
    assert shares[POS] > shares[NEU] > 0
    assert shares[NEG] > 0
    negative_comments = [r for r in ratings if r.value is NEG and r.comment]
    assert negative_comments
    # every rating is of a ticket the simulator resolved before the answer
    with simulator.connectwise_client() as client:
        for rating in ratings[:10]:
            ticket = client.get_ticket(rating.ticket_id)
            assert ticket.resolved_at is not None
            assert ticket.resolved_at < rating.rated_at


def test_results_are_read_incrementally_and_grow_with_the_clock():
    msp = generate_msp(seed=11, start=START, end=START + timedelta(days=12))
    with (
        SimulatorServer(msp, clock=START + timedelta(days=6)) as server,
        server.connectwise_client() as client,
    ):
        early = [
            r
            for p in client.iter_rating_pages(updated_after=None, positive_at=0.8, negative_at=0.4)
            for r in p.ratings
        ]
        newest = max(r.rated_at for r in early)
        server.clock = START + timedelta(days=12)
        later = [
            r
            for p in client.iter_rating_pages(
                updated_after=newest, positive_at=0.8, negative_at=0.4
            )
            for r in p.ratings
        ]
    assert early
    assert later
    assert all(r.rated_at > newest for r in later)
    assert not {r.ticket_id for r in later} & {r.ticket_id for r in early}


def test_the_workers_of_a_ticket_through_the_real_client(simulator: SimulatorServer):
    with simulator.connectwise_client() as client:
        rating = next(
            r
            for p in client.iter_rating_pages(updated_after=None, positive_at=0.8, negative_at=0.4)
            for r in p.ratings
        )
        ticket = client.get_ticket(rating.ticket_id)
        workers = client.ticket_workers(rating.ticket_id)
    assert ticket.resolver is not None
    assert ticket.resolver.lower() in workers
    assert workers == sorted(set(workers))
