"""An Actions block in an Adaptive Card: each Select an ``Input.ChoiceSet`` (with a search box
when it has many options or some were cut), each Button an ``Action.Execute`` in an ActionSet
after the inputs; input ids are unique in the card."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.chat.message import Actions, Button, Select
from bot.teams.card_elements import note, separated
from bot.teams.card_text import cut, flat
from bot.teams.card_validation import card_size

MAX_CHOICE_TITLE = 150
MAX_LABEL = 100
MAX_BUTTON_TITLE = 80
SEARCH_FROM = 20  # a select with more choices than this comes with a search box
SEARCH_VERB = "choices_search"  # the search button's verb
SEARCH_SUFFIX = "|search"  # the search box's id: the ChoiceSet's id and this
MAX_SEARCH = 100  # characters a search box takes


@dataclass
class Choices:
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
            return [note(self.head["label"])]
        element, hidden = self.element(keep)
        items = [element]
        if hidden:
            items.append(note(f"…and {hidden} more options"))
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
class ControlsPart:
    """An Actions block: its inputs, then its buttons in an ActionSet. Never dropped; its
    choices can be cut to ``keep`` per select."""

    inputs: list[Choices]
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
            return separated(self.buttons, self.separator)
        return separated({"type": "Container", "items": items}, self.separator)

    def size(self) -> int:
        if self.keep not in self._cache:
            self._cache[self.keep] = card_size(self.element())
        return self._cache[self.keep]

    def most_choices(self) -> int:
        return max((len(c.choices) for c in self.inputs), default=0)

    def mark_separator(self) -> None:
        self.separator = True
        self._cache.clear()


# ---- an Actions block → its controls ----------------------------------------------------------


def _unique(candidate: str, used: set[str]) -> str:
    """Input ids must be unique in a card: a repeated one gets ``#2``, ``#3``..."""
    unique, number = candidate, 2
    while unique in used:
        unique, number = f"{candidate}#{number}", number + 1
    used.add(unique)
    return unique


def _select(select: Select, input_id: str, block_id: str | None) -> Choices:
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
    return Choices(head, choices, current, select.action, block_id)


_BUTTON_STYLES = {"primary": "positive", "danger": "destructive"}


def _button(button: Button, block_id: str | None) -> dict[str, Any]:
    if button.url:
        title = cut(flat(button.text).strip() or button.action, MAX_BUTTON_TITLE)
        return {"type": "Action.OpenUrl", "title": title, "url": button.url}
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": cut(flat(button.text).strip() or button.action, MAX_BUTTON_TITLE),
        "verb": button.action,
        "data": {"action": button.action, "value": button.value, "block": block_id},
    }
    if button.style in _BUTTON_STYLES:
        action["style"] = _BUTTON_STYLES[button.style]
    return action


def controls(block: Actions, used_ids: set[str]) -> ControlsPart | None:
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
    return ControlsPart(inputs, action_set)
