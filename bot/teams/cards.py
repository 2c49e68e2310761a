"""``bot.chat.Message`` → an Adaptive Card (schema 1.5) for Teams, with escaping and limits.

The card is a plain dict, ready for a bot message (``message_activity``) or a Workflows
webhook (``workflow_payload``); ``validate_card`` checks it against schema 1.5 and the Teams
SDK's own models. What the blocks become:

- Header: a large bold TextBlock; Paragraph, ListBlock, Context: one TextBlock per line or
  item (several lines: a Container of them), so that long lists can be cut line by line and
  lines never depend on how a client treats ``\\n`` in markdown. Ordered items start with a
  literal ``N.`` (escaped: a one-item markdown list would restart its numbering at 1),
  unordered items with a markdown bullet ``- ``. Context lines are small and subtle.
- Divider: a separator line above the next element (an empty Container may not render).
- Image: ``attachment:NAME`` shows ``image`` (the chart) as a ``data:`` URL, or is dropped;
  an ``image`` the message has no place for goes before its closing context lines. Other
  sources are kept only when they are https URLs.
- Actions: each Select becomes an ``Input.ChoiceSet`` whose id is ``BLOCK|ACTION`` (so the
  selects of several tickets coexist), each Button an ``Action.Execute`` (``verb`` = action,
  ``data`` = action, value and block id) in an ActionSet after the inputs. Schema 1.5 cannot
  load options on demand (``Data.Query`` is 1.6), so every select shows the options its
  message carries (a select loading its options on demand in Slack carries them too); one
  with nothing to offer yet is a line with its placeholder, which says why ("pick a type
  first"). A select of more than ``SEARCH_FROM`` options (a filtering dropdown is 1.6 too)
  comes with a search box (``Input.Text`` ``BLOCK|ACTION|search``) and a Search button
  (``Action.Execute``, verb ``SEARCH_VERB``, data: block, select action and input id), and
  so does one whose options were cut to fit; the answer to it is the card with what matches
  (``bot.teams.listeners.nudges``).
- Mentions: ``<at>name</at>`` in a TextBlock, with the mention entity (the Teams user id and
  name) in the card's ``msteams.entities``: how Teams expresses a mention in an Adaptive Card
  ("Mention support within Adaptive Cards", Teams platform docs). The 1.5 schema does not
  declare ``msteams`` (its AdaptiveCard allows no other properties), but without it Teams
  shows no mention; it is the one property outside the schema Deskboard sends, only when a
  shown TextBlock mentions someone, and only ``entities`` in it. Everything else keeps to the
  official 1.5 schema (the tests check every card against it: ``tests/bot/teams/schema.py``);
  1.6 additions (a ChoiceSet's ``filtered`` style, ``Data.Query``) are never used.

Untrusted text is escaped for Adaptive Card markdown (``bot.teams.card_text``); cards are
checked before sending by ``bot.teams.card_validation.validate_card``.

Size: the serialized card (compact JSON, UTF-8, as httpx and the Teams SDK send it) stays
within ``limit``: first the image goes, then choices beyond the first ``MIN_CHOICES`` of each
select, then list and paragraph lines from the end, then the remaining choices (the current
one always stays), then context lines; every cut says "…and N more". Headers, ActionSets
with their inputs, and the paragraph right above them (a nudge's ticket) are never dropped.

This module renders a message and wraps a card in its envelopes; the text and image parts are
in ``bot.teams.card_elements``, the inputs and buttons of an Actions block in
``bot.teams.card_inputs``, and fitting the size limit in ``bot.teams.card_fit``.
"""

from __future__ import annotations

from typing import Any

from bot.chat.message import (
    Actions,
    Context,
    Divider,
    Header,
    Image,
    ListBlock,
    Message,
    Paragraph,
)
from bot.teams.card_elements import (
    TextPart,
    data_url,
    image_part,
    list_lines,
    picture,
    text_block,
    text_lines,
)
from bot.teams.card_fit import CardTooLarge, Fitter, Part
from bot.teams.card_inputs import SEARCH_SUFFIX, SEARCH_VERB, controls
from bot.teams.card_text import (
    Mentions,
    cut,
    escape,
    link_url,
    markdown,
    mention_name,
    mention_user,
)
from bot.teams.card_validation import card_size, encode_card, validate_card

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
BOT_LIMIT = 38_000  # bytes of card JSON in a bot message (Teams refuses about 40 KB)
WORKFLOW_LIMIT = 26_000  # bytes of card JSON for a Workflows webhook (about 28 KB max)

