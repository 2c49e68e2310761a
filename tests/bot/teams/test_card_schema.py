"""Every card Deskboard sends to Teams against the official Adaptive Card 1.5.0 JSON schema
(``tests/bot/teams/schemas``), for ordinary and hostile data: long names, markdown and HTML
characters, mentions, hundreds of rows, options and tickets, at both size limits."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.chat.message import Actions, Message, Option, Paragraph, Select, Span
from bot.chat.views import (
    DragTicket,
    KudosItem,
    NudgeItem,
    Person,
    StatRow,
    contests_message,
    csat_alert_message,
    csat_kudos_message,
    csat_recovered_message,
    help_message,
    home_view,
    kudos_digest_message,
    kudos_message,
    leaderboard_message,
    mystats_message,
    nudge_digest_message,
    nudge_done_message,
    nudge_ticket_message,
    rank_row,
    shared_by,
    status_message,
    usage_message,
    winners_message,
)
from bot.teams.cards import BOT_LIMIT, WORKFLOW_LIMIT, to_adaptive_card, validate_card
from metrics.contests import Contest, ContestKind
from metrics.definitions import Direction, parse_metric_ref
from metrics.windows import Period
from storage.sync_state import SyncStateView
from tests.bot.teams.schema import assert_schema_valid, official_schema, schema_errors
from tests.bot.teams.test_cards import png, standings

TZ = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
MARKUP = "**[x](https://evil.example)** <at>Everyone</at> & <b>b</b> # - 1. > | `c` ~d~ _e_ \\"
LONG = "Ω" + MARKUP * 12 + "z" * 600  # a name or summary of about 1,500 characters
COMPANY = "Tom & Jerry's <Plumbing> | *Inc*"
URL = "https://cw.example/ticket?id={}&x=<y>"


def people(count: int, *, teams: bool = True) -> dict[str, Person]:
    return {
        f"m{i:03d}": Person(f"m{i:03d}", f"{LONG} {i}", f"29:user-{i}" if teams else None)
        for i in range(count)
    }


def options(prefix: str, count: int, first: int) -> tuple[Option, ...]:
    return tuple(Option(f"{prefix} {i} {MARKUP}", str(first + i)) for i in range(count))


TYPES = options("Type", 30, 100)
SUBTYPES = options("Subtype", 40, 200)
ITEMS = options("Item", 25, 300)
AGREEMENTS = options("Agreement", 22, 500)
COMPANIES = options("Company", 25, 400)


def nudge(ticket_id: int, reasons: tuple[str, ...], **fields: Any) -> NudgeItem:
    return NudgeItem(
        ticket_id, f"{MARKUP} {LONG}", COMPANY, reasons, ticket_url=URL.format(ticket_id), **fields
    )


def nudges(count: int) -> list[NudgeItem]:
    """Tickets missing every kind of thing, with more than 20 options per select."""
    kinds: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("uncategorized",), {"type_options": TYPES}),
        (
            ("uncategorized",),
            {
                "type_options": TYPES,
                "subtype_options": SUBTYPES,
                "item_options": ITEMS,
                "current_type": "105",
                "current_subtype": "210",
            },
        ),
        (("catchall",), {"company_options": COMPANIES}),
        (("no_agreement",), {"agreement_options": AGREEMENTS}),
        (
            ("uncategorized", "catchall", "no_agreement"),
            {"type_options": TYPES, "company_options": COMPANIES, "agreement_options": AGREEMENTS},
        ),
    ]
    return [
        nudge(9_000 + i, kinds[i % len(kinds)][0], **kinds[i % len(kinds)][1]) for i in range(count)
    ]


def _contest(metric: str, **settings: Any) -> Contest:
    return Contest(LONG, parse_metric_ref(metric, frozenset()), **settings)


def _messages() -> dict[str, Callable[[], Message]]:
    resolved = _contest("resolved", period=Period.MONTHLY, places=3)
    goal = _contest("categorized_pct", period=Period.MONTHLY, kind=ContestKind.ONE_GOAL, goal=90)
    many = {f"m{i:03d}": (float(i % 37), 5 + i % 7) for i in range(400)}
    big = standings(resolved, many)
    few = standings(goal, {"m000": (95.0, 9), "m001": (92.0, 12), "m002": (70.0, 1)})
    everyone = people(400)
    state = SyncStateView(
        watermark=NOW, last_sync_finished_at=NOW, last_error=LONG, last_error_at=NOW
    )
    kudos = [
        KudosItem(everyone[f"m{i % 9:03d}"], i, LONG, COMPANY, URL.format(i)) for i in range(300)
    ]
    return {
        "leaderboard, 400 rows": lambda: leaderboard_message(
            big, people=everyone, caller="m399", shareable=True, share_value=MARKUP, tz=TZ
        ),
        "leaderboard, names without Teams ids": lambda: leaderboard_message(
            big, people=people(400, teams=False), caller=None, prize=LONG, tz=TZ
        ),
        "leaderboard shared": lambda: shared_by(
            leaderboard_message(few, people=everyone, caller=None, tz=TZ), LONG
        ),
        "winners, mentioned": lambda: winners_message(big, people=everyone, tz=TZ),
        "winners of a goal": lambda: winners_message(few, people=everyone, tz=TZ),
        "no winner": lambda: winners_message(standings(goal, {}), people={}, tz=TZ),
        "kudos": lambda: kudos_message(
            person=everyone["m001"],
            ticket_id=41_001,
            summary=LONG,
            company=COMPANY,
            ticket_url=URL.format(41_001),
        ),
        "CSAT kudos with a long comment": lambda: csat_kudos_message(
            person=everyone["m001"],
            ticket_id=41_002,
            summary=LONG,
            company=COMPANY,
            ticket_url=URL.format(41_002),
            comment=LONG * 5,
        ),
        "bad-rating alert": lambda: csat_alert_message(
            technicians=[everyone["m001"], everyone["m002"]],
            ticket_id=41_003,
            summary=LONG,
            company=COMPANY,
            ticket_url=URL.format(41_003),
            comment=LONG * 5,
            source="a rating link",
        ),
        "recovered": lambda: csat_recovered_message(ticket_id=41_003, comment=LONG),
        "kudos digest, 300 tickets": lambda: kudos_digest_message(kudos, day=date(2026, 11, 18)),
        "nudge digest, 40 tickets": lambda: nudge_digest_message(
            person=everyone["m002"], items=nudges(40)
        ),
        "nudge digest, one of each": lambda: nudge_digest_message(
            person=Person("x", LONG), items=nudges(5)
        ),
        "nudge ticket": lambda: nudge_ticket_message(nudges(5)[4]),
        "nudge done": lambda: nudge_done_message(
            ticket_id=9_001,
            summary=LONG,
            changes=[f"Company: {COMPANY}"] * 15,
            by=everyone["m003"],
        ),
        "mystats": lambda: mystats_message(
            person=everyone["m004"],
            window_label=LONG,
            rows=[StatRow(f"{MARKUP} {i}", 95.5, "%", Direction.HIGHER) for i in range(60)],
            ranks=[r for r in [rank_row(big, "m004"), rank_row(few, "m000")] if r is not None],
            drags=[
                DragTicket(i, LONG, COMPANY, ("catchall", "uncategorized"), URL.format(i))
                for i in range(80)
            ],
            as_of=NOW,
            tz=TZ,
        ),
        "home": lambda: home_view(
            viewer=everyone["m005"],
            window_label=LONG,
            rows=[StatRow(MARKUP, None, "h", Direction.LOWER)],
            contests=[big, few],
            people=everyone,
            as_of=NOW,
            tz=TZ,
        ),
        "help": lambda: help_message(is_admin=False),
        "help for admins": lambda: help_message(is_admin=True),
        "usage error": lambda: usage_message(command=LONG, problem=LONG, usage=MARKUP),
        "status with an error": lambda: status_message(
            state=state, tickets=123_456, pending_outbox=7, tz=TZ
        ),
        "contests": lambda: contests_message([resolved, goal] * 30, tz=TZ, now=NOW),
        "a select of 500 options": lambda: Message(
            "t",
            (
                Paragraph(((Span(LONG),),)),
                Actions(
                    (Select("pick", MARKUP, options("Option", 500, 1), initial="420"),),
                    "nudge:1",
                ),
            ),
        ),
    }


MESSAGES = _messages()


@pytest.mark.parametrize("limit", [BOT_LIMIT, WORKFLOW_LIMIT])
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_card_keeps_to_the_official_1_5_schema(name, limit):
    message = MESSAGES[name]()
    card = to_adaptive_card(message, limit=limit)
    assert_schema_valid(card)
    validate_card(card, limit=limit)  # the light check sending uses agrees


@pytest.mark.parametrize("name", ["leaderboard, 400 rows", "winners, mentioned"])
def test_cards_with_a_chart_keep_to_the_schema(name):
    card = to_adaptive_card(MESSAGES[name](), image=png(300, 200))
    assert any(e.get("type") == "Image" for e in card["body"])
    assert_schema_valid(card)


def test_the_hostile_cards_use_what_this_test_means_to_cover():
    """The messages above do reach choices, mentions, buttons and cuts: a schema check of
    cards without them would prove little."""
    cards = {name: to_adaptive_card(make()) for name, make in MESSAGES.items()}
    dumped = {name: repr(card) for name, card in cards.items()}
    assert "msteams" in cards["winners, mentioned"]
    assert "msteams" in cards["kudos digest, 300 tickets"]
    assert "Input.ChoiceSet" in dumped["nudge digest, 40 tickets"]
    assert "Action.Execute" in dumped["leaderboard, 400 rows"]
    assert "more" in dumped["leaderboard, 400 rows"]
    (select,) = _choice_sets(cards["a select of 500 options"])
    assert len(select["choices"]) > 20
    sizes = [len(c["choices"]) for c in _choice_sets(cards["nudge digest, one of each"])]
    assert max(sizes) > 20
    assert "Input.Text" in dumped["nudge digest, one of each"]  # the search step


def _choice_sets(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [c for item in node for c in _choice_sets(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") == "Input.ChoiceSet" else []
    return found + [c for value in node.values() for c in _choice_sets(value)]


# ---- the checker itself refuses what the schema refuses -----------------------------------


def _card() -> dict[str, Any]:
    return to_adaptive_card(MESSAGES["nudge digest, one of each"]())


REFUSED: dict[str, Callable[[dict[str, Any]], None]] = {
    "a 1.6 filtered ChoiceSet": lambda c: _choice_sets(c)[0].update(style="filtered"),
    "Data.Query choices (1.6)": lambda c: _choice_sets(c)[0].update(
        {"choices.data": {"type": "Data.Query", "dataset": "companies"}}
    ),
    "an element type 1.5 does not define": lambda c: c["body"].append({"type": "Carousel"}),
    "an unknown property": lambda c: c["body"][0].update(colour="Good"),
    "msteams with more than mentions": lambda c: c.update(msteams={"width": "Full"}),
    "a mention without its user": lambda c: c.update(
        msteams={"entities": [{"type": "mention", "text": "<at>X</at>"}]}
    ),
    "a choice without a value": lambda c: _choice_sets(c)[0]["choices"][0].pop("value"),
    "a number as text": lambda c: c["body"][0].update(text=1),
}


@pytest.mark.parametrize("breakage", sorted(REFUSED))
def test_the_schema_check_can_fail(breakage):
    card = _card()
    assert schema_errors(card) == []
    broken = copy.deepcopy(card)
    REFUSED[breakage](broken)
    assert schema_errors(broken)


def test_the_vendored_schema_is_the_official_1_5_0():
    schema = official_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-06/schema#"
    definitions = schema["definitions"]
    # 1.5 additions are there; 1.6 ones are not
    assert "rtl" in definitions["AdaptiveCard"]["properties"]
    assert definitions["AdaptiveCard"]["additionalProperties"] is False
    assert "Table" in definitions
    assert "Action.Execute" in definitions
    assert definitions["ChoiceInputStyle"]["anyOf"][0] == {"enum": ["compact", "expanded"]}
    assert "Data.Query" not in definitions
