"""``bot.chat.Message`` → Slack Block Kit, with mrkdwn escaping and Slack's limits.

Every text node is escaped for mrkdwn (``&``, ``<``, ``>``), so a ticket summary such as
``<!channel> hi`` shows literally and pings nobody. Limits (Slack's documented ones) hold for
any data size: at most 50 blocks, section text 3000 characters, header 150, context 10
elements, actions 25 elements, static_select 100 options (text 75, value 150), ids 255, and
about 12,000 characters of blocks in all. What does not fit is cut, saying "and N more".
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.chat import (
    Actions,
    Block,
    Button,
    Context,
    Divider,
    Header,
    Image,
    Line,
    ListBlock,
    Message,
    Paragraph,
    Select,
    Span,
)

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_BUTTON_TEXT = 75
MAX_ID = 255
MAX_TOTAL = 12_000
MAX_FALLBACK = 3000


def escape(text: str) -> str:
    """mrkdwn escaping of untrusted text: Slack's three control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- mentions: a template links a person's name to ``mention:USER_ID`` -----------------------

MENTION_PREFIX = "mention:"


def mention_user(link: str | None) -> str | None:
    """The Slack user id of a ``mention:ID`` link, reduced to ``[A-Z0-9]`` so that no data can
    smuggle mrkdwn into ``<@ID>``; None for any other link or an id with nothing left."""
    if link is None or not link.startswith(MENTION_PREFIX):
        return None
    user = re.sub(r"[^A-Z0-9]", "", link[len(MENTION_PREFIX) :])
    return user or None


def _span(span: Span) -> str:
    text = escape(span.text)
    stripped = text.strip()
    if not stripped:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    user = mention_user(span.link)
    body = f"<@{user}>" if user else stripped
    if span.code and not user:
        body = f"`{body}`"
    if span.bold:
        body = f"*{body}*"
    if span.italic:
        body = f"_{body}_"
    if span.link and not span.link.startswith(MENTION_PREFIX):
        url = (
            span.link.replace("&", "&amp;")
            .replace(">", "%3E")
            .replace("|", "%7C")
            .replace(" ", "%20")
        )
        body = f"<{url}|{body}>"
    return lead + body + trail


def mrkdwn(line: Line) -> str:
    return "".join(_span(s) for s in line)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION)}}


def _list_sections(block: ListBlock) -> list[dict[str, Any]]:
    """One section per 3000 characters of list lines; a single huge line is cut."""
    sections: list[dict[str, Any]] = []
    current: list[str] = []
    size = 0
    for i, item in enumerate(block.items, start=1):
        bullet = f"{i}. " if block.ordered else "• "
        line = cut(bullet + mrkdwn(item), MAX_SECTION)
        if current and size + len(line) + 1 > MAX_SECTION:
            sections.append(_section("\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        sections.append(_section("\n".join(current)))
    return sections


def _option(option_text: str, value: str) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": cut(option_text, MAX_OPTION_TEXT) or " "},
        "value": value[:MAX_OPTION_VALUE],
    }


def _element(element: Button | Select) -> dict[str, Any]:
    if isinstance(element, Button):
        button: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": cut(element.text, MAX_BUTTON_TEXT)},
            "action_id": element.action[:MAX_ID],
            "value": element.value[:2000],
        }
        if element.style:
            button["style"] = element.style
        return button
    placeholder = {"type": "plain_text", "text": cut(element.placeholder, 150)}
    if element.external or len(element.options) > MAX_OPTIONS:
        select: dict[str, Any] = {
            "type": "external_select",
            "action_id": element.action[:MAX_ID],
            "placeholder": placeholder,
            "min_query_length": 0,
        }
        chosen = [o for o in element.options if o.value == element.initial]
        if chosen:
            select["initial_option"] = _option(chosen[0].text, chosen[0].value)
        return select
    options = [_option(o.text, o.value) for o in element.options]
    select = {
        "type": "static_select",
        "action_id": element.action[:MAX_ID],
        "placeholder": placeholder,
        "options": options or [_option("(none)", "-")],
    }
    chosen = [o for o in element.options if o.value == element.initial]
    if chosen:
        select["initial_option"] = _option(chosen[0].text, chosen[0].value)
    return select


def _blocks_of(block: Block) -> list[dict[str, Any]]:
    match block:
        case Header(text=text):
            return [
                {"type": "header", "text": {"type": "plain_text", "text": cut(text, MAX_HEADER)}}
            ]
        case Paragraph(lines=lines):
            return [_section("\n".join(mrkdwn(line) for line in lines))]
        case ListBlock():
            return _list_sections(block)
        case Context(lines=lines):
            elements = [
                {"type": "mrkdwn", "text": cut(mrkdwn(line), MAX_SECTION)}
                for line in lines[:MAX_CONTEXT_ELEMENTS]
            ]
            return [{"type": "context", "elements": elements}]
        case Divider():
            return [{"type": "divider"}]
        case Image(src=src, alt=alt):
            if src.startswith("attachment:"):
                return []  # uploaded separately (files_upload_v2) by the messenger
            return [{"type": "image", "image_url": src, "alt_text": cut(alt or "image", 2000)}]
        case Actions(elements=elements, block_id=block_id):
            rendered: dict[str, Any] = {
                "type": "actions",
                "elements": [_element(e) for e in elements[:MAX_ACTION_ELEMENTS]],
            }
            if block_id:
                rendered["block_id"] = block_id[:MAX_ID]
            return [rendered]
    raise TypeError(f"not a block: {block!r}")


def _size(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def _more(count: int) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {count} more"}]}


def to_slack(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """The ``text`` fallback and the ``blocks`` of ``chat.postMessage`` for a message."""
    rendered: list[dict[str, Any]] = []
    for block in message.blocks:
        rendered.extend(_blocks_of(block))
    # Keep actions (the buttons people need) and cut content from the end of the list body.
    if len(rendered) > MAX_BLOCKS or _size(rendered) > MAX_TOTAL:
        tail = [b for b in rendered[-3:] if b["type"] in ("actions", "context")]
        body = rendered[: len(rendered) - len(tail)]
        dropped = 0
        while body and (
            len(body) + len(tail) + 1 > MAX_BLOCKS or _size(body + tail) > MAX_TOTAL - 200
        ):
            last = body[-1]
            text = last.get("text", {}).get("text") if last["type"] == "section" else None
            if text and "\n" in text and _size(body + tail) > MAX_TOTAL - 200:
                lines = text.split("\n")
                keep = max(1, len(lines) // 2)
                dropped += len(lines) - keep
                last["text"]["text"] = "\n".join(lines[:keep])
                continue
            body.pop()
            dropped += 1
        rendered = [*body, _more(dropped), *tail] if dropped else body + tail
    return escape(cut(message.text, MAX_FALLBACK)), rendered
