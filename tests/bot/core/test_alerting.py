"""Raising alerts (bot.core.alerting): once per ticket and rule, again only after ``repeat``,
each in one transaction with its outbox messages; cleared when the ticket is resolved."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import parse_config
from bot.core.alerting import queue_alerts
from metrics.records import TicketRecord
from metrics.waiting import WaitingRule
from storage import alerts as alert_store
from storage import repo
from storage.db import create_engine_for, migrate, session_scope
from storage.tables import OUTBOX

ENTERED = datetime(2026, 11, 3, 7, 0, tzinfo=UTC)  # 01:00 in Chicago, a Tuesday night
CONFIG = parse_config(
    {
        "timezone": "America/Chicago",
        "categories": {"emergency": {"priority": ["*Emergency*"]}},
        "alerts": [
            {
                "name": "Emergency",
                "category": "emergency",
                "when": "unresolved",
                "after": "15m",
                "clock": "calendar",
                "notify": ["owner", "channel"],
                "channel": "CALERTS",
                "teams_channel": "Service/Alerts",
                "repeat": "30m",
            }
        ],
    }
)
TICKET = TicketRecord(
    id=7, board="Service Desk", priority="Priority 1 - Emergency", entered_at=ENTERED,
    updated_at=ENTERED, owner="JSmith", summary="Server down",
)  # fmt: skip


@pytest.fixture
def engine(database_url):
    engine = create_engine_for(database_url)
    migrate(engine)
    with session_scope(engine) as session:
        repo.upsert_tickets(
            session, records=[TICKET], params=CONFIG.derive_params(), waiting_rule=WaitingRule()
        )
    yield engine
    engine.dispose()


def run(engine, minutes: float, platforms=("slack", "teams", "teams-workflow")):
    return queue_alerts(
        engine,
        config=CONFIG,
        now=ENTERED + timedelta(minutes=minutes),
        platforms=platforms,
        ticket_link=lambda i: f"https://cw.example/{i}",
    )


def outbox_rows(engine) -> list[tuple[str, str, str]]:
    c = OUTBOX.c
    with engine.connect() as connection:
        rows = connection.execute(select(c.key, c.kind, c.target).order_by(c.id)).all()
    return [tuple(row) for row in rows]


def test_an_alert_is_raised_once_then_again_only_after_repeat(engine):
    assert run(engine, 14).raised == []
    assert run(engine, 15).raised == [("Emergency", 7)]
    assert outbox_rows(engine) == [
        ("slack:sla-alert:Emergency:7:1:channel", "post", "CALERTS"),
        ("slack:sla-alert:Emergency:7:1:owner", "safety_dm", "jsmith"),
        ("teams:sla-alert:Emergency:7:1:channel", "post", "Service/Alerts"),
        ("teams:sla-alert:Emergency:7:1:owner", "safety_dm", "jsmith"),
    ]  # and nothing for the Teams workflow's channel
    assert run(engine, 16).raised == []
    assert run(engine, 44).raised == []
    assert run(engine, 45).raised == [("Emergency", 7)]  # 30 minutes after the first
    assert [k for k, _, _ in outbox_rows(engine)][4:] == [
        "slack:sla-alert:Emergency:7:2:channel",
        "slack:sla-alert:Emergency:7:2:owner",
        "teams:sla-alert:Emergency:7:2:channel",
        "teams:sla-alert:Emergency:7:2:owner",
    ]
    with session_scope(engine) as session:
        events = alert_store.alerts_of(session, ticket_id=7)
    assert [(e.seq, e.cleared_at is not None) for e in events] == [(1, True), (2, False)]


def test_a_resolved_ticket_clears_its_alert_in_place(engine):
    run(engine, 20)
    resolved = replace(
        TICKET, resolved_at=ENTERED + timedelta(minutes=50), resolver="JSmith",
        updated_at=ENTERED + timedelta(minutes=50), status=">Resolved",
    )  # fmt: skip
    with session_scope(engine) as session:
        repo.upsert_tickets(
            session, records=[resolved], params=CONFIG.derive_params(), waiting_rule=WaitingRule()
        )
    report = run(engine, 51)
    assert report.raised == []
    assert report.cleared == [("Emergency", 7, "resolved by JSmith after 50 min")]
    updates = [r for r in outbox_rows(engine) if r[1] == "update"]
    assert updates == [
        (f"{key}:cleared", "update", key)
        for key in (
            "slack:sla-alert:Emergency:7:1:channel",
            "slack:sla-alert:Emergency:7:1:owner",
            "teams:sla-alert:Emergency:7:1:channel",
            "teams:sla-alert:Emergency:7:1:owner",
        )
    ]
    assert run(engine, 90).cleared == []  # once
    assert run(engine, 90).raised == []


def test_an_alert_another_process_raised_meanwhile_is_not_raised_twice(engine):
    # the other process's alert, committed after this one read the alerts (so it is not
    # seen as open here): the unique (rule, ticket, seq) refuses the second, which sends nothing
    with session_scope(engine) as session:
        alert_store.add_alert(session, rule="Emergency", ticket_id=7, seq=1,
                              at=ENTERED + timedelta(minutes=20), message_keys=[])  # fmt: skip
        (theirs,) = alert_store.alerts_of(session, ticket_id=7)
        alert_store.clear_alert(session, event_id=theirs.id, at=ENTERED, outcome="x")
    assert run(engine, 20).raised == []
    assert outbox_rows(engine) == []


def test_without_rules_nothing_is_read(engine):
    config = parse_config({"timezone": "America/Chicago"})
    report = queue_alerts(
        engine, config=config, now=ENTERED + timedelta(hours=5), platforms=("slack",),
        ticket_link=lambda i: None,
    )  # fmt: skip
    assert (report.raised, report.cleared) == ([], [])
    assert outbox_rows(engine) == []
