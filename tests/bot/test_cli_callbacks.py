"""`deskboard connectwise register-callback URL` against the simulator: registers once, a
second run changes nothing, bad input and ConnectWise errors are explained."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from bot.cli import app
from psa.connectwise.simulator import SimulatorServer, generate_msp
from tests.environment import connectwise_environment

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 6, 23, 0, tzinfo=UTC)
URL = "https://deskboard.example.com/connectwise/callback"


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    msp = generate_msp(seed=3, start=START, end=END, tickets_per_workday=5)
    with SimulatorServer(msp, clock=END) as running:
        yield running


@pytest.fixture
def env(server, tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    return {
        **connectwise_environment(server),
    }


def register(env: dict[str, str], url: str = URL):
    return CliRunner().invoke(app, ["connectwise", "register-callback", url], env=env)


def test_registers_a_ticket_callback_once(server, env):
    first = register(env)
    assert first.exit_code == 0, first.output
    assert "Registered callback 1" in first.output
    (entry,) = server.callbacks.entries
    assert (entry["url"], entry["type"], entry["level"], entry["objectId"]) == (
        URL,
        "ticket",
        "owner",
        1,
    )
    assert "Deskboard" in entry["description"]

    again = register(env, URL.replace("deskboard.example.com", "Deskboard.Example.com") + "/")
    assert again.exit_code == 0, again.output
    assert "Already registered as callback 1; nothing changed." in again.output
    assert f"Ticket callback 1: {URL}" in again.output  # what exists is reported
    assert len(server.callbacks.entries) == 1


def test_another_url_is_added_beside_the_existing_one(server, env):
    assert register(env).exit_code == 0
    other = register(env, "https://standby.example.com/connectwise/callback")
    assert other.exit_code == 0, other.output
    assert f"Ticket callback 1: {URL}" in other.output
    assert "Registered callback 2" in other.output
    assert len(server.callbacks.entries) == 2


@pytest.mark.parametrize("url", ["deskboard.example.com/connectwise/callback", "ftp://x/y", ""])
def test_a_bad_url_is_refused_before_anything_is_sent(server, env, url):
    server.clear_requests()
    result = register(env, url)
    assert result.exit_code == 2
    assert "is not an http(s) URL" in result.output
    assert server.requests == []


def test_missing_connectwise_settings_are_named(env):
    result = register({**env, "CW_CLIENT_ID": ""})
    assert result.exit_code == 2
    assert "set CW_CLIENT_ID" in result.output


def test_a_connectwise_error_is_explained_and_registers_nothing(server, env):
    result = register({**env, "CW_PRIVATE_KEY": "wrong-private-key"})
    assert result.exit_code == 1
    assert "ConnectWise:" in result.output
    assert "CW_PRIVATE_KEY" in result.output  # which setting to check
    assert "wrong-private-key" not in result.output
    assert server.callbacks.entries == []


def test_an_odd_path_is_registered_with_a_note(server, env):
    result = register(env, "https://proxy.example.com/hooks/cw")
    assert result.exit_code == 0, result.output
    assert "receives callbacks at /connectwise/callback" in result.output
    assert len(server.callbacks.entries) == 1
