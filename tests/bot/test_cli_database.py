"""A database that cannot be opened stops a command with a clear error naming
``DESKBOARD_DATABASE_URL``, the URL's password hidden, instead of a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import app

PASSWORD = "s3cret-database-pw"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # Nothing listens on port 1: the server does not answer.
        (f"postgresql+psycopg://deskboard:{PASSWORD}@127.0.0.1:1/deskboard", "port 1 failed"),
        ("sqlite:////no-such-folder/deeper/deskboard.db", "unable to open database file"),
    ],
)
@pytest.mark.parametrize("command", [["status"], ["standings"], ["sync"], ["run", "--dry-run"]])
def test_a_database_that_cannot_be_opened_is_named_without_its_password(
    tmp_path, monkeypatch, url, reason, command
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(
        'timezone = "America/Chicago"\n'
        '[[contests]]\nname = "Most resolved"\nmetric = "resolved"\nperiod = "monthly"\n'
    )
    env = {
        "DESKBOARD_DATABASE_URL": url,
        "CW_API_URL": "http://127.0.0.1:1/v4_6_release/apis/3.0",
        "CW_COMPANY": "velocity",
        "CW_PUBLIC_KEY": "public",
        "CW_PRIVATE_KEY": "private",
        "CW_CLIENT_ID": "client",
    }
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "error: DESKBOARD_DATABASE_URL: cannot open the database " in result.output
    assert reason in result.output
    assert PASSWORD not in result.output
