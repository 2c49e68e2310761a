"""Slash commands end to end: signed requests through Bolt, data from the simulator's sync,
replies read back from the fake Slack's response_url."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from storage import people
from storage.db import session_scope
from tests.bot.slack.conftest import (
    ADMIN,
    BLESSING,
    HOSTILE_TICKET,
    JORDAN,
    SARAH,
    TEAM_ID,
    blocks_of,
    event,
    interact,
    signed,
    slash,
    texts,
)
from tests.bot.slack.fake_slack import FakeSlack, SlackUser

CHICAGO = ZoneInfo("America/Chicago")
NOVEMBER = (datetime(2026, 11, 1, tzinfo=CHICAGO), datetime(2026, 12, 1, tzinfo=CHICAGO))
CIARAN = SlackUser("UCIARAN", "ciarán.o'brien@velocity-it.example", "Ciarán O'Brien")


def resolved_counts(engine: Engine, start: datetime, end: datetime) -> dict[str, int]:
    """|R(m)| straight from the tickets table, to check standings against."""
    query = text(
        "SELECT resolver_key, COUNT(*) FROM tickets WHERE in_scope AND resolver_key IS NOT NULL"
        " AND resolved_at >= :start AND resolved_at < :end GROUP BY resolver_key"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"start": start, "end": end}).all()
    return dict(rows)


def rank_of(counts: dict[str, int], member: str) -> int:
    """Competition ranking, higher is better: 1 + how many have strictly more."""
    return 1 + sum(1 for n in counts.values() if n > counts[member])


def run(app: Any, slack: FakeSlack, command: str, args: str, user: SlackUser) -> dict[str, Any]:
    before = len(slack.responses)
    response = slash(app, slack, command, args, user=user)
    assert response.status == 200  # acked at once; the answer comes through response_url
    return slack.wait_for_response(count=before + 1)[-1]


def shown(reply: dict[str, Any]) -> str:
    return texts(blocks_of(reply))


# ---- /leaderboard -----------------------------------------------------------------------------


def test_leaderboard_defaults_to_the_first_contest_with_the_callers_rank(app, slack, engine):
    reply = run(app, slack, "/leaderboard", "", BLESSING)
    counts = resolved_counts(engine, *NOVEMBER)
    # bokafor resolved 20 in November; jsmith 29, scohen 26, tnguyen 25 resolved more, and
    # lmueller ties at 20: rank 4, shared (and the caller's own line is bold).
    assert counts["bokafor"] == 20
    assert rank_of(counts, "bokafor") == 4
    assert reply["response_type"] == "ephemeral"
    body = shown(reply)
    assert body.startswith("Most resolved — November 2026")
    assert "*4. Blessing Okafor — 20* (20 resolved)" in body
    assert "4. Lena Müller — 20 (20 resolved)" in body
    assert "1. Jordan Smith — 29 (29 resolved) 🏆" in body
    assert "Share in channel" in body


def test_a_caller_below_the_top_ten_sees_their_own_place(app, slack, engine):
    slack.users.append(CIARAN)
    reply = run(app, slack, "/leaderboard", "most RESOLVED", CIARAN)
    counts = resolved_counts(engine, *NOVEMBER)
    # cobrien resolved 2: eleven technicians resolved more (the last two of them tie at 5).
    assert counts["cobrien"] == 2
    assert rank_of(counts, "cobrien") == 12
    assert "Your place: *12. Ciarán O'Brien — 2* (2 resolved)" in shown(reply)


def test_a_metric_and_a_period_give_an_ad_hoc_contest(app, slack, engine):
    reply = run(app, slack, "/leaderboard", "resolved week", JORDAN)
    # The week containing Fri 20 Nov: Monday 16 to Monday 23, local midnights in Chicago.
    week = (datetime(2026, 11, 16, tzinfo=CHICAGO), datetime(2026, 11, 23, tzinfo=CHICAGO))
    counts = resolved_counts(engine, *week)
    best = max(counts.values())
    with engine.connect() as conn:
        names = dict(conn.execute(text("SELECT key, name FROM members")).all())
    body = shown(reply)
    assert body.startswith("Resolved — Week of 16 Nov 2026")
    for member in (m for m, n in counts.items() if n == best):  # ties share rank 1
        assert f"1. {names[member]} — {best} ({best} resolved)" in body


def test_a_multi_word_contest_with_a_two_word_period(app, slack):
    reply = run(app, slack, "/leaderboard", "Most Resolved last month", JORDAN)
    body = shown(reply)
    # October: the simulated MSP's tickets start on 2 November, so nobody has any.
    assert body.startswith("Most resolved — October 2026")
    assert "Nobody qualifies yet" in body


def test_bad_arguments_get_a_usage_reply(app, slack):
    reply = run(app, slack, "/leaderboard", "fastest gun", JORDAN)
    body = shown(reply)
    assert reply["response_type"] == "ephemeral"
    assert "There is no contest or metric called “fastest gun”" in body
    assert "/leaderboard [contest|metric] [today|week|month|quarter|year|last-month]" in body

    reply = run(app, slack, "/mystats", "someday", JORDAN)
    assert "“someday” is not a period" in shown(reply)

    reply = run(app, slack, "/deskboard", "frobnicate", JORDAN)
    assert "Unknown subcommand “frobnicate”" in shown(reply)


def test_share_in_channel_posts_the_same_standings_for_everyone(app, slack):
    reply = run(app, slack, "/leaderboard", "", BLESSING)
    button = next(
        e
        for b in blocks_of(reply)
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "leaderboard_share"
    )
    interact(
        app,
        {
            "type": "block_actions",
            "user": {"id": BLESSING.id, "username": "blessing", "team_id": TEAM_ID},
            "container": {"type": "message", "channel_id": "CSUPPORT", "is_ephemeral": True},
            "channel": {"id": "CSUPPORT", "name": "support"},
            "response_url": slack.response_url("share"),
            "actions": [
                {
                    "action_id": "leaderboard_share",
                    "block_id": button.get("block_id", "share"),
                    "type": "button",
                    "value": button["value"],
                    "action_ts": "1700000000.1",
                }
            ],
        },
    )
    shared = slack.wait_for(
        lambda: [r for r in slack.responses if r.get("response_type") == "in_channel"]
    )
    body = shown(shared[0])
    assert body.startswith("Most resolved — November 2026")
    assert "4. Blessing Okafor — 20 (20 resolved)" in body
    assert "*4. Blessing Okafor" not in body  # nobody's own line in a shared board
    assert "Share in channel" not in body
    assert "Shared by Blessing Okafor" in body


# ---- /mystats ---------------------------------------------------------------------------------


def drag_ids(engine: Engine, member: str) -> list[int]:
    query = text(
        "SELECT id FROM tickets WHERE resolver_key = :m AND in_scope AND resolved_at >= :start"
        " AND resolved_at < :end AND (NOT categorized OR no_agreement OR catchall)"
    )
    with engine.connect() as conn:
        return [
            row[0]
            for row in conn.execute(query, {"m": member, "start": NOVEMBER[0], "end": NOVEMBER[1]})
        ]


def test_mystats_shows_numbers_ranks_and_the_tickets_to_fix(app, slack, engine):
    reply = run(app, slack, "/mystats", "", BLESSING)
    body = shown(reply)
    assert reply["response_type"] == "ephemeral"
    assert body.startswith("Blessing Okafor — November 2026")
    assert "Resolved: *20*" in body
    # 13 technicians resolved something in November (min 1 qualifies): she is 4th of them.
    assert len(resolved_counts(engine, *NOVEMBER)) == 13
    assert "Most resolved (November 2026): 4th of 13 · 20" in body
    drags = drag_ids(engine, "bokafor")
    # 3 uncategorized (41152, 41268, 41281) and 4 without an agreement (41010, and the three
    # in the catch-all company: 41073, 41220, 41241).
    assert sorted(drags) == [41010, 41073, 41152, 41220, 41241, 41268, 41281]
    for ticket_id in drags:
        assert f"<https://cw.example/ticket?id={ticket_id}|#{ticket_id}>" in body
    assert "#41152" in body
    assert ": no type, subtype and item" in body
    assert "filed under the catch-all company" in body
    assert "(Metro Title &amp; Escrow)" in body  # company names are escaped too


def test_hostile_ticket_text_reaches_slack_escaped(app, slack):
    reply = run(app, slack, "/mystats", "", JORDAN)
    raw = json.dumps(reply)
    assert f"#{HOSTILE_TICKET}" in shown(reply)
    assert "&lt;!channel&gt; printer &amp; &lt;b&gt;toner&lt;/b&gt;" in shown(reply)
    assert "<!channel>" not in raw


def test_mystats_for_someone_who_is_no_technician(app, slack):
    reply = run(app, slack, "/mystats", "week", ADMIN)
    assert "I don't know which technician you are" in shown(reply)


# ---- /deskboard -------------------------------------------------------------------------------


def test_status_contests_and_help(app, slack, engine):
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM tickets")).scalar_one()
    body = shown(run(app, slack, "/deskboard", "status", JORDAN))
    assert body.startswith("Deskboard status")
    assert f"Tickets stored: {stored}" in body
    assert "Last successful sync: Fri 20 Nov 2026 17:00 CST" in body

    body = shown(run(app, slack, "/deskboard", "contests", JORDAN))
    assert "Most resolved" in body
    assert "Clean tickets" in body

    body = shown(run(app, slack, "/deskboard", "help", JORDAN))
    assert "/deskboard optout" in body
    assert "/deskboard sync" not in body  # admins only
    body = shown(run(app, slack, "/deskboard", "", ADMIN))  # no argument: help
    assert "/deskboard sync" in body
    assert "/deskboard link @user IDENTIFIER" in body


def test_optout_shows_a_teammate_to_others_but_not_in_the_own_mystats(app, slack, engine):
    body = shown(run(app, slack, "/deskboard", "optout", BLESSING))
    assert "You are opted out" in body
    with session_scope(engine) as session:
        assert "bokafor" in people.opted_out(session)

    others = shown(run(app, slack, "/leaderboard", "", JORDAN))
    assert "Blessing Okafor" not in others
    assert "4. a teammate — 20 (20 resolved)" in others
    own = shown(run(app, slack, "/mystats", "", BLESSING))
    assert own.startswith("Blessing Okafor — November 2026")

    assert "opted in again" in shown(run(app, slack, "/deskboard", "optin", BLESSING))
    assert "4. Blessing Okafor — 20" in shown(run(app, slack, "/leaderboard", "", JORDAN))


def test_link_is_for_admins_only(app, slack, engine):
    body = shown(run(app, slack, "/deskboard", "link <@UNEWBIE|newbie> rpatel", BLESSING))
    assert "Only Deskboard admins" in body
    with session_scope(engine) as session:
        assert people.chat_user(session, platform="slack", member_key="rpatel") is None

    body = shown(run(app, slack, "/deskboard", "link <@UNEWBIE|newbie> RPatel", ADMIN))
    assert "Linked Ravi Patel (RPatel)" in body or "Linked Ravi Patel" in body
    with session_scope(engine) as session:
        assert people.chat_user(session, platform="slack", member_key="rpatel") == "UNEWBIE"
        found = people.member_for_chat_user(session, platform="slack", user_id="UNEWBIE")
    assert found == "rpatel"

    body = shown(run(app, slack, "/deskboard", "link <@UNEWBIE|newbie> nobody", ADMIN))
    assert "ConnectWise has no member “nobody”" in body
    body = shown(run(app, slack, "/deskboard", "link rpatel", ADMIN))
    assert "link needs a user and a member" in body


def test_sync_is_for_admins_only(app, slack, simulator, engine):
    simulator.clear_requests()
    body = shown(run(app, slack, "/deskboard", "sync", BLESSING))
    assert "Only Deskboard admins can run a sync" in body
    assert "[slack] admins" in body
    assert not [r for r in simulator.requests if r.path.startswith("/service/tickets")]

    # Sarah is no workspace admin, but deskboard.toml names her ([slack] admins = ["scohen"]).
    before = len(slack.responses)
    slash(app, slack, "/deskboard", "sync", user=SARAH)
    progress, done = slack.wait_for_response(count=before + 2)[-2:]
    assert "Syncing tickets from ConnectWise" in shown(progress)
    assert shown(done).startswith("Sync finished:")
    assert [r for r in simulator.requests if r.path == "/service/tickets"]


def test_a_bad_signature_is_refused(app, slack):
    body = "command=%2Fleaderboard&text=&user_id=UBLESSING&team_id=T0DESK"
    response = app.dispatch(signed(body, secret="not-the-secret"))
    assert response.status == 401
    assert slack.responses == []


def test_app_home_publishes_the_viewers_stats(app, slack):
    event(app, {"type": "app_home_opened", "user": BLESSING.id, "tab": "home", "channel": "D1"})
    call = slack.wait_for_call("views.publish")[0]
    assert call.params["user_id"] == BLESSING.id
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    body = texts(view["blocks"])
    assert "Your numbers, November 2026" in body
    assert "Resolved: 20" in body
    assert "Most resolved" in body
