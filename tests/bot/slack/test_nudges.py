"""The nudge DM fixes tickets in place: the selects offer the board's valid combinations,
Save PATCHes the simulator and notes who did it, Not needed dismisses, and nobody but the
nudged technician can act."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import App

from bot.chat.views import Person, nudge_digest_message
from bot.core.fixes import CatalogCache, build_nudge_item
from bot.slack.deps import SlackDeps
from psa.connectwise.simulator import SimulatorServer
from storage import notices, repo
from storage.db import session_scope
from tests.bot.slack.conftest import (
    BLESSING,
    GUEST,
    JORDAN,
    NOW,
    TEAM_ID,
    blocks_of,
    interact,
    texts,
)
from tests.bot.slack.fake_slack import FakeSlack, SlackUser

UNCATEGORIZED = 41152  # bokafor's, Service Desk (board 1), no type/subtype/item
IN_CATCHALL = 41073  # bokafor's, company Catchall, no agreement
SERVICE_DESK = 1


def send_nudge(deps: SlackDeps, slack: FakeSlack, ticket_id: int, reason: str) -> dict[str, Any]:
    """Record the nudge and DM it as the nudge job does; return the posted message."""
    with session_scope(deps.engine) as session:
        notices.record_nudges(session, items=[(ticket_id, reason, "bokafor")], at=NOW)
    with deps.psa() as cw:
        item = build_nudge_item(
            cw,
            ticket_id=ticket_id,
            reasons=(reason,),
            catalogs=deps.catalogs,
            ticket_url=deps.ticket_link(ticket_id),
        )
    person = Person(key="bokafor", display="Blessing Okafor")
    ref = deps.messenger.dm("bokafor", nudge_digest_message(person=person, items=[item]))
    assert ref is not None
    channel, ts = ref.split(":")
    posted = slack.calls_to("chat.postMessage")[-1].params
    assert posted["channel"] == channel == "DUBLESSING"  # conversations.open with her user
    return {"ts": ts, "channel": channel, "text": posted["text"], "blocks": blocks_of(posted)}


def option(text: str, value: int | str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": str(value)}


def click(
    app: App,
    slack: FakeSlack,
    message: dict[str, Any],
    *,
    ticket_id: int,
    action: dict[str, Any],
    state: dict[str, Any] | None = None,
    user: SlackUser = BLESSING,
) -> None:
    block_id = f"nudge:{ticket_id}"
    interact(
        app,
        {
            "type": "block_actions",
            "user": {"id": user.id, "username": user.name, "team_id": TEAM_ID},
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": message["channel"],
            },
            "channel": {"id": message["channel"]},
            "message": {"ts": message["ts"], "text": message["text"], "blocks": message["blocks"]},
            "state": {"values": {block_id: state or {}}},
            "response_url": slack.response_url(f"nudge-{user.id}"),
            "actions": [{"block_id": block_id, "action_ts": "1700000000.2", **action}],
        },
    )


def picked(action_id: str, chosen: dict[str, Any]) -> dict[str, Any]:
    return {"type": "static_select", "action_id": action_id, "selected_option": chosen}


def element(blocks: list[dict[str, Any]], ticket_id: int, action_id: str) -> dict[str, Any]:
    actions = next(b for b in blocks if b.get("block_id") == f"nudge:{ticket_id}")
    return next(e for e in actions["elements"] if e["action_id"] == action_id)


def updated(slack: FakeSlack, count: int) -> dict[str, Any]:
    call = slack.wait_for_call("chat.update", count=count)[count - 1]
    return {**call.params, "blocks": blocks_of(call.params)}


def ticket_json(simulator: SimulatorServer, ticket_id: int) -> dict[str, Any]:
    position = simulator.state.position(ticket_id)
    assert position is not None
    return simulator.state.render(position)


def nudge_status(deps: SlackDeps, ticket_id: int) -> set[tuple[str, str | None]]:
    with session_scope(deps.engine) as session:
        rows = notices.nudges_for_ticket(session, ticket_id=ticket_id)
    return {(row.status, row.fixed_by) for row in rows}


def test_categorize_flow_ends_in_the_right_patch_and_a_quiet_note(app, slack, deps, simulator):
    message = send_nudge(deps, slack, UNCATEGORIZED, "uncategorized")
    associations = simulator.msp.associations[SERVICE_DESK]
    # Hardware / Laptop / Repair is the board's first association row (see the simulator).
    hardware, laptop, repair = (associations[0][k] for k in ("type", "subType", "item"))
    subtypes_of_hardware = {
        a["subType"]["id"] for a in associations if a["type"]["id"] == hardware["id"]
    }
    items_of_laptop = {
        a["item"]["id"]
        for a in associations
        if a["type"]["id"] == hardware["id"] and a["subType"]["id"] == laptop["id"]
    }

    type_pick = option(hardware["name"], hardware["id"])
    click(
        app,
        slack,
        message,
        ticket_id=UNCATEGORIZED,
        action=picked("nudge_type", type_pick),
        state={"nudge_type": {"type": "static_select", "selected_option": type_pick}},
    )
    first = updated(slack, 1)
    subtype_select = element(first["blocks"], UNCATEGORIZED, "nudge_subtype")
    assert {int(o["value"]) for o in subtype_select["options"]} == subtypes_of_hardware
    assert element(first["blocks"], UNCATEGORIZED, "nudge_type")["initial_option"] == type_pick

    message["blocks"] = first["blocks"]
    subtype_pick = option(laptop["name"], laptop["id"])
    state = {
        "nudge_type": {"type": "static_select", "selected_option": type_pick},
        "nudge_subtype": {"type": "static_select", "selected_option": subtype_pick},
    }
    click(
        app,
        slack,
        message,
        ticket_id=UNCATEGORIZED,
        action=picked("nudge_subtype", subtype_pick),
        state=state,
    )
    second = updated(slack, 2)
    item_select = element(second["blocks"], UNCATEGORIZED, "nudge_item")
    assert {int(o["value"]) for o in item_select["options"]} == items_of_laptop

    message["blocks"] = second["blocks"]
    state["nudge_item"] = {
        "type": "static_select",
        "selected_option": option("Repair", repair["id"]),
    }
    simulator.clear_requests()
    save = {"type": "button", "action_id": "nudge_save", "value": str(UNCATEGORIZED)}
    click(app, slack, message, ticket_id=UNCATEGORIZED, action=save, state=state)
    done = updated(slack, 3)

    patches = [r for r in simulator.requests if r.method == "PATCH"]
    assert [r.path for r in patches] == [f"/service/tickets/{UNCATEGORIZED}"]
    now = ticket_json(simulator, UNCATEGORIZED)
    assert (now["type"]["id"], now["subType"]["id"], now["item"]["id"]) == (
        hardware["id"],
        laptop["id"],
        repair["id"],
    )
    note = simulator.posted_notes[-1]
    assert note["ticket_id"] == UNCATEGORIZED
    assert note["body"]["processNotifications"] is False
    assert note["body"]["internalAnalysisFlag"] is True
    assert note["body"]["text"] == (
        "Fixed from Slack by Blessing Okafor: Type / subtype / item: Hardware / Laptop / Repair"
    )
    assert nudge_status(deps, UNCATEGORIZED) == {("fixed", "bokafor")}
    with session_scope(deps.engine) as session:
        stored = repo.get_tickets(session, ids=[UNCATEGORIZED])[0]
    assert (stored.type, stored.subtype, stored.item) == ("Hardware", "Laptop", "Repair")

    # The DM: the ticket's paragraph and controls became the "done" line; the greeting stays.
    body = texts(done["blocks"])
    assert body.startswith("Hi Blessing Okafor")
    assert "fixed by Blessing Okafor" in body
    assert "Hardware / Laptop / Repair" in body
    assert not [b for b in done["blocks"] if b.get("block_id") == f"nudge:{UNCATEGORIZED}"]


def test_save_without_a_complete_category_explains_and_changes_nothing(app, slack, deps, simulator):
    message = send_nudge(deps, slack, UNCATEGORIZED, "uncategorized")
    hardware = simulator.msp.associations[SERVICE_DESK][0]["type"]
    state = {"nudge_type": {"selected_option": option(hardware["name"], hardware["id"])}}
    simulator.clear_requests()
    save = {"type": "button", "action_id": "nudge_save", "value": str(UNCATEGORIZED)}
    click(app, slack, message, ticket_id=UNCATEGORIZED, action=save, state=state)
    reply = slack.wait_for_response()[0]
    assert "Pick the subtype and the item too" in reply["text"]
    assert not [r for r in simulator.requests if r.method == "PATCH"]
    assert nudge_status(deps, UNCATEGORIZED) == {("pending", None)}


def test_not_needed_dismisses(app, slack, deps, simulator):
    message = send_nudge(deps, slack, UNCATEGORIZED, "uncategorized")
    simulator.clear_requests()
    dismiss = {"type": "button", "action_id": "nudge_dismiss", "value": str(UNCATEGORIZED)}
    click(app, slack, message, ticket_id=UNCATEGORIZED, action=dismiss)
    done = updated(slack, 1)
    assert "marked as not needed by Blessing Okafor" in texts(done["blocks"])
    assert nudge_status(deps, UNCATEGORIZED) == {("dismissed", "bokafor")}
    assert not [r for r in simulator.requests if r.method in ("PATCH", "POST")]


def test_someone_elses_click_is_refused_and_nothing_is_patched(app, slack, deps, simulator):
    message = send_nudge(deps, slack, UNCATEGORIZED, "uncategorized")
    row = simulator.msp.associations[SERVICE_DESK][0]
    state = {
        key: {"selected_option": option(row[part]["name"], row[part]["id"])}
        for key, part in (
            ("nudge_type", "type"),
            ("nudge_subtype", "subType"),
            ("nudge_item", "item"),
        )
    }
    simulator.clear_requests()
    save = {"type": "button", "action_id": "nudge_save", "value": str(UNCATEGORIZED)}
    click(app, slack, message, ticket_id=UNCATEGORIZED, action=save, state=state, user=JORDAN)
    # Her own click, but a button whose value names another ticket than its block's.
    forged = {**save, "value": "41281"}
    click(app, slack, message, ticket_id=UNCATEGORIZED, action=forged, state=state)
    replies = slack.wait_for_response(count=2)
    assert all("only they can fix it" in r["text"] for r in replies)
    assert all(r.get("response_type") == "ephemeral" for r in replies)
    assert not [r for r in simulator.requests if r.method == "PATCH"]
    assert simulator.posted_notes == []
    assert nudge_status(deps, UNCATEGORIZED) == {("pending", None)}
    assert slack.calls_to("chat.update") == []


def test_catchall_ticket_gets_a_company_search_and_its_agreements(app, slack, deps, simulator):
    message = send_nudge(deps, slack, IN_CATCHALL, "catchall")
    block_id = f"nudge:{IN_CATCHALL}"
    suggestion = interact(
        app,
        {
            "type": "block_suggestion",
            "user": {"id": BLESSING.id, "team_id": TEAM_ID},
            "container": {"type": "message", "message_ts": message["ts"]},
            "action_id": "nudge_company",
            "block_id": block_id,
            "value": "a",
        },
    )
    offered = suggestion.body if isinstance(suggestion.body, str) else ""
    companies = simulator.msp.companies
    # Every company whose name starts with "a" (any case), never the catch-all one.
    expected = sorted(
        (c["name"], c["id"])
        for c in companies
        if c["name"].casefold().startswith("a") and c["identifier"] != "Catchall"
    )
    options = json.loads(offered)["options"]
    assert [(o["text"]["text"], int(o["value"])) for o in options] == expected
    assert expected  # "Acme Dental Group" at least

    acme = next(c for c in companies if c["name"] == "Acme Dental Group")
    acme_pick = option(acme["name"], acme["id"])
    click(
        app,
        slack,
        message,
        ticket_id=IN_CATCHALL,
        action={
            "type": "external_select",
            "action_id": "nudge_company",
            "selected_option": acme_pick,
        },
        state={"nudge_company": {"type": "external_select", "selected_option": acme_pick}},
    )
    first = updated(slack, 1)
    agreements = element(first["blocks"], IN_CATCHALL, "nudge_agreement")
    acme_agreements = sorted(
        (a["name"], a["id"]) for a in simulator.msp.agreements if a["company"]["id"] == acme["id"]
    )
    assert sorted((o["text"]["text"], int(o["value"])) for o in agreements["options"]) == (
        acme_agreements
    )
    assert element(first["blocks"], IN_CATCHALL, "nudge_company")["initial_option"] == acme_pick

    name, agreement_id = acme_agreements[0]
    state = {
        "nudge_company": {"type": "external_select", "selected_option": acme_pick},
        "nudge_agreement": {"type": "static_select", "selected_option": option(name, agreement_id)},
    }
    message["blocks"] = first["blocks"]
    save = {"type": "button", "action_id": "nudge_save", "value": str(IN_CATCHALL)}
    click(app, slack, message, ticket_id=IN_CATCHALL, action=save, state=state)
    updated(slack, 2)
    now = ticket_json(simulator, IN_CATCHALL)
    assert (now["company"]["id"], now["agreement"]["id"]) == (acme["id"], agreement_id)
    assert simulator.posted_notes[-1]["body"]["text"] == (
        f"Fixed from Slack by Blessing Okafor: Company: Acme Dental Group; Agreement: {name}"
    )
    assert nudge_status(deps, IN_CATCHALL) == {("fixed", "bokafor")}


def test_on_demand_subtypes_follow_the_picked_type(app, slack, deps, simulator):
    message = send_nudge(deps, slack, UNCATEGORIZED, "uncategorized")
    associations = simulator.msp.associations[SERVICE_DESK]
    last_type = associations[-1]["type"]  # another type than the flow test's
    expected = sorted(
        {
            (a["subType"]["name"], a["subType"]["id"])
            for a in associations
            if a["type"]["id"] == last_type["id"] and a.get("subType")
        }
    )
    answer = interact(
        app,
        {
            "type": "block_suggestion",
            "user": {"id": BLESSING.id, "team_id": TEAM_ID},
            "container": {"type": "message", "message_ts": message["ts"]},
            "action_id": "nudge_subtype",
            "block_id": f"nudge:{UNCATEGORIZED}",
            "value": "",
            "state": {
                "values": {
                    f"nudge:{UNCATEGORIZED}": {
                        "nudge_type": {
                            "selected_option": option(last_type["name"], last_type["id"])
                        }
                    }
                }
            },
        },
    )
    options = json.loads(str(answer.body))["options"]
    assert sorted((o["text"]["text"], int(o["value"])) for o in options) == expected


def test_board_catalogs_are_read_once_per_ten_minutes(simulator):
    now = [0.0]
    cache = CatalogCache(monotonic=lambda: now[0])

    def catalog_reads() -> int:
        return sum(r.path.endswith("/typeSubTypeItemAssociations") for r in simulator.requests)

    with simulator.connectwise_client() as cw:
        first = cache.get(cw, SERVICE_DESK)
        now[0] += 599
        assert cache.get(cw, SERVICE_DESK) is first
        assert catalog_reads() == 1
        now[0] += 2  # 601 s after the first read: stale
        cache.get(cw, SERVICE_DESK)
    assert catalog_reads() == 2
    assert len(first.associations) == len(simulator.msp.associations[SERVICE_DESK])


JORDANS = 41237  # jsmith's uncategorized ticket (its summary is the hostile one)


def complete_state(simulator: SimulatorServer, ticket_id: int) -> dict[str, Any]:
    """A complete, valid type/subtype/item pick for the ticket's board."""
    board = ticket_json(simulator, ticket_id)["board"]["id"]
    row = simulator.msp.associations[board][0]
    return {
        key: {"selected_option": option(row[part]["name"], row[part]["id"])}
        for key, part in (
            ("nudge_type", "type"),
            ("nudge_subtype", "subType"),
            ("nudge_item", "item"),
        )
    }


