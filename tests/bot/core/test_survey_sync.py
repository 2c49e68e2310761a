"""Survey results into the ratings at every sync: a failure part-way loses and doubles
nothing, the watermark moves only after the last page, and a ticket sync never fails for
them (bot.core.survey_sync)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import parse_config
from bot.core.sync import run_sync
from psa.connectwise.client import RetryPolicy
from psa.connectwise.simulator import SimulatorServer, generate_msp
from storage import ratings as rating_store
from storage.db import create_engine_for, session_scope
from tests.psa.connectwise.conftest import make_client as make_client
from tests.psa.connectwise.conftest import sleeps as sleeps
from tests.psa.connectwise.fake_connectwise import FakeConnectWise, Scripted, link_header
from tests.psa.connectwise.fake_connectwise import fake_cw as fake_cw

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
CONFIG = parse_config({"csat": {"credit": "worked"}})
QUESTIONS = [
    {"id": 1, "type": "Selection", "options": [{"caption": "Great", "points": 10}]},
    {"id": 2, "type": "OpenEnded"},
]


def result(result_id: int, ticket_id: int, points: int, updated: str) -> dict[str, Any]:
    return {
        "id": result_id,
        "ticketId": ticket_id,
        "totalPoints": points,
        "emailAddress": f"customer{result_id}@example.com",
        "results": [{"questionId": 2, "answer": f"comment {result_id}"}],
        "_info": {"lastUpdated": updated},
    }


PAGE_1 = [result(1, 101, 10, "2026-11-12T10:00:00Z"), result(2, 102, 2, "2026-11-14T10:00:00Z")]
PAGE_2 = [result(3, 103, 6, "2026-11-13T10:00:00Z")]


def script_tickets_and_surveys(fake: FakeConnectWise, *second_page: Scripted) -> None:
    fake.reply("GET", "/service/boards", [])
    fake.reply("GET", "/system/members", [])
    fake.reply("GET", "/service/tickets/count", {"count": 0})
    fake.reply("GET", "/service/tickets", [])
    fake.reply("GET", "/service/surveys", [{"id": 4, "name": "Closed"}])
    fake.reply("GET", "/service/surveys/4/questions", QUESTIONS)  # a full page of 2 ...
    fake.reply("GET", "/service/surveys/4/questions", [])  # ... so the client asks on
    next_link = link_header(fake, "/service/surveys/4/results", "pageSize=2&pageId=2")
    fake.script(
        "GET", "/service/surveys/4/results", Scripted(body=PAGE_1, headers={"Link": next_link})
    )
    fake.script("GET", "/service/surveys/4/results", *second_page)


@pytest.fixture
def engine(database_url):
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def held(engine) -> dict[tuple[int, str], str]:
    with session_scope(engine) as session:
        return {
            (r.rating.ticket_id, r.rating.respondent): r.rating.value.value
            for r in rating_store.all_ratings(session)
        }


def test_results_failing_part_way_lose_nothing_and_double_nothing(fake_cw, make_client, engine):
    client = make_client(page_size=2, retry=RetryPolicy(attempts=2))
    boom = Scripted(status=500, body={"code": "x", "message": "boom"})
    script_tickets_and_surveys(fake_cw, boom, boom)

    report = run_sync(client=client, engine=engine, config=CONFIG, now=NOW)  # does not raise

    assert report.ratings is not None
    assert report.ratings.error is not None
    assert report.ratings.changed == 2  # page 1 was stored
    with session_scope(engine) as session:
        assert rating_store.get_ratings_watermark(session) is None  # ... the watermark held

    script_tickets_and_surveys(fake_cw, Scripted(body=PAGE_2))
    report = run_sync(client=client, engine=engine, config=CONFIG, now=NOW)

    assert report.ratings is not None
    assert report.ratings.error is None
    assert report.ratings.changed == 1  # page 1 again changed nothing, page 2 is new
    assert held(engine) == {
        (101, "customer1@example.com"): "positive",
        (102, "customer2@example.com"): "negative",
        (103, "customer3@example.com"): "neutral",  # older than 102: kept by the held mark
    }
    with session_scope(engine) as session:
        assert rating_store.get_ratings_watermark(session) == datetime(2026, 11, 14, 10, tzinfo=UTC)
    # the next sync asks only for what changed since the newest result, less the overlap
    script_tickets_and_surveys(fake_cw, Scripted(body=[]))
    run_sync(client=client, engine=engine, config=CONFIG, now=NOW)
    asked = fake_cw.requests_to("GET", "/service/surveys/4/results")
    conditions = [r.query["conditions"][0] for r in asked if "conditions" in r.query]
    assert conditions == ["lastUpdated > [2026-11-14T09:55:00Z]"]


def test_surveys_off_reads_none(fake_cw, make_client, engine):
    client = make_client()
    script_tickets_and_surveys(fake_cw, Scripted(body=PAGE_2))
    config = parse_config({"csat": {"surveys": False}})
    report = run_sync(client=client, engine=engine, config=config, now=NOW)
    assert report.ratings is None
    assert fake_cw.requests_to("GET", "/service/surveys") == []
    assert held(engine) == {}


def test_a_sync_from_the_simulator_stores_its_ratings_and_who_worked(engine):
    start = datetime(2026, 11, 2, 6, tzinfo=UTC)
    msp = generate_msp(seed=11, start=start, end=start + timedelta(days=10))
    now = start + timedelta(days=10)
    with SimulatorServer(msp, clock=now) as server, server.connectwise_client() as client:
        first = run_sync(client=client, engine=engine, config=CONFIG, now=now)
        expected = {
            (r.ticket_id, r.respondent): r.value.value
            for p in client.iter_rating_pages(updated_after=None, positive_at=0.8, negative_at=0.4)
            for r in p.ratings
        }
        second = run_sync(client=client, engine=engine, config=CONFIG, now=now)
        some_ticket = next(iter(expected))[0]
        workers_there = client.ticket_workers(some_ticket)
    assert first.ratings is not None
    assert first.ratings.changed == len(expected) > 20
    assert second.ratings is not None
    assert second.ratings.changed == 0
    assert held(engine) == expected
    with session_scope(engine) as session:
        workers = rating_store.ticket_workers(session, ticket_ids=[some_ticket])
    assert workers[some_ticket] == workers_there
    assert first.ratings.workers_read == len({ticket for ticket, _ in expected})
