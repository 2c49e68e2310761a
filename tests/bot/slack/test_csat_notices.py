"""What a customer's answer sets off, end to end to the fake Slack: a positive comment as
kudos, a bad rating as a managers' alert (and an internal note on the ticket), a recovery as
a reply in the alert's thread; once each, escaped, within limits (bot.core.rating_notices)."""

from __future__ import annotations

import json
from datetime import timedelta

from slack_sdk import WebClient

from bot.config import parse_config
from bot.core.ratings import store_ratings
from bot.core.runtime import Runtime
from bot.slack.messenger import SlackMessenger
from metrics.ratings import Rating, RatingSource, RatingValue
from storage import people
from storage import ratings as rating_store
from storage.db import session_scope
from tests.bot.slack.conftest import END, HOSTILE_TICKET, blocks_of, texts
from tests.bot.slack.fake_slack import FakeSlack

CONFIG = {
    "timezone": "America/Chicago",
    "kudos": {"channel": "CKUDOS", "daily_cap": 5},
    "csat": {"alert_channel": "CMANAGERS", "write_back": True},
}
LATER = END + timedelta(hours=1)
PING = "<!channel> <@UADMIN> *loud* <script>x</script> & more"


def make_runtime(engine, simulator, slack: FakeSlack, config=None, clock=LATER) -> Runtime:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    messenger = SlackMessenger(client, engine=engine, clock=lambda: clock, sleep=lambda _s: None)
    return Runtime(
        engine=engine,
        config=parse_config(config or CONFIG),
        messengers=(messenger,),
        psa=simulator.connectwise_client,
        clock=lambda: clock,
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )


def answer(value: RatingValue, comment: str | None, *, minutes: int = 0, ticket=HOSTILE_TICKET):
    return Rating(
        ticket,
        "ann@customer.example",
        value,
        END + timedelta(minutes=minutes),
        RatingSource.LINK,
        comment=comment,
    )


def give(runtime: Runtime, *ratings: Rating) -> None:
    store_ratings(runtime.engine, config=runtime.config, ratings=list(ratings), now=LATER)
    runtime.queue_instant_kudos()
    runtime.deliver()


def posts_to(slack: FakeSlack, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def test_a_positive_comment_is_kudos_once_escaped_and_never_an_alert(engine, simulator, slack):
    runtime = make_runtime(engine, simulator, slack)
    give(runtime, answer(RatingValue.POSITIVE, PING))
    give(runtime, answer(RatingValue.POSITIVE, PING))  # the same answer again: nothing new
    runtime.sync()

    (post,) = posts_to(slack, "CKUDOS")
    shown = texts(blocks_of(post.params))
    assert "Kudos to Jordan Smith" in shown  # jsmith resolved the ticket
    assert "&lt;!channel&gt;" in shown
    assert "&lt;@UADMIN&gt;" in shown
    assert "<!channel>" not in shown
    assert "<@UADMIN>" not in shown
    assert "&lt;script&gt;" in shown
    assert "&amp; more" in shown
    assert f"#{HOSTILE_TICKET}" in shown
    assert "&lt;!channel&gt; printer" in shown
    assert posts_to(slack, "CMANAGERS") == []


def test_without_share_comments_the_kudos_keeps_the_words_private(engine, simulator, slack):
    config = {**CONFIG, "csat": {"alert_channel": "CMANAGERS", "share_comments": False}}
    runtime = make_runtime(engine, simulator, slack, config)
    give(runtime, answer(RatingValue.POSITIVE, "Secret praise"))
    (post,) = posts_to(slack, "CKUDOS")
    shown = texts(blocks_of(post.params)) + post.params.get("text", "")
    assert "Secret praise" not in shown
    assert "positively" in shown


def test_a_bad_rating_alerts_managers_once_notes_the_ticket_once_and_recovers_in_thread(
    engine, simulator, slack
):
    runtime = make_runtime(engine, simulator, slack)
    give(runtime, answer(RatingValue.NEGATIVE, "Nobody called me back"))
    runtime.sync()  # the internal note: written by the sync, once
    runtime.sync()

    (alert,) = posts_to(slack, "CMANAGERS")
    shown = texts(blocks_of(alert.params))
    assert "Negative rating" in shown
    assert "Nobody called me back" in shown
    assert "Jordan Smith" in shown
    assert "<@" not in shown  # managers see the name; nobody is pinged
    assert "https://cw.example/ticket?id=" in shown or "cw.example" in str(alert.params)
    assert posts_to(slack, "CKUDOS") == []  # never a public shaming post
    notes = [n["body"] for n in simulator.posted_notes if n["ticket_id"] == HOSTILE_TICKET]
    assert len(notes) == 1
    assert notes[0]["processNotifications"] is False
    assert notes[0]["internalAnalysisFlag"] is True
    assert "Nobody called me back" in notes[0]["text"]

    give(runtime, answer(RatingValue.POSITIVE, "Sorted, thanks!", minutes=30))
    replies = [p for p in posts_to(slack, "CMANAGERS") if p.params.get("thread_ts")]
    (reply,) = replies
    assert reply.params["thread_ts"] == slack_ts_of(slack, alert)
    assert "Recovered" in texts(blocks_of(reply.params))
    with session_scope(engine) as session:
        held = rating_store.get_rating(
            session, ticket_id=HOSTILE_TICKET, respondent="ann@customer.example"
        )
        assert held is not None
        assert held.rating.value is RatingValue.POSITIVE  # counted once, as its latest value
        assert held.previous is RatingValue.NEGATIVE
        assert rating_store.count_ratings(session) >= 1
    (kudos,) = posts_to(slack, "CKUDOS")  # the happy ending is kudos too
    assert "Sorted, thanks!" in texts(blocks_of(kudos.params))


def slack_ts_of(slack: FakeSlack, call) -> str:
    """The ``ts`` the fake answered ``call`` with (it keeps every post in order)."""
    return slack.posted[slack.calls_to("chat.postMessage").index(call)].ts


def test_the_daily_cap_and_opt_out_hold_for_csat_kudos(engine, simulator, slack):
    config = {**CONFIG, "kudos": {"channel": "CKUDOS", "daily_cap": 1}}
    runtime = make_runtime(engine, simulator, slack, config)
    first = answer(RatingValue.POSITIVE, "Great")
    second = Rating(
        HOSTILE_TICKET, "bob@customer.example", RatingValue.POSITIVE, END, RatingSource.LINK,
        comment="Also great",
    )  # fmt: skip
    give(runtime, first, second)
    assert len(posts_to(slack, "CKUDOS")) == 1

    with session_scope(engine) as session:
        people.set_opt_out(session, member_key="jsmith", opted_out=True, at=LATER)
    fresh = make_runtime(engine, simulator, slack, CONFIG, clock=LATER + timedelta(days=1))
    give(
        fresh,
        Rating(
            HOSTILE_TICKET, "cy@customer.example", RatingValue.POSITIVE, END, RatingSource.LINK,
            comment="Thanks",
        ),
    )  # fmt: skip
    assert len(posts_to(slack, "CKUDOS")) == 1  # opted out: not named in public


def test_a_long_comment_stays_within_slacks_limits(engine, simulator, slack):
    runtime = make_runtime(engine, simulator, slack)
    give(runtime, answer(RatingValue.NEGATIVE, "word " * 3000))
    (alert,) = posts_to(slack, "CMANAGERS")
    blocks = blocks_of(alert.params)
    assert len(json.dumps(blocks)) <= 12000
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "…" in texts(blocks)
