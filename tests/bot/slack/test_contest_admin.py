"""Contests managed from Slack (README "Running a contest"), through signed requests to Bolt:
``/deskboard contest new|list|end``, the modal (inline field errors, live preview, the
conflict of two admins), the App Home's admin tab, End now, and the scheduler picking up a
new posting time without a restart."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.models.views import View
from sqlalchemy import Engine

from bot.core.program import Actor, LiveConfig, replace_program
from bot.core.reports import standings_for_window
from bot.core.runtime import Runtime
from bot.core.scheduler import build_scheduler, follow_program
from bot.slack.app import build_slack_app
from bot.slack.deps import SlackDeps
from bot.slack.messenger import SlackMessenger
from storage import program as store
from storage.db import session_scope
from storage.outbox import pending_count
from tests.bot.slack.conftest import (
    ADMIN,
    BLESSING,
    GUEST,
    NOW,
    SARAH,
    interact,
    make_config,
    slash,
    texts,
)
from tests.bot.slack.fake_slack import FakeSlack, SlackUser

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def live_deps(deps: SlackDeps, engine: Engine) -> SlackDeps:
    """The deps of ``deskboard run``: the program in the database, followed live."""
    return replace(deps, live=LiveConfig.adopt(engine, make_config(), now=NOW))


@pytest.fixture
def app(live_deps: SlackDeps, client: WebClient) -> App:
    return build_slack_app(deps=live_deps, client=client)


def _view(call_params: dict[str, Any]) -> dict[str, Any]:
    view = call_params["view"]
    return json.loads(view) if isinstance(view, str) else view


def opened_modal(app: App, slack: FakeSlack, *, user: SlackUser = ADMIN) -> dict[str, Any]:
    before = len(slack.calls_to("views.open"))
    slash(app, slack, "/deskboard", "contest new", user=user)
    return _view(slack.wait_for_call("views.open", count=before + 1)[-1].params)


def state_of(view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """``view.state`` as Slack sends it, each input holding what ``values`` says (else its
    initial value)."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        value = values.get(block["block_id"])
        kind = element["type"]
        if kind == "static_select":
            initial = (element.get("initial_option") or {}).get("value")
            chosen = value if value is not None else initial
            action = {"type": kind, "selected_option": {"value": chosen} if chosen else None}
        elif kind == "datepicker":
            action = {"type": kind, "selected_date": value or element.get("initial_date")}
        elif kind == "conversations_select":
            chosen = value or element.get("initial_conversation")
            action = {"type": kind, "selected_conversation": chosen}
        else:
            action = {
                "type": kind,
                "value": value if value is not None else element.get("initial_value"),
            }
        state[block["block_id"]] = {element["action_id"]: action}
    return {"values": state}


def submit(app: App, view: dict[str, Any], values: dict[str, str], *, user: SlackUser = ADMIN):
    payload = {
        "type": "view_submission",
        "user": {"id": user.id},
        "view": {**view, "id": "VMODAL", "hash": "h1", "state": state_of(view, values)},
    }
    response = interact(app, payload)
    assert response.status == 200
    return json.loads(response.body) if response.body else {}


GOOD = {
    "name": "December sprint",
    "metric": "resolved",
    "period": "monthly",
    "kind": "places",
    "places": "2",
    "prize": "Pizza <b>for</b> the team & more",
    "channel": "CSERVICE",
    "post": "every weekday at 9:00",
}


def test_the_modal_offers_every_metric_grouped_with_its_definition(app, slack):
    view = opened_modal(app, slack)
    View(**view).validate_json()  # slack_sdk's own model of a modal accepts it
    metric = next(b for b in view["blocks"] if b["block_id"] == "metric")
    groups = [g["label"]["text"] for g in metric["element"]["option_groups"]]
    assert groups[:5] == ["Completeness", "SLA", "Escalation", "Conversation", "CSAT"]
    assert "higher is better" in metric["hint"]["text"]  # categorized_pct, the default
    assert "Preview" in texts(view["blocks"])
    assert {b["block_id"] for b in view["blocks"] if b["type"] == "input"} >= {
        "name",
        "metric",
        "period",
        "start",
        "end",
        "kind",
        "places",
        "goal",
        "goals",
        "min_resolved",
        "prize",
        "channel",
        "post",
    }


