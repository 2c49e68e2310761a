"""Views → Adaptive Cards: valid for Teams (schema 1.5 and the Teams SDK's models), data shows
literally, mentions carry entities, and the size limits hold for any data size.

Markdown escaping is checked two ways: the exact text for a small hostile message (written
out by hand below), and for big ones ``markup()``, which deletes every escaped character and
so leaves only what markdown can act on.
"""

from __future__ import annotations

import base64
import copy
import io
import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from microsoft_teams.api import MessageActivityInput
from PIL import Image as PILImage

from bot.chat.message import (
    Actions,
    Button,
    Context,
    Divider,
    Header,
    Image,
    ListBlock,
    Message,
    Option,
    Paragraph,
    Select,
    Span,
)
from bot.chat.views import (
    DragTicket,
    KudosItem,
    NudgeItem,
    Person,
    StatRow,
    contests_message,
    help_message,
    home_view,
    kudos_digest_message,
    kudos_message,
    leaderboard_message,
    mystats_message,
    nudge_digest_message,
    nudge_done_message,
    nudge_ticket_ids,
    nudge_ticket_message,
    rank_row,
    status_message,
    usage_message,
    winners_message,
)
from bot.teams.card_text import MAX_LINE
from bot.teams.cards import (
    BOT_LIMIT,
    CARD_CONTENT_TYPE,
    SCHEMA,
    WORKFLOW_LIMIT,
    card_size,
    escape,
    link_url,
    mention_user,
    message_activity,
    to_adaptive_card,
    validate_card,
    workflow_payload,
)
from metrics.contests import Contest, ContestKind
from metrics.definitions import Direction, parse_metric_ref
from metrics.standings import Standings, compute_standings
from metrics.values import MemberValues
from metrics.windows import Period, period_window
from storage.sync_state import SyncStateView
from tests.bot.teams.schema import assert_schema_valid

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
WINDOW = period_window(Period.MONTHLY, now=NOW, tz=TZ)
EVIL = "**[click](http://evil)**"
EVERYONE = "<at>Everyone</at>"
COMPANY = "Tom & Jerry's"
HOSTILE = f"{EVIL} {EVERYONE} & <b>x</b> # - 1. > | `y` ~z~"
HUGE_SUMMARY = HOSTILE + " " + "x" * 5000
URL = (
    "https://na.myconnectwise.net/v4_6_release/services/system_io/Service/"
    "fv_sr100_request.rails?service_recid={}"
)
TYPES = (Option("Hardware", "1"), Option("Software", "2"))


# ---- helpers ----------------------------------------------------------------------------------


def elements(node: Any) -> Iterator[dict[str, Any]]:
    """Every element and action of a card, depth first."""
    if isinstance(node, list):
        for item in node:
            yield from elements(item)
    elif isinstance(node, dict):
        if "type" in node:
            yield node
        for key in ("body", "items", "actions", "columns"):
            if key in node:
                yield from elements(node[key])


def of_type(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in elements(card["body"]) if e["type"] == kind]


def texts(card: dict[str, Any]) -> list[str]:
    return [e["text"] for e in of_type(card, "TextBlock")]


def literal(text: str) -> str:
    """What a reader sees of escaped text."""
    return re.sub(r"\\(.)", r"\1", text)


def markup(text: str) -> str:
    """``text`` without its escaped characters: only what markdown can still act on."""
    return re.sub(r"\\.", "", text)


def standings(contest: Contest, table: dict[str, tuple[float | None, int]]) -> Standings:
    """``table``: member → (value, resolved tickets)."""
    members = {
        key: MemberValues(key, {None: resolved}, {contest.refs[0].key: value})
        for key, (value, resolved) in table.items()
    }
    return compute_standings(contest, members, window=WINDOW, data_as_of=NOW)


def contest(metric: str = "resolved", **settings: Any) -> Contest:
    return Contest("Monthly stars", parse_metric_ref(metric, frozenset()), **settings)


