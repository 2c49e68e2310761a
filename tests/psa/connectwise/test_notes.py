"""Ticket notes: ConnectWise note JSON → TicketNote, and ``ConnectWiseClient.notes``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from metrics.notes import TicketNote
from psa.connectwise.errors import NotFound
from psa.connectwise.mapping import UnreadableNote, map_note, map_notes


def note(note_id: int, **overrides: Any) -> dict[str, Any]:
    """A note as ``GET /service/tickets/{id}/notes`` sends it (our own fixture, CW's shape);
    an override of None removes the key."""
    raw: dict[str, Any] = {
        "id": note_id,
        "ticketId": 42,
        "text": "Cleared the print queue",
        "detailDescriptionFlag": False,
        "internalAnalysisFlag": True,
        "resolutionFlag": False,
        "issueFlag": False,
        "member": {"id": 176, "identifier": "AGarcia", "name": "Ana Garcia"},
        "dateCreated": "2026-11-03T15:04:05Z",
        "createdBy": "AGarcia",
        "internalFlag": True,
        "externalFlag": False,
        "_info": {"lastUpdated": "2026-11-03T15:10:00Z", "updatedBy": "AGarcia"},
    }
    for key, value in overrides.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


CONTACT = {"id": 31, "name": "Pat Lee"}


def test_a_member_note_is_a_technician_note_with_its_key():
    assert map_note(note(1), ticket_id=42) == TicketNote(
        ticket_id=42,
        created_at=datetime(2026, 11, 3, 15, 4, 5, tzinfo=UTC),
        member_key="agarcia",  # compared case-insensitively, like every member identifier
        by_technician=True,
        id=1,
        by_customer=False,
        customer_visible=False,  # internal analysis: not a response the customer saw
    )


def test_a_contact_note_is_the_customers():
    mapped = map_note(note(2, member=None, contact=CONTACT, createdBy="Portal"), ticket_id=42)
    assert (mapped.by_technician, mapped.member_key, mapped.by_customer) == (False, None, True)


@pytest.mark.parametrize(
    ("flags", "visible"),
    [
        ({"detailDescriptionFlag": True, "internalAnalysisFlag": False}, True),
        ({"resolutionFlag": True, "internalAnalysisFlag": False}, True),
        ({"resolutionFlag": True, "internalAnalysisFlag": None}, True),  # missing: not internal
        ({"detailDescriptionFlag": True, "internalAnalysisFlag": True}, False),
        ({"internalAnalysisFlag": False}, False),  # neither discussion nor resolution
    ],
)
def test_a_response_is_a_members_note_the_customer_can_see(flags, visible):
    mapped = map_note(note(3, **flags), ticket_id=42)
    assert (mapped.customer_visible, mapped.is_response) == (visible, visible)
    as_customer = map_note(note(3, member=None, contact=CONTACT, **flags), ticket_id=42)
    assert as_customer.is_response is False  # a customer's note is never a response


def test_a_note_without_member_or_contact_is_the_systems():
    assert not map_note(note(3, member=None, createdBy="Automate"), ticket_id=42).by_technician


def test_a_note_with_both_member_and_contact_is_not_counted_as_technician_work():
    mapped = map_note(note(4, contact=CONTACT), ticket_id=42)
    assert (mapped.by_technician, mapped.member_key) == (False, "agarcia")
    assert mapped.by_customer is False  # nor as the customer's: it is neither


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # dateCreated wins; an offset is converted to UTC (10:04 at -05:00 is 15:04 UTC)
        ({"dateCreated": "2026-11-03T10:04:05-05:00"}, datetime(2026, 11, 3, 15, 4, 5)),
        # no dateCreated: _info.dateEntered, then _info.lastUpdated
        (
            {"dateCreated": None, "_info": {"dateEntered": "2026-11-03T09:00:00Z"}},
            datetime(2026, 11, 3, 9, 0),
        ),
        ({"dateCreated": None}, datetime(2026, 11, 3, 15, 10)),
        ({"dateCreated": "2026-11-03T15:04:05"}, datetime(2026, 11, 3, 15, 4, 5)),  # no offset
    ],
)
def test_the_note_time_falls_back_in_order(overrides, expected):
    assert map_note(note(5, **overrides), ticket_id=42).created_at == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("not a note", "(note)"),
        (note(6, dateCreated=None, _info={"updatedBy": "x"}), "dateCreated"),
        (note(7, dateCreated="yesterday"), "dateCreated"),
        (note(8, dateCreated=None, _info={"lastUpdated": "soon"}), "_info.lastUpdated"),
    ],
)
def test_an_unreadable_note_names_the_field(raw, field):
    with pytest.raises(UnreadableNote) as caught:
        map_note(raw, ticket_id=42)
    assert caught.value.field == field
    assert "ticket 42" in str(caught.value)


def test_map_notes_skips_unreadable_notes_with_a_warning(caplog):
    raws = [note(1), note(7, dateCreated="yesterday"), note(2, member=None, contact=CONTACT)]
    with caplog.at_level(logging.WARNING, logger="psa.connectwise.mapping"):
        notes = map_notes(raws, ticket_id=42)
    assert [n.by_technician for n in notes] == [True, False]  # notes 1 and 2; 7 left out
    assert "ticket 42: note 7: field 'dateCreated'" in caplog.text


def test_client_notes_reads_one_page_and_maps_it(fake_cw, make_client):
    fake_cw.reply(
        "GET",
        "/service/tickets/42/notes",
        [note(1), note(2, member=None, contact=CONTACT), note(9, dateCreated="bad")],
    )
    notes = make_client().notes(42)
    assert [(n.ticket_id, n.by_technician) for n in notes] == [(42, True), (42, False)]
    [request] = fake_cw.requests_to("GET", "/service/tickets/42/notes")
    assert request.param("pageSize") == "1000"  # one request for a ticket's notes


def test_client_notes_of_a_deleted_ticket_raise_not_found(fake_cw, make_client):
    body = {"code": "NotFound", "message": "Ticket with id 43 was not found."}
    fake_cw.reply("GET", "/service/tickets/43/notes", body, status=404)
    with pytest.raises(NotFound):
        make_client().notes(43)