def test_a_non_admin_gets_no_modal(app, slack):
    slash(app, slack, "/deskboard", "contest new", user=GUEST)
    reply = slack.wait_for_response()[0]
    assert "Only Deskboard admins" in texts(reply.get("blocks")) + str(reply.get("text"))
    assert slack.calls_to("views.open") == []


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"name": ""}, "name", "at least 1 character"),
        ({"name": "Clean tickets"}, "name", "Another contest has this name"),
        ({"kind": "one_goal", "goal": ""}, "goal", "kind one_goal needs goal"),
        ({"kind": "multi_goal", "goals": "80, lots"}, "goals", "numbers separated by commas"),
        ({"places": "three"}, "places", "is not a whole number"),
        ({"places": "0"}, "places", "greater than or equal to 1"),
        ({"min_resolved": "-2"}, "min_resolved", "greater than or equal to 0"),
        ({"post": "every fortnight"}, "post", "is not a schedule"),
        ({"post": "Mondays at 25:00"}, "post", "is not a time of day"),
        ({"period": "fixed"}, "start", "needs start and end dates"),
        (
            {"period": "fixed", "start": "2026-12-10", "end": "2026-12-01"},
            "end",
            "end date after its start",
        ),
        ({"metric": ""}, "metric", "unknown metric"),
    ],
)
def test_each_invalid_input_is_refused_beside_its_field(app, slack, engine, values, field, words):
    view = opened_modal(app, slack)
    answer = submit(app, view, {**GOOD, **values})
    assert answer["response_action"] == "errors"
    assert words in answer["errors"][field], answer["errors"]
    with session_scope(engine) as session:
        assert store.get_item(session, kind="contest", name=GOOD["name"]) is None


def test_a_valid_contest_is_saved_audited_and_announced(app, slack, engine, live_deps):
    view = opened_modal(app, slack)
    assert submit(app, view, GOOD) == {}
    with session_scope(engine) as session:
        item = store.get_item(session, kind="contest", name="December sprint")
        changes = store.list_changes(session, limit=1)
    assert item is not None
    assert item.body["post"] == "0 9 * * mon-fri"  # the words, kept as cron
    assert item.body["prize"] == GOOD["prize"]
    assert changes[0].actor == "Ines Director (slack UADMIN)"
    assert changes[0].action == "created"
    # Every process sees it: the live configuration has it, /leaderboard ranks it.
    assert "December sprint" in [c.name for c in live_deps.current.contest_list()]
    # The announcement, once, in its channel, the prize escaped as text.
    runtime = Runtime(
        engine=engine,
        config=live_deps.config,
        live=live_deps.live,
        messengers=(live_deps.messenger,),
        psa=live_deps.psa,
        clock=lambda: NOW,
        ticket_link=live_deps.ticket_link,
    )
    assert runtime.post_announcements() == 1
    assert runtime.post_announcements() == 0
    runtime.deliver()
    posted = [p for p in slack.posted if p.channel == "CSERVICE"]
    assert len(posted) == 1
    call = slack.calls_to("chat.postMessage")[-1].params
    body = texts(json.loads(call["blocks"]) if isinstance(call["blocks"], str) else call["blocks"])
    assert "New contest: December sprint" in body
    assert "Pizza &lt;b&gt;for&lt;/b&gt; the team &amp; more" in body


def test_saving_checks_the_permission_again(app, slack, engine):
    view = opened_modal(app, slack)  # opened by an admin...
    answer = submit(app, view, GOOD, user=GUEST)  # ...submitted by someone who is not
    assert answer["response_action"] == "errors"
    assert "Only Deskboard admins" in answer["errors"]["name"]
    with session_scope(engine) as session:
        assert store.get_item(session, kind="contest", name=GOOD["name"]) is None


def click_in_home(app: App, user: SlackUser, action_id: str, value: str) -> None:
    """A button of the App Home clicked, as Slack sends it."""
    interact(
        app,
        {
            "type": "block_actions",
            "user": {"id": user.id},
            "container": {"type": "view", "view_id": "V1"},
            "view": {"type": "home", "id": "V1"},
            "actions": [
                {"action_id": action_id, "block_id": "b", "value": value, "type": "button"}
            ],
        },
    )


