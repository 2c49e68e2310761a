"""The small size of the csat and wallboard cases, run as tests: the real HTTP app on
127.0.0.1, clicked by customers' browsers (httpx) and watched in Debian's chromium.

No time is asserted (a test must not fail on a slow machine): the point is that every click
is accounted for and every rank change reaches the page, so the figures measure what they
say.
"""

from __future__ import annotations

import pytest

from bench.cases import csat, wallboard
from bench.core import CaseResult
from tests.browser import chromium_path
from tests.databases import sqlite_only

pytestmark = sqlite_only("the benchmarks measure Deskboard on SQLite files against plain sqlite3")


def _positive_figures(result: CaseResult) -> None:
    assert result.figures
    for figure in result.figures:
        assert figure.deskboard > 0, figure
        assert figure.baseline is None or figure.baseline > 0, figure


@pytest.fixture(scope="module")
def csat_small() -> CaseResult:
    return csat.run("small")


def test_csat_every_answered_click_is_held_once_with_the_face_it_ended_on(csat_small):
    details = csat_small.details
    assert (details["clicks"], details["tickets"], details["at_a_time"]) == (40, 32, 8)
    # every POST sent got an answer, and each is counted once
    assert sum(details["post_statuses"].values()) == details["clicks"]
    answered = details["post_statuses"].get("303", 0)
    assert details["thanks_pages"] == answered
    # a 303 means one row with the face the customer ended on; nothing else is held
    assert details["doubled"] == []
    assert details["silently_lost"] == []
    assert details["unasked"] == []
    assert details["ratings_stored"] == details["tickets"] - len(details["lost"])
    _positive_figures(csat_small)


def test_csat_clicks_eight_at_a_time_are_all_recorded_none_lost_or_doubled(csat_small):
    details = csat_small.details
    assert details["post_statuses"] == {"303": details["clicks"]}, details["failed"]
    assert details["lost"] == []
    assert details["change_lost"] == []
    assert details["ratings_stored"] == details["tickets"]
    assert details["acted_on"] == details["acted_on_expected"]
    assert csat_small.numbers_agree, details


def test_wallboard_paints_and_shows_each_new_leader_in_place():
    chromium_path()  # skips, saying so, where chromium is not installed
    result = wallboard.run("small")
    details = result.details
    assert result.numbers_agree, details
    assert len(details["loads"]) == 3
    for load in details["loads"]:
        assert load["fcp_ms"] > 0
        assert load["live_ms"] > 0
    # each sync made the second the leader, and the page showed them with their new count
    assert [u["leader"] for u in details["updates"]] == ["apatel", "jsmith", "apatel"]
    for update in details["updates"]:
        assert update["delay_ms"] is not None, update
        assert update["shown_value"] == update["value"], update
    assert details["same_document"]  # updated in place, never reloaded
    assert details["shown_last"] == details["expected_last"]
    assert details["shown_last"][:2] == [["apatel", "33"], ["jsmith", "32"]]
    _positive_figures(result)
