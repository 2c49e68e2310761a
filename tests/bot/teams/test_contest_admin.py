"""Contests managed from Teams (README "Running a contest"): ``contest new|list|end`` as
messages, the form card and the contests card through real ``Action.Execute`` invokes (field
errors, refusals, saving), and one program for every platform: a contest created in Slack
shows in Teams and in ``deskboard standings``, and exports to a TOML file that imports back
to the same program."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from typer.testing import CliRunner

import bot.cli_common
from bot.cli import app as cli
from bot.config import load_config
from bot.core.boards import find_board, new_board
from bot.core.program import LiveConfig, adopt_file_program
from bot.settings import Settings
from bot.slack.app import build_slack_app
from bot.slack.deps import SlackDeps
from bot.slack.messenger import SlackMessenger
from bot.teams.cards import validate_card
from bot.teams.deps import TeamsDeps
from storage import program as store
from storage.db import create_engine_for, session_scope
from tests.bot.slack import conftest as slack_side
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.teams.conftest import (
    DIRECTOR,
    GUEST,
    NOW,
    make_config,
    personal,
    post,
)
from tests.bot.teams.fake_connector import FakeConnector, card_of, card_texts
from tests.bot.teams.schema import assert_schema_valid
from tests.bot.teams.test_app import ask, in_chat
from tests.databases import Databases

ADMINS = "Only Deskboard admins can change contests."
CONFIG_TOML = """
timezone = "America/Chicago"
[teams]
admins = ["scohen", "IT.Director@velocity-it.example"]
[[contests]]
name = "Most resolved"
metric = "resolved"
period = "monthly"
teams_channel = "Support/Wins"
[[contests]]
name = "Clean tickets"
metric = "categorized_pct"
period = "weekly"
min_resolved = 1
"""


@pytest.fixture
def deps(deps: TeamsDeps, engine: Engine) -> TeamsDeps:
    return replace(deps, live=LiveConfig.adopt(engine, make_config(), now=NOW))


def valid(card: dict[str, Any]) -> dict[str, Any]:
    validate_card(card, limit=38_000)
    assert_schema_valid(card)
    return card


def click(app, connector, user, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    (response,) = post(app, slack_free_invoke(connector, user, verb, data))
    assert response.status_code == 200
    return response.json()


def slack_free_invoke(connector: FakeConnector, user, verb: str, data: dict[str, Any]):
    from tests.bot.teams.conftest import invoke

    return invoke(personal(connector, user), user=user, verb=verb, data=data)


def words(card: dict[str, Any]) -> str:
    """The card's text without the markdown escapes of untrusted text."""
    return card_texts(card).replace("\\", "")


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card["body"] if str(e.get("type", "")).startswith("Input.")}


