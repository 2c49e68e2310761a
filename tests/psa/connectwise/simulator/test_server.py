"""The simulated ConnectWise over real HTTP (httpx against 127.0.0.1)."""

from __future__ import annotations

import re
from base64 import b64encode
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from psa.connectwise.simulator import SimulatedMSP, SimulatorServer, generate_msp
from psa.connectwise.simulator.model import iso

START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 10, 1, tzinfo=UTC)
CLOCK = datetime(2026, 9, 30, 18, 0, tzinfo=UTC)  # a Wednesday, 13:00 in Chicago
NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


@pytest.fixture(scope="module")
def sim_msp() -> SimulatedMSP:
    return generate_msp(seed=5, start=START, end=END)


@pytest.fixture
def simulator(sim_msp: SimulatedMSP) -> Iterator[SimulatorServer]:
    # A fresh MSP per test would cost ~0.1 s; PATCH/notes tests use their own (below).
    with SimulatorServer(sim_msp, clock=CLOCK) as server:
        yield server


@pytest.fixture
def fresh_simulator() -> Iterator[SimulatorServer]:
    """For tests that change tickets: their own MSP, so shared state stays pristine."""
    msp = generate_msp(seed=5, start=START, end=START + timedelta(days=10))
    with SimulatorServer(msp, clock=START + timedelta(days=9)) as server:
        yield server


@pytest.fixture
def client(simulator: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator.url, headers=simulator.headers) as http:
        yield http


def _visible_ids(msp: SimulatedMSP, clock: datetime) -> list[int]:
    return [t["id"] for t in msp.snapshot(clock)]


