"""Slack misbehaving while the outbox delivers: 429 storms, 500s (before and after Slack
posted the message), dropped connections, ``invalid_auth``, ``channel_not_found``.

Whatever happens, every queued message reaches Slack exactly once (counted by the outbox key
each message carries in its metadata), the jobs survive, and both statuses show the delivery
error while it lasts. A permanent error is not retried for ever: it ends in "given up".
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.core.delivery import MAX_ATTEMPTS
from tests.faults.world import DRAIN, STEPS, World, delivered

POST = "chat.postMessage"

SLACK_FAULTS = {
    # name: (outage of chat.postMessage, what status shows, was anything posted meanwhile)
    "429-storm": ("ratelimited", "ratelimited", False),
    "http-500": ("http500", "SlackApiError", False),
    "500-after-posting": ("accepted_http500", "SlackApiError", True),
    "connection-dropped-after-posting": ("accepted_drop", "RemoteDisconnected", True),
    "invalid_auth": ("invalid_auth", "invalid_auth (check SLACK_BOT_TOKEN)", False),
    "channel_not_found": ("channel_not_found", "channel_not_found", False),
}


def kudos_keys(world: World) -> list[str]:
    with world.engine.connect() as connection:
        query = text("SELECT key FROM outbox ORDER BY id")
        return [row[0] for row in connection.execute(query)]


@pytest.mark.parametrize("name", list(SLACK_FAULTS))
def test_a_slack_fault_delays_messages_but_delivers_each_exactly_once(name, world, reference):
    outage, shown, posted_anyway = SLACK_FAULTS[name]
    world.at(STEPS[0])
    world.cycle()
    before = set(delivered(world.slack))

    world.at(STEPS[1])
    world.slack.outages[POST] = outage
    world.cycle()  # raises nothing
    queued = set(kudos_keys(world)) - before
    assert queued  # this step resolved tickets that earn kudos
    if posted_anyway:  # Slack holds them, but the outbox could not know
        assert set(delivered(world.slack)) == before | queued
    else:
        assert set(delivered(world.slack)) == before
    cli, slash = world.cli_status(), world.slash_status()
    assert f"Messages waiting: {len(queued)}" in cli
    assert "Delivery error:   2026-11-19 12:00 CST:" in cli
    assert shown in cli
    assert "Last delivery error (Thu 19 Nov 2026 12:00 CST)" in slash
    assert shown in slash
    if name == "invalid_auth":
        # Every message would meet the same refusal: each delivery pass (the sync job's and
        # the deliver job's) stopped at its first message instead of trying them all.
        assert len(queued) >= 3
        assert len(world.slack.calls_to(POST)) == len(before) + 2

    del world.slack.outages[POST]
    for moment in [*STEPS[2:], DRAIN]:
        world.at(moment)
        world.cycle()

    assert delivered(world.slack) == reference.delivered
    assert set(delivered(world.slack).values()) == {1}  # none twice, after-posting faults too
    assert world.checksum() == reference.checksum
    cli = world.cli_status()
    assert "Messages waiting: 0" in cli
    assert "Delivery error" not in cli  # every failed message has gone out since
    if posted_anyway:
        # The retry looked the message up in the channel's history and found it there.
        assert world.slack.calls_to("conversations.history")


@pytest.mark.parametrize("outage", ["invalid_auth", "channel_not_found"])
def test_a_permanent_slack_error_is_given_up_after_max_attempts_and_shown(outage, world):
    world.at(STEPS[0])
    world.slack.outages[POST] = outage
    world.cycle()
    queued = kudos_keys(world)
    assert queued

    # The deliver job runs every 10 s; move the clock past each retry until nothing is due.
    for _ in range(len(queued) * MAX_ATTEMPTS + 5):
        world.now += DRAIN - STEPS[0]  # hours: longer than the longest backoff
        world.jobs["deliver"]()
    calls = len(world.slack.calls_to(POST))
    assert calls == len(queued) * MAX_ATTEMPTS  # each tried MAX_ATTEMPTS times, no more
    world.now += DRAIN - STEPS[0]
    world.jobs["deliver"]()
    assert len(world.slack.calls_to(POST)) == calls  # given up: never tried again

    cli, slash = world.cli_status(), world.slash_status()
    assert f"Messages given up: {len(queued)}" in cli
    assert outage in cli
    assert f"Messages given up: {len(queued)}" in slash
    assert world.slack.posted == []
