"""The push and alerts benchmarks at their small size: signed callbacks from the simulator to
Deskboard's HTTP app bring every kudos and every emergency's alert to the fake Slack, each
exactly once, and no poll ran meanwhile, so the push is what brought them (no timing is
asserted: a test must not fail on a slow machine)."""

from __future__ import annotations

from bench.cases import alerts, push
from tests.databases import sqlite_only

pytestmark = sqlite_only("the benchmarks measure Deskboard on SQLite files")


def test_each_resolution_gets_one_kudos_through_its_signed_callback_and_no_poll() -> None:
    result = push.run("small")
    details = result.details
    # numbers_agree: exactly one kudos per resolution, naming the ticket and its resolver
    assert result.numbers_agree, details
    resolutions = push.PLANS["small"].resolutions
    assert details["resolutions"] == details["kudos"] == resolutions
    assert details["missing"] == details["duplicated"] == []
    assert details["polls_during"] == 0  # the poll's next run is minutes away
    assert set(details["callbacks"]) == {"200"}  # signed, verified and accepted
    assert details["callbacks"]["200"] >= resolutions
    assert [f.label for f in result.figures] == ["p50", "p99"]
    assert all(f.deskboard > 0 and f.baseline is None for f in result.figures)


def test_each_emergency_entered_gets_one_alert_through_its_callback() -> None:
    result = alerts.run("small")
    details = result.details
    assert result.numbers_agree, details
    emergencies = alerts.PLANS["small"].emergencies
    assert details["emergencies"] == details["alerted"] == emergencies
    assert details["missing"] == details["duplicated"] == []
    # neither a poll nor the minute's alert check ran between an entry and its alert
    assert details["polls_during"] == 0
    assert details["job_between"] == []
    assert set(details["callbacks"]) == {"200"}
    assert details["callbacks"]["200"] >= emergencies
    assert [f.label for f in result.figures] == ["p50", "p99"]
    assert all(f.deskboard > 0 and f.baseline is None for f in result.figures)