def _edit_modal(app: App, slack: FakeSlack, name: str, *, user: SlackUser) -> dict[str, Any]:
    before = len(slack.calls_to("views.open"))
    click_in_home(app, user, "contest_edit", name)
    return _view(slack.wait_for_call("views.open", count=before + 1)[-1].params)


def test_the_later_of_two_admins_is_told_to_reload(app, slack, engine):
    first = _edit_modal(app, slack, "Clean tickets", user=ADMIN)
    second = _edit_modal(app, slack, "Clean tickets", user=SARAH)
    assert submit(app, second, {"goal": "85"}, user=SARAH) == {}
    answer = submit(app, first, {"goal": "95"}, user=ADMIN)
    at = NOW.astimezone(CHICAGO).strftime("%H:%M")
    assert answer["errors"]["name"] == f"Changed by Sarah Cohen (slack USARAH) at {at}: reload."
    with session_scope(engine) as session:
        item = store.get_item(session, kind="contest", name="Clean tickets")
    assert item is not None
    assert item.body["goal"] == 85.0  # Sarah's save stands


def test_changing_a_field_updates_the_preview(app, slack):
    view = opened_modal(app, slack)
    interact(
        app,
        {
            "type": "block_actions",
            "user": {"id": ADMIN.id},
            "view": {**view, "id": "VMODAL", "hash": "h1", "state": state_of(view, GOOD)},
            "actions": [
                {"action_id": "contest.metric", "block_id": "metric", "type": "static_select"}
            ],
        },
    )
    updated = _view(slack.wait_for_call("views.update")[0].params)
    preview = texts(updated["blocks"])
    assert "Preview: November 2026, as of now" in preview
    assert "1. " in preview  # somebody resolved tickets this month
    assert "Top 2 win" in preview
    assert slack.calls_to("views.update")[0].params["hash"] == "h1"


def test_end_now_keeps_the_winners_with_the_rules(app, slack, engine, live_deps):
    click_in_home(app, ADMIN, "contest_end", "Most resolved")
    home = slack.wait_for_call("views.publish")[0]
    assert "Ended" in texts(_view(home.params)["blocks"])
    with session_scope(engine) as session:
        item = store.get_item(session, kind="contest", name="Most resolved")
        results = store.contest_results(session, contest="Most resolved")
    assert item is not None
    assert item.body["ended"].startswith("2026-11-20T23:00")
    assert len(results) == 1
    assert results[0].rules["metric"] == "resolved"
    assert results[0].winners  # top three of November so far
    assert "Most resolved" not in [c.name for c in live_deps.current.contest_list()]


def test_a_guest_cannot_end_a_contest(app, slack, engine):
    slash(app, slack, "/deskboard", "contest end Most resolved", user=GUEST)
    reply = slack.wait_for_response()[0]
    assert "Only Deskboard admins can end a contest" in texts(reply.get("blocks"))
    with session_scope(engine) as session:
        item = store.get_item(session, kind="contest", name="Most resolved")
    assert item is not None
    assert "ended" not in item.body