def form_data(card: dict[str, Any], **values: str) -> dict[str, Any]:
    """What Teams sends with Save: every input's value (changed ones from ``values``) and the
    button's data."""
    save = next(a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"])
    data = {k: v.get("value", "") for k, v in inputs(card).items()}
    return {**data, **values, **save["data"]}


def test_contest_new_answers_with_a_valid_form_card(app, connector):
    (reply,) = ask(app, connector, in_chat(DIRECTOR, "deskboard contest new", connector))
    card = valid(card_of(reply))
    fields = inputs(card)
    assert {"name", "metric", "period", "start", "end", "kind", "places", "goal", "goals"} <= set(
        fields
    )
    assert "teams_channel" in fields
    titles = [c["title"] for c in fields["metric"]["choices"]]
    assert "SLA · Avg response (min)" in titles
    assert "CSAT · Net CSAT (%)" in titles
    assert "Preview" in words(card)


def test_a_guest_gets_no_form(app, connector):
    (reply,) = ask(app, connector, in_chat(GUEST, "contest new", connector))
    assert "Only Deskboard admins can create contests" in words(card_of(reply))


def test_save_with_bad_values_gives_the_card_again_with_each_error(app, connector, engine):
    (reply,) = ask(app, connector, in_chat(DIRECTOR, "contest new", connector))
    card = card_of(reply)
    for changed, words in (
        ({"kind": "one_goal", "goal": ""}, "kind one_goal needs goal"),
        ({"post": "every fortnight"}, "is not a schedule"),
        ({"period": "fixed", "start": "2026-12-01", "end": "next week"}, "valid date"),
    ):
        data = form_data(card, name="Goal rush", **changed)
        answer = click(app, connector, DIRECTOR, "contest_save", data)
        again = valid(answer["value"])
        errors = [
            e["text"].replace("\\", "") for e in again["body"] if e.get("color") == "Attention"
        ]
        assert any(words in e for e in errors), errors
    assert inputs(again)["name"]["value"] == "Goal rush"  # what was typed stays
    with session_scope(engine) as session:
        assert store.get_item(session, kind="contest", name="Goal rush") is None


def test_save_stores_the_contest_and_shows_the_contests_card(app, connector, engine):
    (reply,) = ask(app, connector, in_chat(DIRECTOR, "contest new", connector))
    data = form_data(
        card_of(reply), name="Teams sprint", metric="resolved", teams_channel="Support/Wins"
    )
    answer = click(app, connector, DIRECTOR, "contest_save", data)
    card = valid(answer["value"])
    text = words(card)
    assert "Contest “Teams sprint” created." in text
    assert "Teams sprint" in text
    assert card["refresh"]["action"]["verb"] == "contest_list"
    with session_scope(engine) as session:
        changes = store.list_changes(session, limit=1)
    assert changes[0].actor == "Ines Director (teams 29:director)"


def test_a_guest_cannot_save_or_end(app, connector, engine):
    (reply,) = ask(app, connector, in_chat(DIRECTOR, "contest new", connector))
    data = form_data(card_of(reply), name="Sneaky")
    answer = click(app, connector, GUEST, "contest_save", data)
    assert answer["value"] == "Only Deskboard admins can change contests."
    answer = click(
        app, connector, GUEST, "contest_end", {"action": "contest_end", "value": "Most resolved"}
    )
    assert answer["value"] == "Only Deskboard admins can change contests."
    with session_scope(engine) as session:
        assert store.get_item(session, kind="contest", name="Sneaky") is None
        item = store.get_item(session, kind="contest", name="Most resolved")
    assert item is not None
    assert "ended" not in item.body


def test_end_now_from_the_contests_card(app, connector, engine):
    answer = click(
        app, connector, DIRECTOR, "contest_end", {"action": "contest_end", "value": "Most resolved"}
    )
    card = valid(answer["value"])
    assert "“Most resolved” has ended" in words(card)
    with session_scope(engine) as session:
        assert store.contest_results(session, contest="Most resolved")


def test_contest_list_for_everyone_buttons_for_admins(app, connector):
    (reply,) = ask(app, connector, in_chat(GUEST, "contest list", connector))
    guest = valid(card_of(reply))
    assert "Most resolved" in words(guest)
    assert "Edit" not in words(guest)
    assert guest["refresh"]["action"]["verb"] == "contest_list"
    assert guest["refresh"]["userIds"] == [GUEST.id]
    (reply,) = ask(app, connector, in_chat(DIRECTOR, "contest list", connector))
    admin = valid(card_of(reply))
    for title in ("New contest", "Edit", "End now", "Duplicate"):
        assert title in words(admin)


def _slack_deps(engine: Engine, slack: FakeSlack) -> SlackDeps:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, SLACK_SIGNING_SECRET=slack_side.SECRET, SLACK_BOT_TOKEN="xoxb-test"
    )
    return SlackDeps(
        engine=engine,
        config=make_config(),
        live=LiveConfig.adopt(engine, make_config(), now=NOW),
        settings=settings,
        clock=lambda: NOW,
        psa=lambda: None,  # type: ignore[arg-type,return-value]
        messenger=SlackMessenger(client, engine=engine, clock=lambda: NOW),
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )


