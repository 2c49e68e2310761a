"""SLA-risk alerts end to end to the fake Slack: an emergency entered at night in the
simulator is alerted in the channel (escaped, with Take it and Open in ConnectWise) and to its
owner, once across syncs and a restart, and updated in place when it is answered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.config import parse_config
from bot.core.runtime import Runtime
from bot.slack.messenger import SlackMessenger
from metrics.records import TicketRecord, member_key
from psa.connectwise.mapping import map_ticket
from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from psa.connectwise.simulator.model import to_epoch
from storage import people, repo
from storage.db import create_engine_for, migrate, session_scope
from tests.bot.slack.conftest import (
    GUEST,
    JORDAN,
    blocks_of,
    interact,
    open_ticket_answered_by_its_technician,
    texts,
)
from tests.bot.slack.fake_slack import TEAM_ID, FakeSlack, SlackUser

START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
END = datetime(2026, 11, 13, 23, 0, tzinfo=UTC)
HOSTILE = "<!channel> server & <b>down</b>"
CONFIG = {
    "timezone": "America/Chicago",
    "connectwise": {"sync_notes": False},
    "csat": {"surveys": False},
    "nudges": {"enabled": False},
    "categories": {"emergency": {"priority": ["*Emergency*"]}},
    "alerts": [
        {
            "name": "Emergency unanswered",
            "category": "emergency",
            "when": "unanswered",
            "after": "15m",
            "clock": "calendar",
            "notify": ["owner", "channel"],
            "channel": "CALERTS",
            "mention": "S0ONCALL",
        },
        {
            "name": "Emergency unresolved",
            "category": "emergency",
            "when": "unresolved",
            "after": "30m",
            "clock": "calendar",
            "notify": "owner",
        },
    ],
}


@pytest.fixture(scope="module")
def msp() -> SimulatedMSP:
    return generate_msp(
        seed=31, start=START, end=END, tickets_per_workday=10, night_emergencies=True
    )


def night_emergency(msp: SimulatedMSP) -> TicketRecord:
    """The first emergency entered at night that waited more than 20 minutes for an answer."""
    for ticket in msp.tickets:
        record = map_ticket(ticket.render(to_epoch(END), "http://sim/apis/3.0"))
        waited = (
            record.responded_at is not None
            and record.entered_at is not None
            and record.responded_at - record.entered_at > timedelta(minutes=20)
        )
        if "Emergency" in (record.priority or "") and waited and record.owner:
            ticket.base["summary"] = HOSTILE
            return map_ticket(ticket.render(to_epoch(END), "http://sim/apis/3.0"))
    raise AssertionError("the simulator made no slow night emergency")


@pytest.fixture
def fresh_engine(database_url: str) -> Iterator[object]:
    engine = create_engine_for(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def runtime_at(engine, server: SimulatorServer, slack: FakeSlack, clock: datetime) -> Runtime:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    messenger = SlackMessenger(client, engine=engine, clock=lambda: clock, sleep=lambda _s: None)
    return Runtime(
        engine=engine,
        config=parse_config(CONFIG),
        messengers=(messenger,),
        psa=server.connectwise_client,
        clock=lambda: clock,
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )


def alert_posts(slack: FakeSlack) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "CALERTS"]


def owner_as_slack_user(msp: SimulatedMSP, owner: str) -> SlackUser:
    member = next(m for m in msp.members if m["identifier"].casefold() == owner)
    return SlackUser("UOWNER", member["primaryEmail"], member["identifier"])


def test_a_night_emergency_is_alerted_once_and_updated_when_answered(fresh_engine, msp):
    engine = fresh_engine
    emergency = night_emergency(msp)
    assert emergency.entered_at is not None
    assert emergency.responded_at is not None
    owner = member_key(emergency.owner)
    assert owner is not None
    early = emergency.entered_at + timedelta(minutes=10)
    late = emergency.entered_at + timedelta(minutes=16)
    owner_user = owner_as_slack_user(msp, owner)
    with SimulatorServer(msp, clock=early) as server, FakeSlack(users=[owner_user]) as slack:
        runtime_at(engine, server, slack, early).sync()
        assert alert_posts(slack) == []  # 10 minutes: not yet

        server.clock = late
        with session_scope(engine) as session:  # the owner opted out: a safety DM still goes
            people.set_opt_out(session, member_key=owner, opted_out=True, at=late)
        runtime_at(engine, server, slack, late).sync()
        (post,) = alert_posts(slack)
        shown = texts(blocks_of(post.params))
        assert f"#{emergency.id}" in shown
        assert "Emergency unanswered" in shown
        assert "<!subteam^S0ONCALL>" in shown
        assert "&lt;!channel&gt; server &amp; &lt;b&gt;down&lt;/b&gt;" in shown
        assert "<!channel>" not in shown
        buttons = [
            e for b in blocks_of(post.params) if b.get("type") == "actions" for e in b["elements"]
        ]
        assert [b["text"]["text"] for b in buttons] == ["Take it", "Open in ConnectWise"]
        assert buttons[1]["url"] == f"https://cw.example/ticket?id={emergency.id}"
        assert not [p for p in slack.posted if p.channel.startswith("D")]  # nobody owns it yet

        # again, and after a restart (a new runtime on the same database): nothing new
        runtime_at(engine, server, slack, late).sync()
        runtime_at(engine, server, slack, late + timedelta(minutes=1)).queue_alerts()
        runtime_at(engine, server, slack, late + timedelta(minutes=1)).deliver()
        assert len(alert_posts(slack)) == 1

        # answered: the alert is updated in place, never deleted
        answered = emergency.responded_at + timedelta(minutes=1)
        server.clock = answered
        runtime_at(engine, server, slack, answered).sync()
        posted_ts = next(p.ts for p in slack.posted if p.channel == "CALERTS")
        updates = [
            c
            for c in slack.calls_to("chat.update")
            if c.params.get("channel") == "CALERTS" and c.params.get("ts") == posted_ts
        ]
        assert len(updates) == 1
        waited = int((emergency.responded_at - emergency.entered_at).total_seconds() // 60)
        assert "answered by" in texts(blocks_of(updates[0].params))
        assert f"after {waited} min" in texts(blocks_of(updates[0].params))
        assert slack.calls_to("chat.delete") == []
        # now owned and still unresolved past 30 minutes: the owner's DM, though they opted
        # out of Deskboard's DMs: a safety message
        dms = [p for p in slack.posted if p.channel == f"D{owner_user.id}"]
        assert len(dms) == 1
        assert f"#{emergency.id}" in dms[0].text
        assert "Emergency unresolved" in dms[0].text
        runtime_at(engine, server, slack, answered + timedelta(minutes=5)).sync()
        assert len(alert_posts(slack)) == 1  # answered: never raised again


# ---- Take it, through Bolt with signed requests (the shared simulated MSP) -----------------


def take(app, slack: FakeSlack, *, ticket_id: int, user: SlackUser) -> None:
    interact(
        app,
        {
            "type": "block_actions",
            "user": {"id": user.id, "username": user.name, "team_id": TEAM_ID},
            "container": {"type": "message", "message_ts": "1.2", "channel_id": "CALERTS"},
            "channel": {"id": "CALERTS"},
            "message": {"ts": "1.2", "text": "alert", "blocks": []},
            "response_url": slack.response_url(f"take-{user.id}"),
            "actions": [
                {
                    "type": "button",
                    "action_id": "alert_take",
                    "block_id": f"alert:{ticket_id}",
                    "value": str(ticket_id),
                    "action_ts": "1700000000.3",
                }
            ],
        },
    )


def test_take_it_makes_the_clicker_the_owner_with_a_quiet_note(app, slack, simulator, deps):
    ticket_id, _responder = open_ticket_answered_by_its_technician(deps.engine)
    jordan = next(m for m in simulator.msp.members if m["identifier"] == "JSmith")
    simulator.clear_requests()

    take(app, slack, ticket_id=ticket_id, user=JORDAN)
    reply = slack.wait_for_response()[0]

    assert f"You own #{ticket_id} now" in texts(reply)
    patches = [r for r in simulator.requests if r.method == "PATCH"]
    assert [r.path for r in patches] == [f"/service/tickets/{ticket_id}"]
    position = simulator.state.position(ticket_id)
    assert position is not None
    assert simulator.state.render(position)["owner"]["id"] == jordan["id"]
    note = simulator.posted_notes[-1]
    assert note["ticket_id"] == ticket_id
    assert note["body"]["processNotifications"] is False
    assert note["body"]["internalAnalysisFlag"] is True
    assert note["body"]["text"] == "Jordan Smith took this ticket from a Deskboard SLA alert."
    with session_scope(deps.engine) as session:
        (stored,) = repo.get_tickets(session, ids=[ticket_id])
    assert member_key(stored.owner) == "jsmith"  # stored at once, not at the next sync


def test_take_it_is_refused_to_someone_not_linked(app, slack, simulator, deps):
    ticket_id, _responder = open_ticket_answered_by_its_technician(deps.engine)
    simulator.clear_requests()

    take(app, slack, ticket_id=ticket_id, user=GUEST)
    reply = slack.wait_for_response()[0]

    assert "linked to a ConnectWise member" in texts(reply)
    assert not [r for r in simulator.requests if r.method in ("PATCH", "POST")]
    assert simulator.posted_notes == []
