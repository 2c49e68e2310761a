"""No secret reaches a log, the terminal or an error message.

Real-looking secrets are set in the environment; every log record at DEBUG (root, so httpx,
httpcore, slack_sdk, urllib3, sqlalchemy and our own loggers alike) and everything printed is
captured while the real ``deskboard`` commands run: syncs against the ConnectWise simulator
(one refused with 401), ``status``, a Slack and Teams-workflow post that fail, bad settings and
a bad config at start, an unreachable database, and ``run --dry-run`` in a process of its own.
None of the secrets may show, nor the base64 forms they travel in (ConnectWise's Basic auth).

With PostgreSQL on 127.0.0.1:5432 (trust auth, as in CI) the database URL carries a password
and every command uses it; without it the password only travels in the unreachable-database
case.
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from bot.cli import app
from psa.connectwise.simulator import SimulatorServer, generate_msp
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.teams.test_workflow import FakeWorkflow

START = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)

COMPANY = "velocity_it"
PUBLIC_KEY = "Hb4Nc7Lf1Jy5Tg8S"
PRIVATE_KEY = "Zp3Kd8Rt6Wm2Qx9VbL4n"
WRONG_PRIVATE_KEY = "Qe7Wm1Lp9Xc3Vb8NzR2t"
CLIENT_ID = "f3b9c2d1-7a4e-4c8b-9d2f-6e1a0b5c7d93"
SLACK_BOT_TOKEN = "xoxb-2741963802-5839201746-Qm7rT2kVbN9xLwZp4cY8dHfE"
SLACK_APP_TOKEN = "xapp-1-A05QM7RT2KV-5839201746123-8f3c1e9a7b2d4f6e0a1c3e5b7d9f2a4c"
SLACK_SIGNING_SECRET = "8f3c1e9a7b2d4f6e0a1c3e5b7d9f2a4c"
SLACK_CLIENT_SECRET = "c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6"
TEAMS_CLIENT_SECRET = "Xq8Q~vR2nT5yU8wA1bC4dE7fG0hJ3kL6mN9pSx"
WORKFLOW_SIG = "Wf9sIgNaTuReVaLuE0123456789abcdefXYZ"
DB_PASSWORD = "Pg5ecretPassw0rdQ7"

CONFIG = """
timezone = "America/Chicago"
[[contests]]
name = "Most resolved"
metric = "resolved"
period = "monthly"
channel = "#wins"
"""


def forbidden() -> list[str]:
    """Every secret, and the forms it travels in."""
    values = [
        PUBLIC_KEY,
        PRIVATE_KEY,
        WRONG_PRIVATE_KEY,
        SLACK_BOT_TOKEN,
        SLACK_APP_TOKEN,
        SLACK_SIGNING_SECRET,
        SLACK_CLIENT_SECRET,
        TEAMS_CLIENT_SECRET,
        WORKFLOW_SIG,
        DB_PASSWORD,
    ]
    for key in (PRIVATE_KEY, WRONG_PRIVATE_KEY):
        basic = f"{COMPANY}+{PUBLIC_KEY}:{key}".encode()
        values.append(base64.b64encode(basic).decode())
    values += [quote(v, safe="") for v in values]
    return sorted(set(values))


def assert_no_secret(text: str, where: str) -> None:
    shown = [secret for secret in forbidden() if secret in text]
    assert not shown, f"{where} shows {shown}"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    msp = generate_msp(seed=3, start=START, end=END, tickets_per_workday=6)
    with SimulatorServer(
        msp,
        clock=END,
        company=COMPANY,
        public_key=PUBLIC_KEY,
        private_key=PRIVATE_KEY,
        client_id=CLIENT_ID,
    ) as server:
        yield server


def _postgres_url(password: str) -> str | None:
    """A new, empty PostgreSQL database whose URL carries ``password``, or None without one."""
    try:
        import psycopg

        name = f"deskboard_secrets_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=2",
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception:
        return None
    return f"postgresql+psycopg://postgres:{password}@127.0.0.1:5432/{name}"


def _drop_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    postgres = _postgres_url(DB_PASSWORD)
    if postgres is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('secrets') / 'deskboard.db'}"
        return
    yield postgres
    _drop_postgres(postgres)


@pytest.fixture
def env(
    simulator: SimulatorServer, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deskboard.toml").write_text(CONFIG)
    return {
        "CW_API_URL": simulator.url,
        "CW_COMPANY": COMPANY,
        "CW_PUBLIC_KEY": PUBLIC_KEY,
        "CW_PRIVATE_KEY": PRIVATE_KEY,
        "CW_CLIENT_ID": CLIENT_ID,
        "DESKBOARD_DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_CLIENT_ID": "1234567890.0987654321",
        "SLACK_CLIENT_SECRET": SLACK_CLIENT_SECRET,
        "TEAMS_CLIENT_SECRET": TEAMS_CLIENT_SECRET,
        # Teams is on, but no contest has a Teams channel: it is built and never posts
        "TEAMS_CLIENT_ID": "00000000-0000-4000-8000-00000000d35c",
    }


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "slack_sdk", "slack_bolt", "urllib3", "sqlalchemy"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run ``deskboard *args``; its exit code and all it printed, with any exception shown
    as Python would print it."""
    result = CliRunner().invoke(app, list(args), env=env)
    shown = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        shown += "".join(traceback.format_exception(result.exception))
    return result.exit_code, shown


