"""What every payload bound for Slack must be, checked on the rendered ``text`` and ``blocks``.

Two judges: slack_sdk's own Block Kit models (``Block.parse`` then ``validate_json`` on every
object in the tree, and the model's ``to_dict`` giving the block back unchanged, so nothing is
an unknown or misplaced field), and the rules slack_sdk does not check: Slack's minimum
lengths, unique ids, http(s) URLs, mrkdwn in which only our own links and mentions are markup,
and the size of the whole message (see the limits in bot/slack/blocks.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_TOTAL = 12_000  # characters of the blocks' JSON
MAX_FALLBACK = 3000
TEXT_LIMITS = {"section": 3000, "header": 150, "context": 3000}

# What may stand between < and > in our mrkdwn: a user mention, or an http(s) link whose URL
# holds no character that would end or split it.
ALLOWED_MARKUP = re.compile(r"<@[A-Z0-9]+>|<https?://[^\s<>|]+\|[^<>]+>")
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
WEB_URL = re.compile(r"^https?://[^\s<>|\"]+$")


def _validate_tree(node: Any) -> None:
    if isinstance(node, JsonObject):
        node.validate_json()
        for name in node.attributes:
            _validate_tree(getattr(node, name, None))
    elif isinstance(node, list | tuple):
        for item in node:
            _validate_tree(item)


def mrkdwn_problems(text: str) -> list[str]:
    problems = []
    bare = ALLOWED_MARKUP.sub("", text)
    if "<" in bare or ">" in bare:
        problems.append(f"raw < or > outside our links and mentions: {text[:120]!r}")
    if ENTITY.search(text):
        problems.append(f"a bare & (or a broken escape): {text[:120]!r}")
    return problems


def _texts(node: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
    """Every text object in ``node``, with where it is."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
            found.append((path, node))
        for key, value in node.items():
            found.extend(_texts(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_texts(value, f"{path}[{i}]"))
    return found


def _urls(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [str(v) for k, v in node.items() if k in ("url", "image_url")]
        return own + [u for v in node.values() for u in _urls(v)]
    if isinstance(node, list):
        return [u for v in node for u in _urls(v)]
    return []


def payload_problems(text: str, blocks: list[dict[str, Any]]) -> list[str]:
    """Everything wrong with a ``chat.postMessage`` payload; empty when Slack takes it."""
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks")
    size = len(json.dumps(blocks, ensure_ascii=False))
    if size > MAX_TOTAL:
        problems.append(f"{size} characters of blocks")
    if not text.strip() or len(text) > MAX_FALLBACK:
        problems.append(f"fallback text of {len(text)} characters")
    problems.extend(mrkdwn_problems(text))
    block_ids: list[str] = []
    for i, block in enumerate(blocks):
        where = f"blocks[{i}] ({block.get('type')})"
        try:
            parsed = Block.parse(block)
            if parsed is None or type(parsed) is Block:
                problems.append(f"{where}: not a block type slack_sdk knows")
                continue
            _validate_tree(parsed)
            if parsed.to_dict() != block:
                problems.append(f"{where}: slack_sdk reads it differently: {parsed.to_dict()}")
        except Exception as exc:  # SlackObjectFormationError, or a model refusing a field
            problems.append(f"{where}: slack_sdk: {exc}")
        if "block_id" in block:
            block_ids.append(block["block_id"])
            if not 1 <= len(block["block_id"]) <= 255:
                problems.append(f"{where}: block_id of {len(block['block_id'])} characters")
        if block["type"] == "section" and "text" not in block:
            problems.append(f"{where}: a section without text")
        if block["type"] == "context" and not 1 <= len(block["elements"]) <= 10:
            problems.append(f"{where}: {len(block['elements'])} context elements")
        if block["type"] == "actions":
            action_ids = [e.get("action_id") for e in block["elements"]]
            if not 1 <= len(action_ids) <= 25:
                problems.append(f"{where}: {len(action_ids)} elements")
            if len(set(action_ids)) != len(action_ids):
                problems.append(f"{where}: repeated action_ids {action_ids}")
            if any(not a or len(a) > 255 for a in action_ids):
                problems.append(f"{where}: an empty or too long action_id")
            for element in block["elements"]:
                if element["type"] == "static_select" and not 1 <= len(element["options"]) <= 100:
                    problems.append(f"{where}: {len(element['options'])} options")
        limit = TEXT_LIMITS.get(block["type"], 3000)
        for path, node in _texts(block, where):
            value = node["text"]
            if not value.strip():
                problems.append(f"{path}: empty text")
            if len(value) > limit:
                problems.append(f"{path}: {len(value)} characters")
            if node["type"] == "mrkdwn":
                problems.extend(f"{path}: {p}" for p in mrkdwn_problems(value))
        for url in _urls(block):
            if not WEB_URL.match(url) or len(url) > 3000:
                problems.append(f"{where}: URL {url[:80]!r} ({len(url)} characters)")
    if len(set(block_ids)) != len(block_ids):
        problems.append(f"repeated block_ids: {block_ids}")
    return problems


def assert_valid_payload(text: str, blocks: list[dict[str, Any]]) -> None:
    problems = payload_problems(text, blocks)
    assert not problems, "\n".join(problems[:20])
