"""The Teams app end to end: activities posted to ``/api/messages`` (commands as messages,
installs, card buttons), answers read back from the fake Bot Connector, ConnectWise changes
from the simulator, everything else from the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from microsoft_teams.apps import App
from sqlalchemy import Engine, select, text

from bot.chat.message import message_to_json
from bot.chat.views import Person, nudge_digest_message
from bot.core.delivery import deliver_due
from bot.core.fixes import build_nudge_item
from bot.teams.app import build_teams_app
from bot.teams.cards import validate_card
from bot.teams.deps import TeamsDeps
from bot.teams.listeners.activity import command_text, route
from bot.teams.messenger import TeamsMessenger
from storage import conversations, notices, outbox, people, repo
from storage.db import session_scope
from storage.tables import CHAT_USERS
from tests.bot.teams.conftest import (
    BLESSING,
    BOT,
    DIRECTOR,
    GUEST,
    HOSTILE_TICKET,
    JORDAN,
    NOW,
    SARAH,
    TEAM_ID,
    TENANT,
    WINS,
    bot_message,
    channel,
    fake_token,
    installed,
    invoke,
    mention,
    message,
    personal,
    post,
)
from tests.bot.teams.fake_connector import FakeConnector, Request, RosterUser, card_of, card_texts
from tests.bot.teams.schema import assert_schema_valid

CHICAGO = ZoneInfo("America/Chicago")
NOVEMBER = (datetime(2026, 11, 1, tzinfo=CHICAGO), datetime(2026, 12, 1, tzinfo=CHICAGO))


def resolved_counts(engine: Engine, start: datetime, end: datetime) -> dict[str, int]:
    """|R(m)| straight from the tickets table, to check standings against."""
    query = text(
        "SELECT resolver_key, COUNT(*) FROM tickets WHERE in_scope AND resolver_key IS NOT NULL"
        " AND resolved_at >= :start AND resolved_at < :end GROUP BY resolver_key"
    )
    with engine.connect() as conn:
        return dict(conn.execute(query, {"start": start, "end": end}).all())


def ask(app: App, connector: FakeConnector, activity: dict[str, Any]) -> list[Request]:
    """Post a message; return what the bot sent back (every card valid)."""
    before = len(connector.sent())
    (response,) = post(app, activity)
    assert response.status_code == 200
    replies = connector.sent()[before:]
    for reply in replies:
        validate_card(card_of(reply), limit=38_000)
        assert_schema_valid(card_of(reply))
    return replies


def answer(app: App, connector: FakeConnector, activity: dict[str, Any]) -> str:
    """The text of the one card the bot answered ``activity`` with."""
    (reply,) = ask(app, connector, activity)
    return card_texts(card_of(reply))


def in_chat(user: RosterUser, words: str, connector: FakeConnector) -> dict[str, Any]:
    return message(personal(connector, user), words, user=user)


# ---- parsing the message ------------------------------------------------------------------------


def test_the_bots_mention_and_name_go_other_mentions_become_user_ids():
    entities = [mention(BOT), mention(GUEST)]
    raw = {
        "text": "<p><at>Deskboard</at>&nbsp;link <at>Gus Guest</at> rpatel</p>",
        "entities": entities,
        "recipient": BOT,
    }
    assert command_text(raw) == "link <@29:guest> rpatel"
    assert command_text({"text": "Deskboard /leaderboard week", "recipient": BOT}) == (
        "/leaderboard week"
    )
    assert route("/leaderboard Most resolved week") == ("leaderboard", "Most resolved week")
    assert route("deskboard status") == ("deskboard", "status")
    assert route("status") == ("deskboard", "status")
    assert route("/optout") == ("deskboard", "optout")
    assert route("") == ("deskboard", "help")


# ---- commands -----------------------------------------------------------------------------------


def test_leaderboard_in_a_channel_answers_in_the_thread(app, connector, engine):
    (reply,) = ask(app, connector, bot_message(channel(connector), "leaderboard", user=BLESSING))
    # The answer goes to the thread the command was posted in.
    assert reply.conversation_id == f"{TEAM_ID};messageid=1700000000000"
    assert reply.authorization is not None
    assert reply.authorization.startswith("Bearer ey")
    body = card_texts(card_of(reply))
    counts = resolved_counts(engine, *NOVEMBER)
    # bokafor resolved 20 in November; jsmith 29, scohen 26, tnguyen 25 resolved more, and
    # lmueller ties at 20: rank 4, shared; the caller's own line is bold (she was matched by
    # the email of her roster entry, read from the connector).
    assert counts["bokafor"] == 20
    assert 1 + sum(1 for n in counts.values() if n > 20) == 4
    assert body.startswith("Most resolved — November 2026")
    assert "**4\\. Blessing Okafor — 20** \\(20 resolved\\)" in body
    assert "1\\. Jordan Smith — 29 \\(29 resolved\\) 🏆" in body
    assert "Share in channel" in body


def test_leaderboard_by_contest_metric_and_period_in_a_personal_chat(app, connector, engine):
    week = (datetime(2026, 11, 16, tzinfo=CHICAGO), datetime(2026, 11, 23, tzinfo=CHICAGO))
    counts = resolved_counts(engine, *week)
    best = max(counts.values())
    with engine.connect() as conn:
        names = dict(conn.execute(text("SELECT key, name FROM members")).all())
    body = answer(app, connector, in_chat(JORDAN, "/leaderboard resolved week", connector))
    assert body.startswith("Resolved — Week of 16 Nov 2026")
    for member in (m for m, n in counts.items() if n == best):  # ties share rank 1
        assert f"1\\. {names[member]} — {best} \\({best} resolved\\)" in body
    # Jordan (10 that week) sees his own line in bold.
    assert f"**{1 + sum(1 for n in counts.values() if n > 10)}\\. Jordan Smith — 10**" in body

    body = answer(
        app, connector, in_chat(JORDAN, "leaderboard Most Resolved last month", connector)
    )
    assert body.startswith("Most resolved — October 2026")  # no tickets before 2 November
    assert "Nobody qualifies yet" in body

    body = answer(app, connector, in_chat(JORDAN, "leaderboard clean tickets", connector))
    assert body.startswith("Clean tickets — Week of 16 Nov 2026")


def test_bad_arguments_get_the_same_usage_reply_as_slack(app, connector):
    body = answer(app, connector, in_chat(JORDAN, "leaderboard fastest gun", connector))
    assert "There is no contest or metric called “fastest gun”" in body
    assert "/leaderboard \\[contest\\|metric\\]" in body
    body = answer(app, connector, in_chat(JORDAN, "mystats fortnight", connector))
    assert "“fortnight” is not a period" in body
    body = answer(app, connector, in_chat(JORDAN, "frobnicate", connector))
    assert "Unknown subcommand “frobnicate”" in body
    assert "/deskboard status\\|sync\\|contests" in body


def test_mystats_for_the_matched_technician_and_for_a_stranger(app, connector):
    body = answer(app, connector, in_chat(BLESSING, "mystats", connector))
    assert body.startswith("Blessing Okafor — November 2026")
    assert "Resolved: **20**" in body
    assert "Most resolved \\(November 2026\\): 4th of 13 · 20" in body
    body = answer(app, connector, in_chat(GUEST, "mystats", connector))
    assert body.startswith("I don't know which technician you are")


def test_status_and_contests_with_or_without_the_deskboard_word(app, connector, engine):
    with session_scope(engine) as session:
        stored = repo.count_tickets(session)
    for words in ("status", "deskboard status", "/deskboard status"):
        body = answer(app, connector, in_chat(JORDAN, words, connector))
        assert body.startswith("Deskboard status")
        assert f"Tickets stored: {stored}" in body
    body = answer(app, connector, bot_message(channel(connector), "contests", user=JORDAN))
    assert "**Most resolved**: Resolved, monthly, now November 2026" in body
    assert "**Clean tickets**: Categorized, weekly, now Week of 16 Nov 2026" in body


def test_optout_and_optin(app, connector, engine):
    body = answer(app, connector, in_chat(JORDAN, "optout", connector))
    assert body.startswith("You are opted out")
    with session_scope(engine) as session:
        assert "jsmith" in people.opted_out(session)  # Jordan matched by his UPN
    board = answer(app, connector, in_chat(BLESSING, "leaderboard", connector))
    assert "1\\. a teammate — 29" in board
    assert "Jordan Smith" not in board
    assert answer(app, connector, in_chat(JORDAN, "optin", connector)).startswith(
        "You are opted in again"
    )
    with session_scope(engine) as session:
        assert "jsmith" not in people.opted_out(session)


def test_help_shows_admin_commands_to_admins_only(app, connector):
    body = answer(app, connector, in_chat(BLESSING, "help", connector))
    assert "/deskboard sync" not in body
    # The director is an admin by email, Sarah by ConnectWise identifier ([teams] admins).
    for admin in (DIRECTOR, SARAH):
        assert "/deskboard sync" in answer(app, connector, in_chat(admin, "help", connector))


def test_link_is_for_admins_and_takes_the_mentioned_user(app, connector, engine):
    link = "<at>Deskboard</at> link <at>Gus Guest</at> rpatel"
    entities = [mention(BOT), mention(GUEST)]
    body = answer(
        app, connector, message(channel(connector), link, user=BLESSING, entities=entities)
    )
    assert "Only Deskboard admins can link" in body
    with session_scope(engine) as session:
        assert people.chat_user(session, platform="teams", member_key="rpatel") is None

    body = answer(
        app, connector, message(channel(connector), link, user=DIRECTOR, entities=entities)
    )
    assert body.startswith("Linked Ravi Patel \\(RPatel\\) to that user")
    c = CHAT_USERS.c
    with session_scope(engine) as session:
        row = session.execute(
            select(c.user_id, c.source).where(c.platform == "teams", c.member_key == "rpatel")
        ).one()
    assert tuple(row) == ("29:guest", "link")


def test_sync_is_for_admins_and_reports_after_saying_it_started(app, connector, simulator):
    simulator.clear_requests()
    body = answer(app, connector, in_chat(BLESSING, "sync", connector))
    assert "Only Deskboard admins can run a sync" in body
    assert "\\[teams\\] admins" in body  # the Teams wording (markdown-escaped), not Slack's
    assert "slack" not in body
    assert not [r for r in simulator.requests if r.path.startswith("/service/tickets")]

    replies = ask(app, connector, in_chat(SARAH, "deskboard sync", connector))
    progress, done = (card_texts(card_of(r)) for r in replies)
    assert progress.startswith("Syncing tickets from ConnectWise")
    assert done.startswith("Sync finished:")
    assert [r for r in simulator.requests if r.path == "/service/tickets"]


def test_hostile_summaries_stay_literal(app, connector):
    (reply,) = ask(app, connector, in_chat(JORDAN, "mystats week", connector))
    card = card_of(reply)
    body = card_texts(card)
    # The summary "**[pwned](https://evil.example)** <at>Everyone</at> & <b>toner</b>" shows
    # as typed: every markup character escaped, no link, no mention entity.
    assert "\\*\\*\\[pwned\\]\\(https://evil\\.example\\)\\*\\* \\<at\\>Everyone\\</at\\>" in body
    assert "[pwned](" not in body
    assert "msteams" not in card
    assert f"\\#{HOSTILE_TICKET}" in body


# ---- conversations and people -------------------------------------------------------------------


def test_install_in_a_team_saves_its_channels_and_matches_its_roster(app, connector, engine):
    (response,) = post(app, installed(channel(connector), user=DIRECTOR))
    assert response.status_code == 200
    assert connector.sent() == []  # nothing said on install
    with session_scope(engine) as session:
        saved = {c.label: c for c in conversations.list_conversations(session, platform="teams")}
        general = conversations.find_conversation(
            session, platform="teams", target="Support/General"
        )
        wins = conversations.find_conversation(session, platform="teams", target="wins")
        matched = {
            key: people.chat_user(session, platform="teams", member_key=key)
            for key in ("bokafor", "jsmith", "scohen")
        }
    assert set(saved) == {"Support/General", "Support/Wins"}
    assert general is not None
    assert general.conversation_id == TEAM_ID
    assert wins is not None
    assert wins.conversation_id == WINS
    assert (wins.kind, wins.service_url, wins.tenant_id) == ("channel", connector.url, TENANT)
    assert matched == {"bokafor": "29:blessing", "jsmith": "29:jordan", "scohen": "29:sarah"}
    assert any(
        r.path.endswith(f"/v3/conversations/{TEAM_ID}/pagedMembers") or "pagedMembers" in r.path
        for r in connector.roster_reads()
    )


def test_a_first_message_saves_the_personal_chat(app, connector, engine):
    ask(app, connector, in_chat(BLESSING, "help", connector))
    with session_scope(engine) as session:
        chat = conversations.personal_conversation(session, platform="teams", user_id=BLESSING.id)
        member = people.member_for_chat_user(session, platform="teams", user_id=BLESSING.id)
    assert chat is not None
    assert (chat.conversation_id, chat.kind, chat.service_url) == (
        "a:personal-blessing",
        "personal",
        connector.url,
    )
    assert member == "bokafor"


# ---- security -----------------------------------------------------------------------------------


def test_unsigned_requests_are_refused_without_the_test_flag(
    deps: TeamsDeps, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
):
    # The SDK's own switch is set in the environment: Deskboard does not honour it.
    monkeypatch.setenv("DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS", "true")
    deps = replace(deps, messenger=TeamsMessenger(None, engine=deps.engine))
    app = build_teams_app(deps=deps, service_url=connector.url, token_provider=fake_token)
    activity = in_chat(BLESSING, "leaderboard", connector)
    unsigned, forged = post(app, activity, activity, headers=None)
    assert unsigned.status_code == 401
    (forged,) = post(app, activity, headers={"Authorization": "Bearer not-a-jwt"})
    assert forged.status_code == 401
    assert connector.requests == []


# ---- card buttons --------------------------------------------------------------------------------


def _share_data(card: dict[str, Any]) -> dict[str, Any]:
    def actions(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            found = [node] if node.get("type") == "Action.Execute" else []
            return found + [a for v in node.values() for a in actions(v)]
        if isinstance(node, list):
            return [a for v in node for a in actions(v)]
        return []

    (share,) = [a for a in actions(card) if a["verb"] == "leaderboard_share"]
    return dict(share["data"])


def test_share_posts_the_leaderboard_for_everyone_in_the_channel(app, connector):
    (reply,) = ask(app, connector, bot_message(channel(connector), "leaderboard", user=BLESSING))
    data = _share_data(card_of(reply))
    before = len(connector.sent())
    (response,) = post(
        app, invoke(channel(connector), user=BLESSING, verb="leaderboard_share", data=data)
    )
    assert response.status_code == 200
    assert response.json() == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Shared with everyone here.",
    }
    (shared,) = connector.sent()[before:]
    assert shared.conversation_id == TEAM_ID  # a new post in the channel, not in the thread
    card = card_of(shared)
    validate_card(card)
    assert_schema_valid(card)
    body = card_texts(card)
    assert body.startswith("Most resolved — November 2026")
    assert "4\\. Blessing Okafor — 20" in body
    assert "**4\\." not in body
    assert "Share in channel" not in body
    assert body.endswith("Shared by Blessing Okafor")


UNCATEGORIZED = 41152  # bokafor's, Service Desk (board 1), no type/subtype/item
IN_CATCHALL = 41073  # bokafor's, company Catchall
SERVICE_DESK = 1
DIGEST = "nudges:bokafor:2026-11-20"


def send_digest(app: App, deps: TeamsDeps, connector: FakeConnector) -> Request:
    """Blessing's nudge digest (two tickets), queued and delivered as the nudge job does."""
    ask(app, connector, in_chat(BLESSING, "help", connector))  # she opens a chat with the bot
    items = [(UNCATEGORIZED, "uncategorized"), (IN_CATCHALL, "catchall")]
    with session_scope(deps.engine) as session:
        rows = notices.record_nudges(session, items=[(t, r, "bokafor") for t, r in items], at=NOW)
    with deps.psa() as cw:
        nudge_items = [
            build_nudge_item(
                cw,
                ticket_id=t,
                reasons=(r,),
                catalogs=deps.catalogs,
                ticket_url=deps.ticket_link(t),
            )
            for t, r in items
        ]
    person = Person(key="bokafor", display="Blessing Okafor", mention=BLESSING.id)
    digest = nudge_digest_message(person=person, items=nudge_items)
    with session_scope(deps.engine) as session:
        outbox.enqueue(
            session,
            key=f"teams:{DIGEST}",
            platform="teams",
            kind="dm",
            target="bokafor",
            message=message_to_json(digest),
            now=NOW,
        )
        notices.mark_nudges_sent(session, ids=[r.id for r in rows], outbox_key=DIGEST, at=NOW)
    report = deliver_due(deps.engine, deps.messenger, now=NOW)
    assert report.sent == 1
    sent = connector.sent()[-1]
    assert sent.conversation_id == "a:personal-blessing"
    validate_card(card_of(sent))
    assert_schema_valid(card_of(sent))
    return sent


