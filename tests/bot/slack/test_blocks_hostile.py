"""The Slack renderer on hostile messages: every payload is one Slack takes.

Each case is a message an attacker (or unlucky data) can produce: names, summaries and links
of any length and content, empty texts, duplicate or over-long ids, URLs of any scheme. Each
rendered payload is checked by slack_sdk's Block Kit models and by the rules they do not
check (tests/bot/slack/block_kit.py), then for what the case is about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

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
    KudosItem,
    NudgeItem,
    Person,
    csat_alert_message,
    csat_kudos_message,
    kudos_digest_message,
    kudos_message,
    leaderboard_message,
    nudge_digest_message,
)
from bot.core.nudge_flow import NUDGE_BLOCK
from bot.slack.blocks import to_slack
from metrics.contests import Contest
from metrics.definitions import parse_metric_ref
from metrics.standings import Standings, compute_standings
from metrics.values import MemberValues
from metrics.windows import Period, period_window
from tests.bot.slack.block_kit import assert_valid_payload, mrkdwn_problems, payload_problems

NOW = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
TZ = ZoneInfo("Europe/Amsterdam")
PING = "<!channel> <!here> <@U0> <#C1> <https://evil.example|x>"
SPECIALS = "<>|&" * 10
LONG_NAME = (PING + " " + SPECIALS + " ") * 40  # about 4,000 characters, 2,000 of them escaped
LONG_URL = "https://cw.example/v4/" + "a%20b&c=" * 700  # 5,622 characters
EVIL_URLS = (
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "  javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "mailto:someone@example.com",
    "http://",
    "https://[::1",
    "//evil.example/x",
    "",
)
SAVE = Button("Save", "nudge_save", "7", "primary")


def line(text: str, link: str | None = None, **marks: bool) -> tuple[Span, ...]:
    return (Span(text, link=link, **marks),)


def standings(table: dict[str, tuple[float, int]]) -> Standings:
    contest = Contest(
        LONG_NAME, parse_metric_ref("categorized_pct", frozenset()), period=Period.MONTHLY
    )
    members = {
        key: MemberValues(key, {None: resolved}, {contest.refs[0].key: value})
        for key, (value, resolved) in table.items()
    }
    window = period_window(Period.MONTHLY, now=NOW, tz=TZ)
    return compute_standings(contest, members, window=window, data_as_of=NOW)


# ---- the cases ----------------------------------------------------------------------------------


def _trailing_context_of_30000() -> Message:
    # The attack's 60,906 characters: a message whose trailing blocks alone are far too big.
    body = tuple(Paragraph((line("x" * 2900),)) for _ in range(8))
    huge = Context(tuple(line(f"{i} " + "&" * 2990) for i in range(12)))
    return Message("t", (Header("Report"), *body, huge, Actions((SAVE,), "nudge:7")))


def _sixty_paragraphs() -> Message:
    body = tuple(Paragraph((line(f"{i} " + SPECIALS * 70),)) for i in range(60))
    return Message("t", (*body, Context((line("as of now"),)), Actions((SAVE,), "nudge:7")))


def _empty_everything() -> Message:
    return Message(
        "",
        (
            Header(""),
            Header("   \n "),
            Paragraph((line(""), line("   "))),
            ListBlock((line(""),)),
            Context((line(" "),)),
            Image("", ""),
            Actions(()),
            Actions((Button("", "", ""), Select("", "", (Option("", ""), Option(" ", "1"))))),
        ),
    )


def _colliding_ids() -> Message:
    prefix = "id" * 150  # 300 characters: every id below is the same once cut to 255
    return Message(
        "t",
        (
            Actions((Button("a", prefix + "1"), Button("b", prefix + "2"), Button("c", "")), "x"),
            Actions((Button("a", "nudge_save"), Button("b", "nudge_save")), "nudge:7"),
            Actions((Button("c", "nudge_save"),), "nudge:7"),
            Actions((Button("d", "go"),), prefix + "1"),
            Actions((Button("e", "go"),), prefix + "2"),
            Actions((Button("f", "go"),), prefix[:253] + "~2"),
        ),
    )


def _images() -> Message:
    return Message(
        "t",
        (
            Image("https://img.example/" + "a" * 2990, "too long by a few"),
            Image(LONG_URL, "long"),
            *(Image(url, "evil") for url in EVIL_URLS),
            Image("https://img.example/chart 1.png?a=<b>|c", "x" * 2500),
            Image("https://img.example/ok.png", ""),
        ),
    )


def _links() -> Message:
    lines = [line("evil", url) for url in EVIL_URLS]
    lines += [
        line("angles", "https://e.example/a<b>c|d e\nf&g=h\"i'j"),
        line("long", LONG_URL),
        line("ok " + SPECIALS, "https://e.example/?a=1&b=2", bold=True),
        line("x" * 2000, "https://e.example/label-longer-than-a-link-may-be"),
        line("ping", "mention:<!channel>"),
        line("ping", "mention:" + "U" * 500),
    ]
    return Message("t", (Paragraph(tuple(lines)), Context(tuple(lines[:10]))))


def _twenty_five_selects_of_100_long_options() -> Message:
    options = tuple(Option(LONG_NAME[:200] + str(i), "v" * 149 + str(i)) for i in range(100))
    selects = tuple(
        Select(f"nudge_{i}", LONG_NAME, options, initial=options[3].value) for i in range(30)
    )
    return Message("t", (Paragraph((line("pick"),)), Actions(selects, "nudge:7")))


def _escape_heavy() -> Message:
    # 3,000 "&" become 15,000 characters of "&amp;": cut after escaping, not before
    return Message(
        "&" * 5000,
        (
            Paragraph((line("&" * 3000), line("<" * 3000))),
            Context((line(">" * 3000),)),
            ListBlock(tuple(line("&<>|" * 800) for _ in range(20)), ordered=True),
        ),
    )


def _list_of_500_links() -> Message:
    items = tuple(
        (Span(f"#{i}", link=LONG_URL[: 200 + i * 10]), Span(" " + LONG_NAME[:300]))
        for i in range(500)
    )
    return Message("t", (Header(LONG_NAME), ListBlock(items), Context((line("end"),))))


def _leaderboard_of_500() -> Message:
    table = {f"r{i:03d}": (float(i % 97), 10) for i in range(500)}
    people = {k: Person(k, LONG_NAME, "U" + "1" * 9) for k in table}
    return leaderboard_message(
        standings(table), people=people, caller="r250", shareable=True, share_value="v" * 3000
    )


def _kudos_with_evil_links() -> Message:
    return kudos_message(
        person=Person("jane", LONG_NAME, "mention:U1"),
        ticket_id=7,
        summary=LONG_NAME,
        company=LONG_NAME,
        ticket_url="javascript:alert(1)",
    )


def _kudos_digest_of_500() -> Message:
    items = [
        KudosItem(Person(f"p{i % 60}", LONG_NAME), i, LONG_NAME, LONG_NAME, EVIL_URLS[i % 3])
        for i in range(500)
    ]
    return kudos_digest_message(items, day=NOW.date())


def _nudge_digest_of_duplicates() -> Message:
    options = tuple(Option(LONG_NAME[:100] + str(i), str(i)) for i in range(150))
    items = [
        NudgeItem(
            7,  # the same ticket every time: the same block_id every time
            PING + SPECIALS,
            PING,
            ("uncategorized", "no_agreement"),
            ticket_url="https://cw.example/7?a=<b>|c&d",
            type_options=options,
            current_type="3",
        )
        for _ in range(20)
    ]
    return nudge_digest_message(person=Person("jane", LONG_NAME), items=items)


def _many_dividers_and_headers() -> Message:
    blocks = (Header(LONG_NAME), Divider()) * 40
    return Message("t", (*blocks, Actions((SAVE,), "nudge:7")))


def _csat_alert_of_a_hostile_comment() -> Message:
    return csat_alert_message(
        technicians=[Person(f"p{i}", LONG_NAME, "U" + "2" * 9) for i in range(30)],
        ticket_id=8,
        summary=LONG_NAME,
        company=LONG_NAME,
        ticket_url=EVIL_URLS[0],
        comment=("<!channel> <@U1> & *x* " * 2000),
        source="a rating link",
    )


def _csat_kudos_of_a_hostile_comment() -> Message:
    return csat_kudos_message(
        person=Person("jane", LONG_NAME, "U1"),
        ticket_id=9,
        summary=LONG_NAME,
        company=LONG_NAME,
        ticket_url=EVIL_URLS[1],
        comment=("<!here> " * 5000),
    )


CASES: dict[str, Callable[[], Message]] = {
    "a trailing context of 30,000 characters": _trailing_context_of_30000,
    "sixty paragraphs then context and actions": _sixty_paragraphs,
    "empty texts everywhere": _empty_everything,
    "ids colliding as given and once cut to 255": _colliding_ids,
    "image URLs too long or not http(s)": _images,
    "links with javascript:, angles, bars, 5,000 characters": _links,
    "25+ selects of 100 long options": _twenty_five_selects_of_100_long_options,
    "text that grows fivefold when escaped": _escape_heavy,
    "a list of 500 long links": _list_of_500_links,
    "a leaderboard of 500 long hostile names": _leaderboard_of_500,
    "kudos with a javascript: ticket link": _kudos_with_evil_links,
    "a kudos digest of 500": _kudos_digest_of_500,
    "a nudge digest of one ticket twenty times": _nudge_digest_of_duplicates,
    "forty headers and dividers": _many_dividers_and_headers,
    "a bad-rating alert with a 40,000-character hostile comment": _csat_alert_of_a_hostile_comment,
    "CSAT kudos with a 40,000-character hostile comment": _csat_kudos_of_a_hostile_comment,
}


def _render(name: str) -> tuple[Message, str, list[dict[str, Any]]]:
    message = CASES[name]()
    text, blocks = to_slack(message)
    return message, text, blocks


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_hostile_message_renders_a_payload_slack_takes(name: str):
    message, text, blocks = _render(name)
    assert_valid_payload(text, blocks)
    assert to_slack(message) == (text, blocks)  # deterministic


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_trailing_context_and_actions_survive(name: str):
    message, _, blocks = _render(name)
    last = message.blocks[-1]
    if isinstance(last, Actions) and last.elements:
        assert blocks[-1]["type"] == "actions"
        # the same block: its id, or that id made unique (one case repeats it on purpose)
        assert blocks[-1].get("block_id", "")[:200] == (last.block_id or "")[:200]
    elif isinstance(last, Context) and any(s.text.strip() for ln in last.lines for s in ln):
        assert blocks[-1]["type"] == "context"


def test_the_payload_checker_catches_what_slack_refuses():
    # the judge itself can fail: each of these is a payload Slack refuses
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}
    bad: list[list[dict[str, Any]]] = [
        [section] * 51,
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        [{"type": "header", "text": {"type": "plain_text", "text": ""}}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "<javascript:x|a>"}}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "a & b"}}],
        [{"type": "image", "image_url": "javascript:x", "alt_text": "a"}],
        [{**section, "block_id": "a"}, {**section, "block_id": "a"}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5,
        [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "x" * 76},
                        "action_id": "a",
                    }
                ],
            }
        ],
    ]
    for blocks in bad:
        assert payload_problems("t", blocks), blocks
    assert not payload_problems("t", [section])


# ---- what each case is about --------------------------------------------------------------------


def _raw(name: str) -> str:
    return json.dumps(_render(name)[2], ensure_ascii=False)


def test_a_huge_trailing_context_is_shrunk_not_sent_whole():
    _, _, blocks = _render("a trailing context of 30,000 characters")
    assert [b["type"] for b in blocks][:2] == ["header", "section"]
    assert blocks[-2]["type"] == "context"
    assert blocks[-1]["elements"][0]["action_id"] == "nudge_save"
    assert len(json.dumps(blocks, ensure_ascii=False)) <= 12_000


def test_the_middle_is_cut_and_says_how_much():
    _, _, blocks = _render("sixty paragraphs then context and actions")
    notice = blocks[-3]
    assert notice["type"] == "context"
    more = re.fullmatch(r"…and (\d+) more", notice["elements"][0]["text"])
    assert more is not None
    shown = sum(1 for b in blocks if b["type"] == "section")
    assert shown + int(more.group(1)) == 60
    assert [b["type"] for b in blocks[-2:]] == ["context", "actions"]


def test_empty_texts_drop_their_blocks_or_show_a_placeholder():
    _, text, blocks = _render("empty texts everywhere")
    assert [b["type"] for b in blocks] == ["actions"]
    button, select = blocks[0]["elements"]
    assert button["text"]["text"] == "(untitled)"
    assert "value" not in button
    assert select["placeholder"]["text"] == "Choose"
    assert [o["value"] for o in select["options"]] == ["1"]  # the empty value is no option
    assert select["options"][0]["text"]["text"] == "(untitled)"
    assert text.strip()


def test_ids_stay_unique_and_the_first_keeps_what_the_listeners_match():
    _, _, blocks = _render("ids colliding as given and once cut to 255")
    prefix = ("id" * 150)[:255]
    first, nudge, again, long_1, long_2, third = blocks
    assert [e["action_id"] for e in first["elements"]] == [prefix, prefix[:253] + "~2", "action"]
    assert nudge["block_id"] == "nudge:7"
    assert [e["action_id"] for e in nudge["elements"]] == ["nudge_save", "nudge_save~2"]
    assert again["block_id"] == "nudge:7~2"
    assert [e["action_id"] for e in again["elements"]] == ["nudge_save"]  # unique per block
    assert long_1["block_id"] == prefix
    assert long_2["block_id"] == prefix[:253] + "~2"
    assert third["block_id"] == prefix[:253] + "~3"  # "~2" as given was taken by now


def test_only_short_http_images_remain():
    _, _, blocks = _render("image URLs too long or not http(s)")
    assert [b["image_url"] for b in blocks] == [
        "https://img.example/chart%201.png?a=%3Cb%3E%7Cc",
        "https://img.example/ok.png",
    ]
    assert [b["alt_text"] for b in blocks] == ["x" * 1999 + "…", "image"]


def test_links_are_http_only_and_cannot_end_early():
    _, _, blocks = _render("links with javascript:, angles, bars, 5,000 characters")
    text = blocks[0]["text"]["text"]
    links = re.findall(r"<([^<>|]*)\|", text)
    assert links == [
        "https://e.example/a%3Cb%3Ec%7Cd%20e%0Af&amp;g=h%22i'j",
        "https://e.example/?a=1&amp;b=2",
        "https://e.example/label-longer-than-a-link-may-be",
    ]
    assert text.splitlines()[: len(EVIL_URLS)] == ["evil"] * len(EVIL_URLS)
    assert "\nlong\n" in text  # a link too long to write shows its label
    assert "<@" not in text  # neither mention:… is an id
    assert "*ok &lt;&gt;|&amp;" in text


def test_selects_too_big_to_draw_load_their_options_on_demand():
    _, _, blocks = _render("25+ selects of 100 long options")
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert actions["block_id"] == "nudge:7"
    kinds = {e["type"] for e in actions["elements"]}
    assert kinds == {"external_select"}
    # as many as fit (25 at most), the first first
    shown = [e["action_id"] for e in actions["elements"]]
    assert 15 <= len(shown) <= 25
    assert shown == [f"nudge_{i}" for i in range(len(shown))]
    assert all(e["initial_option"]["value"] == "v" * 149 + "3" for e in actions["elements"])


def test_escaped_text_is_cut_after_escaping_and_never_inside_an_escape():
    _, text, blocks = _render("text that grows fivefold when escaped")
    assert text.endswith("&amp;…")
    assert len(text) <= 3000
    for block in blocks:
        for t in [block.get("text", {}).get("text", "")] + [
            e["text"] for e in block.get("elements", [])
        ]:
            assert not mrkdwn_problems(t)


def test_a_long_leaderboard_keeps_its_share_button_and_pings_nobody():
    _, _, blocks = _render("a leaderboard of 500 long hostile names")
    # the header is plain_text, which Slack never parses; every mrkdwn text is escaped
    raw = json.dumps(blocks[1:], ensure_ascii=False)
    for ping in ("<!channel>", "<!here>", "<#C1>", "<https://evil.example"):
        assert ping not in raw
    assert blocks[0]["text"]["type"] == "plain_text"
    assert blocks[0]["type"] == "header"
    assert len(blocks[0]["text"]["text"]) == 150
    assert blocks[-1]["elements"][0]["action_id"] == "leaderboard_share"
    assert len(blocks[-1]["elements"][0]["value"]) == 2000


def test_a_javascript_ticket_link_leaves_the_ticket_number_as_text():
    _, _, blocks = _render("kudos with a javascript: ticket link")
    text = blocks[0]["text"]["text"]
    assert "javascript" not in json.dumps(blocks)
    assert "#7" in text


def test_a_digest_of_one_ticket_twice_keeps_one_working_block():
    _, _, blocks = _render("a nudge digest of one ticket twenty times")
    ids = [b["block_id"] for b in blocks if b["type"] == "actions"]
    assert ids[0] == "nudge:7"
    assert NUDGE_BLOCK.match(ids[0])
    assert all(not NUDGE_BLOCK.match(i) for i in ids[1:])  # never a second "nudge:7"
    listened = {"nudge_type", "nudge_subtype", "nudge_item", "nudge_company"}
    listened |= {"nudge_agreement", "nudge_save", "nudge_dismiss"}
    first = next(b for b in blocks if b.get("block_id") == "nudge:7")
    assert {e["action_id"] for e in first["elements"]} <= listened
    assert {"nudge_save", "nudge_dismiss"} <= {e["action_id"] for e in first["elements"]}


def test_a_cut_paragraph_that_starts_with_a_blank_line_keeps_words_not_an_empty_section():
    """Found by test_blocks_properties: the cut kept only the paragraph's blank first line,
    an empty section text that Slack refuses."""
    items = ListBlock(((Span(""), Span("&" * 700)),), False)
    paragraph = Paragraph(
        ((Span(""), Span(""), Span('"' * 3000)), (Span(""), Span("\n"), Span("&" * 1000)))
    )
    text, blocks = to_slack(Message("", (items, paragraph)))
    assert_valid_payload(text, blocks)
    assert any('"' * 20 in b.get("text", {}).get("text", "") for b in blocks)
