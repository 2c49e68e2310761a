"""Fitting rendered blocks into one Slack message: at most ``MAX_BLOCKS`` blocks and
``MAX_TOTAL`` characters of JSON.

What does not fit is cut from the middle: a leading header and the trailing context and
actions blocks (the "as of" line, the buttons) stay, shrunk to a share of the budget if they
are huge (a select then loads its options on demand, then the last elements go), and the body
is kept in order until it fills the rest, followed by "…and N more" (lines or blocks left out).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.slack.block_elements import context, section
from bot.slack.block_limits import MAX_BLOCKS, MAX_TOTAL, TAIL_BLOCKS, TAIL_SHARE
from bot.slack.mrkdwn import cut_mrkdwn


def _size(block: dict[str, Any]) -> int:
    """What ``block`` adds to the JSON of the block list (its text and the ", " after it)."""
    return len(json.dumps(block, ensure_ascii=False)) + 2


def _more(count: int) -> dict[str, Any]:
    return context([f"…and {count} more"])


def _units(block: dict[str, Any]) -> int:
    """What a reader would count in ``block``: its lines, elements, or the block itself."""
    if block["type"] == "section":
        return int(block["text"]["text"].count("\n")) + 1
    if block["type"] == "context":
        return len(block["elements"])
    return 0 if block["type"] == "divider" else 1


def _total(blocks: list[dict[str, Any]]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def _most(count: int, fits: Callable[[int], bool]) -> int:
    """The largest ``k`` in ``1..count`` with ``fits(k)`` (``fits`` grows false with ``k``), or
    0 when none fits."""
    low, high = 0, count
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _cut_to(make: Callable[[str], dict[str, Any]], text: str, budget: int) -> dict[str, Any] | None:
    """``make(t)`` for the longest cut ``t`` of ``text`` whose size is within ``budget``; None
    when not even a few words fit."""
    limit = len(text)
    while limit >= 20:
        block = make(cut_mrkdwn(text, limit))
        over = _size(block) - budget
        if over <= 0:
            return block
        limit -= over
    return None


def _shrink(block: dict[str, Any], budget: int) -> dict[str, Any] | None:
    """``block`` made to take at most ``budget`` characters (fewer lines, elements, a cut
    text); None when nothing of it fits."""
    if _size(block) <= budget:
        return block
    kind = block["type"]
    if kind in ("section", "context"):
        is_section = kind == "section"
        texts = (
            block["text"]["text"].split("\n")
            if is_section
            else [element["text"] for element in block["elements"]]
        )

        def make(kept: list[str]) -> dict[str, Any]:
            return section("\n".join(kept)) if is_section else context(kept)

        keep = _most(len(texts), lambda k: _size(make(texts[:k])) <= budget)
        if keep and any(t.strip() for t in texts[:keep]):
            return make(texts[:keep])
        # the lines that fit are blank (Slack refuses an empty text): cut the first words
        first = next((t for t in texts if t.strip()), "")
        return _cut_to(lambda text: make([text]), first, budget) if first else None
    if kind == "actions":
        # selects load their options on demand (keeping the current choice), then the last
        # elements go
        elements = [_on_demand(e) for e in block["elements"]]
        keep = _most(len(elements), lambda k: _size({**block, "elements": elements[:k]}) <= budget)
        return {**block, "elements": elements[:keep]} if keep else None
    return None


def _on_demand(element: dict[str, Any]) -> dict[str, Any]:
    if element["type"] != "static_select":
        return element
    drawn = {k: v for k, v in element.items() if k != "options"}
    return {**drawn, "type": "external_select", "min_query_length": 0}


def fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most ``MAX_BLOCKS`` blocks of at most ``MAX_TOTAL`` characters, cut in the middle."""
    if len(blocks) <= MAX_BLOCKS and _total(blocks) <= MAX_TOTAL:
        return blocks
    head = blocks[:1] if blocks and blocks[0]["type"] == "header" else []
    rest = blocks[len(head) :]
    count = 0
    while count < min(TAIL_BLOCKS, len(rest)) and rest[-1 - count]["type"] in (
        "context",
        "actions",
    ):
        count += 1
    body = rest[: len(rest) - count]
    dropped = 0
    notice = _size(_more(10**9))
    # the last block first: it may take all of the share, the others what it leaves; the
    # share is TAIL_SHARE, or more when the body leaves more
    tail: list[dict[str, Any]] = []
    share = max(TAIL_SHARE, MAX_TOTAL - 2 - notice - sum(_size(b) for b in head + body))
    for block in reversed(rest[len(rest) - count :]):
        part = _shrink(block, share)
        if part is None:
            dropped += _units(block)
            continue
        tail.insert(0, part)
        share -= _size(part)
    budget = MAX_TOTAL - 2 - notice - sum(_size(b) for b in head + tail)
    slots = MAX_BLOCKS - 1 - len(head) - len(tail)
    kept: list[dict[str, Any]] = []
    for i, block in enumerate(body):
        if len(kept) < slots and _size(block) <= budget:
            kept.append(block)
            budget -= _size(block)
            continue
        part = _shrink(block, budget) if len(kept) < slots else None
        if part is not None:
            kept.append(part)
        dropped += _units(block) - (_units(part) if part is not None else 0)
        dropped += sum(_units(b) for b in body[i + 1 :])
        break
    return [*head, *kept, *([_more(dropped)] if dropped else []), *tail]
