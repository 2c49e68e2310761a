"""The nudge flow (``bot.core.nudge_flow``) as plain functions, no chat platform: the Slack
tests' database and a fresh ConnectWise simulator, the PSA its ``connectwise_client``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import Engine

from bot.chat.message import Option
from bot.config import DeskboardConfig
from bot.core import nudge_choices, nudge_flow
from bot.core.fix_apply import FixError
from bot.core.fixes import CatalogCache, Selection
from bot.core.links import TicketLink
from psa.connectwise.simulator import SimulatorServer
from psa.connectwise.simulator.faults import Fault
from psa.port import Psa
from storage import notices, repo
from storage.db import session_scope
from tests.bot.slack.conftest import NOW, make_config

UNCATEGORIZED = 41152  # bokafor's, Service Desk (board 1), no type/subtype/item
IN_CATCHALL = 41073  # bokafor's, company Catchall, no agreement
SERVICE_DESK = 1


@dataclass(frozen=True)
class FlowDeps:
    """What the flow needs, and nothing of Slack's or Teams'."""

    engine: Engine
    config: DeskboardConfig
    clock: Callable[[], datetime]
    psa: Callable[[], AbstractContextManager[Psa]]
    ticket_link: TicketLink
    catalogs: CatalogCache = field(default_factory=CatalogCache)

    @property
    def current(self) -> DeskboardConfig:
        return self.config


@pytest.fixture
def flow(engine: Engine, simulator: SimulatorServer) -> FlowDeps:
    return FlowDeps(
        engine=engine,
        config=make_config(),
        clock=lambda: NOW,
        psa=simulator.connectwise_client,
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )


def nudge(flow: FlowDeps, ticket_id: int, reason: str, member: str = "bokafor") -> None:
    with session_scope(flow.engine) as session:
        notices.record_nudges(session, items=[(ticket_id, reason, member)], at=NOW)


def statuses(flow: FlowDeps, ticket_id: int) -> set[tuple[str, str | None]]:
    with session_scope(flow.engine) as session:
        rows = notices.nudges_for_ticket(session, ticket_id=ticket_id)
    return {(row.status, row.fixed_by) for row in rows}


def click(
    flow: FlowDeps, ticket_id: int, *, member: str | None = "bokafor", value: str | None = None
) -> nudge_flow.Authorized | None:
    request = nudge_flow.Click("slack", f"nudge:{ticket_id}", member, value)
    return nudge_flow.authorize(flow.engine, request)


def first_row(simulator: SimulatorServer) -> tuple[int, int, int]:
    row = simulator.msp.associations[SERVICE_DESK][0]
    return row["type"]["id"], row["subType"]["id"], row["item"]["id"]


def ticket_reads(simulator: SimulatorServer, ticket_id: int) -> int:
    path = f"/service/tickets/{ticket_id}"
    return sum(r.method == "GET" and r.path == path for r in simulator.requests)


def test_one_save_reads_the_ticket_once_patches_notes_and_stores(flow, simulator):
    nudge(flow, UNCATEGORIZED, "uncategorized")
    who = click(flow, UNCATEGORIZED, value=str(UNCATEGORIZED))
    assert who is not None
    assert who.reasons == ("uncategorized",)
    type_id, subtype_id, item_id = first_row(simulator)
    selection = Selection(type_id=type_id, subtype_id=subtype_id, item_id=item_id)
    simulator.clear_requests()

    fixed = nudge_flow.fix(flow, nudge_flow.FixRequest(who, selection))

    assert isinstance(fixed, nudge_flow.Fixed)
    assert ticket_reads(simulator, UNCATEGORIZED) == 1
    patches = [r.path for r in simulator.requests if r.method == "PATCH"]
    assert patches == [f"/service/tickets/{UNCATEGORIZED}"]
    assert simulator.posted_notes[-1]["body"]["text"] == (
        "Fixed from Slack by Blessing Okafor: Type / subtype / item: Hardware / Laptop / Repair"
    )
    assert fixed.changes == ("Type / subtype / item: Hardware / Laptop / Repair",)
    assert fixed.message.text == f"#{UNCATEGORIZED} fixed by Blessing Okafor"
    assert statuses(flow, UNCATEGORIZED) == {("fixed", "bokafor")}
    with session_scope(flow.engine) as session:
        stored = repo.get_tickets(session, ids=[UNCATEGORIZED])[0]
    assert (stored.type, stored.subtype, stored.item) == ("Hardware", "Laptop", "Repair")


def test_one_save_checks_the_combination_once(flow, simulator):
    """The flow checks the picks against the board's associations it holds; the PSA adapter
    does not read them again to check the same picks a second time."""
    nudge(flow, UNCATEGORIZED, "uncategorized")
    who = click(flow, UNCATEGORIZED, value=str(UNCATEGORIZED))
    assert who is not None
    type_id, subtype_id, item_id = first_row(simulator)
    selection = Selection(type_id=type_id, subtype_id=subtype_id, item_id=item_id)
    simulator.clear_requests()

    fixed = nudge_flow.fix(flow, nudge_flow.FixRequest(who, selection))

    assert isinstance(fixed, nudge_flow.Fixed)
    association_reads = [
        r.path for r in simulator.requests if r.method == "GET" and "Associations" in r.path
    ]
    # at most the catalog's own first read of the board (it is cached), never a second check
    assert len(association_reads) <= 1, association_reads


def test_an_unauthorized_click_is_refused_and_changes_nothing(flow, simulator):
    nudge(flow, UNCATEGORIZED, "uncategorized")
    simulator.clear_requests()
    assert click(flow, UNCATEGORIZED, member="jsmith") is None  # another technician
    assert click(flow, UNCATEGORIZED, member=None) is None  # a chat user linked to nobody
    assert click(flow, UNCATEGORIZED, value="41281") is None  # a button naming another ticket
    assert click(flow, 41281) is None  # a ticket with no nudge for her
    not_a_nudge = nudge_flow.Click("slack", "leaderboard", "bokafor")
    assert nudge_flow.authorize(flow.engine, not_a_nudge) is None
    assert simulator.requests == []
    assert simulator.posted_notes == []
    assert statuses(flow, UNCATEGORIZED) == {("pending", None)}


def test_an_invalid_combination_is_refused_once_and_patches_nothing(flow, simulator):
    nudge(flow, UNCATEGORIZED, "uncategorized")
    who = click(flow, UNCATEGORIZED)
    assert who is not None
    rows = simulator.msp.associations[SERVICE_DESK]
    first = rows[0]
    other = next(r for r in rows if r["type"]["id"] != first["type"]["id"] and r.get("subType"))
    selection = Selection(
        type_id=first["type"]["id"],
        subtype_id=other["subType"]["id"],
        item_id=(other.get("item") or {}).get("id"),
    )
    simulator.clear_requests()
    with pytest.raises(FixError) as refused:
        nudge_flow.fix(flow, nudge_flow.FixRequest(who, selection))
    assert str(refused.value) == "That type, subtype and item do not go together on this board."
    assert ticket_reads(simulator, UNCATEGORIZED) == 1
    assert not [r for r in simulator.requests if r.method in ("PATCH", "POST")]
    assert statuses(flow, UNCATEGORIZED) == {("pending", None)}


def test_refine_answers_what_to_pick_without_fixing(flow, simulator):
    nudge(flow, UNCATEGORIZED, "uncategorized")
    who = click(flow, UNCATEGORIZED)
    assert who is not None
    type_id, _, _ = first_row(simulator)
    simulator.clear_requests()
    found = nudge_flow.fix(
        flow, nudge_flow.FixRequest(who, Selection(type_id=type_id), refine=True)
    )
    assert isinstance(found, nudge_flow.ToPick)
    assert found.hint == "Pick the subtype and the item too: the ticket needs all three."
    assert found.item.current_type == str(type_id)
    assert ticket_reads(simulator, UNCATEGORIZED) == 1
    assert not [r for r in simulator.requests if r.method in ("PATCH", "POST")]
    assert statuses(flow, UNCATEGORIZED) == {("pending", None)}


def test_a_connectwise_failure_is_the_answer_and_nothing_is_closed(flow, simulator):
    nudge(flow, UNCATEGORIZED, "uncategorized")
    who = click(flow, UNCATEGORIZED)
    assert who is not None
    type_id, subtype_id, item_id = first_row(simulator)
    simulator.inject(Fault(path=f"/service/tickets/{UNCATEGORIZED}", status=403))
    selection = Selection(type_id=type_id, subtype_id=subtype_id, item_id=item_id)
    with pytest.raises(FixError) as failed:
        nudge_flow.fix(flow, nudge_flow.FixRequest(who, selection))
    assert str(failed.value).startswith("ConnectWise did not answer as expected (")
    assert str(failed.value).endswith("); try again later.")
    assert statuses(flow, UNCATEGORIZED) == {("pending", None)}


def test_dismiss_closes_the_nudge_without_connectwise(flow, simulator):
    nudge(flow, UNCATEGORIZED, "uncategorized")
    who = click(flow, UNCATEGORIZED)
    assert who is not None
    simulator.clear_requests()
    done = nudge_flow.dismiss(flow, nudge_flow.DismissRequest(who))
    assert done.text == f"#{UNCATEGORIZED} marked as not needed by Blessing Okafor"
    assert simulator.requests == []
    assert statuses(flow, UNCATEGORIZED) == {("dismissed", "bokafor")}

    again = click(flow, UNCATEGORIZED)
    assert again is not None
    assert again.reasons == ()
    with pytest.raises(FixError, match="Nothing left to do here"):
        nudge_flow.dismiss(flow, nudge_flow.DismissRequest(again, only_open=True))
    with pytest.raises(FixError, match="Nothing left to do here"):
        nudge_flow.fix(flow, nudge_flow.FixRequest(again, Selection()))
    assert simulator.requests == []


def test_choices_follow_the_picks(flow, simulator):
    nudge(flow, IN_CATCHALL, "catchall")
    who = click(flow, IN_CATCHALL)
    assert who is not None
    companies = nudge_choices.choices(
        flow, nudge_choices.ChoicesRequest(who, "nudge_company", query="acme")
    )
    acme = next(o for o in companies if o.text == "Acme Dental Group")
    picked = Selection(company=Option(acme.text, acme.value))
    agreements = nudge_choices.choices(
        flow, nudge_choices.ChoicesRequest(who, "nudge_agreement", picked)
    )
    expected = sorted(
        (a["name"], a["id"])
        for a in simulator.msp.agreements
        if a["company"]["id"] == int(acme.value)
    )
    assert sorted((o.text, int(o.value)) for o in agreements) == expected
    searched = nudge_choices.search(
        flow, nudge_choices.SearchRequest(who, "nudge_company", picked, "dental")
    )
    assert searched.companies[0].text == "Acme Dental Group"
    assert "“dental”: first in the list." in searched.hint
