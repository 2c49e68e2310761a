"""Teams nudge DMs as the nudge job sends them: every ticket's card offers something to choose
for what it is missing (schema 1.5 cannot load options on demand: the message carries them),
Save with a choice taken from the card fixes the ticket, a Search step finds what the list
does not show, and nobody but the nudged technician sees any of it."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from microsoft_teams.apps import App
from sqlalchemy import text

from bot.core.delivery import deliver_due
from bot.core.fixes import company_shortlist
from bot.core.nudging import queue_nudge_digests
from bot.teams.cards import SEARCH_SUFFIX, SEARCH_VERB
from bot.teams.deps import TeamsDeps
from metrics.derive import derive
from metrics.triggers import NudgeReason, nudge_reasons
from psa.connectwise.simulator import SimulatorServer
from storage import notices, repo
from storage.db import session_scope
from tests.bot.teams.conftest import BLESSING, GUEST, JORDAN, SARAH, invoke, message, personal, post
from tests.bot.teams.fake_connector import FakeConnector, Request, RosterUser, card_of, card_texts
from tests.bot.teams.schema import assert_schema_valid

BUSINESS_HOURS = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday 10:00 in Chicago
TECHNICIANS = {"bokafor": BLESSING, "jsmith": JORDAN, "scohen": SARAH}
FIELDS = {
    "uncategorized": ("nudge_type", "nudge_subtype", "nudge_item"),
    "catchall": ("nudge_company", "nudge_agreement"),
    "no_agreement": ("nudge_agreement",),
}
LABELS = {
    "nudge_type": "Type",
    "nudge_subtype": "Subtype",
    "nudge_item": "Item",
    "nudge_company": "Company",
    "nudge_agreement": "Agreement",
}


# ---- a realistic digest -------------------------------------------------------------------


def nudge_every_resolution(deps: TeamsDeps) -> dict[int, set[str]]:
    """Record the nudges the judge would for every stored resolution of the three technicians
    (the template database has them judged and forgotten); ticket → reasons."""
    params = deps.config.derive_params()
    enabled = [NudgeReason(r) for r in deps.config.nudges.reasons]
    found: dict[int, set[str]] = defaultdict(set)
    with session_scope(deps.engine) as session:
        items = []
        for record in repo.iter_tickets(session):
            ticket = derive(record, params=params)
            member = ticket.resolver_key
            if member not in TECHNICIANS or ticket.resolved_at is None:
                continue
            for reason in nudge_reasons(ticket, enabled=enabled, excluded=frozenset()):
                items.append((record.id, reason.value, member))
                found[record.id].add(reason.value)
        notices.record_nudges(session, items=items, at=BUSINESS_HOURS)
    return dict(found)


def send_digests(app: App, deps: TeamsDeps, connector: FakeConnector) -> dict[str, Request]:
    """Each technician opens a chat with the bot; the nudge job queues today's digests and the
    outbox delivers them to Teams. Member → the DM sent."""
    for user in TECHNICIANS.values():
        (response,) = post(app, message(personal(connector, user), "help", user=user))
        assert response.status_code == 200
    with deps.psa() as cw:
        queued = queue_nudge_digests(
            deps.engine,
            config=deps.config,
            client=cw,
            now=BUSINESS_HOURS,
            ticket_link=deps.ticket_link,
            platforms=["teams"],
            catalogs=deps.catalogs,
        )
    assert queued == len(TECHNICIANS)
    before = len(connector.sent())
    assert deliver_due(deps.engine, deps.messenger, now=BUSINESS_HOURS).sent == queued
    sent = connector.sent()[before:]
    by_chat = {r.conversation_id: r for r in sent}
    return {m: by_chat[f"a:personal-{u.id.removeprefix('29:')}"] for m, u in TECHNICIANS.items()}


def walk(node: Any) -> list[dict[str, Any]]:
    """Every element and action of a card, depth first."""
    if isinstance(node, list):
        return [e for item in node for e in walk(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if "type" in node else []
    for key in ("body", "items", "actions"):
        found += walk(node.get(key, []))
    return found


def ticket_parts(card: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """Each ticket's controls (the Container of its inputs and buttons), by ticket."""
    parts = {}
    for element in walk(card["body"]):
        if element["type"] != "Container":
            continue
        saves = [
            a
            for e in element["items"]
            if e["type"] == "ActionSet"
            for a in e["actions"]
            if a["verb"] == "nudge_save"
        ]
        if saves:
            parts[int(saves[0]["data"]["value"])] = walk(element["items"])
    return parts


