"""A sync that fails part-way stores what it had, keeps the old watermark, and the next sync
catches up without skipping or doubling a ticket (issue: "watermark safety")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import parse_config
from bot.core.sync import run_sync
from psa.connectwise.client import RetryPolicy
from psa.connectwise.errors import RetriesExhausted
from storage import repo
from storage.db import create_engine_for, session_scope
from tests.psa.connectwise.conftest import make_client as make_client
from tests.psa.connectwise.conftest import sleeps as sleeps
from tests.psa.connectwise.fake_connectwise import FakeConnectWise, Scripted, link_header, ticket
from tests.psa.connectwise.fake_connectwise import fake_cw as fake_cw

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
BOARD = {"id": 1, "name": "Service Desk"}
STATUSES = [
    {"id": 11, "name": "In Progress", "board": {"id": 1}, "escalationStatus": "Responded"},
    {"id": 12, "name": ">Closed", "board": {"id": 1}, "closedStatus": True},
]
MEMBERS = [{"id": 176, "identifier": "AGarcia", "firstName": "Ana", "lastName": "Garcia"}]


def page_ticket(ticket_id: int, updated: str) -> dict:
    return ticket(
        ticket_id,
        _info={"dateEntered": "2026-11-02T14:05:00Z", "lastUpdated": updated},
    )


PAGE_1 = [page_ticket(1, "2026-11-10T10:00:00Z"), page_ticket(2, "2026-11-12T10:00:00Z")]
PAGE_2 = [page_ticket(3, "2026-11-11T10:00:00Z")]


def script_reference_data(fake: FakeConnectWise) -> None:
    fake.reply("GET", "/service/boards", [BOARD])
    fake.reply("GET", "/service/boards/1/statuses", STATUSES)
    fake.reply("GET", "/system/members", MEMBERS)


def script_pages(fake: FakeConnectWise, *second_page: Scripted) -> None:
    fake.reply("GET", "/service/tickets/count", {"count": 3})
    next_link = link_header(fake, "/service/tickets", "pageSize=5&pageId=2")
    fake.script("GET", "/service/tickets", Scripted(body=PAGE_1, headers={"Link": next_link}))
    fake.script("GET", "/service/tickets", *second_page)


@pytest.fixture
def engine(database_url):
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def test_a_page_that_fails_midway_loses_nothing_and_skips_nothing(fake_cw, make_client, engine):
    config = parse_config({"connectwise": {"boards": ["Service Desk"]}})
    client = make_client(page_size=5, retry=RetryPolicy(attempts=2))
    script_reference_data(fake_cw)
    script_pages(fake_cw, Scripted(status=500, body={"code": "x", "message": "boom"}),
                 Scripted(status=500, body={"code": "x", "message": "boom"}))  # fmt: skip

    with pytest.raises(RetriesExhausted):
        run_sync(client=client, engine=engine, config=config, now=NOW)

    with session_scope(engine) as session:
        state = repo.get_sync_state(session)
        assert repo.count_tickets(session) == 2  # page 1 was committed
        assert state.watermark is None  # ... but the watermark did not move
        assert "RetriesExhausted" in (state.last_error or "")

    # The next run asks again from the same point and catches up; ticket 3 is older than
    # ticket 2, so a watermark moved after page 1 would have skipped it for ever.
    script_pages(fake_cw, Scripted(body=PAGE_2))
    report = run_sync(client=client, engine=engine, config=config, now=NOW)

    assert (report.inserted, report.updated, report.unchanged) == (1, 0, 2)
    with session_scope(engine) as session:
        assert repo.count_tickets(session) == 3
        assert [t.id for t in repo.get_tickets(session, ids=[1, 2, 3])] == [1, 2, 3]
        state = repo.get_sync_state(session)
    assert state.watermark == datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
    calls = fake_cw.requests_to("GET", "/service/tickets")
    assert len(calls) == 5  # page 1, page 2 failing twice; then page 1 and page 2 again
    # both runs backfill from the first of the month (midnight in the default zone, UTC)
    assert (
        calls[0].param("conditions") == "lastUpdated > [2026-11-01T00:00:00Z] and board/id in (1)"
    )
    assert calls[3].param("conditions") == calls[0].param("conditions")


def test_an_unknown_board_in_the_config_is_named(fake_cw, make_client, engine):
    from bot.core.sync import SyncConfigError

    config = parse_config({"connectwise": {"boards": ["Servce Desk"]}})
    script_reference_data(fake_cw)
    with pytest.raises(
        SyncConfigError, match="no board 'Servce Desk'; boards it has: Service Desk"
    ):
        run_sync(client=make_client(), engine=engine, config=config, now=NOW)
