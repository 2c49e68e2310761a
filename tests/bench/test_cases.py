"""The small size of the ingest, standings and memory cases, run as tests.

No time is asserted (a test must not fail on a slow machine): the point is that Deskboard's
fast paths and the baselines compute the same thing, so a figure always compares like with
like. Each case must report agreeing numbers and positive figures.
"""

from __future__ import annotations

from bench.cases import ingest, memory, mixed, notes, standings
from bench.core import CaseResult
from tests.databases import sqlite_only

pytestmark = sqlite_only("the benchmarks measure Deskboard on SQLite files against plain sqlite3")


def _positive_figures(result: CaseResult) -> None:
    assert result.figures
    for figure in result.figures:
        assert figure.deskboard > 0, figure
        assert figure.baseline is None or figure.baseline > 0, figure


def test_ingest_store_step_writes_the_rows_the_sync_and_the_baseline_write():
    result = ingest.run("small")
    assert result.numbers_agree, result.details
    # The sync's database, the store step's and plain sqlite3's hold the same 2,000 rows.
    assert result.details["rows"] == {"sync": 2000, "store": 2000, "baseline": 2000}
    assert result.details["checksums_equal"]
    _positive_figures(result)


def test_standings_equal_the_hand_written_sql_for_every_member_and_metric():
    result = standings.run("small")
    assert result.numbers_agree, result.details
    for window in ("month", "year"):
        assert result.details[window]["disagreements"] == []
        assert result.details[window]["members"] > 0
    # The year holds more resolutions than one of its months.
    assert (
        result.details["year"]["resolved_in_window"] > result.details["month"]["resolved_in_window"]
    )
    _positive_figures(result)


def test_memory_children_store_every_ticket_and_report_their_peaks():
    result = memory.run("small")
    assert result.numbers_agree, result.details
    small, large = result.details["runs"]
    assert (small["stored"], large["stored"]) == (200, 2000)
    for run in (small, large):
        assert run["peak_mib"] >= run["baseline_mib"] > 0
    if small["hwm_reset"] and large["hwm_reset"]:
        _positive_figures(result)


def test_mixed_commands_twenty_at_a_time_miss_no_ack_and_all_get_answered():
    result = mixed.run("small")
    assert result.numbers_agree, result.details
    assert result.details["missed"] == []
    assert result.details["answered"] == result.details["requests"] == 40
    assert result.details["failed"] == []
    assert all(f.deskboard >= 0 for f in result.figures)


def test_notes_are_read_four_at_a_time_and_store_what_one_at_a_time_stores():
    result = notes.run("small")
    assert result.numbers_agree, result.details
    assert result.details["most_in_flight"] == 4  # reached, never passed
    assert result.details["baseline_most_in_flight"] == 1
    assert result.details["requests"] == {"deskboard": 200, "baseline": 200}
    _positive_figures(result)
