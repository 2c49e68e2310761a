"""``PATCH /service/tickets/{id}`` on the simulator, over HTTP: the JSON Patch paths real
clients send are applied (a later GET and ``_info.lastUpdated`` show them), read-only and
unknown paths and bad values are refused with ConnectWise's error body, changing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from psa.connectwise.simulator import SimulatorServer, generate_msp, patching
from psa.connectwise.simulator.model import iso
from tests.psa.connectwise.connectwise_models import MODELS, problems

START = datetime(2026, 9, 1, tzinfo=UTC)
Json = dict[str, Any]


@dataclass
class Cw:
    server: SimulatorServer
    client: httpx.Client

    def get(self, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def ticket(self, ticket_id: int) -> Json:
        ticket: Json = self.get(f"/service/tickets/{ticket_id}")
        return ticket

    def patch(self, ticket_id: int, *ops: Json) -> httpx.Response:
        return self.client.patch(f"/service/tickets/{ticket_id}", json=list(ops))

    def patched(self, ticket_id: int, *ops: Json) -> Json:
        """PATCH, check the answer, and return the ticket as a later GET shows it."""
        answer = self.patch(ticket_id, *ops)
        assert answer.status_code == 200, answer.text
        assert problems(answer.json(), "Ticket") == []
        ticket = self.ticket(ticket_id)
        assert ticket == answer.json()
        assert ticket["_info"]["lastUpdated"] == self.clock
        assert ticket["_info"]["updatedBy"] == "DeskboardAPI"
        return ticket

    @property
    def clock(self) -> str:
        return iso(int(self.server.clock.timestamp()))

    def open_ticket(self, conditions: str = "") -> Json:
        """An open, answered Service Desk ticket with a contact, updated before the clock."""
        wanted = "board/name='Service Desk' and closedFlag=false and dateResponded != null"
        wanted += " and contact/id != null and dateResolved = null"
        found = self.get(
            "/service/tickets", conditions=f"{wanted} and {conditions}" if conditions else wanted
        )
        assert found, "the simulated MSP needs such a ticket"
        ticket: Json = found[0]
        assert ticket["_info"]["lastUpdated"] < self.clock
        return ticket


@pytest.fixture
def cw() -> Iterator[Cw]:
    msp = generate_msp(seed=5, start=START, end=START + timedelta(days=10))
    with (
        SimulatorServer(msp, clock=START + timedelta(days=9, hours=15)) as server,
        httpx.Client(base_url=server.url, headers=server.headers) as client,
    ):
        yield Cw(server, client)


def replace(path: str, value: object) -> Json:
    return {"op": "replace", "path": path, "value": value}


def _board(cw: Cw, name: str) -> Json:
    board: Json = next(b for b in cw.get("/service/boards") if b["name"] == name)
    return board


def _status(cw: Cw, board_id: int, name: str) -> Json:
    statuses = cw.get(f"/service/boards/{board_id}/statuses")
    status: Json = next(s for s in statuses if s["name"] == name)
    return status


# -- the paths real clients send ------------------------------------------------------------
def test_status_by_id_and_by_name(cw: Cw) -> None:
    ticket = cw.open_ticket()
    waiting = _status(cw, ticket["board"]["id"], "Waiting on Client")
    moved = cw.patched(ticket["id"], replace("status/id", waiting["id"]))
    assert moved["status"] == {"id": waiting["id"], "name": "Waiting on Client"}
    assert "dateResolved" not in moved

    resolved = cw.patched(ticket["id"], replace("status/name", ">Resolved"))
    assert resolved["status"]["name"] == ">Resolved"
    assert resolved["dateResolved"] == cw.clock
    assert resolved["resolvedBy"] == "DeskboardAPI"


def test_a_leading_slash_and_any_letter_case_are_accepted(cw: Cw) -> None:
    ticket = cw.open_ticket()
    in_progress = _status(cw, ticket["board"]["id"], "In Progress")
    moved = cw.patched(ticket["id"], replace("/STATUS/ID", in_progress["id"]))
    assert moved["status"]["id"] == in_progress["id"]


def test_summary_and_priority(cw: Cw) -> None:
    ticket = cw.open_ticket()
    other = next(p for p in cw.get("/service/priorities") if p["id"] != ticket["priority"]["id"])
    changed = cw.patched(
        ticket["id"],
        replace("summary", "Scanner on the 3rd floor drops jobs"),
        replace("priority/id", other["id"]),
    )
    assert changed["summary"] == "Scanner on the 3rd floor drops jobs"
    assert changed["priority"] == {
        "id": other["id"],
        "name": other["name"],
        "sort": other["sortOrder"],
    }
    same_priority = cw.get("/service/tickets", conditions=f"priority/id={other['id']}")
    others = [t for t in same_priority if t["id"] != ticket["id"]]
    assert others, "another ticket of that priority shows its SLA targets"
    for target in ("respondedHours", "resplanHours", "resolutionHours"):
        assert changed[target] == others[0][target]


def test_owner_by_identifier_and_by_id_joins_the_resources(cw: Cw) -> None:
    ticket = cw.open_ticket()
    members = [
        m
        for m in cw.get("/system/members", pageSize=100)
        if not m["inactiveFlag"]
        and m["identifier"] not in ticket.get("resources", "")
        and m["identifier"] != "DeskboardAPI"
    ]
    first, second = members[0], members[1]
    owned = cw.patched(ticket["id"], replace("owner/identifier", first["identifier"].lower()))
    assert owned["owner"] == {
        "id": first["id"],
        "identifier": first["identifier"],
        "name": f"{first['firstName']} {first['lastName']}",
    }
    assert owned["resources"].split(", ")[-1] == first["identifier"]
    again = cw.patched(ticket["id"], replace("owner/id", second["id"]))
    assert again["owner"]["identifier"] == second["identifier"]
    assert again["resources"].split(", ")[-2:] == [first["identifier"], second["identifier"]]


def test_board_move_keeps_the_status_name_and_takes_the_new_boards_team(cw: Cw) -> None:
    ticket = cw.open_ticket("type/id != null")
    escalations = _board(cw, "Escalations")
    moved = cw.patched(ticket["id"], replace("board/id", escalations["id"]))
    assert moved["board"] == {"id": escalations["id"], "name": "Escalations"}
    status = _status(cw, escalations["id"], ticket["status"]["name"])
    assert moved["status"] == {"id": status["id"], "name": status["name"]}
    (team,) = cw.get(f"/service/boards/{escalations['id']}/teams")
    assert moved["team"] == {"id": team["id"], "name": team["name"]}
    assert "type" not in moved  # the Service Desk's types are not the Escalations board's


def test_type_subtype_and_item_by_nested_id(cw: Cw) -> None:
    ticket = cw.open_ticket("type/id = null")
    combo = cw.get(f"/service/boards/{ticket['board']['id']}/typeSubTypeItemAssociations")[-1]
    categorized = cw.patched(
        ticket["id"],
        replace("type/id", combo["type"]["id"]),
        replace("subType/id", combo["subType"]["id"]),
        replace("item/id", combo["item"]["id"]),
    )
    for kind in ("type", "subType", "item"):
        assert categorized[kind] == {"id": combo[kind]["id"], "name": combo[kind]["name"]}


def test_company_agreement_and_contact_by_nested_id(cw: Cw) -> None:
    ticket = cw.open_ticket()
    agreement = next(
        a for a in cw.get("/finance/agreements") if a["company"]["id"] != ticket["company"]["id"]
    )
    company_id = agreement["company"]["id"]
    contact = cw.get("/company/contacts", conditions=f"company/id={company_id}")[-1]
    moved = cw.patched(
        ticket["id"],
        replace("company/id", company_id),
        replace("agreement/id", agreement["id"]),
        replace("contact/id", contact["id"]),
    )
    assert moved["company"] == agreement["company"]
    company = cw.get(f"/company/companies/{company_id}")
    assert moved["site"] == company["site"]
    assert (moved["addressLine1"], moved["city"]) == (company["addressLine1"], company["city"])
    assert moved["agreement"] == {"id": agreement["id"], "name": agreement["name"]}
    name = f"{contact['firstName']} {contact['lastName']}"
    assert moved["contact"] == {"id": contact["id"], "name": name}
    assert moved["contactName"] == name
    items = {i["communicationType"]: i["value"] for i in contact["communicationItems"]}
    assert moved["contactEmailAddress"] == items["Email"]
    assert moved["contactPhoneNumber"] == items["Phone"]

    gone = cw.patched(ticket["id"], {"op": "remove", "path": "contact"})
    assert not {"contact", "contactName", "contactEmailAddress"} & set(gone)


def test_resources_and_other_documented_fields(cw: Cw) -> None:
    ticket = cw.open_ticket()
    team = cw.get("/service/boards/1/teams")[0]
    email = next(s for s in cw.get("/service/sources") if s["name"] == "Email")
    changed = cw.patched(
        ticket["id"],
        replace("resources", "JSmith, AKhan"),
        replace("severity", "High"),
        replace("impact", "Low"),
        replace("requiredDate", "2026-09-14T00:00:00Z"),
        replace("budgetHours", 2.5),
        replace("poNumber", "PO-7781"),
        replace("team/id", team["id"]),
        replace("source", {"name": "email"}),
        replace("serviceLocation/name", "On-Site"),
        replace("customFields", [{"id": 9, "value": "REF-12"}]),
        replace("processNotifications", False),
    )
    assert changed["resources"] == "JSmith, AKhan"
    assert (changed["severity"], changed["impact"]) == ("High", "Low")
    assert changed["requiredDate"] == "2026-09-14T00:00:00Z"
    assert changed["budgetHours"] == 2.5
    assert changed["poNumber"] == "PO-7781"
    assert changed["team"] == {"id": team["id"], "name": team["name"]}
    assert changed["source"] == {"id": email["id"], "name": "Email"}
    assert changed["serviceLocation"]["name"] == "On-Site"
    custom = {field["id"]: field for field in changed["customFields"]}
    assert custom[9]["value"] == "REF-12"
    assert all("value" not in field for i, field in custom.items() if i != 9)
    assert "processNotifications" not in changed


def test_closed_flag_closes_and_reopens(cw: Cw) -> None:
    ticket = cw.open_ticket()
    closed = cw.patched(ticket["id"], replace("closedFlag", True))
    assert closed["closedFlag"] is True
    assert closed["closedBy"] == "DeskboardAPI"
    closing = _status(cw, ticket["board"]["id"], closed["status"]["name"])
    assert closing["closedStatus"] is True
    cw.server.clock += timedelta(minutes=5)
    reopened = cw.patched(ticket["id"], replace("closedFlag", False))
    assert reopened["closedFlag"] is False
    assert not {"closedBy", "closedDate", "dateResolved"} & set(reopened)


def test_a_patched_field_stays_as_patched_when_the_clock_moves_on(cw: Cw) -> None:
    ticket = cw.open_ticket()
    cw.patched(ticket["id"], replace("summary", "Renamed by the API"))
    cw.server.clock += timedelta(days=20)
    assert cw.ticket(ticket["id"])["summary"] == "Renamed by the API"


def test_conditions_see_a_patched_field(cw: Cw) -> None:
    ticket = cw.open_ticket()
    assert ticket["approved"] is True  # the same for every ticket until one is patched
    cw.patched(ticket["id"], replace("approved", False))
    found = cw.get("/service/tickets", conditions="approved = false")
    assert [t["id"] for t in found] == [ticket["id"]]
    assert cw.get("/service/tickets/count", conditions="approved=false") == {"count": 1}


# -- refusals -------------------------------------------------------------------------------
def _refused(cw: Cw, ticket: Json, *ops: Json) -> Json:
    answer = cw.patch(ticket["id"], *ops)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "InvalidObject"
    assert body["message"] == "ticket object is invalid"
    (error,) = body["errors"]
    assert set(error) == {"code", "message", "resource", "field"}
    assert error["resource"] == "ticket"
    assert cw.ticket(ticket["id"]) == ticket  # nothing changed, not even lastUpdated
    assert isinstance(error, dict)
    return error


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("id", 1),
        ("_info", {"lastUpdated": "2026-09-01T00:00:00Z"}),
        ("_info/lastUpdated", "2026-09-01T00:00:00Z"),
        ("dateResolved", "2026-09-01T00:00:00Z"),
        ("respondedBy", "JSmith"),
        ("closedBy", "JSmith"),
        ("mobileGuid", "00000000-0000-4000-8000-000000000000"),
        ("sla/id", 1),
        ("respondMinutes", 0),
        ("initialDescription", "hello"),
    ],
)
def test_read_only_and_post_only_paths_are_refused(cw: Cw, path: str, value: object) -> None:
    ticket = cw.open_ticket()
    error = _refused(cw, ticket, replace(path, value))
    assert error["code"] == "InvalidField"
    assert error["field"] == path.split("/")[0]


@pytest.mark.parametrize(
    "path", ["notAField", "status/color", "summary/id", "owner/identifier/x", "", "lastUpdated"]
)
def test_paths_that_name_no_ticket_field_are_refused(cw: Cw, path: str) -> None:
    ticket = cw.open_ticket()
    error = _refused(cw, ticket, replace(path, "x"))
    assert error["code"] == "InvalidField"
    assert error["field"] == path


def test_bad_values_are_refused(cw: Cw) -> None:
    ticket = cw.open_ticket()
    other_company = next(
        c
        for c in cw.get("/company/contacts", pageSize=1000)
        if c["company"]["id"] != ticket["company"]["id"]
    )
    inactive = next(m for m in cw.get("/system/members", pageSize=100) if m["inactiveFlag"])
    cases: list[tuple[Json, str, str]] = [
        (replace("summary", "x" * 101), "InvalidField", "summary"),
        (replace("summary", "  "), "MissingRequiredField", "summary"),
        (replace("severity", "Urgent"), "InvalidField", "severity"),
        (replace("requiredDate", "tomorrow"), "InvalidField", "requiredDate"),
        (replace("budgetHours", "2"), "InvalidField", "budgetHours"),
        (replace("closedFlag", "yes"), "InvalidField", "closedFlag"),
        (replace("status/name", "No Such Status"), "NotFound", "status/name"),
        (replace("owner/identifier", inactive["identifier"]), "InvalidField", "owner"),
        (replace("contact/id", other_company["id"]), "InvalidField", "contact/id"),
        (replace("workRole/id", 1), "NotFound", "workRole/id"),
        (replace("customFields", [{"id": 999, "value": 1}]), "NotFound", "customFields/id"),
        ({"op": "remove", "path": "status"}, "MissingRequiredField", "status"),
        ({"op": "replace", "path": "impact", "value": None}, "MissingRequiredField", "impact"),
        ({"op": "move", "path": "summary", "from": "poNumber"}, "InvalidField", "op"),
        ({"op": "replace", "path": "summary"}, "MissingRequiredField", "summary"),
    ]
    for op, code, field in cases:
        error = _refused(cw, ticket, op)
        assert (error["code"], error["field"]) == (code, field), op


def test_one_bad_operation_refuses_the_whole_patch(cw: Cw) -> None:
    ticket = cw.open_ticket()
    _refused(cw, ticket, replace("summary", "Would change"), replace("id", 5))


# -- the table of paths covers the model ------------------------------------------------------
def test_every_ticket_field_of_the_model_is_writable_read_only_or_post_only() -> None:
    writable, read_only = patching.WRITABLE, patching.READ_ONLY
    post_only, ignored = patching.POST_ONLY, patching.IGNORED
    classified = writable | read_only | post_only | ignored
    assert sorted(set(MODELS["Ticket"].fields) - classified) == []
    assert sorted(classified - set(MODELS["Ticket"].fields)) == []
    assert writable.isdisjoint(read_only | post_only | ignored)
    assert read_only.isdisjoint(post_only)