def renamed(blocks: list[dict[str, Any]], old: int, new: int) -> list[dict[str, Any]]:
    return [
        {**b, "block_id": f"nudge:{new}"} if b.get("block_id") == f"nudge:{old}" else b
        for b in blocks
    ]


def test_a_forged_block_for_another_technicians_ticket_patches_nothing(app, slack, deps, simulator):
    """Blessing's own DM, edited to carry a block for Jordan's nudged ticket: refused."""
    with session_scope(deps.engine) as session:
        notices.record_nudges(session, items=[(JORDANS, "uncategorized", "jsmith")], at=NOW)
    message = send_nudge(deps, slack, UNCATEGORIZED, "uncategorized")
    forged = {**message, "blocks": renamed(message["blocks"], UNCATEGORIZED, JORDANS)}
    simulator.clear_requests()
    save = {"type": "button", "action_id": "nudge_save", "value": str(JORDANS)}
    click(
        app, slack, forged, ticket_id=JORDANS, action=save, state=complete_state(simulator, JORDANS)
    )
    dismiss = {"type": "button", "action_id": "nudge_dismiss", "value": str(JORDANS)}
    click(app, slack, forged, ticket_id=JORDANS, action=dismiss)
    replies = slack.wait_for_response(count=2)
    assert all("only they can fix it" in r["text"] for r in replies)
    assert not [r for r in simulator.requests if r.method in ("PATCH", "POST")]
    assert nudge_status(deps, JORDANS) == {("pending", None)}
    assert slack.calls_to("chat.update") == []