def test_requests_without_valid_credentials_are_refused(simulator):
    url = f"{simulator.url}/service/tickets"
    bare = httpx.get(url)
    wrong_key = dict(simulator.headers)
    wrong_key["Authorization"] = "Basic " + b64encode(b"deskboard_demo+demo-public:nope").decode()
    no_client_id = {"Authorization": simulator.headers["Authorization"]}
    for headers in ({}, wrong_key, no_client_id):
        answer = httpx.get(url, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["code"] == "Unauthorized"
    assert bare.status_code == 401
    assert httpx.get(url, headers=simulator.headers).status_code == 200


def test_forward_only_paging_returns_every_visible_ticket_once_in_id_order(simulator, sim_msp):
    seen: list[int] = []
    url: str | None = f"{simulator.url}/service/tickets?pageSize=200&orderBy=id%20asc"
    headers = {**simulator.headers, "pagination-type": "forward-only"}
    pages = 0
    while url is not None:
        answer = httpx.get(url, headers=headers)
        assert answer.status_code == 200
        seen += [t["id"] for t in answer.json()]
        found = NEXT_LINK.search(answer.headers.get("Link", ""))
        url = found.group(1) if found else None
        pages += 1
    expected = _visible_ids(sim_msp, CLOCK)
    assert seen == expected
    assert pages == -(-len(expected) // 200)  # ceil: the last page has no next link
    assert all("pageId" in r.query for r in simulator.requests[1:])


def test_page_number_paging_and_its_optional_link_header(simulator, client, sim_msp):
    expected = _visible_ids(sim_msp, CLOCK)
    seen: list[int] = []
    page = 1
    while True:
        answer = client.get("/service/tickets", params={"pageSize": 500, "page": page})
        batch = [t["id"] for t in answer.json()]
        if not batch:
            break
        has_next = NEXT_LINK.search(answer.headers.get("Link", "")) is not None
        assert has_next == (page * 500 < len(expected))
        seen += batch
        page += 1
    assert seen == expected
    simulator.link_headers = False
    answer = client.get("/service/tickets", params={"pageSize": 10, "page": 1})
    assert "Link" not in answer.headers
    assert len(answer.json()) == 10  # paging itself still works
    assert len(client.get("/service/tickets").json()) == 25  # the default page size


def test_conditions_filter_on_last_updated_and_board(client, sim_msp):
    since = CLOCK - timedelta(days=3)
    conditions = f"lastUpdated > [{iso(int(since.timestamp()))}] and board/id in (1, 3)"
    answer = client.get("/service/tickets", params={"conditions": conditions, "pageSize": 1000})
    got = [t["id"] for t in answer.json()]
    # The same filter by hand over the rendered tickets: ISO text compares like time.
    expected = [
        t["id"]
        for t in sim_msp.snapshot(CLOCK)
        if t["_info"]["lastUpdated"] > iso(int(since.timestamp())) and t["board"]["id"] in (1, 3)
    ]
    assert got == expected
    assert 0 < len(got) < len(sim_msp.snapshot(CLOCK))
    count = client.get("/service/tickets/count", params={"conditions": conditions})
    assert count.json() == {"count": len(expected)}
    forward: list[int] = []
    url: str | None = str(
        client.build_request(
            "GET", "/service/tickets", params={"conditions": conditions, "pageSize": 7}
        ).url
    )
    while url is not None:
        answer = client.get(url, headers={"pagination-type": "forward-only"})
        forward += [t["id"] for t in answer.json()]
        found = NEXT_LINK.search(answer.headers.get("Link", ""))
        url = found.group(1) if found else None
    assert forward == expected


def test_a_bad_condition_is_a_400_api_find_condition(client):
    answer = client.get("/service/tickets", params={"conditions": "ticket = 5"})
    assert answer.status_code == 400
    assert answer.json() == {
        "code": "ApiFindCondition",
        "message": "ticket is not a recognized name.",
    }
    assert client.get("/service/tickets", params={"conditions": "id = ("}).status_code == 400


def test_advancing_the_clock_shows_what_happened_meanwhile(simulator, client):
    open_tickets = {"pageSize": 1000, "conditions": "closedFlag = false"}
    before = {t["id"]: t for t in client.get("/service/tickets", params=open_tickets).json()}
    simulator.clock = CLOCK + timedelta(days=1)
    conditions = f"lastUpdated > [{iso(int(CLOCK.timestamp()))}]"
    changed = client.get(
        "/service/tickets", params={"conditions": conditions, "pageSize": 1000}
    ).json()
    assert changed, "a working day later, tickets have moved on"
    moved = [t for t in changed if t["id"] in before and t["status"] != before[t["id"]]["status"]]
    assert moved
    assert all(t["_info"]["lastUpdated"] > iso(int(CLOCK.timestamp())) for t in changed)


def test_reference_routes_answer_in_connectwise_shape(client, sim_msp):
    boards = client.get("/service/boards").json()
    assert [b["name"] for b in boards][:2] == ["Service Desk", "Escalations"]
    statuses = client.get("/service/boards/1/statuses").json()
    assert {s["escalationStatus"] for s in statuses} >= {"NotResponded", "Resolved", "NoEscalation"}
    for route in ("types", "subtypes", "items", "typeSubTypeItemAssociations"):
        assert client.get(f"/service/boards/1/{route}").json(), route
    members = client.get("/system/members", params={"pageSize": 100}).json()
    assert any(m["identifier"] == "Dispatch" for m in members)
    acme = next(c for c in sim_msp.companies if c["identifier"] == "AcmeDental")
    agreements = client.get(
        "/finance/agreements", params={"conditions": f"company/id={acme['id']}"}
    )
    assert agreements.json()
    assert all(a["company"]["id"] == acme["id"] for a in agreements.json())
    assert client.get("/company/companies", params={"pageSize": 100}).json()
    assert client.get("/service/boards/99/statuses").status_code == 404
    assert client.get("/service/tickets/1").json()["code"] == "NotFound"


def _uncategorized_service_desk_ticket(client: httpx.Client) -> dict:
    conditions = "board/id = 1 and item = null and type = null and closedFlag = false"
    tickets = client.get("/service/tickets", params={"conditions": conditions}).json()
    assert tickets
    return tickets[0]


def test_patch_sets_a_valid_category_at_the_clock(fresh_simulator):
    with httpx.Client(base_url=fresh_simulator.url, headers=fresh_simulator.headers) as client:
        ticket = _uncategorized_service_desk_ticket(client)
        combo = client.get("/service/boards/1/typeSubTypeItemAssociations").json()[0]
        patch = [
            {"op": "replace", "path": path, "value": {"id": combo[path]["id"]}}
            for path in ("type", "subType", "item")
        ]
        answer = client.patch(f"/service/tickets/{ticket['id']}", json=patch)
        assert answer.status_code == 200
        assert answer.json()["item"]["id"] == combo["item"]["id"]
        clock = iso(int(fresh_simulator.clock.timestamp()))
        assert answer.json()["_info"]["lastUpdated"] == clock
        assert answer.json()["_info"]["updatedBy"] == "DeskboardAPI"
        fresh_simulator.clock += timedelta(days=30)  # later events leave the category alone
        later = client.get(f"/service/tickets/{ticket['id']}").json()
        assert later["type"]["id"] == combo["type"]["id"]
        assert later["item"]["id"] == combo["item"]["id"]


def test_patch_refuses_combinations_the_board_does_not_allow(fresh_simulator):
    with httpx.Client(base_url=fresh_simulator.url, headers=fresh_simulator.headers) as client:
        ticket = _uncategorized_service_desk_ticket(client)
        combos = client.get("/service/boards/1/typeSubTypeItemAssociations").json()
        printer = next(c for c in combos if c["subType"]["name"] == "Printer")
        access = next(c for c in combos if c["item"]["name"] == "Access")
        bad = [
            {"op": "replace", "path": "type", "value": {"id": printer["type"]["id"]}},
            {"op": "replace", "path": "subType", "value": {"id": printer["subType"]["id"]}},
            {"op": "replace", "path": "item", "value": {"id": access["item"]["id"]}},
        ]
        answer = client.patch(f"/service/tickets/{ticket['id']}", json=bad)
        assert answer.status_code == 400
        assert answer.json()["code"] == "InvalidObject"
        assert answer.json()["errors"][0]["field"] == "item"
        unknown = [{"op": "replace", "path": "type", "value": {"id": 999999}}]
        answer = client.patch(f"/service/tickets/{ticket['id']}", json=unknown)
        assert answer.json()["errors"][0]["code"] == "NotFound"
        unchanged = client.get(f"/service/tickets/{ticket['id']}").json()
        assert "type" not in unchanged
        assert unchanged["_info"] == ticket["_info"]


def test_patch_to_a_closed_status_closes_the_ticket(fresh_simulator):
    with httpx.Client(base_url=fresh_simulator.url, headers=fresh_simulator.headers) as client:
        ticket = _uncategorized_service_desk_ticket(client)
        closed = next(
            s for s in client.get("/service/boards/1/statuses").json() if s["closedStatus"]
        )
        patch = [{"op": "replace", "path": "status", "value": {"id": closed["id"]}}]
        answer = client.patch(f"/service/tickets/{ticket['id']}", json=patch).json()
        assert answer["closedFlag"] is True
        assert answer["closedBy"] == "DeskboardAPI"
        assert answer["resolvedBy"] == "DeskboardAPI"


def test_notes_post_needs_a_flag_and_is_then_listed(fresh_simulator):
    with httpx.Client(base_url=fresh_simulator.url, headers=fresh_simulator.headers) as client:
        ticket = _uncategorized_service_desk_ticket(client)
        route = f"/service/tickets/{ticket['id']}/notes"
        refused = client.post(route, json={"text": "hello", "processNotifications": False})
        assert refused.status_code == 400
        assert refused.json()["code"] == "InvalidObject"
        body = {
            "text": "Please categorize",
            "internalAnalysisFlag": True,
            "processNotifications": False,
        }
        created = client.post(route, json=body)
        assert created.status_code == 201
        assert created.json()["member"]["identifier"] == "DeskboardAPI"
        texts = [note["text"] for note in client.get(route).json()]
        assert texts[-1] == "Please categorize"
        assert fresh_simulator.posted_notes[-1]["body"]["processNotifications"] is False
        assert fresh_simulator.posted_notes[-1]["ticket_id"] == ticket["id"]


def test_resolve_ticket_now_is_seen_by_the_next_incremental_sync(fresh_simulator):
    with httpx.Client(base_url=fresh_simulator.url, headers=fresh_simulator.headers) as client:
        ticket = _uncategorized_service_desk_ticket(client)
        fresh_simulator.clock += timedelta(minutes=5)
        since = iso(int(fresh_simulator.clock.timestamp()) - 60)
        recent = {"conditions": f"lastUpdated > [{since}]", "pageSize": 1000}
        # A first incremental sync (it indexes every event), then the resolution.
        assert ticket["id"] not in [
            t["id"] for t in client.get("/service/tickets", params=recent).json()
        ]
        fresh_simulator.resolve_ticket_now(ticket["id"], by="AKhan")
        changed = client.get("/service/tickets", params=recent).json()
        resolved = next(t for t in changed if t["id"] == ticket["id"])
        assert resolved["resolvedBy"] == "AKhan"
        assert resolved["dateResolved"] == iso(int(fresh_simulator.clock.timestamp()))
        assert resolved["status"]["name"] == ">Resolved"


def test_injected_failures_carry_retry_after_then_service_resumes(simulator, client):
    simulator.fail_next(429, retry_after=2)
    throttled = client.get("/service/boards")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2"
    assert throttled.json()["code"] == "TooManyRequests"
    assert client.get("/service/boards").status_code == 200
    assert simulator.requests[-1].path == "/service/boards"