def teams_people(keys: str) -> dict[str, Person]:
    return {k: Person(k, f"Name {k}", f"29:user-{k}") for k in keys}


def png(width: int = 40, height: int = 20, *, noise: bool = False) -> bytes:
    image = PILImage.new("RGB", (width, height), "#5b7fa6")
    if noise:  # random pixels do not compress: about 3 bytes of PNG a pixel
        pixels = random.Random(1).randbytes(width * height * 3)
        image = PILImage.frombytes("RGB", (width, height), pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def nudge(ticket_id: int, reasons: tuple[str, ...], **fields: Any) -> NudgeItem:
    return NudgeItem(ticket_id, f"Summary {ticket_id}", "Acme", reasons, **fields)


# ---- every view converts to a valid card ------------------------------------------------------


def _every_view() -> dict[str, Callable[[], Message]]:
    c = contest("categorized_pct", period=Period.MONTHLY, kind=ContestKind.ONE_GOAL, goal=90)
    result = standings(c, {"a": (95.0, 9), "b": (92.0, 12), "c": (70.0, 6), "d": (100.0, 2)})
    state = SyncStateView(
        watermark=NOW, last_sync_finished_at=NOW, last_error=HOSTILE, last_error_at=NOW
    )
    items = [
        nudge(
            1, ("uncategorized",), type_options=TYPES, current_type="2", ticket_url=URL.format(1)
        ),
        nudge(2, ("no_agreement",), agreement_options=(Option("Gold", "7"),)),
        nudge(3, ("catchall",)),
    ]
    return {
        "leaderboard": lambda: leaderboard_message(
            result, people=teams_people("abcd"), caller="d", shareable=True, share_value="c=1"
        ),
        "winners": lambda: winners_message(result, people=teams_people("abcd")),
        "no winner": lambda: winners_message(standings(c, {"a": (80.0, 9)}), people={}),
        "kudos": lambda: kudos_message(
            person=Person("jane", "Jane", "29:jane"),
            ticket_id=7,
            summary=HOSTILE,
            company=COMPANY,
            ticket_url=URL.format(7),
        ),
        "kudos digest": lambda: kudos_digest_message(
            [KudosItem(Person("jane", "Jane", "29:jane"), i, HOSTILE, COMPANY) for i in range(7)],
            day=date(2026, 11, 18),
        ),
        "nudge digest": lambda: nudge_digest_message(person=Person("jane", "Jane"), items=items),
        "nudge ticket": lambda: nudge_ticket_message(items[0]),
        "nudge done": lambda: nudge_done_message(
            ticket_id=5, summary=HOSTILE, changes=["Agreement: Gold"], by=Person("j", "Jane")
        ),
        "mystats": lambda: mystats_message(
            person=Person("a", "Name a"),
            window_label="November 2026",
            rows=[StatRow("Categorized", 95.0, "%", Direction.HIGHER)],
            ranks=[r for r in [rank_row(result, "a")] if r is not None],
            drags=[DragTicket(9, HOSTILE, COMPANY, ("catchall",), URL.format(9))],
            as_of=NOW,
            tz=TZ,
        ),
        "home": lambda: home_view(
            viewer=Person("a", "Name a"),
            window_label="November 2026",
            rows=[],
            contests=[result],
            people=teams_people("abcd"),
            as_of=NOW,
            tz=TZ,
        ),
        "usage": lambda: usage_message(command="leaderboard", problem=HOSTILE, usage="x [y]"),
        "help": lambda: help_message(is_admin=True),
        "status": lambda: status_message(state=state, tickets=12, pending_outbox=3, tz=TZ),
        "contests": lambda: contests_message([c], tz=TZ, now=NOW),
    }


VIEWS = _every_view()


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_every_view_is_a_valid_card_within_both_limits(name):
    message = VIEWS[name]()
    for limit in (BOT_LIMIT, WORKFLOW_LIMIT):
        card = to_adaptive_card(message, limit=limit)
        validate_card(card, limit=limit)
        assert_schema_valid(card)
        assert card["type"] == "AdaptiveCard"
        assert card["$schema"] == SCHEMA
        assert card["version"] == "1.5"
        # data never becomes markup: no unescaped mention tag other than ours, no raw HTML
        for text in texts(card):
            assert EVERYONE not in text
            assert "<b>" not in text
            assert "**[" not in markup(text)


# ---- escaping ---------------------------------------------------------------------------------


def test_escape_puts_a_backslash_before_every_markup_character():
    assert escape(r"a\b*c_d~e[f]g(h)i#j+k-l.m!n>o<p`q|r") == (
        r"a\\b\*c\_d\~e\[f\]g\(h\)i\#j\+k\-l\.m\!n\>o\<p\`q\|r"
    )
    assert escape("Tom & Jerry's") == "Tom & Jerry's"
    assert escape("two\nlines\r\n# heading") == r"two lines  \# heading"


def test_a_hostile_kudos_shows_literally_and_mentions_only_the_technician():
    message = kudos_message(
        person=Person("jane", "Jane", "29:jane-id"),
        ticket_id=7,
        summary=f"{EVIL} {EVERYONE}",
        company=COMPANY,
        ticket_url="https://cw.example/7?a=1&b=2",
    )
    card = to_adaptive_card(message)
    validate_card(card)
    (text,) = texts(card)
    # written out by hand: the ticket link and the mention are the only markup
    assert text == (
        "🎉 Kudos to <at>Jane</at> for resolving [\\#7](https://cw.example/7?a=1&b=2) "
        "\\*\\*\\[click\\]\\(http://evil\\)\\*\\* \\<at\\>Everyone\\</at\\> "
        "\\(Tom & Jerry's\\) without escalation\\!"
    )
    assert f"{EVIL} {EVERYONE} (Tom & Jerry's)" in literal(text)
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Jane</at>",
            "mentioned": {"id": "29:jane-id", "name": "Jane"},
        }
    ]


