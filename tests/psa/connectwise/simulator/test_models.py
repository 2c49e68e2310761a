"""Everything the simulator serves fits the ConnectWise 2025.1 models (``connectwise_models``):
no field a model lacks, every value of the model's JSON type, every field it requires; and its
tickets and notes carry every field real ConnectWise tickets and notes show."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from tests.psa.connectwise.connectwise_models import (
    MODELS,
    NOTE_FIELDS_IN_SAMPLES,
    TICKET_FIELDS_IN_SAMPLES,
    problems,
)

START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 9, 22, tzinfo=UTC)
CLOCK = END - timedelta(hours=6)

# Every list the simulator serves and the model of its items; ``{board}`` is each board's id.
LISTS = (
    ("/service/tickets", "Ticket"),
    ("/service/boards", "Board"),
    ("/service/boards/{board}/statuses", "BoardStatus"),
    ("/service/boards/{board}/types", "BoardType"),
    ("/service/boards/{board}/subtypes", "BoardSubType"),
    ("/service/boards/{board}/items", "BoardItem"),
    ("/service/boards/{board}/typeSubTypeItemAssociations", "BoardTypeSubTypeItemAssociation"),
    ("/service/boards/{board}/teams", "BoardTeam"),
    ("/service/priorities", "Priority"),
    ("/service/sources", "Source"),
    ("/system/members", "Member"),
    ("/company/companies", "Company"),
    ("/company/contacts", "Contact"),
    ("/finance/agreements", "Agreement"),
    ("/system/callbacks", "CallbackEntry"),
)


@pytest.fixture(scope="module")
def msp() -> SimulatedMSP:
    return generate_msp(seed=5, start=START, end=END)


Served = tuple[SimulatorServer, httpx.Client]


@pytest.fixture(scope="module")
def served(msp: SimulatedMSP) -> Iterator[Served]:
    """A server whose lists, including callbacks, are not empty (one callback registered)."""
    with (
        SimulatorServer(msp, clock=CLOCK) as server,
        httpx.Client(base_url=server.url, headers=server.headers) as client,
    ):
        callback = {"url": "http://127.0.0.1:9/cw", "type": "ticket", "level": "owner"}
        registered = client.post("/system/callbacks", json={**callback, "objectId": 1})
        assert registered.status_code == 201
        yield server, client


def _every_page(client: httpx.Client, path: str) -> list[Any]:
    items: list[Any] = []
    page = 1
    while True:
        answer = client.get(path, params={"pageSize": 1000, "page": page})
        assert answer.status_code == 200, (path, answer.text)
        items.extend(answer.json())
        if 'rel="next"' not in answer.headers.get("Link", ""):
            return items
        page += 1


def _lists(msp: SimulatedMSP) -> list[tuple[str, str]]:
    return [
        (path.format(board=board["id"]), model)
        for path, model in LISTS
        for board in (msp.boards if "{board}" in path else msp.boards[:1])
    ]


def _problems_in(items: list[Any], model: str, path: str) -> list[str]:
    return [problem for item in items for problem in problems(item, model, f"{path} {model}")]


def test_every_list_and_every_object_fits_its_model(served: Served, msp: SimulatedMSP) -> None:
    _, client = served
    found: list[str] = []
    for path, model in _lists(msp):
        items = _every_page(client, path)
        assert items, f"{path} served nothing: nothing was checked"
        found.extend(_problems_in(items, model, path))
        first = client.get(f"{path}/{items[0]['id']}")
        assert first.status_code == 200, path
        found.extend(problems(first.json(), model, f"{path}/{{id}} {model}"))
        count = client.get(f"{path}/count")
        assert count.status_code == 200, path
        found.extend(problems(count.json(), "Count", f"{path}/count"))
    found.extend(problems(client.get("/system/info").json(), "Info", "/system/info"))
    assert found == [], "\n".join(sorted(set(found))[:40])


def test_notes_fit_the_service_note_model_and_show_every_field_real_notes_show(
    served: Served,
) -> None:
    _, client = served
    tickets = client.get("/service/tickets", params={"pageSize": 40}).json()
    notes = [n for t in tickets for n in client.get(f"/service/tickets/{t['id']}/notes").json()]
    assert len(notes) >= 40
    found = _problems_in(notes, "ServiceNote", "/service/tickets/{id}/notes")
    assert found == [], "\n".join(sorted(set(found))[:40])
    served_fields = {name for note in notes for name in note}
    assert sorted(NOTE_FIELDS_IN_SAMPLES - served_fields) == []


def test_tickets_show_every_field_real_tickets_show(served: Served) -> None:
    _, client = served
    tickets = _every_page(client, "/service/tickets")
    served_fields = {name for ticket in tickets for name in ticket}
    assert sorted(TICKET_FIELDS_IN_SAMPLES - served_fields) == []


def test_the_fields_the_models_require_and_the_issue_named_are_served(served: Served) -> None:
    """Issue 11: contacts had an invented ``defaultEmail``, priorities ``sort`` instead of
    ``sortOrder`` and no ``color``; agreements had no ``contact``, members no ``hireDate``,
    ``defaultPhone`` or ``securityRole``, board teams no ``teamLeader``."""
    _, client = served
    contacts = _every_page(client, "/company/contacts")
    assert not any("defaultEmail" in contact for contact in contacts)
    for contact in contacts:
        kinds = {item["communicationType"] for item in contact["communicationItems"]}
        assert kinds == {"Email", "Phone"}, contact
    priorities = _every_page(client, "/service/priorities")
    assert not any("sort" in priority for priority in priorities)
    assert sorted(p["sortOrder"] for p in priorities) == [1, 2, 3, 4, 5]
    assert all(p["color"] in MODELS["Priority"].fields["color"].enum for p in priorities)
    assert all("contact" in a for a in _every_page(client, "/finance/agreements"))
    for member in _every_page(client, "/system/members"):
        assert {"hireDate", "defaultPhone", "securityRole"} <= set(member), member
    assert all("teamLeader" in team for team in _every_page(client, "/service/boards/1/teams"))


def test_a_contacts_details_on_a_ticket_are_the_contacts(served: Served) -> None:
    _, client = served
    contacts = {contact["id"]: contact for contact in _every_page(client, "/company/contacts")}
    tickets = [t for t in _every_page(client, "/service/tickets") if "contact" in t]
    assert tickets
    for ticket in tickets:
        items = contacts[ticket["contact"]["id"]]["communicationItems"]
        values = {item["communicationType"]: item["value"] for item in items}
        assert ticket["contactEmailAddress"] == values["Email"]
        assert ticket["contactPhoneNumber"] == values["Phone"]


def test_project_tickets_carry_a_budget_a_plan_and_a_due_date(served: Served) -> None:
    _, client = served
    projects = client.get("/service/tickets", params={"conditions": "board/name='Projects'"})
    assert projects.json()
    for ticket in projects.json():
        assert ticket["budgetHours"] > 0
        assert ticket["estimatedStartDate"] < ticket["requiredDate"]
        assert 1 <= ticket["duration"] <= 25
        assert ticket["_info"]["dateEntered"] < ticket["estimatedStartDate"]


def test_patched_and_posted_objects_fit_their_models() -> None:
    fresh = generate_msp(seed=5, start=START, end=START + timedelta(days=5))
    with (
        SimulatorServer(fresh, clock=START + timedelta(days=4)) as server,
        httpx.Client(base_url=server.url, headers=server.headers) as client,
    ):
        ticket = client.get("/service/tickets", params={"pageSize": 1}).json()[0]
        route = f"/service/tickets/{ticket['id']}"
        patch = [{"op": "replace", "path": "status", "value": {"name": ">Resolved"}}]
        patched = client.patch(route, json=patch)
        assert patched.status_code == 200
        note = {"text": "Fixed", "internalAnalysisFlag": True, "processNotifications": False}
        posted = client.post(f"{route}/notes", json=note)
        assert posted.status_code == 201
        found = problems(patched.json(), "Ticket") + problems(posted.json(), "ServiceNote")
        assert found == []
