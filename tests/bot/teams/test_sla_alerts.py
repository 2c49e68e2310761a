"""SLA-risk alerts in Teams: the alert card (schema-valid, Take it as Action.Execute, Open in
ConnectWise as Action.OpenUrl, hostile text literal) and Take it through a real invoke."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.chat.views import Person
from bot.chat.views.alerts import sla_alert_message
from bot.config import parse_config
from bot.core.runtime import Runtime
from bot.teams.cards import to_adaptive_card, validate_card
from bot.teams.messenger import TeamsMessenger
from metrics.records import TicketRecord, member_key
from metrics.waiting import WaitingRule
from storage import repo
from storage.db import session_scope
from tests.bot.teams.conftest import (
    DIRECTOR,
    GUEST,
    JORDAN,
    NOW,
    TEAM_ID,
    channel,
    installed,
    invoke,
    personal,
    post,
)
from tests.bot.teams.fake_connector import FakeConnector, card_of, card_texts
from tests.bot.teams.schema import assert_schema_valid
from tests.bot.teams.test_app import answer, in_chat

HOSTILE = "<at>Everyone</at> **server** [down](http://evil.example)"


def actions(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if str(node.get("type", "")).startswith("Action.") else []
        return found + [a for v in node.values() for a in actions(v)]
    if isinstance(node, list):
        return [a for v in node for a in actions(v)]
    return []


def test_the_alert_card_is_valid_with_take_it_and_open_in_connectwise():
    message = sla_alert_message(
        rule="Emergency unanswered",
        ticket_id=41012,
        summary=HOSTILE,
        company="Acme",
        ticket_url="https://cw.example/ticket?id=41012",
        priority="Priority 1 - Emergency Response",
        age="16 min",
        due=None,
        owner=Person("jsmith", "Jordan Smith"),
        mention=("tag:MjRlY2E0YzE=", "On call"),
    )
    card = to_adaptive_card(message)
    validate_card(card)
    assert_schema_valid(card)
    found = actions(card)
    assert [a["type"] for a in found] == ["Action.Execute", "Action.OpenUrl"]
    assert found[0]["verb"] == "alert_take"
    assert found[0]["data"]["value"] == "41012"
    assert found[1]["url"] == "https://cw.example/ticket?id=41012"
    # the rule's Teams tag is mentioned as a tag, and nobody else is
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>On call</at>",
            "mentioned": {"id": "MjRlY2E0YzE=", "name": "On call", "type": "tag"},
        }
    ]
    text = str(card["body"])
    assert "<at>Everyone</at>" not in text  # no mention smuggled in
    assert "](http://evil.example)" not in text


def open_ticket(engine) -> int:
    with session_scope(engine) as session:
        for record in repo.iter_tickets(session):
            if not record.closed and record.resolved_at is None and record.board == "Service Desk":
                return record.id
    raise AssertionError("no open ticket")


def test_take_it_in_teams_assigns_the_clicker_and_is_refused_to_a_stranger(
    app, connector, simulator, engine
):
    answer(app, connector, in_chat(JORDAN, "mystats", connector))  # Jordan is known
    ticket_id = open_ticket(engine)
    simulator.clear_requests()
    data = {"action": "alert_take", "value": str(ticket_id), "block": f"alert:{ticket_id}"}

    (refused,) = post(app, invoke(personal(connector, GUEST), user=GUEST, verb="alert_take",
                                  data=data))  # fmt: skip
    assert "linked to a ConnectWise member" in refused.json()["value"]
    assert not [r for r in simulator.requests if r.method in ("PATCH", "POST")]

    (taken,) = post(app, invoke(personal(connector, JORDAN), user=JORDAN, verb="alert_take",
                                data=data))  # fmt: skip
    assert taken.json()["value"] == f"You own #{ticket_id} now, Jordan Smith."
    jordan = next(m for m in simulator.msp.members if m["identifier"] == "JSmith")
    position = simulator.state.position(ticket_id)
    assert position is not None
    assert simulator.state.render(position)["owner"]["id"] == jordan["id"]
    note = simulator.posted_notes[-1]
    assert note["body"]["processNotifications"] is False
    assert note["body"]["text"] == "Jordan Smith took this ticket from a Deskboard SLA alert."
    with session_scope(engine) as session:
        (stored,) = repo.get_tickets(session, ids=[ticket_id])
    assert member_key(stored.owner) == "jsmith"


def test_an_alert_lands_in_the_channel_with_its_tag_and_is_rewritten_when_answered(
    app, deps, messenger: TeamsMessenger, connector: FakeConnector, engine
):
    (response,) = post(app, installed(channel(connector), user=DIRECTOR))
    assert response.status_code == 200
    config = parse_config(
        {
            "timezone": "America/Chicago",
            "categories": {"emergency": {"priority": ["*Emergency*"]}},
            "alerts": [
                {
                    "name": "Emergency unanswered",
                    "category": "emergency",
                    "when": "unanswered",
                    "after": "15m",
                    "clock": "calendar",
                    "notify": "channel",
                    "teams_channel": "Support/General",
                    "mention": ["S0ONCALL", "tag:MjRlY2E0YzE=|On call"],
                }
            ],
        }
    )
    entered = NOW - timedelta(minutes=20)
    emergency = TicketRecord(
        id=990001, board="Service Desk", priority="Priority 1 - Emergency Response",
        entered_at=entered, updated_at=entered, summary=HOSTILE, company_name="Acme",
    )  # fmt: skip
    store(engine, config, emergency)
    runtime = Runtime(
        engine=engine, config=config, messengers=(messenger,), psa=deps.psa,
        clock=lambda: NOW, ticket_link=deps.ticket_link,
    )  # fmt: skip
    runtime.queue_alerts()
    runtime.deliver()
    (alert,) = connector.sent()
    assert alert.conversation_id == TEAM_ID
    card = card_of(alert)
    assert_schema_valid(card)
    assert "Emergency unanswered" in card_texts(card)
    assert card["msteams"]["entities"][0]["mentioned"]["type"] == "tag"  # the tag, not Slack's

    answered = replace(
        emergency, responded_at=NOW - timedelta(minutes=8), responder="JSmith", updated_at=NOW
    )
    store(engine, config, answered)
    runtime.queue_alerts()
    runtime.deliver()
    assert len(connector.sent()) == 1  # nothing new is posted ...
    (rewritten,) = connector.updated()  # ... the alert is rewritten in place
    assert rewritten.activity_id == alert.answered_id
    assert "answered by Jordan Smith after 12 min" in card_texts(card_of(rewritten))


def store(engine, config, record: TicketRecord) -> None:
    with session_scope(engine) as session:
        repo.upsert_tickets(
            session, records=[record], params=config.derive_params(), waiting_rule=WaitingRule()
        )
