"""Each technician's nudge digest goes to that technician's own DM and lists only the tickets
they were nudged about: nobody sees a colleague's tickets."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime

from slack_sdk import WebClient

from bot.config import parse_config
from bot.core.runtime import Runtime
from bot.slack.messenger import SlackMessenger
from storage import notices, repo
from storage.db import session_scope
from tests.bot.slack.conftest import BLESSING, END, JORDAN, SARAH, TUAN, blocks_of

USERS = {"bokafor": BLESSING, "jsmith": JORDAN, "tnguyen": TUAN, "scohen": SARAH}
FRIDAY_AFTERNOON = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 15:00 in Chicago


def test_each_digest_reaches_its_technician_with_only_their_tickets(engine, simulator, slack):
    wanted: dict[str, set[int]] = defaultdict(set)
    with session_scope(engine) as session:
        for t in repo.iter_tickets(session):
            member = t.resolver_key
            if member in USERS and t.type is None and t.resolved_at and len(wanted[member]) < 3:
                wanted[member].add(t.id)
        notices.record_nudges(
            session,
            items=[(tid, "uncategorized", m) for m, ids in wanted.items() for tid in ids],
            at=END,
        )
    assert len(wanted) >= 2, "the simulated MSP needs uncategorized tickets of two technicians"

    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    runtime = Runtime(
        engine=engine,
        config=parse_config({"timezone": "America/Chicago"}),
        messengers=(
            SlackMessenger(
                client, engine=engine, clock=lambda: FRIDAY_AFTERNOON, sleep=lambda _: 0
            ),
        ),
        psa=simulator.connectwise_client,
        clock=lambda: FRIDAY_AFTERNOON,
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )
    assert runtime.post_nudges() == len(wanted)
    assert runtime.deliver().sent == len(wanted)

    received: dict[str, set[int]] = {}
    for call in slack.calls_to("chat.postMessage"):
        channel = call.params["channel"]
        assert channel.startswith("D"), channel  # DMs only
        user = channel.removeprefix("D")
        blocks = blocks_of(call.params)
        ids = {int(m) for b in blocks if (m := _nudge_id(b.get("block_id") or ""))}
        assert user not in received
        received[user] = ids
    assert received == {USERS[m].id: ids for m, ids in wanted.items()}


def _nudge_id(block_id: str) -> str | None:
    match = re.fullmatch(r"nudge:(\d+)", block_id)
    return match.group(1) if match else None
