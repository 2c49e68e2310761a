"""Opting out is honoured in everything posted for others to see: the scheduled standings
post and its chart (image, title), the winners announcement and kudos. The opted-out
technicians show as "a teammate"; their name, ConnectWise identifier, email and Slack user
never appear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient

from bot.chat.chart import standings_chart
from bot.chat.views import Person
from bot.config import DeskboardConfig, parse_config
from bot.core.people import TEAMMATE
from bot.core.reports import standings_for_window
from bot.core.runtime import Runtime
from bot.slack.messenger import SlackMessenger
from metrics.standings import Standings
from storage import people, repo
from storage.db import session_scope
from tests.bot.slack.conftest import BLESSING, END, JORDAN, SARAH, TUAN, blocks_of, texts
from tests.bot.slack.fake_slack import FakeSlack

CONFIG = {
    "timezone": "America/Chicago",
    "members": {"exclude": ["dispatch"]},
    "contests": [
        {"name": "Most resolved", "metric": "resolved", "period": "monthly", "channel": "CBOARD"},
        {"name": "Weekly", "metric": "resolved", "period": "weekly", "channel": "CWINS"},
    ],
    "kudos": {"channel": "CKUDOS", "mode": "instant", "daily_cap": 5},
}
USERS = {u.email.split("@")[0]: u for u in (BLESSING, JORDAN, TUAN, SARAH)}


def runtime_at(engine, simulator, slack: FakeSlack, now: datetime) -> Runtime:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    return Runtime(
        engine=engine,
        config=parse_config(CONFIG),
        messengers=(SlackMessenger(client, engine=engine, clock=lambda: now, sleep=lambda _: 0),),
        psa=simulator.connectwise_client,
        clock=lambda: now,
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )


def standings_of(engine, config: DeskboardConfig, name: str, now: datetime, offset: int = 0):
    contest = next(c for c in config.contest_list() if c.name == name)
    window = contest.window(now=now, tz=config.tz, week_start=config.week_start_day, offset=offset)
    return standings_for_window(engine, config=config, contest=contest, window=window)


def names_shown(standings: Standings, names: dict[str, str], hidden: set[str]) -> dict[str, Person]:
    return {
        s.member: Person(s.member, TEAMMATE if s.member in hidden else names[s.member])
        for s in (*standings.ranked, *standings.not_qualified)
    }


def test_opted_out_technicians_are_a_teammate_in_every_post_and_chart(engine, simulator, slack):
    config = parse_config(CONFIG)
    monday = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # the week of 16-22 November ended
    month = standings_of(engine, config, "Most resolved", monday)
    week = standings_of(engine, config, "Weekly", monday, offset=-1)
    hidden = {month.ranked[0].member, *(w.member for w in week.winners)}
    with session_scope(engine) as session:
        members = {m.key: m for m in repo.list_members(session)}
        for key in hidden:
            people.set_opt_out(session, member_key=key, opted_out=True, at=END)
    secrets = set()
    for key in hidden:
        member = members[key]
        secrets |= {member.name or "", member.identifier, member.email or ""}
        if key in USERS:
            secrets |= {USERS[key].id, USERS[key].name}
    secrets.discard("")
    assert secrets

    runtime = runtime_at(engine, simulator, slack, monday)
    assert runtime.post_standings("Most resolved") == 1
    assert runtime.post_winners() == 2  # last week's and last month's (October: no one)
    assert runtime.deliver().sent == 3

    posts = slack.calls_to("chat.postMessage")
    board = [texts(blocks_of(c.params)) for c in posts if c.params["channel"] == "CBOARD"]
    (wins,) = [texts(blocks_of(c.params)) for c in posts if c.params["channel"] == "CWINS"]
    assert any(TEAMMATE in shown for shown in board)  # the standings
    assert TEAMMATE in wins
    for post in posts:
        shown = texts(blocks_of(post.params)) + str(post.params)
        assert not [s for s in secrets if s in shown], shown

    # The chart: its title, and the very image drawn with "a teammate" in their place.
    names = {key: m.name or m.identifier for key, m in members.items()}
    (upload,) = slack.uploads
    uploads = slack.calls_to("files.completeUploadExternal") + slack.calls_to(
        "files.getUploadURLExternal"
    )
    assert not [s for s in secrets if any(s in str(c.params) for c in uploads)]
    assert upload == standings_chart(month, people=names_shown(month, names, hidden))
    assert upload != standings_chart(month, people=names_shown(month, names, set()))

    # Kudos: a fresh resolution of an opted-out technician is not celebrated by name; one of
    # a technician who did not opt out is.
    later = END + timedelta(minutes=20)
    simulator.clock = later
    with session_scope(engine) as session:
        answered = [
            (t.id, t.responder_key)
            for t in repo.iter_tickets(session)
            if t.resolved_at is None
            and not t.closed
            and t.board in ("Service Desk", "Escalations")
            and t.responder_key in members
        ]
    mine = next((i, members[k]) for i, k in answered if k in hidden)
    theirs = next((i, members[k]) for i, k in answered if k not in hidden)
    for ticket_id, member in (mine, theirs):
        simulator.resolve_ticket_now(ticket_id, by=member.identifier)
    before = len(slack.calls_to("chat.postMessage"))
    runtime_at(engine, simulator, slack, later).sync()
    kudos = [texts(blocks_of(c.params)) for c in slack.calls_to("chat.postMessage")[before:]]
    (celebrated,) = kudos
    assert f"#{theirs[0]}" in celebrated
    assert (theirs[1].name or theirs[1].identifier) in celebrated
    for post in slack.calls_to("chat.postMessage"):
        shown = texts(blocks_of(post.params)) + str(post.params)
        assert not [s for s in secrets if s in shown], shown
