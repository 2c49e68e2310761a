"""Properties of the Slack renderer (bot/slack/blocks.py) on any message: Slack takes every
payload (slack_sdk's models and the rules of tests/bot/slack/block_kit.py), the trailing context
or actions block survives, rendering is deterministic; and its helpers never cut inside an
escape or a link, never let a non-http(s) URL through, and never give one id twice."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.message import (
    Actions,
    Block,
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
from bot.slack.blocks import (
    cut_mrkdwn,
    escape,
    link_url,
    mrkdwn,
    to_slack,
    unique_id,
    web_url,
)
from tests.bot.slack.block_kit import assert_valid_payload, mrkdwn_problems

SETTINGS = settings(max_examples=100, deadline=None)

# ---- hostile data -------------------------------------------------------------------------------

FRAGMENTS = ["", " ", "\n", "\u200b", "<https://x.example|y>", "javascript:"]
FRAGMENTS += ["<!channel>", "<@U1>", "&", "&amp;", "<", ">", "|", "*", "_", "`", '"', "\\"]
FRAGMENTS += ["🎉", "é"]
texts = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(max_size=12),
        st.builds(
            lambda piece, n: piece * n,
            st.sampled_from(["&", "<>|", "x", "é", '"', "&lt;", "a b ", "🎉"]),
            st.sampled_from([1, 40, 700, 3100, 6000]),
        ),
    ),
    max_size=4,
).map("".join)
urls = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "javascript:alert(1)",
            "JaVaScRiPt:x",
            " https://ok.example/a",
            "https://e.example/?a=1&b=<2>|3 4\n5",
            "mailto:x@y.example",
            "http://",
            "data:text/html,x",
            "mention:U1",
            "mention:<!channel>",
            "https://[::1",
            "//evil.example",
            "attachment:chart.png",
        ]
    ),
    st.builds(lambda n: "https://e.example/" + "a&" * n, st.sampled_from([5, 1000, 1600, 2500])),
    texts,
)
spans = st.builds(Span, texts, st.booleans(), st.booleans(), st.booleans(), urls)
lines = st.lists(spans, max_size=4).map(tuple)
ids = st.one_of(
    st.sampled_from(["", "nudge:1", "nudge_save", "x" * 300, "x" * 300 + "y", "x" * 253 + "~2"]),
    texts,
)
options = st.builds(
    lambda text, value, n: tuple(Option(text + str(i % 7), value + str(i % 9)) for i in range(n)),
    texts,
    ids,
    st.sampled_from([0, 1, 3, 100, 101, 250]),
)
buttons = st.builds(Button, texts, ids, texts, st.sampled_from([None, "primary", "danger"]))
selects = st.builds(Select, ids, texts, options, st.one_of(st.none(), ids), st.booleans())
elements = st.builds(
    lambda few, n: tuple(few) * n,
    st.lists(st.one_of(buttons, selects), max_size=3),
    st.sampled_from([1, 2, 10]),
)
one_block: st.SearchStrategy[Block] = st.one_of(
    st.builds(Header, texts),
    st.builds(Paragraph, st.lists(lines, max_size=4).map(tuple)),
    st.builds(
        lambda items, n, ordered: ListBlock(tuple(items) * n, ordered),
        st.lists(lines, min_size=1, max_size=3),
        st.sampled_from([1, 30, 200]),
        st.booleans(),
    ),
    st.builds(Context, st.lists(lines, max_size=12).map(tuple)),
    st.just(Divider()),
    st.builds(Image, urls.map(lambda u: u or ""), texts),
    st.builds(Actions, elements, st.one_of(st.none(), ids)),
)
messages = st.builds(
    lambda text, few, n: Message(text, tuple(few) * n),
    texts,
    st.lists(one_block, max_size=8),
    st.sampled_from([1, 1, 2, 9]),
)


def _shows(block: Block) -> bool:
    """Whether ``block`` alone renders to anything."""
    return bool(to_slack(Message("t", (block,)))[1])


# ---- the payload --------------------------------------------------------------------------------


@SETTINGS
@given(messages)
def test_slack_takes_every_payload(message: Message):
    text, blocks = to_slack(message)
    assert_valid_payload(text, blocks)
    assert to_slack(message) == (text, blocks)


@SETTINGS
@given(
    messages,
    st.one_of(
        st.builds(Context, st.lists(lines, min_size=1, max_size=12).map(tuple)),
        st.builds(Actions, elements, st.one_of(st.none(), ids)),
    ),
)
def test_the_last_context_or_actions_block_survives(message: Message, last: Context | Actions):
    message = Message(message.text, (*message.blocks, last))
    _, blocks = to_slack(message)
    if _shows(last):
        assert blocks[-1]["type"] == ("context" if isinstance(last, Context) else "actions")
        if isinstance(last, Actions):
            alone = to_slack(Message("t", (last,)))[1][0]
            assert blocks[-1]["elements"][0]["action_id"] == alone["elements"][0]["action_id"]


@SETTINGS
@given(messages)
def test_nothing_pings_and_only_http_links_are_links(message: Message):
    _, blocks = to_slack(message)
    for block in blocks:
        for text in _mrkdwn_texts(block):
            for markup in re.findall(r"<[^<>]*>", text):
                assert re.fullmatch(r"<@[A-Z0-9]+>|<https?://[^\s<>|]+\|[^<>]+>", markup)


def _mrkdwn_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for v in node.values() for t in _mrkdwn_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _mrkdwn_texts(v)]
    return []


# ---- the helpers --------------------------------------------------------------------------------


@SETTINGS
@given(lines, st.integers(1, 400))
def test_a_cut_is_a_prefix_within_the_limit_and_never_splits_an_escape_or_link(
    line: tuple[Span, ...], limit: int
):
    text = mrkdwn(line)
    cut = cut_mrkdwn(text, limit)
    assert len(cut) <= limit
    if cut == text:
        return
    assert cut.endswith("…")
    assert text.startswith(cut[:-1].rstrip())
    assert not mrkdwn_problems(cut)


def test_a_cut_stops_before_an_escape_or_a_link_it_would_split():
    assert cut_mrkdwn("ab&amp;cd", 5) == "ab…"
    assert cut_mrkdwn("ab&amp;cd", 8) == "ab&amp;…"
    assert cut_mrkdwn("x <https://e.example|#7> y", 10) == "x…"
    assert cut_mrkdwn("x <@U123> y", 8) == "x…"
    assert cut_mrkdwn("short", 5) == "short"
    assert cut_mrkdwn(escape("<" * 10), 12) == "&lt;&lt;…"


@given(st.text(max_size=60))
def test_web_urls_are_http_and_one_token(url: str):
    found = web_url(url)
    if found is not None:
        assert re.match(r"(?i)https?://[^/?#\s]", found)
        assert not re.search(r"[\s<>|\"]", found)


def test_web_url_takes_http_and_nothing_else():
    assert web_url("https://cw.example/a?b=1&c=2") == "https://cw.example/a?b=1&c=2"
    assert web_url(" HTTP://cw.example/a b") == "HTTP://cw.example/a%20b"
    assert web_url("https://e.example/<x>|y") == "https://e.example/%3Cx%3E%7Cy"
    assert web_url("https://e.example/50%25") == "https://e.example/50%25"
    for evil in (
        "javascript:alert(1)",
        "JAVASCRIPT:x",
        "java\nscript:x",
        "data:x",
        "ftp://x",
        "mailto:a@b",
        "http://",
        "https:///path",
        "//host/x",
        "https://[::1",
        "",
    ):
        assert web_url(evil) is None, evil
    assert link_url("https://e.example/?a=1&b=2") == "https://e.example/?a=1&amp;b=2"
    assert link_url("https://e.example/" + "&" * 500) is None  # 2,500 once escaped


@given(st.lists(st.sampled_from(["", "a", "a" * 254, "a" * 255, "a" * 256, "a" * 253 + "~2"])))
def test_unique_ids_are_unique_short_and_keep_the_first(bases: list[str]):
    taken: set[str] = set()
    given_ = [unique_id(base, taken) for base in bases]
    assert len(set(given_)) == len(given_)
    assert all(len(i) <= 255 for i in given_)
    if bases:
        assert given_[0] == bases[0][:255]
    again: set[str] = set()
    assert given_ == [unique_id(base, again) for base in bases]  # deterministic
