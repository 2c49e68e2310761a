"""One bad ticket never stops a sync: it is skipped and named, and every other ticket of its
page is stored (issue 11). Through the ConnectWise client against a fake server over HTTP,
on both databases: PostgreSQL refuses NUL in text, which the mapping strips."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import parse_config
from bot.core.sync import run_sync
from storage import repo
from storage.db import create_engine_for, session_scope
from storage.sync_state import MAX_ERROR_CHARS
from tests.bot.core.test_sync_faults import script_reference_data
from tests.psa.connectwise.conftest import make_client as make_client
from tests.psa.connectwise.conftest import sleeps as sleeps
from tests.psa.connectwise.fake_connectwise import fake_cw as fake_cw
from tests.psa.connectwise.fake_connectwise import ticket

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url):
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


def test_a_far_future_date_and_a_nul_character_do_not_stop_the_sync(fake_cw, make_client, engine):
    page = [
        ticket(1),
        ticket(2, dateResolved="9999-12-31T23:59:59Z", resolvedBy="AGarcia"),
        ticket(3, summary="printer\u0000 on fire", company={"id": 250, "name": "Harbor\u0000"}),
        ticket(4, actualHours=float("inf")),
        ticket(5, dateResolved="1899-12-31T00:00:00Z", resolvedBy="AGarcia"),
        ticket(6),
    ]
    script_reference_data(fake_cw)
    fake_cw.reply("GET", "/service/tickets/count", {"count": len(page)})
    fake_cw.reply("GET", "/service/tickets", page)
    for stored_id in (1, 3, 6):  # the note sync reads the stored tickets' notes
        fake_cw.reply("GET", f"/service/tickets/{stored_id}/notes", [])
    fake_cw.reply("GET", "/service/surveys", [])

    report = run_sync(
        client=make_client(), engine=engine, config=parse_config({}), now=NOW, since=NOW.date()
    )

    assert {(s.ticket_id, s.field) for s in report.skipped} == {
        (2, "dateResolved"),
        (4, "actualHours"),
        (5, "dateResolved"),
    }
    assert all("out of range" in s.reason or "finite" in s.reason for s in report.skipped)
    with session_scope(engine) as session:
        stored = {t.id: t for t in repo.get_tickets(session, ids=range(1, 7))}
        state = repo.get_sync_state(session)
    assert sorted(stored) == [1, 3, 6]
    assert stored[3].summary == "printer on fire"
    assert stored[3].company_name == "Harbor"
    assert state.last_error is None


def test_a_recorded_error_is_one_short_line(engine):
    long = (
        "DataError: (psycopg.errors.X) bad value\n[SQL: INSERT INTO tickets ...]\n" + "x" * 20_000
    )
    with session_scope(engine) as session:
        repo.record_sync_error(session, at=NOW, message=long)
        repo.record_sync_error(session, at=NOW, message="E" * 5_000)
        kept = repo.get_sync_state(session).last_error
    assert kept is not None
    assert len(kept) == MAX_ERROR_CHARS
    assert "\n" not in kept
    with session_scope(engine) as session:
        repo.record_sync_error(session, at=NOW, message=long)
        assert repo.get_sync_state(session).last_error == "DataError: (psycopg.errors.X) bad value"