def test_a_name_that_is_markup_is_escaped_when_not_a_mention():
    message = kudos_message(
        person=Person("p", EVERYONE), ticket_id=1, summary="s", company="c", ticket_url=None
    )
    card = to_adaptive_card(message)
    (text,) = texts(card)
    assert text.startswith("🎉 Kudos to \\<at\\>Everyone\\</at\\> for resolving \\#1 s")
    assert "msteams" not in card


def test_links_encode_what_would_end_the_target_and_allow_only_web_and_mail():
    assert link_url("https://x.example/a b(c)") == "https://x.example/a%20b%28c%29"
    assert link_url("mailto:desk@example.com") == "mailto:desk@example.com"
    assert link_url("javascript:alert(1)") is None
    assert link_url("mention:29:abc") is None
    line = (Span("go", link="javascript:alert(1)"), Span(" "), Span("here", link="https://a/)"))
    (text,) = texts(to_adaptive_card(Message("t", (Paragraph((line,)),))))
    assert text == "go [here](https://a/%29)"


def test_bold_italic_and_code():
    line = (
        Span("bold", bold=True),
        Span(" "),
        Span("it", italic=True),
        Span(" "),
        Span("a`b*c", code=True),
        Span(" "),
        Span("both", bold=True, italic=True),
    )
    (text,) = texts(to_adaptive_card(Message("t", (Paragraph((line,)),))))
    assert text == "**bold** _it_ `ab\\*c` **_both_**"


# ---- mentions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "user"),
    [
        ("mention:29:1a-B_c", "29:1a-B_c"),
        (
            "mention:8:orgid:0f8fad5b-d9cb-469f-a165-70867728950e",
            "8:orgid:0f8fad5b-d9cb-469f-a165-70867728950e",
        ),
        ("mention:0f8fad5b-d9cb-469f-a165-70867728950e", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ("mention:jane.doe@contoso.com", "jane.doe@contoso.com"),
        ("mention:U123ABC", None),  # a Slack id: the name shows as text
        ("mention:29:x</at><at>Everyone", None),
        ("mention:", None),
        ("https://example.com", None),
    ],
)
def test_only_teams_user_ids_are_mentioned(link, user):
    assert mention_user(link) == user


