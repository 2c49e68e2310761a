"""ConnectWise misbehaving in every way the issue lists, one fault per test.

Each test runs the steps of the reference run, with the fault in force during one cycle:
the scheduler's job survives it (nothing escapes ``_guarded``; the failure is logged),
``deskboard status`` and ``/deskboard status`` show the error and when the source last
synced, and once the fault clears the next cycle catches up: the database ends with exactly
the tickets and status changes of the fault-free run, and Slack got every queued message
exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from sqlalchemy import text

from psa.connectwise.simulator import Fault
from tests.faults.world import CLIENT_TIMEOUT, DRAIN, RETRY, STEPS, World, delivered

TICKETS = "/service/tickets"
HTML = b"<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>"

FAULTS = {
    "http-500": (Fault(path=TICKETS, status=500, times=10**6), "HTTP 500"),
    "timeout": (Fault(path=TICKETS, delay=CLIENT_TIMEOUT + 1, times=10**6), "ReadTimeout"),
    "connection-reset": (Fault(path=TICKETS, drop=True, times=10**6), "RemoteProtocolError"),
    "html-page-with-200": (
        Fault(path=TICKETS, status=200, body=HTML, content_type="text/html", times=10**6),
        "not JSON: text/html",
    ),
    "html-page-with-502": (
        Fault(path=TICKETS, status=502, body=HTML, content_type="text/html", times=10**6),
        "HTTP 502",
    ),
    "truncated-json": (Fault(path=TICKETS, truncate=True, times=10**6), "not JSON"),
    "429-storm": (
        Fault(method=None, path=None, status=429, retry_after=30, times=10**6),
        "HTTP 429",
    ),
}


def run_with_fault(world: World, fault: Fault, *, step: int, caplog) -> tuple[str, str]:
    """All steps and the drain; the fault is in force for the first cycle of ``step``, after
    which the same step's next cycle runs without it. What both statuses said meanwhile."""
    seen = ("", "")
    for index, moment in enumerate(STEPS):
        world.at(moment)
        if index == step:
            world.simulator.inject(fault)
            with caplog.at_level(logging.ERROR, logger="bot.core.scheduler"):
                world.cycle()  # raises nothing: the job's wrapper logs the failure
            assert "job sync failed; it runs again on its next trigger" in caplog.text
            assert fault.hits >= RETRY.attempts  # every retry met the fault
            seen = (world.cli_status(), world.slash_status())
            world.simulator.clear_faults()
        world.cycle()
    world.at(DRAIN)
    world.cycle()
    return seen


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_connectwise_fault_is_survived_shown_and_caught_up(name, world, reference, caplog):
    fault, error = FAULTS[name]
    fault = replace(fault)  # a fresh copy, its use count at 0
    cli, slash = run_with_fault(world, fault, step=1, caplog=caplog)

    # Step 0 (09:00 CST) was the last good sync; step 1 (12:00 CST) failed.
    assert "Last sync:        2026-11-19 09:00 CST (the latest sync failed)" in cli
    assert "Last error:       2026-11-19 12:00 CST: RetriesExhausted" in cli
    assert error in cli
    assert "The latest sync failed" in slash
    assert "Thu 19 Nov 2026 12:00 CST" in slash
    assert error in slash
    assert "Last successful sync: Thu 19 Nov 2026 09:00 CST" in slash

    if name == "429-storm":  # each retry waited as long as Retry-After said, within the cap
        assert world.cw_sleeps.count(RETRY.max_retry_after) == RETRY.attempts - 1
    assert world.checksum() == reference.checksum
    assert delivered(world.slack) == reference.delivered
    assert set(delivered(world.slack).values()) == {1}
    after = world.cli_status()
    assert "(since recovered)" in after
    assert "(the latest sync failed)" not in after


def test_a_page_that_fails_midway_through_the_backfill_keeps_its_first_page(
    world, reference, caplog
):
    fault = Fault(path=TICKETS, skip=1, status=500, times=10**6)  # page 1 answers, page 2 not
    world.at(STEPS[0])
    world.simulator.inject(fault)
    world.cycle()
    with world.engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM tickets")).scalar_one()
        watermark = connection.execute(text("SELECT watermark FROM sync_state")).scalar_one()
    assert stored == 50  # the first page (50 tickets) was committed ...
    assert watermark is None  # ... and the watermark did not move
    cli = world.cli_status()
    assert "Last sync:        never (the latest sync failed)" in cli
    assert "HTTP 500" in cli
    world.simulator.clear_faults()
    for moment in STEPS:
        world.at(moment)
        world.cycle()
    world.at(DRAIN)
    world.cycle()
    assert world.checksum() == reference.checksum
    assert delivered(world.slack) == reference.delivered
    assert set(delivered(world.slack).values()) == {1}
