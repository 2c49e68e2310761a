"""Views → Slack Block Kit: untrusted text pings nobody, and Slack's limits hold for any size.

Limits are Slack's documented ones (see bot/slack/blocks.py and the chat notes): 50 blocks,
section text 3000, header 150, context 10 elements, actions 25 elements, static_select 100
options, about 12,000 characters of blocks.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.chat.message import Actions, Message, Option, Paragraph, Select, Span
from bot.chat.views import (
    DragTicket,
    KudosItem,
    NudgeItem,
    Person,
    kudos_digest_message,
    kudos_message,
    leaderboard_message,
    mystats_message,
    nudge_digest_message,
    nudge_ticket_ids,
    nudge_ticket_message,
    winners_message,
)
from bot.slack.blocks import mention_user, to_slack
from metrics.contests import Contest, ContestKind
from metrics.definitions import parse_metric_ref
from metrics.standings import Standings, compute_standings
from metrics.values import MemberValues
from metrics.windows import Period, period_window
from tests.bot.slack.block_kit import assert_valid_payload

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
WINDOW = period_window(Period.MONTHLY, now=NOW, tz=TZ)
HOSTILE = "<!channel> hi & <b>x</b>"
HUGE_SUMMARY = HOSTILE + " " + "x" * 5000
COMPANY = "Tom & Jerry's"
# a real ConnectWise ticket link is long: the worst case for message size
URL = (
    "https://na.myconnectwise.net/v4_6_release/services/system_io/Service/"
    "fv_sr100_request.rails?service_recid={}"
)


def slack(message: Message) -> tuple[str, list[dict[str, Any]], str]:
    text, blocks = to_slack(message)
    return text, blocks, json.dumps(blocks, ensure_ascii=False)


def assert_within_limits(blocks: list[dict[str, Any]]) -> None:
    assert_valid_payload("t", blocks)  # slack_sdk's models and the rules they do not check
    assert len(blocks) <= 50
    assert len(json.dumps(blocks, ensure_ascii=False)) <= 12_000
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        elif block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        elif block["type"] == "context":
            assert len(block["elements"]) <= 10
        elif block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for element in block["elements"]:
                if element["type"] == "static_select":
                    assert 1 <= len(element["options"]) <= 100
                    assert all(len(o["text"]["text"]) <= 75 for o in element["options"])


def standings(contest: Contest, table: dict[str, tuple[float, int]]) -> Standings:
    members = {
        key: MemberValues(key, {None: resolved}, {contest.refs[0].key: value})
        for key, (value, resolved) in table.items()
    }
    return compute_standings(contest, members, window=WINDOW, data_as_of=NOW)


# ---- escaping ---------------------------------------------------------------------------------


def test_hostile_summary_and_company_show_literally_and_ping_nobody():
    message = kudos_message(
        person=Person("jane", "Jane <!here>", "U1"),
        ticket_id=7,
        summary=HOSTILE,
        company=COMPANY,
        ticket_url="https://cw.example/7?a=1&b=2",
    )
    text, blocks, raw = slack(message)
    section = blocks[0]["text"]["text"]
    assert "<!channel>" not in raw
    assert "<!here>" not in raw
    assert "<b>" not in raw
    assert "&lt;!channel&gt; hi &amp; &lt;b&gt;x&lt;/b&gt;" in section
    assert "(Tom &amp; Jerry's)" in section
    # the mention and the ticket link are the only control sequences
    assert section.startswith(
        "🎉 Kudos to <@U1> for resolving <https://cw.example/7?a=1&amp;b=2|#7>"
    )
    assert "<!" not in text


def test_mention_links_become_slack_mentions_with_only_safe_ids():
    assert mention_user("mention:U123ABC") == "U123ABC"
    assert mention_user("mention:U1><!channel") == "U1"  # everything but [A-Z0-9] is dropped
    assert mention_user("mention:") is None
    assert mention_user("https://example.com") is None
    line = (
        Span("Hi "),
        Span("Jane", bold=True, link="mention:W42"),
        Span(" and "),
        Span("Bob <x>", link="mention:<>|"),  # nothing left of the id: the name, escaped
        Span("!"),
    )
    _, blocks = to_slack(Message("t", (Paragraph((line,)),)))
    assert blocks[0]["text"]["text"] == "Hi *<@W42>* and Bob &lt;x&gt;!"


def test_the_fallback_text_is_escaped_too():
    message = kudos_message(
        person=Person("p", "<!channel>"), ticket_id=1, summary="s", company="c", ticket_url=None
    )
    text, _, _ = slack(message)
    assert text.startswith("Kudos to &lt;!channel&gt;")


# ---- limits on huge inputs --------------------------------------------------------------------


def test_a_leaderboard_of_500_ranked_and_300_waiting_fits():
    contest = Contest(
        "x" * 400, parse_metric_ref("categorized_pct", frozenset()), period=Period.MONTHLY
    )
    table = {f"r{i:03d}": (float(i % 97), 10) for i in range(500)}
    table |= {f"w{i:03d}": (50.0, 1) for i in range(300)}
    people = {k: Person(k, HUGE_SUMMARY) for k in table}
    message = leaderboard_message(
        standings(contest, table), people=people, caller="r000", shareable=True, share_value="v"
    )
    _, blocks, raw = slack(message)
    assert_within_limits(blocks)
    assert "<!channel>" not in raw
    assert "…and 489 more ranked" in raw  # 500 - 10 shown - the caller's line
    assert "and 275 more" in raw  # not qualified: 300 - 25 named
    assert blocks[-1]["type"] == "actions"  # the Share button survives


def test_winners_of_500_fit():
    contest = Contest(
        "Goal",
        parse_metric_ref("resolved", frozenset()),
        kind=ContestKind.ONE_GOAL,
        goal=1,
        period=Period.MONTHLY,
    )
    table = {f"m{i:03d}": (5.0, 5) for i in range(500)}
    people = {k: Person(k, f"Name {k} & co", f"U{i}") for i, k in enumerate(table)}
    _, blocks, raw = slack(winners_message(standings(contest, table), people=people))
    assert_within_limits(blocks)
    assert "…and 475 more winners" in raw
    assert "<@U0>" in raw


def test_a_nudge_digest_of_300_tickets_with_200_options_fits_without_losing_controls():
    options = tuple(Option(f"Option {i} " + "w" * 80, str(10_000 + i)) for i in range(200))
    items = [
        NudgeItem(
            ticket_id=100_000 + i,
            summary=HUGE_SUMMARY,
            company=COMPANY * 10,
            reasons=("uncategorized", "catchall"),
            ticket_url=URL.format(100_000 + i),
            type_options=options,
            subtype_options=options,
            item_options=options,
            current_type=options[5].value,
            agreement_options=options,
        )
        for i in range(300)
    ]
    message = nudge_digest_message(person=Person("jane", "Jane"), items=items)
    _, blocks, raw = slack(message)
    assert_within_limits(blocks)
    assert "<!channel>" not in raw
    shown = nudge_ticket_ids(message)
    assert len(shown) >= 5
    # every ticket the digest shows keeps its controls: Slack's safety net cut nothing
    assert [b.get("block_id") for b in blocks if b["type"] == "actions"] == [
        f"nudge:{t}" for t in shown
    ]
    assert f"…and {300 - len(shown)} more tickets: see /mystats" in raw
    # 200 options load on demand; the current type is still shown
    type_select = blocks[2]["elements"][0]
    assert type_select["type"] == "external_select"
    assert type_select["initial_option"]["value"] == options[5].value


def test_nudge_digest_draws_small_option_lists_inline():
    options = tuple(Option(f"Type {i}", str(i)) for i in range(20))
    items = [
        NudgeItem(i, "s", "c", ("uncategorized",), type_options=options, current_type="3")
        for i in range(3)
    ]
    _, blocks, _ = slack(nudge_digest_message(person=Person("jane", "Jane"), items=items))
    assert_within_limits(blocks)
    selects = [b["elements"][0] for b in blocks if b["type"] == "actions"]
    assert [s["type"] for s in selects] == ["static_select"] * 3
    assert selects[0]["initial_option"] == {
        "text": {"type": "plain_text", "text": "Type 3"},
        "value": "3",
    }


def test_a_redrawn_ticket_draws_a_short_list_inline_and_a_long_one_on_demand():
    twenty = tuple(Option(f"T{i}", str(i)) for i in range(20))
    two_hundred = tuple(Option(f"T{i}", str(i)) for i in range(200))
    small = nudge_ticket_message(NudgeItem(1, "s", "c", ("uncategorized",), type_options=twenty))
    large = nudge_ticket_message(
        NudgeItem(1, "s", "c", ("uncategorized",), type_options=two_hundred)
    )
    (small_actions,) = [b for b in slack(small)[1] if b["type"] == "actions"]
    (large_actions,) = [b for b in slack(large)[1] if b["type"] == "actions"]
    assert small_actions["elements"][0]["type"] == "static_select"
    assert len(small_actions["elements"][0]["options"]) == 20
    assert large_actions["elements"][0]["type"] == "external_select"


def test_a_select_of_200_options_is_never_static():
    # the safety net, for a message built without the views
    select = Select("pick", "Pick", tuple(Option(str(i), str(i)) for i in range(200)))
    _, blocks = to_slack(Message("t", (Actions((select,)),)))
    assert blocks[0]["elements"][0]["type"] == "external_select"
    assert "options" not in blocks[0]["elements"][0]


def test_a_kudos_digest_of_500_huge_items_fits():
    items = [
        KudosItem(
            Person(f"p{i % 60}", f"Person {i % 60}", f"U{i % 60}"),
            i,
            HUGE_SUMMARY,
            COMPANY,
            URL.format(i),
        )
        for i in range(500)
    ]
    _, blocks, raw = slack(kudos_digest_message(items, day=date(2026, 11, 18)))
    assert_within_limits(blocks)
    assert "<!channel>" not in raw
    assert "more tickets by" in raw


def test_mystats_with_300_tickets_to_fix_fits():
    drags = [
        DragTicket(i, HUGE_SUMMARY, COMPANY, ("uncategorized", "no_agreement"), URL.format(i))
        for i in range(300)
    ]
    message = mystats_message(
        person=Person("jane", "Jane"),
        window_label="November 2026",
        rows=[],
        ranks=[],
        drags=drags,
        as_of=NOW,
        tz=TZ,
    )
    _, blocks, raw = slack(message)
    assert_within_limits(blocks)
    assert "…and 285 more tickets to fix" in raw


def test_the_safety_net_cuts_a_message_of_too_many_blocks():
    paragraphs = tuple(Paragraph(((Span(f"line {i}"),),)) for i in range(120))
    _, blocks = to_slack(Message("t", paragraphs))
    assert_within_limits(blocks)
    assert blocks[-1]["elements"][0]["text"].startswith("…and ")
