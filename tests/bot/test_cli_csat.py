"""Customer satisfaction through the command line: ``deskboard csat import`` (bad rows,
re-import), every CSAT metric in ``metrics --json`` (from files and from the database, against
hand-computed values) and a contest on ``net_csat`` in ``standings --json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import parse_config
from bot.core.rating_links import template_signature, ticket_signature
from bot.core.sync import store_records
from metrics.waiting import WaitingRule
from psa.connectwise.mapping import map_tickets
from storage import ratings as rating_store
from storage.db import create_engine_for, session_scope
from tests.psa.connectwise.fake_connectwise import ticket

CONFIG = """
timezone = "UTC"
[[contests]]
name = "Happy customers"
metric = "net_csat"
start = "2026-11-01"
end = "2026-12-01"
min_resolved = 2

[[scores]]
name = "Service with a smile"
weights = { resolved = 1, csat_negative = -10 }  # the classic "bad CSAT -10"

[[contests]]
name = "Smiles"
metric = "Service with a smile"
start = "2026-11-01"
end = "2026-12-01"
"""


def resolved(ticket_id: int, by: str, day: int, **fields: Any) -> dict[str, Any]:
    at = f"2026-11-{day:02d}T15:00:00Z"
    return ticket(
        ticket_id,
        closedFlag=True,
        dateResolved=at,
        resolvedBy=by,
        _info={"dateEntered": "2026-11-01T14:05:00Z", "lastUpdated": at},
        **fields,
    )


TICKETS = [
    resolved(1, "alice", 2),
    resolved(2, "alice", 3),
    resolved(3, "alice", 4),
    resolved(4, "bob", 5),
    resolved(5, "bob", 6),
    resolved(6, "carol", 7),
]
# alice: 1 positive (changed from negative), 2 neutral, 3 unrated → 1 pos 1 neu of 2
# bob: 4 positive (two respondents: one positive, one negative), 5 negative
# carol: 6 rated 9 on 0-10 → positive
RATINGS_CSV = """Ticket ID,Rating,Rated At,Comment,Email,Survey Tool
1,negative,2026-11-02T16:00:00Z,slow,ann@acme.example,SmileBack
1,Happy,2026-11-03 09:00,"changed my mind,
all good now",ann@acme.example,SmileBack
#2,neutral,2026-11-04,,,Crewhu
4,love,2026-11-06T10:00:00+00:00,,b1@acme.example,Crewhu
4,bad,2026-11-06T11:00:00+00:00,,b2@acme.example,Crewhu
5,unhappy,2026-11-07T10:00:00Z,never called back,,SmileBack
6,9,2026-11-08T10:00:00Z,,c@acme.example,Other
7,positive,2026-11-08T10:00:00Z,,,Other
x,positive,2026-11-08T10:00:00Z,,,Other
3,meh,2026-11-08T10:00:00Z,,,Other
3,positive,last tuesday,,,Other
3,positive,1970-01-01,,,Other
3,,2026-11-08T10:00:00Z,,,Other
"""
CSAT_KEYS = ("csat_pct", "net_csat", "csat_responses", "csat_negative", "csat_response_rate")
EXPECTED = {
    "alice": {
        "csat_pct": 50.0,
        "net_csat": 50.0,
        "csat_responses": 2,
        "csat_negative": 0,
        "csat_response_rate": 200 / 3,
    },
    "bob": {
        "csat_pct": 100 / 3,
        "net_csat": -100 / 3,
        "csat_responses": 3,
        "csat_negative": 2,
        "csat_response_rate": 100.0,
    },
    "carol": {
        "csat_pct": 100.0,
        "net_csat": 100.0,
        "csat_responses": 1,
        "csat_negative": 0,
        "csat_response_rate": 100.0,
    },
}
REFUSED = [
    (11, "ticket_id 'x' is not a ticket number"),
    (12, "rating 'meh'"),
    (13, "rated_at 'last tuesday'"),
    (14, "not between 1980 and 2099"),
    (15, "rating is empty"),
]


@pytest.fixture
def files(tmp_path: Path, monkeypatch, database_url) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    (tmp_path / "tickets.json").write_text(json.dumps(TICKETS))
    (tmp_path / "ratings.csv").write_text(RATINGS_CSV)
    return {"env": {"DESKBOARD_DATABASE_URL": database_url}, "dir": tmp_path}


def invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, list(args), env=env)


def csat_of(members: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        member: {key: values[key] for key in CSAT_KEYS}
        for member, values in members.items()
        if member in EXPECTED
    }


def assert_expected(members: dict[str, Any]) -> None:
    got = csat_of(members)
    assert set(got) == set(EXPECTED)
    for member, values in EXPECTED.items():
        for key, value in values.items():
            assert got[member][key] == pytest.approx(value), (member, key)


def refused_lines(stderr: str) -> list[tuple[int, str]]:
    found = []
    for line in stderr.splitlines():
        _, number, reason = line.split(":", 2)
        found.append((int(number), reason.strip()))
    return found


def assert_refused(stderr: str) -> None:
    got = refused_lines(stderr)
    assert [line for line, _ in got] == [line for line, _ in REFUSED]
    for (_, reason), (_, expected) in zip(got, REFUSED, strict=True):
        assert expected in reason


def test_metrics_from_files_compute_every_csat_metric(files):
    result = invoke(
        files["env"],
        "metrics",
        "--tickets",
        "tickets.json",
        "--ratings",
        "ratings.csv",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert_expected(json.loads(result.stdout)["members"])
    assert_refused(result.stderr)


def test_without_ratings_the_file_mode_leaves_the_csat_metrics_out(files):
    window = ("--from", "2026-11-01", "--to", "2026-12-01")
    result = invoke(files["env"], "metrics", "--tickets", "tickets.json", *window, "--json")
    assert result.exit_code == 0, result.output
    members = json.loads(result.stdout)["members"]
    assert not set(CSAT_KEYS) & set(members["alice"])


def test_import_then_the_database_gives_the_same_numbers_and_a_net_csat_contest(files):
    env = files["env"]
    first = invoke(env, "csat", "import", "ratings.csv")
    assert first.exit_code == 0, first.output
    assert "Imported 8 ratings from ratings.csv: 7 new, 1 changed, 0 already held; " in (
        first.stdout
    )
    assert "5 rows refused" in first.stdout
    assert_refused(first.stderr)

    again = invoke(env, "csat", "import", "ratings.csv", "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["new"], report["changed"], report["unchanged"]) == (0, 0, 8)
    assert [r["line"] for r in report["refused"]] == [line for line, _ in REFUSED]
    engine = create_engine_for(env["DESKBOARD_DATABASE_URL"])
    with session_scope(engine) as session:
        assert rating_store.count_ratings(session) == 7  # ann's two answers are one rating
        ann = rating_store.get_rating(session, ticket_id=1, respondent="ann@acme.example")
        assert ann is not None
        assert ann.rating.comment == "changed my mind,\nall good now"
    engine.dispose()

    # the tickets into the database the way the file mode reads them: through the sync's
    # store step, from the same JSON (a ConnectWise fake would serve the same objects)
    engine = create_engine_for(env["DESKBOARD_DATABASE_URL"])
    records, _ = map_tickets(TICKETS)
    store_records(
        engine, records=records, params=parse_config({}).derive_params(), waiting_rule=WaitingRule()
    )
    engine.dispose()

    metrics = invoke(env, "metrics", "--from", "2026-11-01", "--to", "2026-12-01", "--json")
    assert metrics.exit_code == 0, metrics.output
    assert_expected(json.loads(metrics.stdout)["members"])

    standings = invoke(env, "standings", "--json")
    assert standings.exit_code == 0, standings.output
    contest, smiles = json.loads(standings.stdout)["contests"]
    assert contest["metric"] == "net_csat"
    scored = [(row["rank"], row["member"], row["value"]) for row in smiles["ranked"]]
    # alice 3 resolved, no bad rating; carol 1; bob 2 resolved and 2 bad ratings: 2 - 20
    assert scored == [(1, "alice", 3.0), (2, "carol", 1.0), (3, "bob", -18.0)]
    ranked = [(row["rank"], row["member"], row["value"]) for row in contest["ranked"]]
    assert ranked == [(1, "alice", 50.0), (2, "bob", pytest.approx(-100 / 3))]
    assert contest["not_qualified"] == [
        # responded to every ticket, rated for none
        {"member": "agarcia", "value": None, "resolved": 0, "ratings": 0},
        {"member": "carol", "value": 100.0, "resolved": 1, "ratings": 1},  # 1 rating of 2
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("ticket_id,rating\n1,positive\n", "missing column(s) rated_at"),
        ("", "empty"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
    ],
)
def test_a_file_that_is_not_ratings_is_refused_whole(files, content, reason):
    path = files["dir"] / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = invoke(files["env"], "csat", "import", "bad.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: bad.csv: ")
    assert reason in result.stderr


def test_an_ambiguous_scale_is_refused_per_row_until_given(files):
    (files["dir"] / "five.csv").write_text(
        "ticket_id,rating,rated_at\n1,4,2026-11-03\n2,2,2026-11-04\n3,positive,2026-11-04\n"
    )
    ambiguous = invoke(files["env"], "csat", "import", "five.csv")
    assert ambiguous.exit_code == 0
    assert [line for line, _ in refused_lines(ambiguous.stderr)] == [2, 3]
    assert "--scale" in ambiguous.stderr
    given = invoke(files["env"], "csat", "import", "five.csv", "--scale", "1-5", "--json")
    report = json.loads(given.stdout)
    assert (report["new"], report["refused"]) == (2, [])
    engine = create_engine_for(files["env"]["DESKBOARD_DATABASE_URL"])
    with session_scope(engine) as session:
        values = {
            r.rating.ticket_id: r.rating.value.value for r in rating_store.all_ratings(session)
        }
    engine.dispose()
    assert values == {1: "positive", 2: "negative", 3: "positive"}


def test_links_and_the_email_template_from_the_command_line(files):
    (files["dir"] / "deskboard.toml").write_text(
        CONFIG + '\n[csat]\npublic_url = "https://rate.example.com/"\ncompany_name = "A & B IT"\n'
    )
    env = {**files["env"], "CSAT_LINK_SECRET": "s3cret-for-links"}
    out = invoke(env, "csat", "links", "501", "--json")
    assert out.exit_code == 0, out.output
    links = json.loads(out.stdout)
    assert list(links) == ["positive", "neutral", "negative"]
    for face, url in links.items():
        prefix = f"https://rate.example.com/csat/501/{face}/"
        assert url.startswith(prefix)
        assert url[len(prefix) :] == ticket_signature("s3cret-for-links", 501)
    plain = invoke(env, "csat", "links", "501")
    assert plain.stdout.splitlines() == [f"{face}: {url}" for face, url in links.items()]

    template = invoke(env, "csat", "template")
    assert template.exit_code == 0, template.output
    signature = template_signature("s3cret-for-links")
    for face in ("positive", "neutral", "negative"):
        assert f'href="https://rate.example.com/csat/[srnumber]/{face}/{signature}"' in (
            template.stdout
        )
    assert "A &amp; B IT" in template.stdout
    assert "s3cret-for-links" not in template.stdout + out.stdout


@pytest.mark.parametrize(
    ("extra", "secret", "error"),
    [
        ('\n[csat]\npublic_url = "https://rate.example.com"\n', None, "error: CSAT_LINK_SECRET: "),
        ("", "s3cret", "error: csat.public_url: "),
    ],
)
def test_links_need_a_secret_and_a_public_address(files, extra, secret, error):
    (files["dir"] / "deskboard.toml").write_text(CONFIG + extra)
    env = dict(files["env"])
    if secret:
        env["CSAT_LINK_SECRET"] = secret
    result = invoke(env, "csat", "links", "501")
    assert result.exit_code == 2
    assert result.stderr.startswith(error)