def test_mentions_render_at_tags_with_entities_and_names_without_markup():
    line = (
        Span("Hi "),
        Span("Jane *Doe* [IT]", bold=True, link="mention:29:abc"),
        Span(" and "),
        Span("Bob <x>", link="mention:U1"),  # not a Teams id: the name, escaped
        Span("!"),
    )
    card = to_adaptive_card(Message("t", (Paragraph((line,)),)))
    validate_card(card)
    (text,) = texts(card)
    assert text == "Hi **<at>Jane Doe IT</at>** and Bob \\<x\\>\\!"
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Jane Doe IT</at>",
            "mentioned": {"id": "29:abc", "name": "Jane *Doe* [IT]"},
        }
    ]


def test_winners_mention_every_winner_and_standings_mention_nobody():
    # places=1: a and b tie for 1st, so both win and both are mentioned
    c = contest(period=Period.MONTHLY, places=1)
    result = standings(c, {"a": (9.0, 9), "b": (9.0, 9), "c": (4.0, 4)})
    winners = to_adaptive_card(winners_message(result, people=teams_people("abc")))
    validate_card(winners)
    mentioned = [e["mentioned"]["id"] for e in winners["msteams"]["entities"]]
    assert mentioned == ["29:user-a", "29:user-b"]
    board = to_adaptive_card(leaderboard_message(result, people=teams_people("abc"), caller=None))
    assert "msteams" not in board
    assert not any("<at>" in t for t in texts(board))


# ---- blocks -----------------------------------------------------------------------------------


def test_block_shapes_header_lists_context_divider():
    message = Message(
        "t",
        (
            Header("Title #1"),
            ListBlock(((Span("first"),), (Span("second"),)), ordered=True),
            Divider(),
            ListBlock(((Span("- dash"),),)),
            Context(((Span("as of now"),),)),
        ),
    )
    card = to_adaptive_card(message)
    validate_card(card)
    header, ordered, bullets, context = card["body"]
    assert header == {
        "type": "TextBlock",
        "text": "Title \\#1",
        "wrap": True,
        "size": "Large",
        "weight": "Bolder",
        "style": "heading",
    }
    assert [i["text"] for i in ordered["items"]] == ["1\\. first", "2\\. second"]
    assert ordered["items"][1]["spacing"] == "None"
    # the divider is a separator line above the next element
    assert bullets["separator"] is True
    assert bullets["text"] == "- \\- dash"
    assert context == {
        "type": "TextBlock",
        "text": "as of now",
        "wrap": True,
        "isSubtle": True,
        "size": "Small",
    }


def test_nudge_controls_ids_choices_and_action_data():
    items = [
        nudge(
            1,
            ("uncategorized", "no_agreement"),
            type_options=TYPES,
            current_type="2",
            agreement_options=(Option("Gold", "7"),),
        ),
        nudge(
            2,
            ("uncategorized", "no_agreement"),
            type_options=TYPES,
            agreement_options=(Option("Gold", "7"),),
        ),
    ]
    message = nudge_digest_message(person=Person("jane", "Jane"), items=items)
    card = to_adaptive_card(message)
    validate_card(card)
    inputs = of_type(card, "Input.ChoiceSet")
    # two tickets' selects coexist: the block id prefixes each input id; the selects with
    # nothing to offer yet (subtype, item: no options given) are a line saying why
    assert [i["id"] for i in inputs] == [
        "nudge:1|nudge_type",
        "nudge:1|nudge_agreement",
        "nudge:2|nudge_type",
        "nudge:2|nudge_agreement",
    ]
    assert inputs[0]["choices"] == [
        {"title": "Hardware", "value": "1"},
        {"title": "Software", "value": "2"},
    ]
    assert inputs[0]["value"] == "2"
    assert inputs[0]["label"] == "Type"
    assert "value" not in inputs[2]
    # few options, drawn inline by the view: plain dropdowns
    assert not any("style" in i for i in inputs)
    save, dismiss = of_type(card, "ActionSet")[0]["actions"]
    assert save == {
        "type": "Action.Execute",
        "title": "Save",
        "verb": "nudge_save",
        "data": {"action": "nudge_save", "value": "1", "block": "nudge:1"},
        "style": "positive",
    }
    assert dismiss["data"] == {"action": "nudge_dismiss", "value": "1", "block": "nudge:1"}
    assert "style" not in dismiss
    # the ActionSet follows its ticket's inputs in one container
    first = card["body"][2]
    assert [e["type"] for e in first["items"]] == [
        "Input.ChoiceSet",
        "TextBlock",
        "TextBlock",
        "Input.ChoiceSet",
        "ActionSet",
    ]
    assert [e["text"] for e in first["items"][1:3]] == ["Subtype: none", "Item: none"]
    second = card["body"][4]
    assert [e.get("text") for e in second["items"][1:3]] == [
        "Subtype: pick a type first",
        "Item: pick a type first",
    ]


