"""The PostgreSQL case at its small size, as a test: on PostgreSQL, Deskboard's store step,
standings and ``/leaderboard month`` give the numbers the hand-written SQL gives (no time is
asserted); and with no PostgreSQL the case says it did not run, rather than failing."""

from __future__ import annotations

from bench.cases import postgresql
from tests.databases import postgres_admin_url, postgresql_only


@postgresql_only("the case measures PostgreSQL; the SQLite pass checks the not-run path")
def test_on_postgresql_every_part_agrees_with_the_hand_written_sql(monkeypatch):
    monkeypatch.setenv(postgresql.URL_VARIABLE, postgres_admin_url().render_as_string(False))
    result = postgresql.run("small")
    assert result.numbers_agree, result.details
    assert "not_run" not in result.details
    assert result.details["store"]["rows"] == {"store": 2000, "baseline": 2000}
    for window in ("month", "year"):
        assert result.details["standings"][window]["disagreements"] == []
        assert result.details["standings"][window]["members"] > 0
    assert result.details["command"]["problem"] is None
    labels = [f.label for f in result.figures]
    assert labels[0] == "PostgreSQL store step, 2,000 tickets"
    assert len(labels) == 5  # store, month, year, command median and p99
    for figure in result.figures:
        assert figure.deskboard > 0, figure
        assert figure.baseline is None or figure.baseline > 0, figure


def test_without_postgresql_the_case_says_it_did_not_run(monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(postgresql.URL_VARIABLE, f"postgresql+psycopg://nobody@127.0.0.1:{port}/x")
    result = postgresql.run("small")
    assert result.figures == []
    assert result.details["not_run"].startswith(
        f"no PostgreSQL at postgresql+psycopg://nobody@127.0.0.1:{port}/x"
    )