def choices(part: list[dict[str, Any]], ticket: int, field: str) -> list[dict[str, str]]:
    found = [
        e for e in part if e["type"] == "Input.ChoiceSet" and e["id"] == f"nudge:{ticket}|{field}"
    ]
    return list(found[0]["choices"]) if found else []


def said(part: list[dict[str, Any]], field: str) -> list[str]:
    """The lines of a ticket's part that say why a select has nothing to offer yet."""
    label = LABELS[field] + ":"
    return [e["text"] for e in part if e["type"] == "TextBlock" and e["text"].startswith(label)]


def active_agreements(simulator: SimulatorServer, ticket: int) -> list[dict[str, Any]]:
    position = simulator.state.position(ticket)
    assert position is not None
    company = simulator.state.render(position)["company"]["id"]
    return [
        a
        for a in simulator.msp.agreements
        if a["company"]["id"] == company and a["agreementStatus"] == "Active"
    ]


def test_every_ticket_of_a_realistic_digest_has_something_to_choose(
    app, deps, connector, simulator
):
    reasons = nudge_every_resolution(deps)
    assert {r for rs in reasons.values() for r in rs} == set(FIELDS)  # all three kinds
    sent = send_digests(app, deps, connector)
    tickets_seen = 0
    kinds_seen: set[str] = set()
    for member, request in sent.items():
        card = card_of(request)
        assert_schema_valid(card)
        parts = ticket_parts(card)
        assert parts, member
        for ticket, part in parts.items():
            tickets_seen += 1
            missing = reasons[ticket]
            kinds_seen |= missing
            # what fixes each reason: the first select it needs offers choices...
            if "uncategorized" in missing:
                assert choices(part, ticket, "nudge_type"), (member, ticket)
            if "catchall" in missing:
                companies = choices(part, ticket, "nudge_company")
                assert companies, (member, ticket)
                assert "Catchall - Unknown Contacts" not in {c["title"] for c in companies}
            if "no_agreement" in missing and "catchall" not in missing:
                if active_agreements(simulator, ticket):
                    assert choices(part, ticket, "nudge_agreement"), (member, ticket)
                else:  # nothing to pick in chat: it says so, and Not needed is there
                    assert said(part, "nudge_agreement") == [
                        "Agreement: the company has none in ConnectWise"
                    ]
            # ...and no select it needs disappears: it has choices, or a line says why not
            for field in {f for r in missing for f in FIELDS[r]}:
                assert choices(part, ticket, field) or said(part, field), (ticket, field)
    assert tickets_seen >= 15
    assert kinds_seen == set(FIELDS)


# ---- clicks -------------------------------------------------------------------------------


def press(
    app: App,
    connector: FakeConnector,
    sent: Request,
    *,
    owner: RosterUser,
    user: RosterUser,
    data: dict[str, Any],
) -> httpx.Response:
    """A button of the DM ``sent`` to ``owner``, pressed by ``user`` with ``data``."""
    verb = str(data["action"])
    activity = invoke(
        personal(connector, owner), user=user, verb=verb, data=data, reply_to=sent.answered_id
    )
    (response,) = post(app, activity)
    assert response.status_code == 200
    return response


def save(ticket: int, picks: dict[str, str]) -> dict[str, Any]:
    data = {"action": "nudge_save", "value": str(ticket), "block": f"nudge:{ticket}"}
    return data | {f"nudge:{ticket}|{field}": value for field, value in picks.items()}