def test_repeated_input_ids_stay_unique_and_no_choice_set_uses_the_1_6_filtered_style():
    options = tuple(Option(f"T{i}", str(i)) for i in range(21))
    block = Actions((Select("pick", "Pick", options), Select("pick", "Pick", options[:3])))
    card = to_adaptive_card(Message("t", (block,)))
    validate_card(card)
    assert_schema_valid(card)
    first, second = of_type(card, "Input.ChoiceSet")
    assert (first["id"], second["id"]) == ("pick", "pick#2")
    assert "style" not in first  # a compact dropdown: "filtered" is schema 1.6
    assert "style" not in second


def test_share_button_without_a_block_id():
    c = contest(period=Period.MONTHLY)
    message = leaderboard_message(
        standings(c, {"a": (9.0, 9)}), people={}, caller=None, shareable=True, share_value="v"
    )
    card = to_adaptive_card(message)
    assert card["body"][-1] == {
        "type": "ActionSet",
        "actions": [
            {
                "type": "Action.Execute",
                "title": "Share in channel",
                "verb": "leaderboard_share",
                "data": {"action": "leaderboard_share", "value": "v", "block": None},
                "style": "positive",
            }
        ],
    }


# ---- images -----------------------------------------------------------------------------------


def test_an_attachment_image_is_a_data_url_or_dropped():
    chart = png()
    message = Message(
        "t", (Header("h"), Image("attachment:chart.png", "the chart"), Context(((Span("c"),),)))
    )
    with_chart = to_adaptive_card(message, image=chart)
    validate_card(with_chart)
    (image,) = of_type(with_chart, "Image")
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix)
    assert base64.b64decode(image["url"][len(prefix) :]) == chart
    assert image["altText"] == "the chart"
    assert of_type(to_adaptive_card(message), "Image") == []
    assert of_type(to_adaptive_card(message, image=b"not an image"), "Image") == []
    web = Message("t", (Image("https://x.example/c.png", "c"), Image("javascript:x", "bad")))
    assert [i["url"] for i in of_type(to_adaptive_card(web), "Image")] == [
        "https://x.example/c.png"
    ]


def test_a_chart_the_message_does_not_place_goes_before_the_closing_context():
    c = contest(period=Period.MONTHLY)
    message = leaderboard_message(standings(c, {"a": (9.0, 9)}), people={}, caller=None)
    card = to_adaptive_card(message, image=png())
    validate_card(card)
    kinds = [e["type"] for e in card["body"]]
    assert kinds[-2:] == ["Image", "TextBlock"]
    assert card["body"][-1]["text"].startswith("Data as of")
    assert card["body"][-2]["altText"].startswith("Chart: Monthly stars (November 2026)")


