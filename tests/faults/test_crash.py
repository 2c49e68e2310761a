"""SIGKILL at random (seeded) points during sync and during posting, restart, repeat: the
final database and the messages Slack received are those of a run that was never killed.

The process under test is ``tests.faults.crash_driver``: ``deskboard run``'s service and
scheduler jobs, talking HTTP to the simulator and the fake Slack in this process. The kills
come from here, at the simulator's k-th request of a step (anywhere in the sync: reference
data, counting, a ticket page, a ticket's notes) or right after the fake Slack has stored
the m-th message of a step and before it answers (the instant exactly-once is about).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from psa.connectwise.simulator import Fault, SimulatorServer
from storage.db import create_engine_for
from tests.bot.slack.fake_slack import FakeSlack
from tests.faults.world import (
    ADMIN,
    DRAIN,
    STEPS,
    delivered,
    make_msp,
    table_checksum,
    watching_since_start,
)

SEED = int(os.environ.get("DESKBOARD_CRASH_SEED", "5"))  # another seed: other kill points
ROOT = Path(__file__).resolve().parents[2]
CONFIG_TOML = """\
timezone = "America/Chicago"

[kudos]
channel = "#kudos"
daily_cap = 50

[nudges]
enabled = false

[[contests]]
name = "Most resolved"
metric = "resolved"
period = "monthly"
"""


@dataclass(frozen=True)
class Kill:
    step: int
    where: str  # "sync": the simulator's nth request of the step; "post": Slack's nth post
    nth: int


def kill_plan(seed: int) -> list[Kill]:
    """Three kills in the sync and three in the posting, at steps and points drawn from
    ``seed``; each lands where the step surely gets to (the first sync makes over a hundred
    requests, a later one at least three; each step posts a kudos or more)."""
    rng = random.Random(seed)
    steps = range(len(STEPS))
    kills = [
        Kill(step, "sync", rng.randint(1, 100 if step == 0 else 3)) for step in rng.sample(steps, 3)
    ]
    kills += [Kill(step, "post", 1) for step in rng.sample(steps, 3)]
    return sorted(kills, key=lambda k: (k.step, k.where == "post"))


class Harness:
    """Starts the driver, answers its steps, and kills it where the plan says."""

    def __init__(
        self, folder: Path, database_url: str, simulator: SimulatorServer, slack: FakeSlack
    ) -> None:
        self.folder = folder
        self.simulator = simulator
        self.slack = slack
        self.database_url = database_url
        self.process: subprocess.Popen[str] | None = None
        self.kills = 0
        engine = create_engine_for(database_url)
        watching_since_start(engine)
        engine.dispose()
        self._lock = threading.Lock()
        (folder / "deskboard.toml").write_text(CONFIG_TOML)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DESKBOARD_DATABASE_URL": self.database_url,
            "CW_API_URL": self.simulator.url,
            "CW_COMPANY": self.simulator.company,
            "CW_PUBLIC_KEY": self.simulator.public_key,
            "CW_PRIVATE_KEY": self.simulator.private_key,
            "CW_CLIENT_ID": self.simulator.client_id,
            "SLACK_BOT_TOKEN": "xoxb-crash",
            "SLACK_SIGNING_SECRET": "crash-secret",
            "SLACK_API_URL": self.slack.api_url,
        }

    def kill(self) -> None:
        """SIGKILL the driver now, and wait until it is gone, before answering anything."""
        with self._lock:
            process = self.process
            if process is None or process.poll() is not None:
                return
            process.send_signal(signal.SIGKILL)
            process.wait()
            self.kills += 1

    def arm(self, kill: Kill) -> None:
        if kill.where == "sync":
            self.simulator.inject(
                Fault(method=None, path=None, skip=kill.nth - 1, times=1, action=self.kill)
            )
            return
        posts = [0]

        def hook() -> None:
            posts[0] += 1
            if posts[0] == kill.nth:
                self.kill()

        self.slack.hooks["chat.postMessage"] = hook

    def disarm(self) -> None:
        self.simulator.clear_faults()
        self.slack.hooks.clear()

    def run(self, plan: list[Kill]) -> int:
        """Start the driver until it finishes every step; how many times it was started."""
        moments = [*STEPS, DRAIN]
        pending = list(plan)
        starts = 0
        while True:
            starts += 1
            assert starts <= len(plan) + 2, "the driver keeps failing"
            command = [sys.executable, "-m", "tests.faults.crash_driver"]
            command += ["--config", str(self.folder / "deskboard.toml")]
            command += ["--progress", str(self.folder / "progress.txt")]
            for moment in moments:
                command += ["--at", moment.isoformat()]
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            self.process = process
            assert process.stdin is not None
            assert process.stdout is not None
            finished = False
            for line in process.stdout:
                if line.startswith("STEP "):
                    step = int(line.split()[1])
                    self.disarm()
                    self.simulator.clock = moments[step]
                    if pending and pending[0].step <= step:
                        self.arm(pending.pop(0))
                    try:
                        process.stdin.write("go\n")
                        process.stdin.flush()
                    except BrokenPipeError:
                        break
                elif line.startswith("DONE"):
                    finished = True
            code = process.wait()
            self.disarm()
            if finished:
                assert code == 0
                return starts
            assert code == -signal.SIGKILL


def test_killed_runs_end_like_one_never_killed(tmp_path, database_url, reference):
    plan = kill_plan(SEED)
    with (
        SimulatorServer(make_msp(), clock=STEPS[0]) as simulator,
        FakeSlack(users=[ADMIN]) as slack,
    ):
        harness = Harness(tmp_path, database_url, simulator, slack)
        starts = harness.run(plan)
        assert table_checksum(database_url) == reference.checksum
        assert delivered(slack) == reference.delivered  # every message, none twice
        assert harness.kills == len(plan)  # every planned kill found its moment
        assert starts == len(plan) + 1
        # The messages Slack took from a process killed before it heard back were looked up
        # in the channel's history by a later run, found, and not posted again.
        assert len(slack.calls_to("conversations.history")) >= 3
