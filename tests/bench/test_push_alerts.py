"""The push benchmark at its small size: signed callbacks from the simulator to Deskboard's
HTTP app bring every kudos to the fake Slack, exactly once, and no poll ran meanwhile, so the
push is what brought them (no timing is asserted: a test must not fail on a slow machine)."""

from __future__ import annotations

from bench.cases import push
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