def test_an_image_that_breaks_the_budget_goes_first_and_the_text_stays():
    big = png(120, 120, noise=True)  # about 40 KB of PNG
    assert len(big) > WORKFLOW_LIMIT
    c = contest(period=Period.MONTHLY)
    message = leaderboard_message(standings(c, {"a": (9.0, 9)}), people={}, caller=None)
    card = to_adaptive_card(message, limit=WORKFLOW_LIMIT, image=big)
    validate_card(card, limit=WORKFLOW_LIMIT)
    assert of_type(card, "Image") == []
    assert texts(card) == texts(to_adaptive_card(message))  # nothing else was cut


# ---- limits on hostile and huge inputs --------------------------------------------------------


@pytest.mark.parametrize("limit", [BOT_LIMIT, WORKFLOW_LIMIT])
def test_a_leaderboard_of_500_ranked_and_300_waiting_fits(limit):
    c = Contest("x" * 400, parse_metric_ref("categorized_pct", frozenset()), period=Period.MONTHLY)
    table: dict[str, tuple[float | None, int]] = {
        f"r{i:03d}": (float(i % 97), 10) for i in range(500)
    }
    table |= {f"w{i:03d}": (50.0, 1) for i in range(300)}
    people = {k: Person(k, HUGE_SUMMARY, f"29:{k}") for k in table}
    message = leaderboard_message(
        standings(c, table), people=people, caller="r000", shareable=True, share_value="v"
    )
    card = to_adaptive_card(message, limit=limit)
    validate_card(card, limit=limit)
    shown = "\n".join(texts(card))
    assert "…and 489 more ranked" in shown  # 500 - 10 shown - the caller's own line
    assert "and 275 more" in shown  # not qualified: 300 - 25 named
    assert "**[" not in markup(shown)
    assert "<at>" not in shown  # standings mention nobody
    assert card["body"][-1]["type"] == "ActionSet"  # the Share button survives


@pytest.mark.parametrize("limit", [BOT_LIMIT, WORKFLOW_LIMIT])
def test_a_list_of_500_long_items_is_cut_with_and_n_more(limit):
    items = tuple((Span(f"{HOSTILE} {i} " + "y" * 200),) for i in range(500))
    message = Message(
        "t", (Header("List"), ListBlock(items, ordered=True), Context(((Span("end"),),)))
    )
    card = to_adaptive_card(message, limit=limit)
    validate_card(card, limit=limit)
    assert card_size(card) <= limit
    _, listed, note, context = card["body"]
    kept = len(listed["items"])
    assert 10 < kept < 500
    assert note["text"] == f"…and {500 - kept} more"  # every item is counted: kept + cut
    assert listed["items"][0]["text"].startswith("1\\. \\*\\*\\[click\\]")
    assert context["text"] == "end"  # closing context lines stay


def test_a_5000_character_line_is_cut_and_120_of_them_fit():
    (text,) = texts(to_adaptive_card(Message("t", (Paragraph(((Span(HUGE_SUMMARY),),)),))))
    assert len(literal(text)) == MAX_LINE
    assert text.endswith("x…")
    paragraphs = tuple(Paragraph(((Span(HUGE_SUMMARY),),)) for _ in range(120))
    card = to_adaptive_card(Message("t", paragraphs), limit=WORKFLOW_LIMIT)
    validate_card(card, limit=WORKFLOW_LIMIT)
    kept = len(card["body"]) - 1
    assert card["body"][-1]["text"] == f"…and {120 - kept} more"