def test_a_click_naming_a_ticket_its_dm_does_not_carry_is_refused(app, slack, deps, simulator):
    """Both tickets were nudged to Blessing, in two DMs: a click in the first DM cannot act
    on the second DM's ticket."""
    first = send_nudge(deps, slack, UNCATEGORIZED, "uncategorized")
    second = send_nudge(deps, slack, IN_CATCHALL, "catchall")
    simulator.clear_requests()
    dismiss = {"type": "button", "action_id": "nudge_dismiss", "value": str(IN_CATCHALL)}
    click(app, slack, first, ticket_id=IN_CATCHALL, action=dismiss)
    save = {"type": "button", "action_id": "nudge_save", "value": str(IN_CATCHALL)}
    click(app, slack, first, ticket_id=IN_CATCHALL, action=save)
    replies = slack.wait_for_response(count=2)
    assert all("only they can fix it" in r["text"] for r in replies)
    assert nudge_status(deps, IN_CATCHALL) == {("pending", None)}
    assert not [r for r in simulator.requests if r.method in ("PATCH", "POST")]

    # The same click in the DM that carries the ticket is hers to make.
    click(app, slack, second, ticket_id=IN_CATCHALL, action=dismiss)
    slack.wait_for_call("chat.update")
    assert nudge_status(deps, IN_CATCHALL) == {("dismissed", "bokafor")}


