"""The program kept in the database, from the command line (README "Running a contest"):
deskboard.toml taken at start while the file is its only source, the database's program once
someone changes it elsewhere, `deskboard changes`, and `deskboard config export|import`
(a diff, a question or --yes, the file's rules and messages, nothing changed on refusal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app

CONFIG = """
timezone = "America/Chicago"
[[contests]]
name = "Clean tickets"
metric = "categorized_pct"
period = "monthly"
goal = 90
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch, database_url: str) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    return {"DESKBOARD_DATABASE_URL": database_url}


def run(env: dict[str, str], *args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), env=env, input=input)


def changes(env: dict[str, str]) -> list[dict[str, Any]]:
    result = run(env, "changes", "--json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout)["changes"])


def exported(env: dict[str, str]) -> str:
    result = run(env, "config", "export")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_file_is_the_source_until_someone_changes_the_program_elsewhere(env, tmp_path):
    assert [(c["action"], c["name"], c["actor"]) for c in changes(env)] == [
        ("created", "Clean tickets", "deskboard.toml (first start)")
    ]
    # The file changes: taken again at the next start.
    (tmp_path / "deskboard.toml").write_text(CONFIG.replace("goal = 90", "goal = 95"))
    latest = changes(env)[0]
    assert (latest["action"], latest["actor"]) == ("changed", "deskboard.toml")
    assert (latest["before"]["goal"], latest["after"]["goal"]) == (90.0, 95.0)
    assert "goal = 95.0" in exported(env)
    # Someone changes the program another way: from then on the database's applies.
    (tmp_path / "program.toml").write_text(exported(env).replace("goal = 95.0", "goal = 80.0"))
    assert run(env, "config", "import", "program.toml", "--yes").exit_code == 0
    (tmp_path / "deskboard.toml").write_text(CONFIG.replace("goal = 90", "goal = 99"))
    result = run(env, "config", "export")
    assert "goal = 80.0" in result.stdout
    assert "deskboard.toml's program differs from the database's" in result.stderr
    assert changes(env)[0]["actor"] == "config import program.toml"


def test_import_shows_the_changes_and_asks(env, tmp_path):
    exported(env)
    (tmp_path / "new.toml").write_text(
        """
[[scores]]
name = "Points"
weights = { resolved = 2, reopened = -3 }

[[contests]]
name = "Clean tickets"
metric = "categorized_pct"
period = "monthly"
goal = 92
post = "every weekday at 9:00"

[[contests]]
name = "Points race"
metric = "Points"
period = "weekly"
"""
    )
    declined = run(env, "config", "import", "new.toml", input="n\n")
    assert declined.exit_code == 1
    assert "+ created score “Points”" in declined.stdout
    assert "+ created contest “Points race”" in declined.stdout
    assert "~ changed contest “Clean tickets”: goal 90.0 → 92.0; post added: 0 9 * * mon-fri" in (
        declined.stdout
    )
    assert "Nothing changed." in declined.stdout
    assert "Points race" not in exported(env)
    accepted = run(env, "config", "import", "new.toml", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Imported new.toml: 3 changes" in accepted.stdout
    text = exported(env)
    assert 'name = "Points race"' in text
    assert 'post = "0 9 * * mon-fri"' in text


@pytest.mark.parametrize(
    ("program", "message"),
    [
        (
            '[[contests]]\nname = "X"\nmetric = "resolved"\nperiod = "weekly"\nkind = "one_goal"\n',
            "bad.toml: contests[0].goal: kind one_goal needs goal",
        ),
        (
            '[[contests]]\nname = "X"\nmetric = "speed"\nperiod = "weekly"\n',
            "bad.toml: contests[0].metric: unknown metric 'speed'",
        ),
        ("[[contests]\n", "bad.toml: not valid TOML"),
        (
            '[[scores]]\nname = "S"\nweights = {}\n',
            "bad.toml: scores[0].weights: Value error, a score needs at least one weight",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_field_and_nothing_changes(
    env, tmp_path, program, message
):
    before = exported(env)
    (tmp_path / "bad.toml").write_text(program)
    result = run(env, "config", "import", "bad.toml", "--yes")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert exported(env) == before


def test_settings_in_an_imported_file_are_named_and_left_alone(env, tmp_path):
    whole = CONFIG.replace('"America/Chicago"', '"Europe/Paris"\nweek_start = "sunday"')
    (tmp_path / "whole.toml").write_text(whole)
    result = run(env, "config", "import", "whole.toml", "--yes")
    assert result.exit_code == 0
    assert "note: whole.toml: timezone, week_start are settings, not the program" in result.stderr
    assert "nothing to change" in result.stdout


def test_a_stored_program_that_no_longer_fits_the_file_refuses_to_start(env, tmp_path):
    (tmp_path / "notes.toml").write_text(
        '[[contests]]\nname = "Follow-ups"\nmetric = "follow_up_pct"\nperiod = "monthly"\n'
    )
    assert run(env, "config", "import", "notes.toml", "--yes").exit_code == 0
    (tmp_path / "deskboard.toml").write_text(CONFIG + "[connectwise]\nsync_notes = false\n")
    result = run(env, "standings")
    assert result.exit_code == 2
    assert "follow_up_pct is counted from ticket notes" in result.stderr
    assert "the stored program does not fit this deskboard.toml" in result.stderr