def test_one_program_for_slack_teams_the_cli_and_a_toml_file(
    app, connector, engine, databases: Databases, tmp_path: Path, monkeypatch
):
    # Created in Slack, through a signed slash command and a signed view submission.
    users = [slack_side.ADMIN]
    with FakeSlack(users=users) as slack:
        slack_deps = _slack_deps(engine, slack)
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        bolt = build_slack_app(deps=slack_deps, client=client)
        slack_side.slash(bolt, slack, "/deskboard", "contest new", user=slack_side.ADMIN)
        call = slack.wait_for_call("views.open")[0]
        view = call.params["view"]
        view = json.loads(view) if isinstance(view, str) else view
        from tests.bot.slack.test_contest_admin import submit

        assert submit(bolt, view, {"name": "Cross-team cup", "metric": "resolved"}) == {}

    # Shown in Teams.
    (reply,) = ask(app, connector, in_chat(DIRECTOR, "contest list", connector))
    assert "Cross-team cup" in words(card_of(reply))

    # Ranked by `deskboard standings`, which reads the same database.
    (tmp_path / "deskboard.toml").write_text(CONFIG_TOML)
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DESKBOARD_DATABASE_URL", url)
    monkeypatch.setattr(bot.cli_common, "now", lambda: NOW)
    runner = CliRunner()
    standings = runner.invoke(cli, ["standings", "Cross-team cup", "--json"])
    assert standings.exit_code == 0, standings.output
    (result,) = json.loads(standings.stdout)["contests"]
    assert result["name"] == "Cross-team cup"
    assert result["ranked"]

    # Exported, then imported into an empty database: the same program.
    exported = runner.invoke(cli, ["config", "export", "program.toml"])
    assert exported.exit_code == 0, exported.output
    other = databases.empty_url()
    monkeypatch.setenv("DESKBOARD_DATABASE_URL", other)
    shown = runner.invoke(cli, ["config", "import", "program.toml"], input="n\n")
    assert shown.exit_code == 1
    assert "+ created contest “Cross-team cup”" in shown.stdout
    assert "Nothing changed." in shown.stdout
    imported = runner.invoke(cli, ["config", "import", "program.toml", "--yes"])
    assert imported.exit_code == 0, imported.output
    file_config = load_config(tmp_path / "deskboard.toml")
    first = adopt_file_program(engine, file_config, now=NOW).config.program_doc()
    second_engine = create_engine_for(other)
    try:
        second = adopt_file_program(second_engine, file_config, now=NOW).config.program_doc()
    finally:
        second_engine.dispose()
    assert second == first
    again = runner.invoke(cli, ["config", "import", "program.toml", "--yes"])
    assert "nothing to change" in again.stdout
    changes = runner.invoke(cli, ["changes", "--json"])
    actors = {c["actor"] for c in json.loads(changes.stdout)["changes"]}
    assert actors == {"deskboard.toml (first start)", "config import program.toml"}


def test_the_score_editor_in_teams(app, connector, engine):
    answer = click(app, connector, DIRECTOR, "score_new", {"action": "score_new", "value": ""})
    card = valid(answer["value"])
    assert {"name", "metric_1", "weight_1", "metric_6", "weight_6"} <= set(inputs(card))
    data = form_data(
        card, name="Points", metric_1="resolved", weight_1="2", metric_2="reopened", weight_2="-3"
    )
    hostile = "**[three](http://evil.example)**"
    bad = click(app, connector, DIRECTOR, "score_save", {**data, "weight_2": hostile})
    errors = [e["text"] for e in valid(bad["value"])["body"] if e.get("color") == "Attention"]
    # the value typed is echoed literally: every markdown character escaped
    assert r"“\*\*\[three\]\(http://evil\.example\)\*\*” is not a number\." in errors
    saved = click(app, connector, DIRECTOR, "score_save", data)
    text = words(valid(saved["value"]))
    assert "Score “Points” created." in text
    assert "**Points** = 2 × Resolved − 3 × Reopened" in text
    with session_scope(engine) as session:
        item = store.get_item(session, kind="score", name="Points")
    assert item is not None
    assert item.body["weights"] == {"resolved": 2.0, "reopened": -3.0}


def test_boards_are_revoked_from_the_contests_card(app, connector, engine):
    made, token = new_board(engine, name="Lobby", contests=[], theme="dark", actor="t", now=NOW)
    data = {"action": "board_revoke", "value": str(made.id)}
    assert click(app, connector, GUEST, "board_revoke", data)["value"] == ADMINS
    assert find_board(engine, token) is not None
    card = valid(click(app, connector, DIRECTOR, "board_revoke", data)["value"])
    assert f"Board {made.id} revoked" in words(card)
    assert find_board(engine, token) is None


def test_new_board_from_the_contests_card(app, connector, engine):
    assert click(app, connector, GUEST, "board_new", {"action": "board_new"})["value"] == ADMINS
    card = valid(click(app, connector, DIRECTOR, "board_new", {"action": "board_new"})["value"])
    fields = inputs(card)
    assert set(fields) == {"name", "shows", "theme"}
    verbs = [a["verb"] for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    assert verbs == ["board_save"]  # nothing to preview
    hostile = '<b>TV</b> & "co"'
    again = valid(
        click(app, connector, DIRECTOR, "board_save", form_data(card, name=" ", theme="light"))[
            "value"
        ]
    )
    assert "Give the board a name." in words(again)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM wallboards").scalar() == 0
    refused = click(app, connector, GUEST, "board_save", form_data(card, name=hostile))["value"]
    assert refused == ADMINS
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM wallboards").scalar() == 0
    saved = valid(
        click(app, connector, DIRECTOR, "board_save", form_data(card, name=hostile, theme="light"))[
            "value"
        ]
    )
    text = words(saved)
    match = re.search(r"/board/([A-Za-z0-9_\-]{43,})", text)
    assert match is not None, text
    board = find_board(engine, match.group(1))
    assert board is not None
    assert (board.name, board.contests, board.theme) == (hostile, (), "light")
    assert "Wallboards" in text  # the contests card again, the new board listed