def click(
    app: App,
    connector: FakeConnector,
    sent: Request,
    *,
    user: RosterUser,
    verb: str,
    ticket: int,
    picks: dict[str, str],
) -> httpx.Response:
    """Press a button of ticket's block with ``picks`` (input → value) in the card."""
    data = {"action": verb, "value": str(ticket), "block": f"nudge:{ticket}"}
    data.update({f"nudge:{ticket}|{name}": value for name, value in picks.items()})
    activity = invoke(
        personal(connector, BLESSING), user=user, verb=verb, data=data, reply_to=sent.answered_id
    )
    (response,) = post(app, activity)
    assert response.status_code == 200
    return response


def returned_card(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive", body
    validate_card(body["value"], limit=38_000)
    assert_schema_valid(body["value"])
    return dict(body["value"])


def choice_set(card: dict[str, Any], input_id: str) -> dict[str, Any] | None:
    def walk(node: Any) -> dict[str, Any] | None:
        if isinstance(node, dict):
            if node.get("type") == "Input.ChoiceSet" and node.get("id") == input_id:
                return node
            return next((f for v in node.values() if (f := walk(v)) is not None), None)
        if isinstance(node, list):
            return next((f for v in node if (f := walk(v)) is not None), None)
        return None

    return walk(card)


def nudge_status(engine: Engine, ticket_id: int) -> set[tuple[str, str | None]]:
    with session_scope(engine) as session:
        return {
            (r.status, r.fixed_by) for r in notices.nudges_for_ticket(session, ticket_id=ticket_id)
        }


def test_the_categorize_flow_narrows_then_patches_and_updates_the_card(
    app, deps, connector, simulator, engine
):
    sent = send_digest(app, deps, connector)
    associations = simulator.msp.associations[SERVICE_DESK]
    # Hardware / Laptop / Repair is the board's first association row (see the simulator).
    hardware, laptop, repair = (associations[0][k] for k in ("type", "subType", "item"))
    subtypes = {a["subType"]["id"] for a in associations if a["type"]["id"] == hardware["id"]}
    items = {
        a["item"]["id"]
        for a in associations
        if a["type"]["id"] == hardware["id"] and a["subType"]["id"] == laptop["id"]
    }
    simulator.clear_requests()

    # Save with a type only: the card comes back with that type's subtypes and a hint.
    picks = {"nudge_type": str(hardware["id"]), "nudge_subtype": "", "nudge_item": ""}
    card = returned_card(
        click(
            app,
            connector,
            sent,
            user=BLESSING,
            verb="nudge_save",
            ticket=UNCATEGORIZED,
            picks=picks,
        )
    )
    subtype = choice_set(card, f"nudge:{UNCATEGORIZED}|nudge_subtype")
    assert subtype is not None
    assert {int(c["value"]) for c in subtype["choices"]} == subtypes
    type_select = choice_set(card, f"nudge:{UNCATEGORIZED}|nudge_type")
    assert type_select is not None
    assert type_select["value"] == str(hardware["id"])
    assert "Pick the subtype and the item too" in card_texts(card)
    assert choice_set(card, f"nudge:{IN_CATCHALL}|nudge_agreement") is not None or (
        "Replace PC in conference room" in card_texts(card)  # the other ticket is still there
    )

    # With the subtype: the items of that subtype.
    picks["nudge_subtype"] = str(laptop["id"])
    card = returned_card(
        click(
            app,
            connector,
            sent,
            user=BLESSING,
            verb="nudge_save",
            ticket=UNCATEGORIZED,
            picks=picks,
        )
    )
    item = choice_set(card, f"nudge:{UNCATEGORIZED}|nudge_item")
    assert item is not None
    assert {int(c["value"]) for c in item["choices"]} == items
    assert not [r for r in simulator.requests if r.method == "PATCH"]

    # Someone else's click changes nothing.
    picks["nudge_item"] = str(repair["id"])
    response = click(
        app, connector, sent, user=JORDAN, verb="nudge_save", ticket=UNCATEGORIZED, picks=picks
    )
    assert response.json()["value"].startswith("This ticket was sent to another technician")
    assert not [r for r in simulator.requests if r.method == "PATCH"]

    # Complete: the PATCH, a quiet internal note, the nudge closed, the card done in place.
    updates = len(connector.updated())
    card = returned_card(
        click(
            app,
            connector,
            sent,
            user=BLESSING,
            verb="nudge_save",
            ticket=UNCATEGORIZED,
            picks=picks,
        )
    )
    patches = [r for r in simulator.requests if r.method == "PATCH"]
    assert [r.path for r in patches] == [f"/service/tickets/{UNCATEGORIZED}"]
    position = simulator.state.position(UNCATEGORIZED)
    assert position is not None
    now = simulator.state.render(position)
    assert (now["type"]["id"], now["subType"]["id"], now["item"]["id"]) == (
        hardware["id"],
        laptop["id"],
        repair["id"],
    )
    note = simulator.posted_notes[-1]
    assert note["ticket_id"] == UNCATEGORIZED
    assert note["body"]["processNotifications"] is False
    assert note["body"]["text"] == (
        "Fixed from Teams by Blessing Okafor: Type / subtype / item: Hardware / Laptop / Repair"
    )
    assert nudge_status(engine, UNCATEGORIZED) == {("fixed", "bokafor")}
    body = card_texts(card)
    assert body.startswith("Hi Blessing Okafor")  # the digest's greeting stays
    assert "fixed by Blessing Okafor" in body
    assert "Hardware / Laptop / Repair" in body
    assert choice_set(card, f"nudge:{UNCATEGORIZED}|nudge_type") is None
    assert "Replace PC in conference room" in body  # the other ticket keeps its controls
    # The message itself is rewritten too, so every device shows the fix.
    (update,) = connector.updated()[updates:]
    assert update.conversation_id == "a:personal-blessing"
    assert card_of(update) == card

    # A second Save on the done ticket: nothing left to do.
    response = click(
        app, connector, sent, user=BLESSING, verb="nudge_save", ticket=UNCATEGORIZED, picks=picks
    )
    assert response.json()["value"].startswith("Nothing left to do here")


def test_a_catchall_ticket_asks_for_the_company_and_another_is_dismissed(
    app, deps, connector, simulator, engine
):
    sent = send_digest(app, deps, connector)
    card = returned_card(
        click(app, connector, sent, user=BLESSING, verb="nudge_save", ticket=IN_CATCHALL, picks={})
    )
    companies = choice_set(card, f"nudge:{IN_CATCHALL}|nudge_company")
    assert companies is not None
    titles = {c["title"] for c in companies["choices"]}
    assert "Lakeside CPA Partners" in titles
    assert "Catchall - Unknown Contacts" not in titles  # never the catch-all company itself
    assert "Pick the customer's company" in card_texts(card)
    assert not [r for r in simulator.requests if r.method == "PATCH"]

    # Picking the company fixes the ticket (no agreement asked for: the reason is catchall).
    lakeside = next(c for c in companies["choices"] if c["title"] == "Lakeside CPA Partners")
    picks = {"nudge_company": lakeside["value"]}
    card = returned_card(
        click(
            app, connector, sent, user=BLESSING, verb="nudge_save", ticket=IN_CATCHALL, picks=picks
        )
    )
    assert simulator.posted_notes[-1]["body"]["text"] == (
        "Fixed from Teams by Blessing Okafor: Company: Lakeside CPA Partners"
    )
    position = simulator.state.position(IN_CATCHALL)
    assert position is not None
    assert simulator.state.render(position)["company"]["id"] == int(lakeside["value"])
    assert nudge_status(engine, IN_CATCHALL) == {("fixed", "bokafor")}
    assert choice_set(card, f"nudge:{UNCATEGORIZED}|nudge_type") is not None  # still to fix

    # Not needed on the other ticket: dismissed; the card shows both tickets done.
    card = returned_card(
        click(
            app,
            connector,
            sent,
            user=BLESSING,
            verb="nudge_dismiss",
            ticket=UNCATEGORIZED,
            picks={},
        )
    )
    assert nudge_status(engine, UNCATEGORIZED) == {("dismissed", "bokafor")}
    body = card_texts(card)
    assert "marked as not needed by Blessing Okafor" in body
    assert "fixed by Blessing Okafor" in body
    assert choice_set(card, f"nudge:{UNCATEGORIZED}|nudge_type") is None
    assert choice_set(card, f"nudge:{IN_CATCHALL}|nudge_company") is None


def test_a_ticket_fixed_elsewhere_shows_as_done_on_the_next_click(app, deps, connector, engine):
    sent = send_digest(app, deps, connector)
    with session_scope(engine) as session:  # fixed from Slack meanwhile
        notices.set_nudge_status(
            session, ticket_id=UNCATEGORIZED, status="fixed", by="bokafor", at=NOW
        )
    card = returned_card(
        click(
            app, connector, sent, user=BLESSING, verb="nudge_dismiss", ticket=IN_CATCHALL, picks={}
        )
    )
    body = card_texts(card)
    assert "Password reset for Deborah Jackson: fixed by Blessing Okafor" in body
    assert "marked as not needed by Blessing Okafor" in body
    assert choice_set(card, f"nudge:{UNCATEGORIZED}|nudge_type") is None


def test_an_admin_named_by_email_stays_one_once_matched(engine):
    from bot.teams.identity import TeamsIdentity, TeamsUser

    identity = TeamsIdentity(
        engine=engine, clock=lambda: NOW, admins=["Sarah.Cohen@velocity-it.example"]
    )
    assert identity.match(TeamsUser(SARAH.id, email=SARAH.email)) == "scohen"
    # Later (another process), without her roster entry: her technician's email counts.
    assert identity.is_admin(TeamsUser(SARAH.id))
    assert not identity.is_admin(TeamsUser(JORDAN.id))


# ---- serving ------------------------------------------------------------------------------------


def test_one_http_app_serves_teams_health_and_routes_mounted_on_it(
    deps: TeamsDeps, connector: FakeConnector
):
    from fastapi import FastAPI
    from starlette.applications import Starlette
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def slack_events(_request: StarletteRequest) -> PlainTextResponse:
        return PlainTextResponse("slack ok")

    asgi = FastAPI()
    build_teams_app(
        deps=deps,
        service_url=connector.url,
        token_provider=fake_token,
        allow_unauthenticated=True,
        fastapi_app=asgi,
    )
    # How `deskboard run` serves Slack's HTTP mode beside Teams: Slack's Starlette app
    # (bot.slack.app.http_app) mounted at the root, after the Teams routes.
    asgi.mount("/", Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"])]))

    async def requests() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://d.test") as client:
            return [
                await client.post("/slack/events", content=b"x"),
                await client.get("/health"),
                await client.post("/api/messages", json=in_chat(GUEST, "help", connector)),
            ]

    import asyncio

    slack, health, teams = asyncio.run(requests())
    assert (slack.status_code, slack.text) == (200, "slack ok")
    assert (health.status_code, health.text) == (200, "ok")
    assert teams.status_code == 200
    assert card_texts(card_of(connector.sent()[-1])).startswith("Deskboard commands")


def test_crafted_clicks_for_tickets_not_nudged_to_the_clicker_change_nothing(
    app, deps, connector, simulator, engine
):
    """Action.Execute data comes from the user's Teams client: Blessing edits it to name
    Jordan's nudged ticket, a ticket nobody was nudged about, or a button value that names
    another ticket than its block. Each is refused; ConnectWise sees no write."""
    sent = send_digest(app, deps, connector)
    with session_scope(engine) as session:
        notices.record_nudges(session, items=[(HOSTILE_TICKET, "uncategorized", "jsmith")], at=NOW)
    board = simulator.state.render(simulator.state.position(HOSTILE_TICKET))["board"]["id"]
    row = simulator.msp.associations[board][0]
    picks = {
        "nudge_type": str(row["type"]["id"]),
        "nudge_subtype": str(row["subType"]["id"]),
        "nudge_item": str(row["item"]["id"]),
    }
    simulator.clear_requests()
    crafted = [
        (HOSTILE_TICKET, HOSTILE_TICKET),  # Jordan's
        (41281, 41281),  # nudged to nobody
        (UNCATEGORIZED, HOSTILE_TICKET),  # her block, but the value names Jordan's ticket
    ]
    for verb in ("nudge_save", "nudge_dismiss"):
        for block, value in crafted:
            data = {"action": verb, "value": str(value), "block": f"nudge:{block}"}
            data.update({f"nudge:{block}|{name}": v for name, v in picks.items()})
            activity = invoke(
                personal(connector, BLESSING),
                user=BLESSING,
                verb=verb,
                data=data,
                reply_to=sent.answered_id,
            )
            (response,) = post(app, activity)
            assert response.status_code == 200
            refusal = response.json()["value"]
            assert refusal.startswith("This ticket was sent to another technician"), (block, value)
    assert not [r for r in simulator.requests if r.method in ("PATCH", "POST")]
    assert nudge_status(engine, HOSTILE_TICKET) == {("pending", None)}
    assert nudge_status(engine, UNCATEGORIZED) == {("sent", None)}  # as it was
