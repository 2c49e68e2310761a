"""Properties of the ticket mapping (psa/connectwise/mapping.py) over generated ConnectWise ticket
JSON:
a well-formed ticket always maps and keeps its ids, names and timestamps; a malformed one is
refused with ``UnreadableTicket`` naming the field, never another exception; and a page keeps
every good ticket around the bad ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from psa.connectwise.mapping import EARLIEST, LATEST, UnreadableTicket, map_ticket, map_tickets

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.integers(min_value=1, max_value=2**31 - 1)
names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
).map(lambda m: m.replace(microsecond=0))
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@st.composite
def stamps(draw: st.DrawFn) -> tuple[datetime, str]:
    """An instant and how ConnectWise (or a proxy) may write it."""
    moment = draw(moments)
    style = draw(st.sampled_from(["Z", "offset", "naive"]))
    if style == "Z":
        return moment, moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "naive":
        return moment, moment.replace(tzinfo=None).isoformat()
    return moment, moment.astimezone(draw(offsets)).isoformat()


def refs(key: str = "name") -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"id": ids}, optional={key: names})


@st.composite
def tickets(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ticket as ConnectWise sends it (null keys left out), and what it must map to."""
    ticket: dict[str, Any] = {"id": draw(ids)}
    expected: dict[str, Any] = {"id": ticket["id"]}
    for key in ("board", "status", "type", "subType", "item", "priority", "agreement"):
        if draw(st.booleans()):
            ticket[key] = draw(refs())
    if draw(st.booleans()):
        ticket["company"] = draw(
            st.fixed_dictionaries({"id": ids}, optional={"identifier": names, "name": names})
        )
    if draw(st.booleans()):
        ticket["summary"] = draw(names)
    info: dict[str, Any] = {}
    for key, where in (("dateEntered", info), ("lastUpdated", info), ("dateResponded", ticket)):
        if draw(st.booleans()):
            moment, text = draw(stamps())
            where[key] = text
            expected[key] = moment
    if info:
        ticket["_info"] = info
    ticket["closedFlag"] = draw(st.booleans())
    for key in ("dateResolved", "closedDate"):
        if draw(st.booleans()):
            moment, text = draw(stamps())
            ticket[key] = text
            expected[key] = moment
    for key in ("resolvedBy", "closedBy", "respondedBy"):
        if draw(st.booleans()):
            ticket[key] = draw(st.from_regex(r"[a-z]{2,10}", fullmatch=True))
    for key in ("respondMinutes", "resolveMinutes", "actualHours"):
        if draw(st.booleans()):
            ticket[key] = draw(
                st.integers(0, 10**6) | st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
            )
    return ticket, expected


def _name(ref: Any, key: str = "name") -> str | None:
    """The text as stored: without surrounding blanks, nor NUL (PostgreSQL refuses it)."""
    value = ref.get(key) if isinstance(ref, dict) else None
    text = str(value).replace("\0", "").strip() if value is not None else ""
    return text or None


@SETTINGS
@given(tickets())
def test_a_well_formed_ticket_maps_and_keeps_what_it_says(case):
    ticket, expected = case
    record = map_ticket(ticket)
    assert record.id == expected["id"]
    for key, id_attr, name_attr in (
        ("board", "board_id", "board"),
        ("status", "status_id", "status"),
        ("agreement", "agreement_id", "agreement"),
    ):
        ref = ticket.get(key)
        assert getattr(record, id_attr) == (ref["id"] if ref else None)
        assert getattr(record, name_attr) == _name(ref)
    company = ticket.get("company")
    assert record.company_id == (company["id"] if company else None)
    assert record.company == _name(company, "identifier")
    assert record.summary == _name({"name": ticket.get("summary")})
    assert record.entered_at == expected.get("dateEntered")
    assert record.updated_at == expected.get("lastUpdated")
    assert record.responded_at == expected.get("dateResponded")
    closed_fallback = expected.get("closedDate") if ticket["closedFlag"] else None
    assert record.resolved_at == (expected.get("dateResolved") or closed_fallback)
    resolver = ticket.get("resolvedBy") or (
        ticket.get("closedBy") if ticket["closedFlag"] else None
    )
    assert record.resolver == resolver
    assert record.closed is ticket["closedFlag"]
    for moment in (record.entered_at, record.updated_at, record.resolved_at):
        assert moment is None or moment.utcoffset() == timedelta(0)


