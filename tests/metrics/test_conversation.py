"""The conversation of a ticket (docs/metrics.md, "Conversation"), table-driven: each case is a
ticket's notes written as a little script, with the values counted by hand.

Script lines: ``E`` the entry, ``C`` a customer note, ``R`` a technician response (visible),
``I`` an internal technician note, ``S`` a system note, ``X`` the resolution, ``Z`` the close;
each at a minute after 08:00 UTC on Monday 2 November 2026 (``R40`` is a response at 08:40).
A response's author is ``ana`` unless written ``R40:bo``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from metrics.calendar import BusinessCalendar, BusinessHours
from metrics.conversation import Conversation, conversation
from metrics.notes import TicketNote

MONDAY_8 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
CALENDAR = BusinessCalendar(BusinessHours(timezone="UTC", start=time(8), end=time(17)))


def at(minute: int) -> datetime:
    return MONDAY_8 + timedelta(minutes=minute)


def parse(script: str) -> dict[str, object]:
    notes: list[TicketNote] = []
    facts: dict[str, object] = {"entered": None, "resolved": None, "closed": None, "notes": notes}
    for n, word in enumerate(script.split()):
        kind, rest = word[0], word[1:]
        minute_text, _, author = rest.partition(":")
        moment = at(int(minute_text))
        if kind == "E":
            facts["entered"] = moment
        elif kind == "X":
            facts["resolved"] = moment
        elif kind == "Z":
            facts["closed"] = moment
        else:
            technician = kind in "RI"
            notes.append(
                TicketNote(
                    ticket_id=1,
                    created_at=moment,
                    member_key=(author or "ana") if technician else None,
                    by_technician=technician,
                    id=n,
                    by_customer=kind == "C",
                    customer_visible=kind in "RC",
                )
            )
    return facts


CASES = [
    # script, replies (minutes each, calendar), responses, responses_to_close, followed_up
    pytest.param("E0 R30 X60", [30], 1, 1, None, id="entry answered in 30 min"),
    pytest.param("E0 R30 R45 X60", [30], 2, 2, None, id="a second response is not a reply"),
    pytest.param(
        "E0 R10 C20 C50 R80 X90",
        [10, 60],
        4,
        2,
        None,
        id="a reply counts from the earliest unanswered message",
    ),
    pytest.param("E0 I10 R40 X60", [40], 1, 1, None, id="an internal note answers nothing"),
    pytest.param("E0 S5 R40 X60", [40], 1, 1, None, id="a system note is neither"),
    pytest.param(
        "E0 C0 R30 X60", [30], 1, 1, None, id="the customer's note at the entry is the entry"
    ),
    pytest.param("C0 E0 R30 X60", [30], 1, 1, None, id="whatever order the file gives"),
    pytest.param(
        "E30 R10 R50 X60", [20], 2, 2, None, id="a response before the entry answers nothing"
    ),
    pytest.param("E0 C20 R20 X60", [20], 2, 1, None, id="same instant: the message first"),
    pytest.param("E0 X60 R90", [], 0, 0, None, id="after the resolution: no reply, no response"),
    pytest.param("E0 R30 X60 C70 R80", [30], 1, 1, None, id="nor a message after it"),
    pytest.param("E0 R30 X60 R90 Z120", [30], 1, 1, True, id="a follow-up before the close"),
    pytest.param("E0 R30 X60 R120 Z120", [30], 1, 1, True, id="at the close itself"),
    pytest.param("E0 R30 X60 R130 Z120", [30], 1, 1, False, id="after the close: not one"),
    pytest.param("E0 R30 X60 I90 Z120", [30], 1, 1, False, id="an internal note is no follow-up"),
    pytest.param("E0 R30 X60 Z120", [30], 1, 1, False, id="closed without a follow-up"),
    pytest.param("E0 R30 C40", [30], None, None, None, id="open: replies, no ticket values"),
    pytest.param("E0 R30:bo C40 R50 X60", [30, 10], 3, 2, None, id="replies of two authors"),
]


def talk_of(script: str, *, closed: bool | None = None) -> Conversation:
    """The conversation of a script; closed when it has a ``Z`` unless ``closed`` says."""
    facts = parse(script)
    closed_at = facts["closed"]
    return conversation(
        facts["notes"],  # type: ignore[arg-type]
        entered_at=facts["entered"],  # type: ignore[arg-type]
        resolved_at=facts["resolved"],  # type: ignore[arg-type]
        closed=closed_at is not None if closed is None else closed,
        closed_at=closed_at,  # type: ignore[arg-type]
        calendar=CALENDAR,
    )


@pytest.mark.parametrize(("script", "replies", "responses", "to_close", "followed_up"), CASES)
def test_conversation_values(script, replies, responses, to_close, followed_up):
    talk = talk_of(script)
    assert [r.minutes_calendar for r in talk.replies] == replies
    # inside Monday's 08:00-17:00 business minutes are elapsed minutes
    assert [r.minutes_business for r in talk.replies] == replies
    assert talk.responses == responses
    assert talk.responses_to_close == to_close
    assert talk.followed_up == followed_up
    assert talk.closed_with_notes == (followed_up is not None)


def test_reply_authors_are_the_responses_authors():
    talk = talk_of("E0 R30:bo C40 R50 X60")
    assert [(r.note.member_key, r.since) for r in talk.replies] == [("bo", at(0)), ("ana", at(40))]


def test_a_reply_over_the_weekend_counts_business_minutes_only():
    friday_4pm = datetime(2026, 10, 30, 16, 0, tzinfo=UTC)
    monday_9am = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    response = TicketNote(1, monday_9am, "ana", True, 5, False, True)
    talk = conversation(
        [response],
        entered_at=friday_4pm,
        resolved_at=None,
        closed=False,
        closed_at=None,
        calendar=CALENDAR,
    )
    [reply] = talk.replies
    assert reply.minutes_business == 120.0  # 16:00-17:00 Friday, 08:00-09:00 Monday
    assert reply.minutes_calendar == (monday_9am - friday_4pm).total_seconds() / 60


def test_waiting_time_is_taken_off_the_business_minutes():
    response = TicketNote(1, at(120), "ana", True, 5, False, True)
    talk = conversation(
        [response],
        entered_at=at(0),
        resolved_at=None,
        closed=False,
        closed_at=None,
        calendar=CALENDAR,
        waiting=[(at(30), at(90))],  # waiting on the customer for an hour
    )
    assert [(r.minutes_business, r.minutes_calendar) for r in talk.replies] == [(60.0, 120.0)]


def test_a_closed_ticket_whose_close_time_is_unknown_counts_any_later_response():
    talk = talk_of("E0 R30 X60 R9000", closed=True)
    assert talk.followed_up is True
