"""Every command is acked at once, however busy the listeners are: Slack's 3 seconds are never
spent waiting for another request's slow work (issue 11: five slow ``/leaderboard year``
starved ``/deskboard help`` of its ack)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from bot.core.sync import SyncReport
from bot.slack.app import LISTENER_THREADS, build_slack_app
from tests.bot.slack.conftest import ADMIN, JORDAN, slash

SLACK_PATIENCE = 3.0


def test_help_is_acked_at_once_while_every_listener_is_busy(deps, client, slack):
    release = threading.Event()
    started: list[float] = []

    def slow_sync() -> SyncReport:
        started.append(time.monotonic())
        release.wait(60)  # a sync that takes as long as the test wants
        raise RuntimeError("ConnectWise went away")

    app = build_slack_app(deps=replace(deps, sync=slow_sync), client=client)
    busy = LISTENER_THREADS + 5  # more slow requests than there are listener threads
    with ThreadPoolExecutor(max_workers=busy) as pool:
        acks = list(
            pool.map(lambda _: slash(app, slack, "/deskboard", "sync", user=ADMIN), range(busy))
        )
        deadline = time.monotonic() + 10
        while len(started) < LISTENER_THREADS and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(started) == LISTENER_THREADS  # every listener thread is stuck in a sync

        began = time.monotonic()
        help_ack = slash(app, slack, "/deskboard", "help", user=JORDAN)
        help_took = time.monotonic() - began
        release.set()

    assert [a.status for a in acks] == [200] * busy
    assert help_ack.status == 200
    assert help_took < SLACK_PATIENCE / 3, f"the ack took {help_took:.2f} s"
    # and no work was lost: every request got its answer once the syncs gave up (a sync
    # answers twice: "Syncing…" at once, then how it went)
    answers = slack.wait_for_response(count=2 * busy + 1)
    shown = [str(a.get("text")) for a in answers]
    assert sum("The sync failed" in text for text in shown) == busy
    assert sum("Deskboard commands" in str(a) for a in answers) == 1
