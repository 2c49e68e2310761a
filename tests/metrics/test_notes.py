"""The first-contact decision: at most one technician note up to the resolution."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from metrics.notes import TicketNote, is_first_contact

RESOLVED = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)


def tech(hour: int, minute: int = 0, *, day: int = 3, who: str = "jsmith") -> TicketNote:
    return TicketNote(7, datetime(2026, 11, day, hour, minute, tzinfo=UTC), who, True)


def customer(hour: int, *, day: int = 3) -> TicketNote:
    return TicketNote(7, datetime(2026, 11, day, hour, tzinfo=UTC), None, False)


RESOLUTION_NOTE = tech(16)  # ConnectWise stamps the resolution note with the resolution time


def test_the_resolution_note_alone_is_the_one_contact():
    assert is_first_contact([RESOLUTION_NOTE], resolved_at=RESOLVED)


def test_no_notes_at_all_is_first_contact():
    assert is_first_contact([], resolved_at=RESOLVED)


def test_an_earlier_technician_note_and_the_resolution_note_are_two():
    assert not is_first_contact([tech(9), RESOLUTION_NOTE], resolved_at=RESOLVED)


def test_two_technicians_count_alike():
    # the responder's note and the resolver's note: two technician notes
    notes = [tech(9, who="agarcia"), RESOLUTION_NOTE]
    assert not is_first_contact(notes, resolved_at=RESOLVED)


def test_customer_notes_do_not_count():
    # the customer wrote three times; the technician only resolved: one technician note
    notes = [customer(8), customer(10), customer(15), RESOLUTION_NOTE]
    assert is_first_contact(notes, resolved_at=RESOLVED)


def test_notes_after_the_resolution_do_not_count():
    # a follow-up a minute later and one the next day: only the resolution note is before
    notes = [RESOLUTION_NOTE, tech(16, 1), tech(9, day=4)]
    assert is_first_contact(notes, resolved_at=RESOLVED)


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ([tech(15, 59), tech(16, 1)], True),  # one before, one after
        ([tech(15, 59), tech(16)], False),  # one before, one exactly at the resolution
    ],
)
def test_a_note_at_the_resolution_instant_is_before_it(notes, expected):
    assert is_first_contact(notes, resolved_at=RESOLVED) is expected


def test_order_of_notes_does_not_matter():
    notes = [RESOLUTION_NOTE, customer(9), tech(11)]
    assert not is_first_contact(notes, resolved_at=RESOLVED)
    assert not is_first_contact(list(reversed(notes)), resolved_at=RESOLVED)