def test_a_nudge_digest_of_300_tickets_with_200_options_fits_with_its_controls():
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
    card = to_adaptive_card(message)
    validate_card(card, limit=BOT_LIMIT)
    shown = nudge_ticket_ids(message)
    # every ticket the digest shows keeps its controls: Save and Not needed, in order
    saves = [
        a["data"]["block"]
        for s in of_type(card, "ActionSet")
        for a in s["actions"]
        if a["verb"] == "nudge_save"
    ]
    assert saves == [f"nudge:{t}" for t in shown]
    assert any(t == f"…and {300 - len(shown)} more tickets: see /mystats" for t in texts(card))
    # 200 options load on demand in Slack; in Teams the type select shows as many of the 100
    # the message carries as fit, the current type among them, and a search box
    type_select = of_type(card, "Input.ChoiceSet")[0]
    assert type_select["value"] == options[5].value
    assert {"title": options[5].text, "value": options[5].value} in type_select["choices"]
    assert len(type_select["choices"]) > 1
    boxes = of_type(card, "Input.Text")
    assert boxes[0]["id"] == f"{type_select['id']}|search"
    assert "**[" not in markup("\n".join(texts(card)))


@pytest.mark.parametrize("limit", [BOT_LIMIT, WORKFLOW_LIMIT])
def test_choices_beyond_what_fits_are_dropped_keeping_the_current_one(limit):
    # the Teams layer passes every company it has: 15 tickets x 500 options do not fit
    companies = tuple(Option(f"Company {i} " + "c" * 60, str(i)) for i in range(500))
    blocks: list[Any] = []
    for ticket in range(15):
        blocks.append(Paragraph(((Span(f"#{ticket} {HOSTILE}"),),)))
        select = Select("nudge_company", "Company", companies, initial="450", external=True)
        blocks.append(
            Actions((select, Button("Save", "nudge_save", str(ticket))), f"nudge:{ticket}")
        )
    card = to_adaptive_card(Message("t", tuple(blocks)), limit=limit)
    validate_card(card, limit=limit)
    selects = of_type(card, "Input.ChoiceSet")
    assert len(selects) == 15
    saves = [s for s in of_type(card, "ActionSet") if s["actions"][0]["verb"] == "nudge_save"]
    assert len(saves) == 15  # never dropped
    # the rest can be searched for: a box and a Search button under each select
    boxes = of_type(card, "Input.Text")
    assert [b["id"] for b in boxes] == [f"nudge:{t}|nudge_company|search" for t in range(15)]
    searches = [s for s in of_type(card, "ActionSet") if s["actions"][0]["verb"] != "nudge_save"]
    assert [s["actions"] for s in searches] == [
        [
            {
                "type": "Action.Execute",
                "title": "Search",
                "verb": "choices_search",
                "data": {
                    "action": "choices_search",
                    "block": f"nudge:{t}",
                    "select": "nudge_company",
                    "input": f"nudge:{t}|nudge_company",
                },
            }
        ]
        for t in range(15)
    ]
    counts = {len(s["choices"]) for s in selects}
    assert len(counts) == 1  # every select keeps the same number of choices
    (count,) = counts
    assert 2 <= count < 500
    for select in selects:
        assert select["value"] == "450"
        assert select["choices"][-1] == {"title": companies[450].text, "value": "450"}
        assert "style" not in select
    # the first count - 1 choices and the current one are shown; the rest are counted
    notes = [t for t in texts(card) if t.startswith("…and ")]
    assert notes == [f"…and {500 - count} more options"] * 15
    # the ticket paragraphs survive: choices go before text
    assert sum(t.startswith("\\#") for t in texts(card)) == 15


def test_a_select_of_200_options_fits_whole_in_a_bot_message():
    select = Select("pick", "Pick", tuple(Option(f"Option {i}", str(i)) for i in range(200)))
    card = to_adaptive_card(Message("t", (Actions((select,)),)))
    (choices,) = of_type(card, "Input.ChoiceSet")
    assert len(choices["choices"]) == 200
    assert "style" not in choices
    assert_schema_valid(card)


def test_a_kudos_digest_of_500_huge_items_fits():
    items = [
        KudosItem(
            Person(f"p{i % 60}", f"Person {i % 60}", f"29:p{i % 60}"),
            i,
            HUGE_SUMMARY,
            COMPANY,
            URL.format(i),
        )
        for i in range(500)
    ]
    card = to_adaptive_card(kudos_digest_message(items, day=date(2026, 11, 18)))
    validate_card(card, limit=BOT_LIMIT)
    assert any("more tickets by" in t for t in texts(card))
    names = {e["mentioned"]["name"] for e in card["msteams"]["entities"]}
    assert len(names) == 5  # 25 tickets, at most 5 per technician: 5 technicians named