def test_sync_status_and_failing_posts_keep_every_secret(
    env: dict[str, str], simulator: SimulatorServer, logs: pytest.LogCaptureFixture
):
    code, shown = invoke(env, "sync", "--since", "2026-11-01")
    assert code == 0, shown
    assert "Synced:" in shown
    assert any(r.name == "httpx" for r in logs.records)  # the requests were logged
    assert simulator.requests, "the sync reached the simulator"

    refused = {**env, "CW_PRIVATE_KEY": WRONG_PRIVATE_KEY}
    code, refusal = invoke(refused, "sync")
    assert code == 1
    assert "401" in refusal or "credentials" in refusal.lower(), refusal
    shown += refusal

    code, status = invoke(env, "status")
    assert code == 0
    assert "Tickets stored:" in status
    shown += status

    with FakeSlack() as slack:
        slack.failures["chat.postMessage"] = "invalid_auth"
        workflow = FakeWorkflow(statuses=[500] * 10)
        workflow.start()
        try:
            poster = {
                **env,
                "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
                "SLACK_API_URL": slack.api_url,
                "TEAMS_WORKFLOW_URL": workflow.url.replace("s3cr3t-signature-value", WORKFLOW_SIG),
            }
            code, posted = invoke(poster, "post", "leaderboard")
        finally:
            workflow.stop()
    assert code == 1, posted  # a post that failed is the command's failure...
    assert "failed 2" in posted  # ...both did (and stay queued for the next try)
    assert slack.calls_to("chat.postMessage")
    assert workflow.requests
    assert any(WORKFLOW_SIG in path for path, _, _ in workflow.requests)  # it was used
    shown += posted

    assert_no_secret(shown, "the terminal")
    assert_no_secret(logs.text, "the log")
    for record in logs.records:  # the message and what a handler may format from args
        assert_no_secret(record.getMessage() + repr(record.args), f"log record {record.name}")


def test_bad_settings_a_bad_config_and_an_unreachable_database_keep_every_secret(
    env: dict[str, str], tmp_path: Path, logs: pytest.LogCaptureFixture
):
    shown = ""
    code, out = invoke({**env, "PORT": "not-a-port"}, "status")
    assert code == 2
    assert "PORT" in out
    shown += out

    (tmp_path / "bad.toml").write_text('timezone = "Mars/Olympus"\n')
    code, out = invoke(env, "run", "--config", str(tmp_path / "bad.toml"))
    assert code == 2
    assert "timezone" in out
    shown += out

    unreachable = f"postgresql+psycopg://deskboard:{DB_PASSWORD}@127.0.0.1:1/deskboard"
    code, out = invoke({**env, "DESKBOARD_DATABASE_URL": unreachable}, "status")
    assert code != 0
    assert "127.0.0.1" in out  # the error says where it could not connect
    shown += out

    assert_no_secret(shown, "the terminal")
    assert_no_secret(logs.text, "the log")


def test_run_dry_run_start_up_in_its_own_process_keeps_every_secret(
    env: dict[str, str], simulator: SimulatorServer, tmp_path: Path
):
    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
        "from bot.cli import main\n"
        "sys.argv = ['deskboard', 'run', '--dry-run']\n"
        "main()\n"
    )
    process_env = {
        **os.environ,
        **env,
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    before = len(simulator.requests)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", script], env=process_env, stdout=stdout, stderr=stderr
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                synced = any(
                    r.path.endswith("/service/tickets") for r in simulator.requests[before:]
                )
                if (
                    "Deskboard is running" in out.read_text()
                    and synced
                    and "sync" in (err.read_text())
                ):
                    break
                time.sleep(0.2)
            time.sleep(1.0)  # let the first sync's log lines out
        finally:
            process.terminate()
            process.wait(timeout=30)
    printed, logged = out.read_text(), err.read_text()
    assert "Deskboard is running" in printed, printed + logged
    assert "DEBUG" in logged  # the process logged at DEBUG
    assert_no_secret(printed, "the terminal")
    assert_no_secret(logged, "the log")


def test_every_secret_setting_is_a_secret_str_and_never_shown(env: dict[str, str]):
    from pydantic import SecretStr

    from bot.settings import Settings

    everything = {
        **env,
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
        "TEAMS_WORKFLOW_URL": f"https://example.invalid/flow?sig={WORKFLOW_SIG}",
        "DESKBOARD_DATABASE_URL": f"postgresql+psycopg://u:{DB_PASSWORD}@db.invalid/d",
    }
    settings = Settings(_env_file=None, **everything)  # type: ignore[arg-type]
    secret_names = {
        "database_url", "cw_public_key", "cw_private_key", "cw_client_id", "slack_bot_token",
        "slack_app_token", "slack_signing_secret", "slack_client_secret", "teams_client_secret",
        "teams_workflow_url",
    }  # fmt: skip
    for name in secret_names:
        assert isinstance(getattr(settings, name), SecretStr), name
    shown = repr(settings) + str(settings) + settings.model_dump_json() + repr(vars(settings))
    assert_no_secret(shown, "the settings' repr and dump")
