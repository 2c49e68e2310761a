"""The production wiring (``deskboard run``, a process of its own) verifies every request:
Slack's signature and Teams' Bot Framework token, with the Teams SDK's own environment
switch for turning authentication off set. Nothing unsigned gets past the door."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from psa.connectwise.simulator import SimulatorServer, generate_msp
from tests.bot.slack.fake_slack import FakeSlack
from tests.environment import connectwise_environment, free_port

START = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 10, 23, 0, tzinfo=UTC)
SLASH = "command=%2Fleaderboard&text=&user_id=UBLESSING&team_id=T0DESK&trigger_id=1.2.3"
ACTIVITY = {
    "type": "message",
    "id": "1",
    "channelId": "msteams",
    "serviceUrl": "http://127.0.0.1:9/",
    "from": {"id": "29:someone", "name": "Someone"},
    "recipient": {"id": "28:00000000-0000-4000-8000-00000000d35c", "name": "Deskboard"},
    "conversation": {"id": "a:personal", "conversationType": "personal"},
    "text": "sync",
}


@pytest.fixture
def running(tmp_path: Path, database_url: str) -> Iterator[tuple[str, FakeSlack]]:
    msp = generate_msp(seed=2, start=START, end=END, tickets_per_workday=3)
    port = free_port()
    (tmp_path / "deskboard.toml").write_text('timezone = "America/Chicago"\n')
    with SimulatorServer(msp, clock=END) as simulator, FakeSlack() as slack:
        env = {
            **os.environ,
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            "DESKBOARD_DATABASE_URL": database_url,
            **connectwise_environment(simulator),
            "SLACK_BOT_TOKEN": "xoxb-1-2-production",
            "SLACK_SIGNING_SECRET": "production-signing-secret",
            "SLACK_API_URL": slack.api_url,
            "TEAMS_CLIENT_ID": "00000000-0000-4000-8000-00000000d35c",
            "TEAMS_CLIENT_SECRET": "production-teams-secret",
            "TEAMS_TENANT_ID": "11111111-2222-4333-8444-555555555555",
            "PORT": str(port),
            # The Teams SDK reads this one when not told otherwise; SKIP_AUTH is its old name:
            "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS": "true",
            "SKIP_AUTH": "true",
        }
        env.pop("SLACK_APP_TOKEN", None)
        log = (tmp_path / "run.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "-v", "run"],  # logs at INFO: no body may show
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        (tmp_path / "run.pid").write_text(str(process.pid))
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert process.poll() is None, (tmp_path / "run.log").read_text()
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.3)
            else:
                pytest.fail(
                    "deskboard run did not serve /health: " + (tmp_path / "run.log").read_text()
                )
            yield base, slack
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def test_run_refuses_unsigned_slack_and_teams_requests(running):
    base, slack = running
    form = {"content-type": "application/x-www-form-urlencoded"}
    forged = {
        **form,
        "x-slack-request-timestamp": str(int(time.time())),
        "x-slack-signature": "v0=" + "0" * 64,
    }
    assert httpx.post(f"{base}/slack/events", content=SLASH, headers=form).status_code == 401
    assert httpx.post(f"{base}/slack/events", content=SLASH, headers=forged).status_code == 401
    unsigned = httpx.post(f"{base}/api/messages", json=ACTIVITY)
    bogus = httpx.post(
        f"{base}/api/messages", json=ACTIVITY, headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert (unsigned.status_code, bogus.status_code) == (401, 401)
    assert slack.responses == []
    assert not [c for c in slack.calls if c.method != "auth.test"]  # nothing was answered


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_malformed_unsigned_requests_get_4xx_never_a_500(running):
    base, slack = running
    now = str(int(time.time()))
    attempts = [
        ("/slack/events", b"{not json", {"content-type": "application/json"}),
        ("/slack/events", b"payload=1", {"content-type": "application/x-www-form-urlencoded"}),
        (
            "/slack/events",
            SLASH.encode(),
            {
                "content-type": "application/x-www-form-urlencoded",
                "x-slack-request-timestamp": "abc",
                "x-slack-signature": "v0=" + "0" * 64,
            },
        ),
        (
            "/slack/events",
            b'{"type": "url_verification", "challenge": "x"}',
            {"content-type": "application/json", "x-slack-request-timestamp": now},
        ),
        ("/connectwise/callback", b"[" * 100_000 + b"]" * 100_000, {"x-content-signature": "AA=="}),
        (
            "/connectwise/callback",
            json.dumps(
                {
                    "Action": "updated",
                    "Type": "ticket",
                    "ID": 1,
                    "Metadata": {"key_url": "http://127.0.0.1:9/\tkey"},
                }
            ).encode(),
            {"x-content-signature": "AA=="},
        ),
        ("/api/messages", b"", {"content-type": "application/json"}),
        ("/api/messages", b"[1]", {"content-type": "application/json"}),
        ("/api/messages", b"[" * 100_000, {"content-type": "application/json"}),
    ]
    statuses = {}
    for path, body, headers in attempts:
        statuses[(path, body[:30])] = httpx.post(
            base + path, content=body, headers=headers
        ).status_code
    assert all(400 <= status < 500 for status in statuses.values()), statuses
    slack_statuses = [s for (path, _), s in statuses.items() if path == "/slack/events"]
    assert slack_statuses == [401, 401, 401, 401]
    assert slack.responses == []


def test_oversized_bodies_are_refused_before_they_are_read_and_never_logged(running, tmp_path):
    base, _ = running
    (pid,) = [int(p) for p in (tmp_path / "run.pid").read_text().split()]
    marker = b"BODY-MARKER-" + b"x" * 1000
    before = rss_kib(pid)

    declared = httpx.post(
        f"{base}/slack/events",
        content=marker * 50_000,  # 50 MB, with its Content-Length
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    def chunks():
        for _ in range(50_000):
            yield marker

    try:
        streamed = httpx.post(
            f"{base}/connectwise/callback",
            content=chunks(),
            headers={"x-content-signature": "AA=="},
        ).status_code
    except httpx.TransportError:  # the server answered 413 and closed while we still sent
        streamed = 413
    small = httpx.post(
        f"{base}/slack/events", content=marker, headers={"x-slack-signature": "v0=1"}
    )
    grown = rss_kib(pid) - before

    assert declared.status_code == 413
    assert streamed == 413
    assert small.status_code == 401
    assert grown < 30 * 1024, f"the process grew by {grown} KiB"
    assert b"BODY-MARKER" not in (tmp_path / "run.log").read_bytes()