def search(ticket: int, field: str, text: str) -> dict[str, Any]:
    input_id = f"nudge:{ticket}|{field}"
    return {
        "action": SEARCH_VERB,
        "block": f"nudge:{ticket}",
        "select": field,
        "input": input_id,
        input_id + SEARCH_SUFFIX: text,
    }


def answered_card(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive", body
    assert_schema_valid(body["value"])
    return dict(body["value"])


def nudge_status(deps: TeamsDeps, ticket: int) -> set[str]:
    with session_scope(deps.engine) as session:
        return {r.status for r in notices.nudges_for_ticket(session, ticket_id=ticket)}


def ticket_now(simulator: SimulatorServer, ticket: int) -> dict[str, Any]:
    position = simulator.state.position(ticket)
    assert position is not None
    return simulator.state.render(position)


@pytest.fixture
def digests(app, deps, connector) -> tuple[dict[int, set[str]], dict[str, Request]]:
    return nudge_every_resolution(deps), send_digests(app, deps, connector)


def first_ticket(
    sent: dict[str, Request], reasons: dict[int, set[str]], wanted: set[str], field: str
) -> tuple[str, int, list[dict[str, Any]]]:
    """The first ticket missing just ``wanted`` whose card offers choices for ``field``."""
    for member, request in sent.items():
        for ticket, part in ticket_parts(card_of(request)).items():
            if reasons[ticket] == wanted and choices(part, ticket, field):
                return member, ticket, part
    raise AssertionError(f"no digest offers {field} for a ticket missing just {wanted}")


def shown(card: dict[str, Any]) -> str:
    """A card's text as a reader sees it (markdown escapes taken off)."""
    return re.sub(r"\\(.)", r"\1", card_texts(card))


def test_save_with_a_company_and_an_agreement_from_the_first_card_fixes_the_ticket(
    app, deps, connector, simulator, digests
):
    reasons, sent = digests
    member, ticket, part = first_ticket(sent, reasons, {"no_agreement"}, "nudge_agreement")
    owner, offered = TECHNICIANS[member], choices(part, ticket, "nudge_agreement")
    simulator.clear_requests()
    pick = offered[-1]
    card = answered_card(
        press(
            app,
            connector,
            sent[member],
            owner=owner,
            user=owner,
            data=save(ticket, {"nudge_agreement": pick["value"]}),
        )
    )
    assert ticket_now(simulator, ticket)["agreement"]["id"] == int(pick["value"])
    assert nudge_status(deps, ticket) == {"fixed"}
    assert f"Agreement: {pick['title']}" in shown(card)

    # A catch-all ticket: a company straight from the card's list.
    member, ticket, part = first_ticket(sent, reasons, {"catchall"}, "nudge_company")
    company = choices(part, ticket, "nudge_company")[0]
    owner = TECHNICIANS[member]
    card = answered_card(
        press(
            app,
            connector,
            sent[member],
            owner=owner,
            user=owner,
            data=save(ticket, {"nudge_company": company["value"]}),
        )
    )
    assert ticket_now(simulator, ticket)["company"]["id"] == int(company["value"])
    assert nudge_status(deps, ticket) == {"fixed"}
    assert f"Company: {company['title']}" in shown(card)


def test_save_walks_type_subtype_item_with_choices_from_the_cards_only(
    app, deps, connector, simulator, digests
):
    reasons, sent = digests
    member, ticket, part = first_ticket(sent, reasons, {"uncategorized"}, "nudge_type")
    owner = TECHNICIANS[member]
    picks: dict[str, str] = {}
    card: dict[str, Any] = {}
    for field in FIELDS["uncategorized"]:
        offered = choices(part, ticket, field)
        assert offered, (field, said(part, field))
        picks[field] = offered[0]["value"]
        card = answered_card(
            press(app, connector, sent[member], owner=owner, user=owner, data=save(ticket, picks))
        )
        part = ticket_parts(card).get(ticket, [])
        if nudge_status(deps, ticket) == {"fixed"}:
            break
    now = ticket_now(simulator, ticket)
    assert nudge_status(deps, ticket) == {"fixed"}
    assert str(now["type"]["id"]) == picks["nudge_type"]
    assert "fixed by" in card_texts(card)


def test_search_puts_the_matches_first_and_only_for_the_nudged_technician(
    app, deps, connector, simulator, digests
):
    reasons, sent = digests
    member, ticket, part = first_ticket(sent, reasons, {"catchall"}, "nudge_company")
    owner = TECHNICIANS[member]
    box = [e for e in part if e["type"] == "Input.Text"]
    assert [b["id"] for b in box] == [f"nudge:{ticket}|nudge_company{SEARCH_SUFFIX}"]
    lakeside = next(c for c in simulator.msp.companies if c["name"] == "Lakeside CPA Partners")
    strangers = [u for u in (JORDAN, SARAH, BLESSING, GUEST) if u != owner]
    simulator.clear_requests()
    for stranger in strangers:
        response = press(
            app,
            connector,
            sent[member],
            owner=owner,
            user=stranger,
            data=search(ticket, "nudge_company", "lake"),
        )
        answer = response.json()
        assert answer["value"].startswith("This ticket was sent to another technician")
        assert "Lakeside" not in response.text
    assert simulator.requests == []  # not even a ConnectWise call

    card = answered_card(
        press(
            app,
            connector,
            sent[member],
            owner=owner,
            user=owner,
            data=search(ticket, "nudge_company", "lake"),
        )
    )
    part = ticket_parts(card)[ticket]
    companies = choices(part, ticket, "nudge_company")
    assert companies[0] == {"title": "Lakeside CPA Partners", "value": str(lakeside["id"])}
    assert "1 choice has “lake”: first in the list." in shown(card)
    card = answered_card(
        press(
            app,
            connector,
            sent[member],
            owner=owner,
            user=owner,
            data=save(ticket, {"nudge_company": companies[0]["value"]}),
        )
    )
    assert ticket_now(simulator, ticket)["company"]["id"] == lakeside["id"]
    assert nudge_status(deps, ticket) == {"fixed"}


# ---- the company short list ---------------------------------------------------------------


def test_the_company_short_list_is_the_most_used_active_companies_by_name(deps, simulator):
    query = text(
        "SELECT company_id, COUNT(*) FROM tickets WHERE company_id IS NOT NULL"
        " GROUP BY company_id ORDER BY COUNT(*) DESC, company_id"
    )
    with deps.engine.connect() as connection:
        ranked = [int(row[0]) for row in connection.execute(query)]
    companies = {c["id"]: c for c in simulator.msp.companies}
    catchall = next(i for i, c in companies.items() if c["identifier"] == "Catchall")
    busiest = ranked[0] if ranked[0] != catchall else ranked[1]
    companies[busiest]["deletedFlag"] = True  # gone from ConnectWise meanwhile
    size = ranked.index(catchall) + 2  # without those two, the list would hold both
    with deps.psa() as cw:
        short = company_shortlist(deps.engine, cw, catchall_company="Catchall", size=size)
        everyone = company_shortlist(deps.engine, cw, catchall_company="Catchall", size=100)
    kept = [i for i in ranked if i not in (catchall, busiest)][:size]
    assert len(kept) == size
    assert [(o.text, int(o.value)) for o in short] == sorted(
        ((companies[i]["name"], i) for i in kept), key=lambda pair: pair[0].casefold()
    )
    # more than the tickets name: topped up with the others, the deleted and catch-all never
    offered = {int(o.value) for o in everyone}
    assert offered == set(companies) - {catchall, busiest}
    assert [o.text for o in everyone] == sorted((o.text for o in everyone), key=str.casefold)
