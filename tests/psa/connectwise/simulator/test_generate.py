"""The generated MSP: deterministic, believable, and rendered correctly at any clock."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from psa.connectwise.mapping import map_ticket, parse_timestamp
from psa.connectwise.simulator import SimulatedMSP, SimulatedTicket, generate_msp
from psa.connectwise.simulator.model import expand_note, iso
from psa.connectwise.simulator.patching import WRITABLE

START = datetime(2026, 9, 1, tzinfo=UTC)  # a Tuesday
END = datetime(2026, 11, 2, tzinfo=UTC)  # two months, ~1,800 tickets
CHICAGO = ZoneInfo("America/Chicago")
WAITING = ("Waiting on Client", "Waiting on Vendor")


@pytest.fixture(scope="module")
def sim_msp() -> SimulatedMSP:
    return generate_msp(seed=7, start=START, end=END)


def _as_json(msp: SimulatedMSP) -> str:
    tickets = msp.snapshot()
    notes = [expand_note(note, t.id) for t in msp.tickets for note in t.notes]
    reference = [msp.members, msp.boards, msp.statuses, msp.types, msp.subtypes, msp.items]
    reference += [msp.associations, msp.companies, msp.contacts, msp.agreements]
    return json.dumps([reference, tickets, notes])


def _at(ticket: SimulatedTicket, clock: int) -> dict:
    rendered = ticket.render(clock, "http://x")
    assert rendered is not None
    return rendered


def _event_named(ticket: SimulatedTicket, status: str) -> int | None:
    for event in ticket.events:
        if event.changes.get("status", {}).get("name") == status:
            return event.at
    return None


def test_same_seed_and_arguments_give_byte_identical_json():
    window = {"start": START, "end": START + timedelta(days=10), "tickets_per_workday": 30.0}
    first = _as_json(generate_msp(seed=11, **window))
    again = _as_json(generate_msp(seed=11, **window))
    other = _as_json(generate_msp(seed=12, **window))
    assert first == again
    assert first != other


def test_the_msp_has_a_dispatcher_an_inactive_member_and_the_four_boards(sim_msp):
    identifiers = {m["identifier"]: m for m in sim_msp.members}
    assert "Dispatch" in identifiers
    assert sum(m["inactiveFlag"] for m in sim_msp.members) == 1
    assert len([m for m in sim_msp.members if not m["inactiveFlag"]]) >= 13
    assert all("@" in m["primaryEmail"] for m in sim_msp.members)
    assert [b["name"] for b in sim_msp.boards] == [
        "Service Desk",
        "Escalations",
        "Alerts",
        "Projects",
    ]
    statuses = {s["name"]: s for s in sim_msp.statuses[1]}
    assert statuses["Waiting on Client"]["escalationStatus"] == "NoEscalation"
    assert statuses[">Resolved"]["escalationStatus"] == "Resolved"
    assert statuses[">Closed"]["closedStatus"] is True
    assert statuses["New"]["escalationStatus"] == "NotResponded"
    companies = [c["identifier"] for c in sim_msp.companies]
    assert "Catchall" in companies
    assert len(companies) >= 25
    with_agreement = {a["company"]["identifier"] for a in sim_msp.agreements}
    assert "Catchall" not in with_agreement
    assert len(set(companies) - with_agreement) >= 3  # some clients have no agreement


def test_only_some_category_combinations_are_valid(sim_msp):
    associations = sim_msp.associations[1]
    triples = {(a["type"]["name"], a["subType"]["name"], a["item"]["name"]) for a in associations}
    assert ("Hardware", "Printer", "Supplies") in triples
    assert ("Hardware", "Printer", "Access") not in triples
    assert ("Account", "Printer", "Repair") not in triples
    all_combinations = len(sim_msp.types[1]) * len(sim_msp.subtypes[1]) * len(sim_msp.items[1])
    assert len(triples) < all_combinations / 10
    assert {"type", "subType", "item", "company", "agreement", "status"} <= WRITABLE


def test_distributions_are_believable(sim_msp):
    raw = sim_msp.snapshot()
    records = [map_ticket(t) for t in raw]
    total = len(records)
    assert 1200 < total < 2600  # 40 per workday over two months

    resolved = [r for r in records if r.resolved_at is not None and r.resolver is not None]
    judgeable = [r for r in resolved if r.responder_key is not None]
    escalated = [r for r in judgeable if r.responder_key != r.resolver_key]
    assert 0.12 <= len(escalated) / len(judgeable) <= 0.30

    settled_before = END - timedelta(days=2)
    old = [r for r in records if r.entered_at is not None and r.entered_at < settled_before]
    assert 0.70 <= sum(r.resolved_at is not None for r in old) / len(old) <= 0.92

    no_type = sum(r.type is None for r in records) / total
    partial = sum(r.type is not None and (r.subtype is None or r.item is None) for r in records)
    assert 0.02 <= no_type <= 0.12
    assert 0.05 <= partial / total <= 0.20
    assert 0.04 <= sum(r.agreement is None for r in records) / total <= 0.14
    assert 0.02 <= sum(r.company == "Catchall" for r in records) / total <= 0.07

    reopened = sum(_event_named(t, "Re-opened") is not None for t in sim_msp.tickets)
    waited = sum(
        any(_event_named(t, status) is not None for status in WAITING) for t in sim_msp.tickets
    )
    assert 0.01 <= reopened / total <= 0.06
    assert 0.08 <= waited / total <= 0.25


def test_arrivals_follow_the_working_week_with_after_hours_alerts(sim_msp):
    local = [
        (datetime.fromtimestamp(t.entered, CHICAGO), t.base["board"]["name"])
        for t in sim_msp.tickets
    ]
    in_hours = [board for moment, board in local if moment.weekday() < 5 and 8 <= moment.hour < 17]
    after = [
        board for moment, board in local if not (moment.weekday() < 5 and 8 <= moment.hour < 17)
    ]
    assert len(in_hours) / len(local) >= 0.7
    assert after, "some tickets arrive after hours"
    assert Counter(after).most_common(1)[0][0] == "Alerts"
    alert_sources = {
        t.base["source"]["name"] for t in sim_msp.tickets if t.base["board"]["name"] == "Alerts"
    }
    assert alert_sources == {"Automate", "Monitoring"}


def test_the_dispatcher_answers_most_and_identifiers_vary_in_case(sim_msp):
    raw = sim_msp.snapshot()
    responders = Counter(t["respondedBy"].casefold() for t in raw if "respondedBy" in t)
    assert responders.most_common(1)[0][0] == "dispatch"
    members = {m["identifier"] for m in sim_msp.members}
    folded = {m.casefold() for m in members}
    spelled = [t[k] for t in raw for k in ("respondedBy", "resolvedBy", "closedBy") if k in t]
    assert all(name.casefold() in folded for name in spelled)
    assert any(name not in members for name in spelled), "some spellings differ in case"


def test_sla_minutes_are_smaller_than_elapsed_and_zero_without_sla(sim_msp):
    for ticket in sim_msp.snapshot():
        if "dateResolved" not in ticket:
            continue
        entered = parse_timestamp(ticket["_info"]["dateEntered"])
        elapsed = (parse_timestamp(ticket["dateResolved"]) - entered).total_seconds() / 60
        sla_total = ticket["respondMinutes"] + ticket["resPlanMinutes"] + ticket["resolveMinutes"]
        assert sla_total <= elapsed + 1, ticket["id"]
        if ticket["sla"]["name"] == "No SLA":
            assert sla_total == 0
        hours = ticket.get("actualHours", 0.0)
        assert 0.0 <= hours <= 6.0


def test_hostile_summaries_and_notes_by_members_and_contacts_exist(sim_msp):
    summaries = {t.base["summary"] for t in sim_msp.tickets}
    assert any("<" in s or "&" in s for s in summaries)
    assert all(len(s) <= 100 for s in summaries)
    roles = Counter(n.role for t in sim_msp.tickets for n in t.notes)
    assert roles["member"] > 0
    assert roles["contact"] > 0


def test_a_ticket_resolved_after_the_clock_shows_unresolved(sim_msp):
    ticket = next(
        t for t in sim_msp.tickets if _event_named(t, ">Closed") and _event_named(t, ">Resolved")
    )
    resolved_at = _event_named(ticket, ">Resolved")
    assert resolved_at is not None
    before = _at(ticket, resolved_at - 1)
    at = _at(ticket, resolved_at)
    assert "dateResolved" not in before
    assert before["status"]["name"] not in (">Resolved", ">Closed")
    assert at["dateResolved"] == iso(resolved_at)
    assert at["_info"]["lastUpdated"] == iso(resolved_at)
    assert ticket.render(ticket.entered - 1, "http://x") is None


def test_a_reopened_ticket_shows_the_reopen_and_then_the_new_resolution(sim_msp):
    ticket = next(
        t
        for t in sim_msp.tickets
        if _event_named(t, "Re-opened") and "resolvedBy" in t.events[-1].changes
    )
    reopened_at = _event_named(ticket, "Re-opened")
    assert reopened_at is not None
    first = _at(ticket, reopened_at - 1)
    reopened = _at(ticket, reopened_at)
    final = _at(ticket, ticket.events[-1].at)
    assert first["status"]["name"] == ">Resolved"
    assert reopened["status"]["name"] == "Re-opened"
    for cleared in ("dateResolved", "resolvedBy", "closedDate", "closedBy"):
        assert cleared not in reopened
    assert reopened["closedFlag"] is False
    assert final["closedFlag"] is True
    assert final["dateResolved"] > first["dateResolved"]
