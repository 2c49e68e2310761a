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
  official 1.5 schema (the tests check every card against it: ``tests/teams/schema.py``);
  1.6 additions (a ChoiceSet's ``filtered`` style, ``Data.Query``) are never used.

Untrusted text is escaped for Adaptive Card markdown (``bot.teams.card_text``); cards are
checked before sending by ``bot.teams.card_validation.validate_card``.

Size: the serialized card (compact JSON, UTF-8, as httpx and the Teams SDK send it) stays
within ``limit``: first the image goes, then choices beyond the first ``MIN_CHOICES`` of each
select, then list and paragraph lines from the end, then the remaining choices (the current
one always stays), then context lines; every cut says "…and N more". Headers, ActionSets
with their inputs, and the paragraph right above them (a nudge's ticket) are never dropped.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from bot.chat.message import (
    Actions,
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
)
from bot.teams.card_text import (
    Mentions,
    cut,
    escape,
    flat,
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
MAX_CHOICE_TITLE = 150
MAX_LABEL = 100
MAX_BUTTON_TITLE = 80
MAX_ALT_TEXT = 300
MIN_CHOICES = 5  # choices per select kept before any text is cut (the rest can be searched)
SEARCH_FROM = 20  # a select with more choices than this comes with a search box
SEARCH_VERB = "choices_search"  # the search button's verb
SEARCH_SUFFIX = "|search"  # the search box's id: the ChoiceSet's id and this
MAX_SEARCH = 100  # characters a search box takes

# ---- the parts of a card --------------------------------------------------------------------


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _note(text: str) -> dict[str, Any]:
    return _text_block(text, isSubtle=True)


def _separated(element: dict[str, Any], separator: bool) -> dict[str, Any]:
    if separator:
        element = {**element, "separator": True, "spacing": "Medium"}
    return element


@dataclass
class _Text:
    """Lines of text (a header, a paragraph, a list, context lines or a "more" note): one
    TextBlock per line, several in a Container. Lines can be cut from the end."""

    kind: str  # "header" | "text" | "context" | "more"
    lines: list[dict[str, Any]]
    separator: bool = False
    _sizes: list[int] = field(init=False, default_factory=list)
    _size: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._sizes = [card_size(line) for line in self.lines]

    def element(self) -> dict[str, Any]:
        if len(self.lines) == 1:
            return _separated(self.lines[0], self.separator)
        return _separated({"type": "Container", "items": self.lines}, self.separator)

    def size(self) -> int:
        if self._size is None:
            if len(self.lines) == 1:
                self._size = card_size(self.element())
            else:
                empty = _separated({"type": "Container", "items": []}, self.separator)
                commas = max(0, len(self.lines) - 1)
                self._size = card_size(empty) + sum(self._sizes) + commas
        return self._size

    def pop(self) -> None:
        self.lines.pop()
        self._sizes.pop()
        self._size = None

    def mark_separator(self) -> None:
        self.separator = True
        self._size = None


@dataclass
class _Picture:
    image: dict[str, Any]
    separator: bool = False
    kind: str = "image"

    def element(self) -> dict[str, Any]:
        return _separated(self.image, self.separator)

    def size(self) -> int:
        return card_size(self.element())

    def mark_separator(self) -> None:
        self.separator = True


@dataclass
class _Choices:
    """One select as an Input.ChoiceSet; ``current`` is the index of the chosen option. With
    more than ``SEARCH_FROM`` options, or some cut for size, it comes with a search box and
    button (schema 1.5 has no filtering as the user types); with none, it is a line saying
    why (its label)."""

    head: dict[str, Any]  # type, id, label, placeholder
    choices: list[dict[str, str]]
    current: int | None
    action: str
    block_id: str | None

    def element(self, keep: int | None) -> tuple[dict[str, Any], int]:
        """The ChoiceSet with at most ``keep`` choices (and the current one), and how many
        choices it leaves out."""
        shown = self.choices
        if keep is not None and len(self.choices) > keep:
            shown = self.choices[:keep]
            if self.current is not None and self.current >= keep:
                shown = [*shown, self.choices[self.current]]
        element = dict(self.head)
        if self.current is not None:
            element["value"] = self.choices[self.current]["value"]
        element["choices"] = shown
        return element, len(self.choices) - len(shown)

    def elements(self, keep: int | None) -> list[dict[str, Any]]:
        if not self.choices:
            return [_note(self.head["label"])]
        element, hidden = self.element(keep)
        items = [element]
        if hidden:
            items.append(_note(f"…and {hidden} more options"))
        if hidden or len(self.choices) > SEARCH_FROM:
            items += self.search()
        return items

    def search(self) -> list[dict[str, Any]]:
        """A search box and its button: ``SEARCH_VERB`` with the select's action and input id
        (the box is ``INPUT|search``); the answer is the card with the matches."""
        input_id = self.head["id"]
        box = {
            "type": "Input.Text",
            "id": input_id + SEARCH_SUFFIX,
            "label": "Not in the list? Search by name",
            "placeholder": cut(f"{self.head['label']}: part of the name", MAX_LABEL),
            "maxLength": MAX_SEARCH,
        }
        data = {"action": SEARCH_VERB, "block": self.block_id, "select": self.action}
        button = {
            "type": "Action.Execute",
            "title": "Search",
            "verb": SEARCH_VERB,
            "data": {**data, "input": input_id},
        }
        return [box, {"type": "ActionSet", "actions": [button]}]


@dataclass
class _Controls:
    """An Actions block: its inputs, then its buttons in an ActionSet. Never dropped; its
    choices can be cut to ``keep`` per select."""

    inputs: list[_Choices]
    buttons: dict[str, Any] | None
    separator: bool = False
    keep: int | None = None
    kind: str = "controls"
    _cache: dict[int | None, int] = field(init=False, default_factory=dict)

    def element(self) -> dict[str, Any]:
        items = [item for choices in self.inputs for item in choices.elements(self.keep)]
        if self.buttons is not None:
            items.append(self.buttons)
        if not self.inputs and self.buttons is not None:
            return _separated(self.buttons, self.separator)
        return _separated({"type": "Container", "items": items}, self.separator)

    def size(self) -> int:
        if self.keep not in self._cache:
            self._cache[self.keep] = card_size(self.element())
        return self._cache[self.keep]

    def most_choices(self) -> int:
        return max((len(c.choices) for c in self.inputs), default=0)

    def mark_separator(self) -> None:
        self.separator = True
        self._cache.clear()


_Part = _Text | _Picture | _Controls

# ---- blocks → parts -------------------------------------------------------------------------


def _data_url(image: bytes) -> str | None:
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    elif image.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    elif image.startswith((b"GIF87a", b"GIF89a")):
        mime = "image/gif"
    else:
        return None
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


def _picture(url: str, alt: str) -> _Picture:
    return _Picture({"type": "Image", "url": url, "altText": cut(alt or "image", MAX_ALT_TEXT)})


_IMAGE_URL = re.compile(r"https://\S+")


def _image_part(block: Image, image: bytes | None) -> _Picture | None:
    if block.src.startswith("attachment:"):
        url = _data_url(image) if image else None
        return _picture(url, block.alt) if url else None
    return _picture(block.src, block.alt) if _IMAGE_URL.fullmatch(block.src) else None


def _unique(candidate: str, used: set[str]) -> str:
    """Input ids must be unique in a card: a repeated one gets ``#2``, ``#3``..."""
    unique, number = candidate, 2
    while unique in used:
        unique, number = f"{candidate}#{number}", number + 1
    used.add(unique)
    return unique


def _select(select: Select, input_id: str, block_id: str | None) -> _Choices:
    choices = [
        {"title": cut(flat(o.text).strip() or o.value or "—", MAX_CHOICE_TITLE), "value": o.value}
        for o in select.options
    ]
    current = next(
        (i for i, o in enumerate(select.options) if select.initial and o.value == select.initial),
        None,
    )
    label = cut(flat(select.placeholder).strip() or "Choose", MAX_LABEL)
    head = {"type": "Input.ChoiceSet", "id": input_id, "label": label, "placeholder": label}
    return _Choices(head, choices, current, select.action, block_id)


_BUTTON_STYLES = {"primary": "positive", "danger": "destructive"}


def _button(button: Button, block_id: str | None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": cut(flat(button.text).strip() or button.action, MAX_BUTTON_TITLE),
        "verb": button.action,
        "data": {"action": button.action, "value": button.value, "block": block_id},
    }
    if button.style in _BUTTON_STYLES:
        action["style"] = _BUTTON_STYLES[button.style]
    return action


def _controls(block: Actions, used_ids: set[str]) -> _Controls | None:
    prefix = f"{block.block_id}|" if block.block_id else ""
    inputs = [
        _select(e, _unique(prefix + e.action, used_ids), block.block_id)
        for e in block.elements
        if isinstance(e, Select)
    ]
    buttons = [_button(e, block.block_id) for e in block.elements if isinstance(e, Button)]
    if not inputs and not buttons:
        return None
    action_set = {"type": "ActionSet", "actions": buttons} if buttons else None
    return _Controls(inputs, action_set)


def _lines(lines: tuple[Line, ...], mentions: Mentions, **style: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for line in lines:
        text = markdown(line, mentions)
        if text:
            blocks.append(_text_block(text, **style, **({"spacing": "None"} if blocks else {})))
    return blocks


def _list_lines(block: ListBlock, mentions: Mentions) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for number, item in enumerate(block.items, start=1):
        bullet = f"{number}\\. " if block.ordered else "- "
        text = markdown(item, mentions)
        if not text:
            continue
        items.append(_text_block(bullet + text, **({"spacing": "None"} if items else {})))
    return items


def _part(block: Any, image: bytes | None, mentions: Mentions, used: set[str]) -> _Part | None:
    match block:
        case Header(text=text):
            title = escape(cut(" ".join(text.split()), MAX_HEADER))
            if not title:
                return None
            heading = _text_block(title, size="Large", weight="Bolder", style="heading")
            return _Text("header", [heading])
        case Paragraph(lines=lines):
            blocks = _lines(lines, mentions)
            return _Text("text", blocks) if blocks else None
        case ListBlock():
            items = _list_lines(block, mentions)
            return _Text("text", items) if items else None
        case Context(lines=lines):
            blocks = _lines(lines, mentions, isSubtle=True, size="Small")
            return _Text("context", blocks) if blocks else None
        case Image():
            return _image_part(block, image)
        case Actions():
            return _controls(block, used)
    raise TypeError(f"not a block: {block!r}")


def _parts(message: Message, image: bytes | None, mentions: Mentions) -> list[_Part]:
    parts: list[_Part] = []
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
    url = _data_url(image) if image and not placed else None
    if url:
        # A chart the template did not place goes after the content, before closing context.
        at = len(parts)
        while at > 0 and parts[at - 1].kind in ("context", "controls"):
            at -= 1
        parts.insert(at, _picture(url, f"Chart: {message.text}"))
    return parts


# ---- fitting the size limit -----------------------------------------------------------------


class CardTooLarge(ValueError):
    """Even cut to its headers and controls, the card does not fit the size limit."""


class _Fitter:
    def __init__(self, parts: list[_Part], frame: int, limit: int) -> None:
        self.parts = parts
        self.frame = frame
        self.limit = limit

    def total(self) -> int:
        return self.frame + sum(p.size() for p in self.parts) + max(0, len(self.parts) - 1)

    def fits(self) -> bool:
        return self.total() <= self.limit

    def fit(self) -> None:
        steps = (
            self.drop_pictures,
            lambda: self.cut_choices(MIN_CHOICES),
            lambda: self.cut_lines("text"),
            lambda: self.cut_choices(0),
            lambda: self.cut_lines("context"),
        )
        for step in steps:
            if self.fits():
                return
            step()

    def drop_pictures(self) -> None:
        self.parts[:] = [p for p in self.parts if not isinstance(p, _Picture)]

    def cut_choices(self, floor: int) -> None:
        """Keep the most choices per select (the same number for each) that fit, but not
        fewer than ``floor``; the current choice always stays."""
        controls = [p for p in self.parts if isinstance(p, _Controls)]
        most = max((c.most_choices() for c in controls), default=0)
        if most <= floor:
            return

        def keep(count: int) -> bool:
            for part in controls:
                part.keep = None if count >= most else count
            return self.fits()

        if not keep(floor):
            return  # cut to the floor; the next steps cut text
        low, high = floor, most
        while low < high:
            middle = (low + high + 1) // 2
            if keep(middle):
                low = middle
            else:
                high = middle - 1
        keep(low)

    def labels(self, index: int) -> bool:
        """Whether part ``index`` is the text right above an Actions block's controls (a
        nudge's ticket): it says what they change, so it stays."""
        following = self.parts[index + 1] if index + 1 < len(self.parts) else None
        return isinstance(following, _Controls)

    def cut_lines(self, kind: str) -> None:
        """Drop lines of ``kind`` parts from the end until the card fits with a note
        "…and N more" where the cut began."""
        note_room = card_size(_note("…and 1000000 more")) + 1
        dropped = 0
        note_at = len(self.parts)
        index = len(self.parts) - 1
        while index >= 0 and self.total() + note_room > self.limit:
            part = self.parts[index]
            if not (isinstance(part, _Text) and part.kind == kind) or self.labels(index):
                index -= 1
                continue
            part.pop()
            dropped += 1
            note_at = index + 1
            if not part.lines:
                del self.parts[index]
                note_at = index
                index -= 1
        if dropped:
            self.parts.insert(note_at, _Text("more", [_note(f"…and {dropped} more")]))


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
    _Fitter(parts, card_size(card), limit).fit()
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
