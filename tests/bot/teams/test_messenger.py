"""``TeamsMessenger``: proactive posts and DMs land at the fake Bot Connector as valid cards,
pace themselves per conversation, and turn connector errors into retries or refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.chat.message import message_to_json
from bot.chat.messenger import DeliveryRefused
from bot.core.commands import notice
from bot.core.delivery import deliver_due
from bot.core.runtime import Runtime
from bot.teams.cards import validate_card
from bot.teams.messenger import ConversationUnknown, TeamsMessenger, TeamsSendFailed
from storage import outbox, people
from storage.db import session_scope
from tests.bot.teams.conftest import (
    BLESSING,
    DIRECTOR,
    NOW,
    TEAM_ID,
    WINS,
    Clock,
    channel,
    installed,
    message,
    personal,
    post,
)
from tests.bot.teams.fake_connector import FakeConnector, card_of, card_texts
from tests.bot.teams.schema import assert_schema_valid


@pytest.fixture
def team(app, connector: FakeConnector) -> None:
    """The bot installed in the Support team (General and Wins channels)."""
    (response,) = post(app, installed(channel(connector), user=DIRECTOR))
    assert response.status_code == 200


def images(node: object) -> list[dict[str, str]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "Image" else []
        return found + [i for v in node.values() for i in images(v)]
    if isinstance(node, list):
        return [i for v in node for i in images(v)]
    return []


def test_scheduled_standings_land_in_the_contests_channel_with_the_chart(
    team, deps, messenger: TeamsMessenger, connector: FakeConnector, engine
):
    runtime = Runtime(
        engine=engine,
        config=deps.config,
        messengers=(messenger,),
        psa=deps.psa,
        clock=lambda: NOW,
        ticket_link=deps.ticket_link,
    )
    assert runtime.post_standings("Most resolved") == 1  # teams_channel = "Support/Wins"
    report = runtime.deliver()
    assert (report.sent, report.failed) == (1, 0)
    (sent,) = connector.sent()
    assert sent.conversation_id == WINS
    card = card_of(sent)
    validate_card(card, limit=38_000)
    assert_schema_valid(card)
    assert card_texts(card).startswith("Most resolved — November 2026")
    (chart,) = images(card)
    assert chart["url"].startswith("data:image/png;base64,")
    # The event: the contest, its period's first day, the posting minute (Chicago time).
    key = "teams:standings:most-resolved:2026-11-01:2026-11-20T17:00"
    with session_scope(engine) as session:
        item = outbox.get_item(session, key=key)
    assert item is not None
    assert item.ref == f"{WINS}:{sent.answered_id}"


def test_an_opted_out_technician_is_a_teammate_in_the_card_and_its_chart(
    team, deps, messenger: TeamsMessenger, connector: FakeConnector, engine
):
    import base64

    from bot.chat.chart import compact_png, standings_chart
    from bot.chat.views import Person
    from bot.core.people import TEAMMATE
    from bot.core.reports import standings_for_window
    from bot.teams.messenger import CHART_BUDGET
    from storage import repo

    config = deps.config
    contest = next(c for c in config.contest_list() if c.name == "Most resolved")
    window = contest.window(now=NOW, tz=config.tz, week_start=config.week_start_day)
    standings = standings_for_window(engine, config=config, contest=contest, window=window)
    top = standings.ranked[0].member
    with session_scope(engine) as session:
        members = {m.key: m for m in repo.list_members(session)}
        people.set_opt_out(session, member_key=top, opted_out=True, at=NOW)
    hidden = {members[top].name or "", members[top].identifier, members[top].email or ""} - {""}
    runtime = Runtime(
        engine=engine,
        config=config,
        messengers=(messenger,),
        psa=deps.psa,
        clock=lambda: NOW,
        ticket_link=deps.ticket_link,
    )
    assert runtime.post_standings("Most resolved") == 1
    assert runtime.deliver().sent == 1
    (sent,) = connector.sent()
    card = card_of(sent)
    shown = card_texts(card)
    assert TEAMMATE in shown
    assert not [h for h in hidden if h in str(card)]
    (chart,) = images(card)
    png = base64.b64decode(chart["url"].removeprefix("data:image/png;base64,"))

    def drawn(opted_out: set[str]) -> bytes:
        keys = {s.member for s in (*standings.ranked, *standings.not_qualified)}
        names = {k: Person(k, TEAMMATE if k in opted_out else members[k].name or k) for k in keys}
        chart = compact_png(standings_chart(standings, people=names), budget=CHART_BUDGET)
        assert chart is not None
        return chart

    assert png == drawn({top})  # the image itself has "a teammate" in their place
    assert png != drawn(set())


def test_an_unknown_target_is_retried_and_names_what_is_known(
    team, messenger: TeamsMessenger, engine, connector: FakeConnector
):
    with pytest.raises(ConversationUnknown) as refused:
        messenger.post("Support/Announcements", notice("hello"))
    assert "“Support/Announcements”" in str(refused.value)
    assert "Known: Support/General, Support/Wins" in str(refused.value)

    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            key="teams:test:1",
            platform="teams",
            kind="post",
            target="Announcements",
            message=message_to_json(notice("hi")),
            now=NOW,
        )
    report = deliver_due(engine, messenger, now=NOW)
    assert (report.sent, report.failed, report.dead) == (0, 1, 0)  # retried: not dead
    with session_scope(engine) as session:
        item = outbox.get_item(session, key="teams:test:1")
    assert item is not None
    assert item.next_attempt_at > NOW
    assert item.last_error is not None
    assert item.last_error.startswith("ConversationUnknown")
    assert connector.sent() == []


def test_a_dm_goes_to_the_technicians_personal_chat(
    app, team, messenger: TeamsMessenger, connector: FakeConnector, engine
):
    # Jordan is matched (team roster) but never opened a chat with the bot: no DM yet.
    assert messenger.dm("jsmith", notice("hi")) is None
    assert messenger.dm("rpatel", notice("hi")) is None  # no Teams user at all

    post(app, message(personal(connector, BLESSING), "help", user=BLESSING))
    ref = messenger.dm("bokafor", notice("Two tickets could use a fix"))
    assert ref is not None
    sent = connector.sent()[-1]
    assert sent.conversation_id == "a:personal-blessing"
    assert ref == f"a:personal-blessing:{sent.answered_id}"
    card = card_of(sent)
    validate_card(card)
    assert_schema_valid(card)
    assert card_texts(card) == "Two tickets could use a fix"

    messenger.update(ref, notice("Done"))
    (update,) = connector.updated()
    assert (update.conversation_id, update.activity_id) == ("a:personal-blessing", sent.answered_id)
    assert card_texts(card_of(update)) == "Done"

    with session_scope(engine) as session:
        people.set_opt_out(session, member_key="bokafor", opted_out=True, at=NOW)
    assert messenger.dm("bokafor", notice("hi")) is None


def test_posts_to_one_conversation_are_paced_at_seven_a_second(
    team, messenger: TeamsMessenger, clock: Clock, connector: FakeConnector
):
    for number in range(8):
        messenger.post("Support/Wins", notice(f"post {number}"))
    # The fake clock moves only when the messenger sleeps: the first post goes at once, each
    # next one waits for its slot 1/7 s after the previous one.
    assert clock.sleeps == pytest.approx([1 / 7] * 7)
    messenger.post(TEAM_ID, notice("elsewhere"))  # another conversation does not wait
    assert len(clock.sleeps) == 7
    assert [r.conversation_id for r in connector.sent()] == [WINS] * 8 + [TEAM_ID]


@pytest.mark.parametrize("status", [429, 412, 502, 504])
def test_throttling_and_busy_answers_are_retried(
    team, messenger: TeamsMessenger, connector: FakeConnector, engine, status: int
):
    connector.failures.append(status)
    with pytest.raises(TeamsSendFailed) as failed:
        messenger.post("Support/Wins", notice("hi"))
    assert failed.value.status == status
    assert not isinstance(failed.value, DeliveryRefused)

    connector.failures.append(status)
    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            key="teams:test:2",
            platform="teams",
            kind="post",
            target="Support/Wins",
            message=message_to_json(notice("hi")),
            now=NOW,
        )
    report = deliver_due(engine, messenger, now=NOW)
    assert (report.failed, report.dead) == (1, 0)
    report = deliver_due(engine, messenger, now=NOW + timedelta(minutes=1))  # after the backoff
    assert report.sent == 1


@pytest.mark.parametrize("status", [400, 413])
def test_malformed_or_too_large_is_refused_for_good(
    team, messenger: TeamsMessenger, connector: FakeConnector, engine, status: int
):
    connector.failures.append(status)
    with pytest.raises(DeliveryRefused):
        messenger.post("Support/Wins", notice("hi"))

    connector.failures.append(status)
    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            key="teams:test:3",
            platform="teams",
            kind="post",
            target="Support/Wins",
            message=message_to_json(notice("hi")),
            now=NOW,
        )
    report = deliver_due(engine, messenger, now=NOW)
    assert (report.failed, report.dead) == (1, 1)


def test_a_teams_outage_delays_queued_messages_and_each_arrives_once(
    team, messenger: TeamsMessenger, connector: FakeConnector, engine
):
    """Issue 6's Teams faults: a 429 and 500s while the outbox delivers. Each message is
    retried after its backoff and arrives once; status shows the error meanwhile."""
    with session_scope(engine) as session:
        for number in range(3):
            outbox.enqueue(
                session,
                key=f"teams:outage:{number}",
                platform="teams",
                kind="post",
                target="Support/Wins",
                message=message_to_json(notice(f"message {number}")),
                now=NOW,
            )
    connector.failures.extend([429, 500, 500])
    report = deliver_due(engine, messenger, now=NOW)
    assert (report.sent, report.failed, report.dead) == (0, 3, 0)
    with session_scope(engine) as session:
        health = outbox.delivery_health(session)
    assert (health.pending, health.dead) == (3, 0)
    assert "HTTP 500" in (health.last_error or "")

    report = deliver_due(engine, messenger, now=NOW + timedelta(minutes=1))  # after backoff
    assert report.sent == 3
    accepted = [card_texts(card_of(r)) for r in connector.sent() if r.answered_id]
    for number in range(3):  # each accepted exactly once (the refused tries do not count)
        assert sum(f"message {number}" in text for text in accepted) == 1
    assert len(connector.sent()) == 6


@pytest.mark.parametrize(
    ("status", "given_up"),
    [
        (401, False),  # the bot's credentials refused (Slack's invalid_auth): retried
        (403, True),  # the bot was removed from the conversation: given up at once
        (404, True),  # the conversation is gone (Slack's channel_not_found): given up at once
    ],
)
def test_refused_credentials_and_lost_conversations_show_in_status(
    team, messenger: TeamsMessenger, connector: FakeConnector, engine, status: int, given_up: bool
):
    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            key=f"teams:refused:{status}",
            platform="teams",
            kind="post",
            target="Support/Wins",
            message=message_to_json(notice("refused once")),
            now=NOW,
        )
    connector.failures.append(status)
    report = deliver_due(engine, messenger, now=NOW)
    assert (report.sent, report.failed, report.dead) == (0, 1, int(given_up))
    with session_scope(engine) as session:
        health = outbox.delivery_health(session)
    assert str(status) in (health.last_error or "")
    assert (health.pending, health.dead) == (0, 1) if given_up else (1, 0)

    later = deliver_due(engine, messenger, now=NOW + timedelta(hours=2))
    accepted = [r for r in connector.sent() if r.answered_id]
    if given_up:  # never tried again
        assert later.sent == 0
        assert len(connector.sent()) == 1
    else:  # the credentials work again: it arrives, once
        assert later.sent == 1
        assert len(accepted) == 1