MAX_HEADER = 200

# ---- blocks → parts -------------------------------------------------------------------------


def _part(block: Any, image: bytes | None, mentions: Mentions, used: set[str]) -> Part | None:
    match block:
        case Header(text=text):
            title = escape(cut(" ".join(text.split()), MAX_HEADER))
            if not title:
                return None
            heading = text_block(title, size="Large", weight="Bolder", style="heading")
            return TextPart("header", [heading])
        case Paragraph(lines=lines):
            blocks = text_lines(lines, mentions)
            return TextPart("text", blocks) if blocks else None
        case ListBlock():
            items = list_lines(block, mentions)
            return TextPart("text", items) if items else None
        case Context(lines=lines):
            blocks = text_lines(lines, mentions, isSubtle=True, size="Small")
            return TextPart("context", blocks) if blocks else None
        case Image():
            return image_part(block, image)
        case Actions():
            return controls(block, used)
    raise TypeError(f"not a block: {block!r}")


def _parts(message: Message, image: bytes | None, mentions: Mentions) -> list[Part]:
    parts: list[Part] = []
    used_ids: set[str] = set()
    separator = False
    placed = False
    for block in message.blocks:
        if isinstance(block, Divider):
            separator = bool(parts)
            continue
        part = _part(block, image, mentions, used_ids)
        if part is None:
            continue
        if separator:
            part.mark_separator()
            separator = False
        placed = placed or (isinstance(block, Image) and block.src.startswith("attachment:"))
        parts.append(part)
    url = data_url(image) if image and not placed else None
    if url:
        # A chart the template did not place goes after the content, before closing context.
        at = len(parts)
        while at > 0 and parts[at - 1].kind in ("context", "controls"):
            at -= 1
        parts.insert(at, picture(url, f"Chart: {message.text}"))
    return parts


# ---- the card -------------------------------------------------------------------------------


def _mentioned_texts(element: Any) -> list[str]:
    """Every TextBlock text in an element tree."""
    if isinstance(element, list):
        return [t for item in element for t in _mentioned_texts(item)]
    if not isinstance(element, dict):
        return []
    texts = [element["text"]] if element.get("type") == "TextBlock" else []
    for key in ("body", "items", "columns"):
        texts += _mentioned_texts(element.get(key, []))
    return texts


def to_adaptive_card(
    message: Message, *, limit: int = BOT_LIMIT, image: bytes | None = None
) -> dict[str, Any]:
    """The Adaptive Card for ``message``, at most ``limit`` bytes of JSON; ``image`` (PNG,
    JPEG or GIF bytes) is shown where the message has an ``attachment:`` image, or before its
    closing context lines. Raises ``CardTooLarge`` if even its headers and controls exceed
    ``limit``."""
    mentions = Mentions()
    parts = _parts(message, image, mentions)
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION}
    card["body"] = []
    if mentions.entities:  # counted in full while fitting; only the shown ones stay
        card["msteams"] = {"entities": list(mentions.entities.values())}
    Fitter(parts, card_size(card), limit).fit()
    card["body"] = [part.element() for part in parts]
    if mentions.entities:
        texts = _mentioned_texts(card["body"])
        shown = [e for e in mentions.entities.values() if any(e["text"] in t for t in texts)]
        if shown:
            card["msteams"] = {"entities": shown}
        else:
            del card["msteams"]
    size = card_size(card)
    if size > limit:
        raise CardTooLarge(f"the card takes {size} bytes even when cut; the limit is {limit}")
    return card


# ---- envelopes ------------------------------------------------------------------------------


def message_activity(card: dict[str, Any], *, summary: str | None = None) -> dict[str, Any]:
    """A bot message activity carrying ``card``; ``summary`` is the notification text."""
    activity: dict[str, Any] = {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }
    if summary:
        activity["summary"] = cut(" ".join(summary.split()), 300)
    return activity


def workflow_payload(card: dict[str, Any]) -> dict[str, Any]:
    """The body a Workflows "When a Teams webhook request is received" trigger expects."""
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


__all__ = [
    "BOT_LIMIT",
    "CARD_CONTENT_TYPE",
    "SCHEMA",
    "SEARCH_SUFFIX",
    "SEARCH_VERB",
    "VERSION",
    "WORKFLOW_LIMIT",
    "CardTooLarge",
    "card_size",
    "encode_card",
    "escape",
    "link_url",
    "markdown",
    "mention_name",
    "mention_user",
    "message_activity",
    "to_adaptive_card",
    "validate_card",
    "workflow_payload",
]
