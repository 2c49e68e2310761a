"""deskboard.toml is validated at start: unknown keys and bad values are refused by name."""

from __future__ import annotations

import copy
import pickle
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import NO_DELIVERY, ConfigError, ContestDelivery, load_config, parse_config
from metrics.contests import ContestKind
from metrics.scores import Score

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_example_is_valid_and_means_what_it_says():
    config = load_config(ROOT / "deskboard.example.toml", required=True)
    assert config.timezone == "America/Chicago"
    assert config.excluded_members == frozenset({"dispatch"})
    contests = {c.name: c for c in config.contest_list()}
    clean = contests["Clean tickets"]
    assert clean.kind is ContestKind.PLACES
    assert clean.places == 3
    assert clean.goal == 90
    assert contests["Fast first response"].refs[0].key == "avg_response_minutes@emergency"
    (score,) = config.score_list()
    assert isinstance(score, Score)
    assert {(ref.key, w) for ref, w in score.weights} == {
        ("resolved_without_escalation", 2.0),
        ("catchall_resolved", -3.0),
    }


def test_a_contest_keeps_its_delivery_settings_in_the_config():
    config = parse_config(
        {
            "contests": [
                {
                    "name": "Clean tickets",
                    "metric": "categorized_pct",
                    "period": "monthly",
                    "goal": 90,
                    "channel": "C0123SERVICE",
                    "teams_channel": "Support/Wins",
                    "post": "0 9 * * mon-fri",
                }
            ]
        }
    )
    (contest,) = config.contest_list()
    delivery = config.delivery_of(contest)
    expected = (90, "C0123SERVICE", "0 9 * * mon-fri")
    assert (contest.goal, delivery.channel, delivery.post) == expected
    assert delivery == ContestDelivery("C0123SERVICE", "Support/Wins", "0 9 * * mon-fri")
    assert config.contest_deliveries() == {"Clean tickets": delivery}
    adhoc = replace(contest, name="Ad hoc")  # /leaderboard on a metric: not configured
    assert config.delivery_of(adhoc) is NO_DELIVERY


def test_domain_objects_are_built_once_per_configuration():
    config = load_config(ROOT / "deskboard.example.toml", required=True)
    assert config.calendar() is config.calendar()
    assert config.category_list() is config.category_list()
    assert config.score_list() is config.score_list()
    assert config.contest_list() is config.contest_list()
    assert config.derive_params() is config.derive_params()
    assert config.derive_params(config.calendar()) is config.derive_params()
    assert config.derive_params().calendar is config.calendar()
    assert config.tz is config.tz
    changed = config.model_copy(update={"timezone": "Europe/Paris"})
    assert str(changed.tz) == "Europe/Paris"
    assert changed.calendar() is not config.calendar()
    assert config == load_config(ROOT / "deskboard.example.toml", required=True)
    assert copy.deepcopy(config).contest_deliveries() == config.contest_deliveries()
    assert pickle.loads(pickle.dumps(config)).contest_list() == config.contest_list()


def test_the_demo_config_is_valid():
    text = (ROOT / "bot" / "demo.toml").read_text()
    config = parse_config(tomllib.loads(text))
    assert [c.name for c in config.contest_list()] == [
        "Clean tickets",
        "Service Star",
        "Happy customers",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timezon": "UTC"}, "deskboard.toml: timezon: unknown key"),
        ({"timezone": "Mars/Olympus"}, "timezone: Value error, 'Mars/Olympus' is not an IANA"),
        ({"metrics": {"time_basis": "wall"}}, "metrics.time_basis: Input should be"),
        ({"business_hours": {"days": ["mon", "funday"]}}, "business_hours.days: Value error"),
        (
            {"business_hours": {"start": "17:00", "end": "08:00"}},
            "business_hours: Value error, end (08:00) must be after start (17:00)",
        ),
        ({"business_hours": {"holidays": "XX"}}, "business_hours:"),
        ({"kudos": {"mode": "loud"}}, "kudos.mode: Input should be 'instant' or 'digest'"),
        (
            {"kudos": {"daily_cap": 0}},
            "kudos.daily_cap: Input should be greater than or equal to 1",
        ),
        (
            {
                "contests": [
                    {"name": "X", "metric": "resolved", "period": "monthly", "kind": "podium"}
                ]
            },
            "contests[0].kind: Input should be",
        ),
        (
            {"contests": [{"name": "X", "metric": "speed", "period": "monthly"}]},
            "contests[0].metric: unknown metric 'speed'",
        ),
        (
            {"contests": [{"name": "X", "metric": "resolved@vip", "period": "monthly"}]},
            "contests[0].metric: unknown category 'vip'",
        ),
        (
            {"contests": [{"name": "X", "metric": "resolved"}]},
            "contests[0].period: give a period",
        ),
        (
            {
                "contests": [
                    {
                        "name": "X",
                        "metric": "resolved",
                        "period": "monthly",
                        "post": "Every fortnight",
                    }
                ]
            },
            "contests[0].post: Value error, 'Every fortnight' is not a schedule: write it like",
        ),
        (
            {
                "contests": [
                    {"name": "X", "metric": "resolved", "period": "weekly", "kind": "one_goal"}
                ]
            },
            "contests[0].goal: kind one_goal needs goal",
        ),
        (
            {"scores": [{"name": "S", "weights": {"nope": 1}}]},
            "scores[0].weights.nope: unknown metric",
        ),
        ({"categories": {"vip": {}}}, "categories.vip: Value error, a category needs at least one"),
        ({"connectwise": {"sync_notes": "sometimes"}}, "connectwise.sync_notes: Input should be"),
        (
            {
                "connectwise": {"sync_notes": False},
                "contests": [{"name": "X", "metric": "first_contact_pct", "period": "monthly"}],
            },
            "contests[0].metric: first_contact_pct is counted from ticket notes; "
            "set [connectwise] sync_notes = true",
        ),
        (
            {
                "connectwise": {"sync_notes": False},
                "scores": [{"name": "S", "weights": {"first_contact_pct": 1}}],
            },
            "scores[0].weights.first_contact_pct: first_contact_pct is counted from ticket notes",
        ),
        (
            {"connectwise": {"max_concurrency": 0}},
            "connectwise.max_concurrency: Input should be greater than or equal to 1",
        ),
        (
            {"alerts": [{"name": "A", "when": "unanswered", "after": "15 minutes"}]},
            "alerts[0].after: Value error, '15 minutes' is not a duration such as '15m'",
        ),
        (
            {"alerts": [{"name": "A", "when": "late", "after": "15m"}]},
            "alerts[0].when: Input should be 'unanswered' or 'unresolved'",
        ),
        (
            {"alerts": [{"name": "A", "when": "unanswered"}]},
            "alerts[0]: Value error, give either after",
        ),
        (
            {"alerts": [{"name": "A", "when": "unanswered", "after": "1h", "before_due": "1h"}]},
            "alerts[0]: Value error, give either after",
        ),
        (
            {"alerts": [{"name": "A", "when": "unanswered", "after": "1h", "notify": "channel"}]},
            'alerts[0]: Value error, notify "channel" needs channel or teams_channel',
        ),
        (
            {"alerts": [{"name": "A", "when": "unanswered", "after": "1h", "notify": "boss"}]},
            "alerts[0].notify[0]: Input should be 'owner' or 'channel'",
        ),
        (
            {"alerts": [{"name": "A", "when": "unanswered", "after": "1h", "mention": "@oncall"}]},
            "alerts[0].mention: Value error, '@oncall' is neither a Slack user group id",
        ),
        (
            {"alerts": [{"name": "A", "when": "unanswered", "after": "1h", "category": "vip"}]},
            "alerts[0].category: no category 'vip'; categories: none configured",
        ),
        (
            {
                "alerts": [
                    {"name": "A", "when": "unanswered", "after": "1h"},
                    {"name": "A", "when": "unresolved", "after": "1d"},
                ]
            },
            "alerts: alert names must be unique",
        ),
    ],
)
def test_bad_values_are_refused_naming_file_key_and_reason(data, message):
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert message in str(info.value)
    assert str(info.value).startswith("deskboard.toml: ")


