"""A ticket's ``slaStatus`` becomes its SLA stage and due time (``metrics.alerts.SlaDue``)."""

from __future__ import annotations

from datetime import UTC, datetime

from psa.connectwise.mapping import map_ticket
from tests.bot.tickets import ticket


def test_a_new_ticket_carries_its_respond_by_time():
    raw = ticket(9, entered="2026-11-03T07:20:00Z", status="New",
                 slaStatus="Respond by Tue 11/03 9:00 AM UTC-06")  # fmt: skip
    record = map_ticket(raw)
    assert (record.sla_stage, record.sla_due_at) == (
        "respond",
        datetime(2026, 11, 3, 15, 0, tzinfo=UTC),
    )


def test_a_status_without_a_due_time_leaves_both_empty():
    for status in ("Resolved", "Waiting", None):
        raw = ticket(9, entered="2026-11-03T07:20:00Z", slaStatus=status)
        record = map_ticket(raw)
        assert (record.sla_stage, record.sla_due_at) == (None, None)


def test_a_closed_ticket_keeps_its_close_time():
    raw = ticket(
        9,
        entered="2026-11-03T07:20:00Z",
        closedFlag=True,
        dateResolved="2026-11-03T09:00:00Z",
        closedDate="2026-11-04T10:00:00Z",
    )
    record = map_ticket(raw)
    assert record.closed_at == datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
    assert map_ticket(ticket(9, entered="2026-11-03T07:20:00Z",
                             closedDate="2026-11-04T10:00:00Z")).closed_at is None  # fmt: skip
