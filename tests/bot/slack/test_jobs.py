"""The scheduled jobs end to end: ConnectWise simulator → sync → outbox → fake Slack.

Kudos after a sync, standings with their chart, nudge digests in business hours, and the
outbox's promise: every message is delivered once, across failures and restarts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from bot.config import parse_config
from bot.core.judging import judge_resolutions
from bot.core.runtime import Runtime
from bot.core.scheduler import build_scheduler
from bot.slack.messenger import SlackMessenger
from storage import notices, outbox, repo
from storage.db import create_engine_for, session_scope
from tests.bot.slack.conftest import (
    END,
    HOSTILE_TICKET,
    blocks_of,
    open_ticket_answered_by_its_technician,
    texts,
)
from tests.bot.slack.fake_slack import FakeSlack

CONFIG = {
    "timezone": "America/Chicago",
    "members": {"exclude": ["dispatch"]},
    "contests": [
        {
            "name": "Most resolved",
            "metric": "resolved",
            "period": "monthly",
            "channel": "CSTANDINGS",
            "post": "0 9 * * mon-fri",
        },
    ],
    "kudos": {"channel": "CKUDOS", "mode": "instant", "daily_cap": 5},
}


def make_runtime(engine, simulator, slack: FakeSlack, clock, config=None) -> Runtime:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    messenger = SlackMessenger(client, engine=engine, clock=clock, sleep=lambda _s: None)
    return Runtime(
        engine=engine,
        config=config or parse_config(CONFIG),
        messengers=(messenger,),
        psa=simulator.connectwise_client,
        clock=clock,
        ticket_link=lambda ticket_id: f"https://cw.example/ticket?id={ticket_id}",
    )


def posts_to(slack: FakeSlack, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def test_a_fresh_resolution_without_escalation_gets_kudos_once(engine, simulator, slack):
    ticket_id, technician = open_ticket_answered_by_its_technician(engine)
    later = END + timedelta(minutes=20)
    simulator.clock = later
    simulator.resolve_ticket_now(ticket_id, by=technician)
    runtime = make_runtime(engine, simulator, slack, lambda: later)

    report = runtime.sync()

    assert ticket_id in report.newly_resolved
    (post,) = posts_to(slack, "CKUDOS")
    assert f"#{ticket_id}" in texts(blocks_of(post.params))
    runtime.sync()  # the next cycle sees nothing new...
    runtime.deliver()
    assert len(posts_to(slack, "CKUDOS")) == 1  # ...and posts nothing twice


def test_the_backfill_congratulates_nobody(engine, simulator, slack):
    """A month of history is not news: only resolutions of the last 24 hours count."""
    with session_scope(engine) as session:
        resolved = [t.id for t in repo.iter_tickets(session) if t.resolved_at is not None]
    config = parse_config(CONFIG)
    assert resolved
    report = judge_resolutions(engine, config=config, now=END + timedelta(days=3))
    assert (report.judged, report.kudos_recorded, report.nudges_recorded) == (0, 0, 0)


def test_the_first_sync_is_a_quiet_baseline_and_the_next_resolution_is_celebrated(
    database_url, simulator, slack
):
    """Installed mid-day, Deskboard posts no kudos and sends no nudge for the resolutions of
    the last 24 hours it finds on its first sync; what is resolved after it is news."""
    fresh = create_engine_for(database_url)
    try:
        runtime = make_runtime(fresh, simulator, slack, lambda: END)
        first = runtime.sync()
        with session_scope(fresh) as session:
            recent = [
                t.id
                for t in repo.iter_tickets(session)
                if t.resolved_at is not None and t.resolved_at > END - timedelta(hours=24)
            ]
            pending = notices.pending_nudges(session)
        assert recent, "the simulated MSP resolves tickets on its last day"
        assert first.notices.judged >= len(recent)
        assert (first.notices.kudos_recorded, first.notices.nudges_recorded) == (0, 0)
        assert pending == []
        assert posts_to(slack, "CKUDOS") == []

        ticket_id, technician = open_ticket_answered_by_its_technician(fresh)
        later = END + timedelta(minutes=20)
        simulator.clock = later
        simulator.resolve_ticket_now(ticket_id, by=technician)
        make_runtime(fresh, simulator, slack, lambda: later).sync()
        (post,) = posts_to(slack, "CKUDOS")
        assert f"#{ticket_id}" in texts(blocks_of(post.params))
    finally:
        fresh.dispose()


def test_a_failed_post_is_retried_after_a_restart_and_delivered_exactly_once(
    engine, simulator, slack, tmp_path
):
    now = END + timedelta(hours=10)  # Saturday morning; the standings post is due
    runtime = make_runtime(engine, simulator, slack, lambda: now)
    slack.failures["chat.postMessage"] = "channel_not_found"

    assert runtime.post_standings("Most resolved") == 1  # queued...
    assert runtime.deliver().failed == 1  # ...and the send failed
    with session_scope(engine) as session:
        (item,) = outbox.due(session, now=now + timedelta(minutes=5), limit=10)
    assert item.attempts == 1
    assert "channel_not_found" in (item.last_error or "")
    assert runtime.post_standings("Most resolved") == 0  # same event: not queued again

    # Restart: a new engine on the same database file, a new runtime, later.
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    restarted = create_engine_for(url)
    later = now + timedelta(minutes=5)
    again = make_runtime(restarted, simulator, slack, lambda: later)
    assert again.deliver().sent == 1
    assert again.deliver().sent == 0
    delivered = [c for c in posts_to(slack, "CSTANDINGS") if "blocks" in c.params]
    assert len(slack.calls_to("chat.postMessage")) == 2  # the failed try and the success
    assert "Most resolved" in texts(blocks_of(delivered[-1].params))
    assert slack.calls_to("files.completeUploadExternal")  # the chart went with it
    assert slack.uploads
    assert slack.uploads[-1].startswith(b"\x89PNG")
    with session_scope(restarted) as session:
        assert outbox.pending_count(session) == 0
    restarted.dispose()


def test_nudge_digests_go_out_in_business_hours_once_a_day_and_escaped(engine, simulator, slack):
    with session_scope(engine) as session:
        (record,) = repo.get_tickets(session, ids=[HOSTILE_TICKET])
    assert record.resolved_at is not None
    config = parse_config(CONFIG)
    an_hour_later = record.resolved_at + timedelta(hours=1)
    recorded = judge_resolutions(engine, config=config, now=an_hour_later)
    assert recorded.nudges_recorded >= 1
    with session_scope(engine) as session:
        assert notices.nudges_for_ticket(session, ticket_id=HOSTILE_TICKET)
        nudged = {n.member_key for n in notices.pending_nudges(session)}  # that day's resolvers

    saturday = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
    assert make_runtime(engine, simulator, slack, lambda: saturday).post_nudges() == 0

    friday_afternoon = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 15:00 in Chicago
    runtime = make_runtime(engine, simulator, slack, lambda: friday_afternoon)
    assert runtime.post_nudges() == len(nudged)  # one digest per technician
    runtime.deliver()
    dms = [
        c for c in slack.calls_to("chat.postMessage") if c.params.get("channel", "").startswith("D")
    ]
    assert len({dm.params["channel"] for dm in dms}) == len(dms)  # one DM per technician
    digests = [blocks_of(dm.params) for dm in dms]
    (blocks,) = [d for d in digests if f"nudge:{HOSTILE_TICKET}" in [b.get("block_id") for b in d]]
    shown = texts(blocks)
    assert "&lt;!channel&gt;" in shown
    assert "<!channel>" not in json.dumps(blocks)
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert "nudge_save" in actions
    assert "nudge_dismiss" in actions
    assert runtime.post_nudges() == 0  # at most one digest a day
    with session_scope(engine) as session:
        rows = notices.nudges_for_ticket(session, ticket_id=HOSTILE_TICKET)
    assert {r.status for r in rows} == {"sent"}


def test_the_scheduler_runs_each_job_once_at_a_time_in_the_msp_time_zone(engine, simulator, slack):
    config = parse_config(
        {**CONFIG, "kudos": {"channel": "CKUDOS", "mode": "digest", "digest_at": "16:30"}}
    )
    runtime = make_runtime(engine, simulator, slack, lambda: END, config)
    scheduler = build_scheduler(runtime, now=END)
    scheduler.start(paused=True)  # defaults (coalesce, max_instances) apply on start
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert set(jobs) == {
        "sync",
        "deliver",
        "standings:Most resolved",
        "winners",
        "kudos-digest",
        "nudges",
        "program",  # follows changes of the program made from chat (every 15 s)
    }
    assert isinstance(jobs["sync"].trigger, IntervalTrigger)
    assert jobs["sync"].trigger.interval == timedelta(minutes=5)
    standings = jobs["standings:Most resolved"].trigger
    assert isinstance(standings, CronTrigger)
    assert str(standings.timezone) == "America/Chicago"
    assert "day_of_week='mon-fri'" in repr(standings)
    digest = jobs["kudos-digest"].trigger
    assert "hour='16'" in repr(digest)
    assert "minute='30'" in repr(digest)
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())


def test_the_daily_kudos_cap_holds(engine, simulator, slack):
    config = parse_config(
        {**CONFIG, "kudos": {"channel": "CKUDOS", "mode": "instant", "daily_cap": 1}}
    )
    with session_scope(engine) as session:
        mine = [
            t
            for t in repo.iter_tickets(session)
            if t.resolver_key == "tnguyen" and t.responder_key == "tnguyen" and t.resolved_at
        ]
    latest = max(t.resolved_at for t in mine)
    fresh = [t for t in mine if t.resolved_at > latest - timedelta(hours=20)][:3]
    assert len(fresh) >= 2
    now = latest + timedelta(minutes=1)
    with session_scope(engine) as session:
        for ticket in fresh:
            notices.record_kudos(
                session, ticket_id=ticket.id, member_key="tnguyen",
                resolved_at=ticket.resolved_at, at=now,
            )  # fmt: skip
    runtime = make_runtime(engine, simulator, slack, lambda: now, config)

    assert runtime.queue_instant_kudos() == 1
    assert runtime.queue_instant_kudos() == 0  # the others are over the cap for good
    runtime.deliver()
    assert len(posts_to(slack, "CKUDOS")) == 1
    with session_scope(engine) as session:
        assert not notices.unsent_kudos(session, resolved_since=latest - timedelta(days=1))


def test_winners_are_announced_once_when_the_period_ends(engine, simulator, slack):
    config = parse_config(
        {
            "timezone": "America/Chicago",
            "members": {"exclude": ["dispatch"]},
            "contests": [
                {"name": "Weekly solo", "metric": "resolved_without_escalation",
                 "period": "weekly", "kind": "winner_takes_all", "channel": "CWINS"},
                {"name": "Fixed", "metric": "resolved", "start": "2026-11-01",
                 "end": "2026-11-15", "channel": "CWINS"},
            ],
        }
    )  # fmt: skip
    monday = datetime(2026, 11, 23, 6, 5, tzinfo=UTC)  # 00:05 in Chicago, the week just ended
    runtime = make_runtime(engine, simulator, slack, lambda: monday, config)

    # the weekly contest only: the fixed one ended on 15 November, over a week ago
    assert runtime.post_winners() == 1
    assert runtime.deliver().sent == 1
    (post,) = posts_to(slack, "CWINS")
    shown = texts(blocks_of(post.params))
    assert "Weekly solo" in shown
    assert "16 Nov 2026" in shown  # the week of 16-22 November, which just ended

    # Who won is what the standings of that week say (ties all rewarded).
    from bot.core.reports import standings_for_window

    contest = config.contest_list()[0]
    window = contest.window(now=monday, tz=config.tz, offset=-1)
    standings = standings_for_window(engine, config=config, contest=contest, window=window)
    assert standings.winners
    with session_scope(engine) as session:
        names = {m.key: m.name for m in repo.list_members(session)}
    for winner in standings.winners:
        assert names[winner.member] in shown
    assert runtime.post_winners() == 0  # announced once
    runtime.deliver()
    assert len(posts_to(slack, "CWINS")) == 1


def test_a_contest_with_fixed_dates_is_announced_once_when_it_ends(engine, simulator, slack):
    config = parse_config(
        {
            "timezone": "America/Chicago",
            "members": {"exclude": ["dispatch"]},
            "contests": [
                {"name": "November sprint", "metric": "resolved", "start": "2026-11-09",
                 "end": "2026-11-16", "kind": "places", "channel": "CWINS"},
            ],
        }
    )  # fmt: skip
    running = datetime(2026, 11, 15, 6, 5, tzinfo=UTC)  # Sunday 00:05: one day to go
    assert make_runtime(engine, simulator, slack, lambda: running, config).post_winners() == 0

    ended = datetime(2026, 11, 16, 6, 5, tzinfo=UTC)  # Monday 00:05 in Chicago: just ended
    runtime = make_runtime(engine, simulator, slack, lambda: ended, config)
    assert runtime.post_winners() == 1
    assert runtime.deliver().sent == 1
    (post,) = posts_to(slack, "CWINS")
    shown = texts(blocks_of(post.params))
    assert "November sprint" in shown

    from bot.core.reports import contest_standings

    standings = contest_standings(engine, config=config, contest=config.contest_list()[0],
                                  now=ended)  # fmt: skip
    assert standings.winners
    with session_scope(engine) as session:
        names = {m.key: m.name for m in repo.list_members(session)}
    for winner in standings.winners:
        assert names[winner.member] in shown
    later = make_runtime(
        engine, simulator, slack, lambda: ended + timedelta(days=2), config
    )  # the next nights' jobs: announced once
    assert later.post_winners() == 0
    week_on = ended + timedelta(days=8)  # and nothing out of the blue a week later
    assert make_runtime(engine, simulator, slack, lambda: week_on, config).post_winners() == 0
    later.deliver()
    assert len(posts_to(slack, "CWINS")) == 1


def test_with_two_platforms_a_failure_on_one_never_reposts_on_the_other(engine, simulator, slack):
    import io

    from rich.console import Console

    from bot.chat.messenger import ConsoleMessenger

    now = END + timedelta(hours=10)
    printed = io.StringIO()
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    runtime = Runtime(
        engine=engine,
        config=parse_config(CONFIG),
        messengers=(
            SlackMessenger(client, engine=engine, clock=lambda: now, sleep=lambda _s: None),
            ConsoleMessenger(Console(file=printed, width=100)),
        ),
        psa=simulator.connectwise_client,
        clock=lambda: now,
        ticket_link=lambda _i: None,
    )
    slack.failures["chat.postMessage"] = "channel_not_found"

    assert runtime.post_standings("Most resolved") == 2  # one per platform
    first = runtime.deliver()
    assert (first.sent, first.failed) == (1, 1)  # the console got it; Slack failed
    assert printed.getvalue().count("post to CSTANDINGS") == 1

    later = now + timedelta(minutes=5)
    runtime.clock = lambda: later
    assert runtime.deliver().sent == 1  # Slack's retry...
    assert runtime.deliver().sent == 0
    assert printed.getvalue().count("post to CSTANDINGS") == 1  # ...and no second console post
    assert len(slack.calls_to("chat.postMessage")) == 2