def test_the_cli_refuses_to_start_with_a_bad_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "deskboard.toml"
    bad.write_text('timezone = "UTC"\n[connectwise]\nbaords = ["Service Desk"]\n')
    result = CliRunner().invoke(app, ["standings", "-c", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: connectwise.baords: unknown key" in result.output


def test_a_config_that_is_not_toml_is_refused(tmp_path):
    bad = tmp_path / "deskboard.toml"
    bad.write_text("timezone = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_a_missing_config_file_means_defaults_unless_named(tmp_path):
    assert load_config(tmp_path / "absent.toml").timezone == "UTC"
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml", required=True)


def test_notes_are_synced_unless_turned_off():
    assert parse_config({}).connectwise.sync_notes is True
    assert load_config(ROOT / "deskboard.example.toml").connectwise.sync_notes is True
    off = parse_config({"connectwise": {"sync_notes": False}})
    assert off.connectwise.sync_notes is False
    # with notes on, a contest on first contact is fine
    contest = {"name": "X", "metric": "first_contact_pct", "period": "monthly"}
    assert parse_config({"contests": [contest]}).contest_list()[0].name == "X"


def test_alert_rules_are_built_with_their_durations_on_their_clocks():
    config = parse_config(
        {
            "business_hours": {"start": "08:00", "end": "17:00"},
            "categories": {"emergency": {"priority": ["*Emergency*"]}},
            "alerts": [
                {"name": "E", "category": "emergency", "when": "unanswered", "after": "15m",
                 "clock": "calendar", "notify": ["owner", "channel"], "channel": "C1",
                 "repeat": "1h"},
                {"name": "D", "when": "unresolved", "before_due": "30m"},
                {"name": "S", "when": "unresolved", "after": "3d", "boards": ["Service Desk", 7]},
            ],
        }
    )  # fmt: skip
    emergency, due, stale = config.alert_list()
    assert (emergency.after_minutes, emergency.repeat_minutes) == (15.0, 60.0)
    assert (emergency.category, emergency.category_bit) == ("emergency", 1)
    assert due.before_due_minutes == 30.0
    assert due.after_minutes is None
    assert stale.after_minutes == 3 * 9 * 60  # three working days of 08:00-17:00
    assert stale.boards == ("Service Desk", "7")
    assert config.alerts[0].notify == ["owner", "channel"]
    mentioned = parse_config(
        {"alerts": [{"name": "M", "when": "unanswered", "after": "1h",
                     "mention": ["S0ONCALL", "tag:MjRl|On call"]}]}
    ).alerts[0]  # fmt: skip
    assert mentioned.mention_for("slack") == ("S0ONCALL", "S0ONCALL")
    assert mentioned.mention_for("teams") == ("tag:MjRl", "On call")
    assert mentioned.mention_for("teams-workflow") is None
    assert (
        parse_config(
            {"alerts": [{"name": "x", "when": "unanswered", "after": "1d", "clock": "calendar"}]}
        )
        .alert_list()[0]
        .after_minutes
        == 1440
    )