def test_the_admin_tab_lists_contests_with_their_buttons(app, slack):
    click_in_home(app, ADMIN, "home_tab", "admin")
    view = _view(slack.wait_for_call("views.publish")[0].params)
    actions = [
        e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert {"contest_new", "contest_edit", "contest_end", "contest_duplicate"} <= set(actions)
    body = texts(view["blocks"])
    assert "Running" in body
    assert "Most resolved" in body
    assert "Leaders: 1." in body


def test_a_technician_sees_no_admin_tab(app, slack):
    click_in_home(app, BLESSING, "home_tab", "admin")
    view = _view(slack.wait_for_call("views.publish")[0].params)
    actions = [
        e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert "contest_new" not in actions
    assert "Your numbers" in texts(view["blocks"])


def next_at(days: Any, hour: int, minute: int) -> datetime:
    """The next time after now (the scheduler runs on the wall clock) that is one of
    ``days`` (0 = Monday) at ``hour``:``minute`` in Chicago."""
    wall = datetime.now(CHICAGO)
    for ahead in range(8):
        day = (wall + timedelta(days=ahead)).date()
        moment = datetime.combine(day, time(hour, minute), tzinfo=CHICAGO)
        if moment > wall and moment.weekday() in days:
            return moment
    raise AssertionError("no such day")


def test_the_scheduler_picks_up_a_new_posting_time_without_a_restart(app, slack, engine, live_deps):
    runtime = Runtime(
        engine=engine,
        config=live_deps.config,
        live=live_deps.live,
        messengers=(SlackMessenger(WebClient(base_url=slack.api_url, token="x"), engine=engine),),
        psa=live_deps.psa,
        clock=lambda: NOW,
        ticket_link=live_deps.ticket_link,
    )
    scheduler = build_scheduler(runtime, now=NOW)
    scheduler.start(paused=True)
    try:
        assert scheduler.get_job("standings:December sprint") is None
        submit(app, opened_modal(app, slack), GOOD)
        follow_program(scheduler, runtime)
        job = scheduler.get_job("standings:December sprint")
        assert job is not None
        assert job.next_run_time == next_at(range(5), 9, 0)
        # Edit: Mondays at 16:30
        edit = _edit_modal(app, slack, "December sprint", user=ADMIN)
        assert submit(app, edit, {"post": "Mondays at 16:30"}) == {}
        follow_program(scheduler, runtime)
        job = scheduler.get_job("standings:December sprint")
        assert job.next_run_time == next_at((0,), 16, 30)
        # Off: the job goes
        edit = _edit_modal(app, slack, "December sprint", user=ADMIN)
        assert submit(app, edit, {"post": "off"}) == {}
        follow_program(scheduler, runtime)
        assert scheduler.get_job("standings:December sprint") is None
    finally:
        scheduler.shutdown(wait=False)


def test_the_outbox_is_untouched_by_a_refused_save(app, slack, engine):
    view = opened_modal(app, slack)
    submit(app, view, {**GOOD, "kind": "one_goal"})
    with session_scope(engine) as session:
        assert pending_count(session) == 0


# ---- the score editor ---------------------------------------------------------------------------


def opened_score_modal(app: App, slack: FakeSlack, name: str | None = None) -> dict[str, Any]:
    before = len(slack.calls_to("views.open"))
    click_in_home(app, ADMIN, "score_edit" if name else "score_new", name or "")
    return _view(slack.wait_for_call("views.open", count=before + 1)[-1].params)


POINTS = {
    "name": "Points",
    "metric_1": "resolved",
    "weight_1": "2",
    "metric_2": "reopened",
    "weight_2": "-3",
}


def test_a_score_with_a_negative_weight_is_saved_and_ranked(app, slack, engine, live_deps):
    view = opened_score_modal(app, slack)
    assert view["callback_id"] == "score_form"
    View(**view).validate_json()
    assert submit(app, view, POINTS) == {}
    with session_scope(engine) as session:
        item = store.get_item(session, kind="score", name="Points")
    assert item is not None
    assert item.body["weights"] == {"resolved": 2.0, "reopened": -3.0}
    # A contest can rank on it at once.
    contest = opened_modal(app, slack)
    assert submit(app, contest, {**GOOD, "metric": "Points"}) == {}
    config = live_deps.current
    (ranked,) = [c for c in config.contest_list() if c.name == GOOD["name"]]
    assert ranked.label == "Points"


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"weight_1": "lots"}, "weight_1", "is not a number"),
        ({"weight_2": ""}, "weight_2", "Give a weight"),
        ({"metric_2": "", "weight_2": "4"}, "metric_2", "Pick the metric"),
        ({"metric_2": "resolved"}, "metric_2", "weighted above already"),
        ({"name": ""}, "name", "at least 1 character"),
    ],
)
def test_each_invalid_score_input_is_refused_beside_its_field(app, slack, values, field, words):
    answer = submit(app, opened_score_modal(app, slack), {**POINTS, **values})
    assert answer["response_action"] == "errors"
    assert words in answer["errors"][field], answer["errors"]