# ---- validation -------------------------------------------------------------------------------


def _good_card() -> dict[str, Any]:
    message = nudge_digest_message(
        person=Person("jane", "Jane"),
        items=[nudge(1, ("uncategorized",), type_options=TYPES)],
    )
    card = to_adaptive_card(message)
    validate_card(card)
    return card


def _controls(card: dict[str, Any]) -> dict[str, Any]:
    """The Container holding the first ticket's inputs and buttons."""
    return next(e for e in of_type(card, "Container") if e["items"][-1]["type"] == "ActionSet")


def _input(card: dict[str, Any]) -> dict[str, Any]:
    return of_type(card, "Input.ChoiceSet")[0]


def _execute(card: dict[str, Any]) -> dict[str, Any]:
    return of_type(card, "ActionSet")[0]["actions"][0]


BREAKAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "version 1.6": lambda c: c.update(version="1.6"),
    "no version": lambda c: c.pop("version"),
    "a Table (1.5 has it; Deskboard does not use it)": lambda c: c["body"].append(
        {"type": "Table", "rows": []}
    ),
    "a 1.6 filtered ChoiceSet": lambda c: _input(c).update(style="filtered"),
    "a property of the card 1.5 does not have": lambda c: c.update(layouts=[]),
    "msteams with more than mentions": lambda c: c.update(msteams={"width": "Full"}),
    "a RichTextBlock": lambda c: c["body"].append({"type": "RichTextBlock", "inlines": []}),
    "Action.ResetInputs": lambda c: of_type(c, "ActionSet")[0]["actions"].append(
        {"type": "Action.ResetInputs"}
    ),
    "TextBlock without text": lambda c: c["body"][0].pop("text"),
    "Image without url": lambda c: c["body"].append({"type": "Image", "altText": "x"}),
    "input without id": lambda c: _input(c).pop("id"),
    "input id twice": lambda c: _controls(c)["items"].insert(0, copy.deepcopy(_input(c))),
    "choice without value": lambda c: _input(c)["choices"][0].pop("value"),
    "choice value a number": lambda c: _input(c)["choices"][0].update(value=1),
    "Execute without verb": lambda c: _execute(c).pop("verb"),
    "unknown property": lambda c: c["body"][0].update(colour="Good"),
    "a size the SDK does not know": lambda c: c["body"][0].update(size="Huge"),
    "a wrong card type": lambda c: c.update(type="HeroCard"),
    "a mention not in the text": lambda c: c.update(
        msteams={
            "entities": [
                {"type": "mention", "text": "<at>X</at>", "mentioned": {"id": "29:x", "name": "X"}}
            ]
        }
    ),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_validate_card_refuses_invalid_cards(breakage):
    card = _good_card()
    BREAKAGES[breakage](card)
    with pytest.raises(ValueError):  # noqa: PT011 - every breakage has its own message
        validate_card(card)


def test_validate_card_checks_the_size_when_given_a_limit():
    card = _good_card()
    validate_card(card, limit=card_size(card))
    with pytest.raises(ValueError, match="bytes, more than"):
        validate_card(card, limit=card_size(card) - 1)


# ---- envelopes --------------------------------------------------------------------------------


def test_message_activity_loads_in_the_teams_sdk():
    card = to_adaptive_card(help_message(is_admin=False))
    activity = message_activity(card, summary="Deskboard  commands")
    assert activity == {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
        "summary": "Deskboard commands",
    }
    loaded = MessageActivityInput.model_validate(activity)
    assert loaded.attachments is not None
    assert loaded.attachments[0].content_type == CARD_CONTENT_TYPE


def test_workflow_payload_shape():
    card = to_adaptive_card(help_message(is_admin=False))
    assert workflow_payload(card) == {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }
