"""The Block Kit blocks and elements of one ``bot.chat.Message`` block, each within its limits:
sections and context blocks of mrkdwn lines, images, and actions blocks of buttons and selects
with unique ``action_id``s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.chat.message import Actions, Button, Option, Select
from bot.slack.block_limits import (
    MAX_ACTION_ELEMENTS,
    MAX_ALT_TEXT,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_ID,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    MAX_OPTIONS,
    MAX_PLACEHOLDER,
    MAX_SECTION,
    MAX_TEXT,
    PLACEHOLDER,
)
from bot.slack.mrkdwn import cut_mrkdwn, image_url, plain


def unique_id(base: str, taken: set[str], limit: int = MAX_ID) -> str:
    """``base`` cut to ``limit``, or if that is taken the first free ``base~2``, ``base~3``…;
    the result is added to ``taken``."""
    candidate = base[:limit]
    n = 1
    while candidate in taken:
        n += 1
        suffix = f"~{n}"
        candidate = base[: limit - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


# ---- text blocks ------------------------------------------------------------------------------


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(texts: Sequence[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts]}


def sections(lines: Sequence[str]) -> list[dict[str, Any]]:
    """Lines packed into sections of at most ``MAX_SECTION`` characters; a huge line is cut."""
    packed: list[dict[str, Any]] = []
    current: list[str] = []
    size = 0
    for raw in lines:
        line = cut_mrkdwn(raw, MAX_SECTION)
        if current and size + 1 + len(line) > MAX_SECTION:
            packed.append(section("\n".join(current)))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    if current:
        packed.append(section("\n".join(current)))
    return packed


def context_block(lines: Sequence[str]) -> list[dict[str, Any]]:
    if not lines:
        return []
    shown = list(lines[: MAX_CONTEXT_ELEMENTS - 1])
    rest = lines[MAX_CONTEXT_ELEMENTS - 1 :]
    if rest:  # lines past the tenth share the last element
        shown.append("\n".join(rest))
    return [context([cut_mrkdwn(text, MAX_TEXT) for text in shown])]


def image_block(src: str, alt: str) -> list[dict[str, Any]]:
    if src.startswith("attachment:"):
        return []  # uploaded separately (files_upload_v2) by the messenger
    url = image_url(src)
    if url is None:
        return []
    return [{"type": "image", "image_url": url, "alt_text": plain(alt, MAX_ALT_TEXT) or "image"}]


# ---- interactive elements ---------------------------------------------------------------------


def _option(option: Option) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": plain(option.text, MAX_OPTION_TEXT) or PLACEHOLDER},
        "value": option.value[:MAX_OPTION_VALUE],
    }


def _options(options: Sequence[Option]) -> list[dict[str, Any]]:
    """Each value once (the first option with it), none empty."""
    seen: set[str] = set()
    rendered = []
    for option in options:
        drawn = _option(option)
        if drawn["value"] and drawn["value"] not in seen:
            seen.add(drawn["value"])
            rendered.append(drawn)
    return rendered


MAX_BUTTON_URL = 3000  # Slack's limit on a button's url


def _button(element: Button, action_id: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {
            "type": "plain_text",
            "text": plain(element.text, MAX_BUTTON_TEXT) or PLACEHOLDER,
        },
        "action_id": action_id,
    }
    if element.value:
        button["value"] = element.value[:MAX_BUTTON_VALUE]
    if element.style in ("primary", "danger"):
        button["style"] = element.style
    if element.url and len(element.url) <= MAX_BUTTON_URL:
        button["url"] = element.url
    return button


def _select(element: Select, action_id: str) -> dict[str, Any]:
    placeholder = {
        "type": "plain_text",
        "text": plain(element.placeholder, MAX_PLACEHOLDER) or "Choose",
    }
    options = _options(element.options)
    initial = None
    if element.initial:
        value = element.initial[:MAX_OPTION_VALUE]
        initial = next((o for o in options if o["value"] == value), None)
    select: dict[str, Any]
    if element.external or len(options) > MAX_OPTIONS:
        select = {
            "type": "external_select",
            "action_id": action_id,
            "placeholder": placeholder,
            "min_query_length": 0,
        }
    else:
        none = {"text": {"type": "plain_text", "text": "(none)"}, "value": "-"}
        select = {
            "type": "static_select",
            "action_id": action_id,
            "placeholder": placeholder,
            "options": options or [none],
        }
    if initial is not None:
        select["initial_option"] = initial
    return select


def actions_block(block: Actions) -> list[dict[str, Any]]:
    taken: set[str] = set()
    elements = []
    for element in block.elements[:MAX_ACTION_ELEMENTS]:
        action_id = unique_id(element.action or "action", taken)
        if isinstance(element, Button):
            elements.append(_button(element, action_id))
        else:
            elements.append(_select(element, action_id))
    if not elements:
        return []
    rendered: dict[str, Any] = {"type": "actions", "elements": elements}
    if block.block_id:
        rendered["block_id"] = block.block_id  # cut and made unique by blocks.unique_block_ids
    return [rendered]