def test_a_score_a_contest_ranks_on_cannot_be_renamed(app, slack):
    assert submit(app, opened_score_modal(app, slack), POINTS) == {}
    assert submit(app, opened_modal(app, slack), {**GOOD, "metric": "Points"}) == {}
    answer = submit(app, opened_score_modal(app, slack, "Points"), {"name": "Pts"})
    assert "Contests rank on “Points”: December sprint" in answer["errors"]["name"]


def test_the_score_preview_shows_the_formula_and_standings(app, slack):
    view = opened_score_modal(app, slack)
    interact(
        app,
        {
            "type": "block_actions",
            "user": {"id": ADMIN.id},
            "view": {**view, "id": "VMODAL", "hash": "h1", "state": state_of(view, POINTS)},
            "actions": [
                {"action_id": "score.weight_2", "block_id": "weight_2", "type": "plain_text_input"}
            ],
        },
    )
    preview = texts(_view(slack.wait_for_call("views.update")[0].params)["blocks"])
    assert "Points = 2 × Resolved − 3 × Reopened" in preview
    assert "1. " in preview


def test_deskboard_changes_lists_who_changed_what_for_admins_only(app, slack):
    assert submit(app, opened_modal(app, slack), GOOD) == {}
    edit = _edit_modal(app, slack, "December sprint", user=SARAH)
    assert submit(app, edit, {"places": "5"}, user=SARAH) == {}
    slash(app, slack, "/deskboard", "changes", user=ADMIN)
    body = texts(slack.wait_for_response()[0]["blocks"])
    assert "Sarah Cohen (slack USARAH) changed contest “December sprint”" in body
    assert "places 2 → 5" in body
    assert "Ines Director (slack UADMIN) created contest “December sprint”" in body
    assert body.index("Sarah Cohen") < body.index("Ines Director")  # newest first
    slash(app, slack, "/deskboard", "changes", user=GUEST)
    refused = texts(slack.wait_for_response(count=2)[1]["blocks"])
    assert "Only Deskboard admins can see the program's changes" in refused


def test_stored_admins_may_change_the_program_and_lose_it_when_removed(
    app, slack, engine, live_deps
):
    slash(app, slack, "/deskboard", "contest new", user=BLESSING)
    assert "Only Deskboard admins" in texts(slack.wait_for_response()[0]["blocks"])
    config = live_deps.fresh()
    actor = Actor("config import admins.toml", "import")
    granted = config.with_program({**config.program_doc(), "admins": {"slack": [BLESSING.id]}})
    replace_program(engine, granted, actor=actor, now=NOW)
    view = opened_modal(app, slack, user=BLESSING)  # at once: no restart, no wait
    revoked = config.with_program({**config.program_doc(), "admins": {"slack": []}})
    replace_program(engine, revoked, actor=actor, now=NOW)
    answer = submit(app, view, GOOD, user=BLESSING)
    assert "Only Deskboard admins" in answer["errors"]["name"]


def test_a_new_category_applies_to_the_stored_tickets_at_once(app, slack, engine, live_deps):
    config = live_deps.fresh()
    urgent = {"priority": ["Priority 1*", "Priority 2*"]}
    actor = Actor("config import urgent.toml", "import")
    replace_program(
        engine,
        config.with_program({**config.program_doc(), "categories": {"urgent": urgent}}),
        actor=actor,
        now=NOW,
    )
    view = opened_modal(app, slack)
    category = next(b for b in view["blocks"] if b["block_id"] == "category")
    assert [o["value"] for o in category["element"]["options"]] == ["all", "urgent"]
    assert submit(app, view, {**GOOD, "name": "Urgent", "category": "urgent"}) == {}
    assert submit(app, opened_modal(app, slack), {**GOOD, "name": "All"}) == {}
    current = live_deps.fresh()
    totals = {}
    for contest in current.contest_list():
        if contest.name in ("Urgent", "All"):
            window = contest.window(now=NOW, tz=current.tz, week_start=current.week_start_day)
            standings = standings_for_window(engine, config=current, contest=contest, window=window)
            totals[contest.name] = sum(s.value or 0 for s in standings.ranked)
    assert 0 < totals["Urgent"] < totals["All"]
