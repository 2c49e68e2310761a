"""A bad rating's alert and its recovery in Teams: the alert lands in the managers' channel,
the recovery replies in that message's thread (Teams threads a message sent to
``CONVERSATION;messageid=ACTIVITY``)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

from bot.config import parse_config
from bot.core.ratings import store_ratings
from bot.core.runtime import Runtime
from bot.teams.messenger import TeamsMessenger
from metrics.ratings import Rating, RatingSource, RatingValue
from tests.bot.teams.conftest import (
    DIRECTOR,
    HOSTILE_TICKET,
    NOW,
    TEAM_ID,
    channel,
    installed,
    post,
)
from tests.bot.teams.fake_connector import FakeConnector, card_of, card_texts
from tests.bot.teams.schema import assert_schema_valid


def answer(value: RatingValue, minutes: int) -> Rating:
    return Rating(
        HOSTILE_TICKET,
        "ann@customer.example",
        value,
        NOW + timedelta(minutes=minutes),
        RatingSource.CONNECTWISE,
        comment="Nobody called back" if value is RatingValue.NEGATIVE else "All good now",
    )


def test_the_alert_goes_to_managers_and_the_recovery_into_its_thread(
    app, deps, messenger: TeamsMessenger, connector: FakeConnector, engine
):
    (response,) = post(app, installed(channel(connector), user=DIRECTOR))
    assert response.status_code == 200
    config = parse_config(
        {"timezone": "America/Chicago", "csat": {"alert_teams_channel": "Support/General"}}
    )
    runtime = Runtime(
        engine=engine,
        config=config,
        messengers=(messenger,),
        psa=deps.psa,
        clock=lambda: NOW,
        ticket_link=deps.ticket_link,
    )
    store_ratings(engine, config=config, ratings=[answer(RatingValue.NEGATIVE, 1)], now=NOW)
    runtime.queue_instant_kudos()
    runtime.deliver()
    (alert,) = connector.sent()
    assert alert.conversation_id == TEAM_ID
    card = card_of(alert)
    assert_schema_valid(card)
    assert "Negative rating" in card_texts(card)
    assert "Nobody called back" in card_texts(card)

    store_ratings(engine, config=config, ratings=[answer(RatingValue.POSITIVE, 30)], now=NOW)
    runtime.queue_instant_kudos()
    runtime.deliver()
    _, reply = connector.sent()
    assert unquote(reply.conversation_id or "") == f"{TEAM_ID};messageid={alert.answered_id}"
    assert "Recovered" in card_texts(card_of(reply))