# ---- options on demand answer only the nudged technician ----------------------------------


def suggest(
    app: App,
    *,
    user: SlackUser,
    ticket_id: int,
    action_id: str,
    value: str = "",
    state: dict[str, Any] | None = None,
) -> list[tuple[str, int]]:
    """A ``block_suggestion`` (Slack asking for an external select's options), signed, through
    Bolt's ``dispatch``; the options answered, as (text, id)."""
    block_id = f"nudge:{ticket_id}"
    answer = interact(
        app,
        {
            "type": "block_suggestion",
            "user": {"id": user.id, "team_id": TEAM_ID},
            "container": {"type": "message", "message_ts": "1700000000.000100"},
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "state": {"values": {block_id: state or {}}},
        },
    )
    assert answer.status == 200
    return [(o["text"]["text"], int(o["value"])) for o in json.loads(str(answer.body))["options"]]


def test_options_answer_nothing_to_anyone_but_the_nudged_technician(app, deps, simulator):
    """Blessing was nudged about both tickets. Jordan (a technician), a Slack user Deskboard
    cannot match, and Blessing asking about a ticket nobody nudged her about get no company,
    agreement or catalog name, and cost no ConnectWise call."""
    with session_scope(deps.engine) as session:
        notices.record_nudges(
            session,
            items=[
                (UNCATEGORIZED, "uncategorized", "bokafor"),
                (IN_CATCHALL, "catchall", "bokafor"),
            ],
            at=NOW,
        )
    hardware = simulator.msp.associations[SERVICE_DESK][0]["type"]
    typed = {"nudge_type": {"selected_option": option(hardware["name"], hardware["id"])}}
    asks = [
        {"ticket_id": IN_CATCHALL, "action_id": "nudge_company", "value": "a"},
        {"ticket_id": IN_CATCHALL, "action_id": "nudge_company", "value": ""},
        {"ticket_id": UNCATEGORIZED, "action_id": "nudge_agreement"},
        {"ticket_id": UNCATEGORIZED, "action_id": "nudge_type"},
        {"ticket_id": UNCATEGORIZED, "action_id": "nudge_subtype", "state": typed},
    ]
    # The nudged technician gets them: each ask has something to leak.
    for ask in asks:
        assert suggest(app, user=BLESSING, **ask), ask

    simulator.clear_requests()
    for user in (JORDAN, GUEST):
        for ask in asks:
            assert suggest(app, user=user, **ask) == [], (user, ask)
    not_nudged = 41281
    for action_id in ("nudge_company", "nudge_agreement", "nudge_type"):
        assert suggest(app, user=BLESSING, ticket_id=not_nudged, action_id=action_id) == []
    assert simulator.requests == []