TIMESTAMP_FIELDS = ("dateResolved", "closedDate", "dateResponded", "dateEntered")
NUMBER_FIELDS = ("respondMinutes", "resPlanMinutes", "resolveMinutes", "actualHours")
junk = st.one_of(
    st.text(max_size=30),
    st.integers(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.floats(),
)


@st.composite
def malformed(draw: st.DrawFn) -> tuple[object, str, bool]:
    """A ticket broken in one place, the field a refusal must name, and whether it must be
    refused (junk in a timestamp may happen to parse: "2020" is a date)."""
    ticket, _ = draw(tickets())
    how = draw(st.sampled_from(["not an object", "id", "timestamp", "number"]))
    if how == "not an object":
        raw = draw(st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers())))
        return raw, "(ticket)", True
    if how == "id":
        ticket["id"] = draw(st.one_of(st.none(), st.text(), st.booleans(), st.floats()))
        return ticket, "id", True
    if how == "timestamp":
        key = draw(st.sampled_from(TIMESTAMP_FIELDS))
        any_instant = st.datetimes(timezones=offsets).map(datetime.isoformat)  # years 1-9999
        value = draw(junk | any_instant)
        if key == "dateEntered":
            ticket.setdefault("_info", {})[key] = value
        else:
            ticket[key] = value
        return ticket, key, False
    key = draw(st.sampled_from(NUMBER_FIELDS))
    ticket[key] = draw(st.one_of(st.text(), st.booleans(), st.lists(st.integers(), max_size=2)))
    return ticket, key, True


@SETTINGS
@given(malformed())
def test_a_malformed_ticket_is_refused_with_the_mappings_own_error(case):
    raw, field, must_refuse = case
    refused: UnreadableTicket | None = None
    try:
        map_ticket(raw)
    except UnreadableTicket as exc:  # any other exception fails the test
        refused = exc
    if must_refuse:
        assert refused is not None, f"{raw!r} was accepted"
    if refused is not None:
        assert refused.field == field
        assert str(refused).startswith("ticket ")


@settings(SETTINGS, max_examples=60)
@given(
    st.lists(st.one_of(tickets().map(lambda c: c[0]), malformed().map(lambda c: c[0])), max_size=8)
)
def test_a_page_keeps_every_good_ticket_in_order(page):
    good = []
    for raw in page:
        try:
            good.append(map_ticket(raw))
        except UnreadableTicket:
            continue
    records, skipped = map_tickets(page)
    assert records == good
    assert len(records) + len(skipped) == len(page)


class _Written:
    """An instant as written, which need not be representable in UTC."""

    def __init__(self, text: str) -> None:
        self.text = text

    def isoformat(self) -> str:
        return self.text


@SETTINGS
@given(st.datetimes(timezones=offsets), st.sampled_from(TIMESTAMP_FIELDS))
@example(_Written("0001-01-01T00:00:00+01:00"), "dateResolved")  # before UTC's year 1
@example(_Written("9999-12-31T23:59:59-01:00"), "dateEntered")  # after UTC's year 9999
def test_any_written_instant_maps_to_itself_or_is_unreadable(moment, key):
    """Years 1-9999 with any offset: the instant in UTC when it lies from 1980 to 2099
    (``EARLIEST``/``LATEST``), otherwise (also beyond what Python can hold in UTC: hypothesis
    cannot generate those, hence the examples) a refusal naming the field; never another
    exception."""
    ticket: dict[str, Any] = {"id": 7, "closedFlag": True}
    if key == "dateEntered":
        ticket["_info"] = {key: moment.isoformat()}
    else:
        ticket[key] = moment.isoformat()
    if isinstance(moment, _Written) or not EARLIEST <= moment < LATEST:
        with pytest.raises(UnreadableTicket) as refused:
            map_ticket(ticket)
        assert refused.value.field == key
        return
    record = map_ticket(ticket)
    got = {
        "dateResolved": record.resolved_at,
        "closedDate": record.resolved_at,
        "dateResponded": record.responded_at,
        "dateEntered": record.entered_at,
    }[key]
    assert got == moment
    assert got is not None
    assert got.utcoffset() == timedelta(0)
