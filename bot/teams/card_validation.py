"""Checking a card before it is sent: schema 1.5's element set, required properties, unique
input ids, mention entities that match the text, and the Teams SDK's own models.

A light check, without the schema file: the SDK's models know 1.6 too, so the 1.5 limits that
matter are checked here by name (the card's own properties, a ChoiceSet's style). The tests
check every card against the official 1.5 JSON schema as well (``tests/bot/teams/schema.py``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError


def encode_card(data: Any) -> bytes:
    """JSON as it goes on the wire: compact, UTF-8 (what httpx and the Teams SDK send)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def card_size(data: Any) -> int:
    return len(encode_card(data))


VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5")
CARD_PROPERTIES = frozenset(
    {
        "type",
        "version",
        "refresh",
        "authentication",
        "body",
        "actions",
        "selectAction",
        "fallbackText",
        "backgroundImage",
        "minHeight",
        "rtl",
        "speak",
        "lang",
        "verticalContentAlignment",
        "$schema",
    }
)
"""An AdaptiveCard's properties in schema 1.5 (which allows no others)."""
TEAMS_PROPERTY = "msteams"
"""Not in schema 1.5, but how Teams takes a card's mentions (``entities``, nothing else)."""
CHOICE_STYLES = ("compact", "expanded")  # "filtered" came with 1.6


def _sdk_models() -> tuple[dict[str, type[BaseModel]], dict[str, type[BaseModel]]]:
    from microsoft_teams import cards as sdk

    elements: dict[str, type[BaseModel]] = {
        "TextBlock": sdk.TextBlock,
        "Image": sdk.Image,
        "Container": sdk.Container,
        "ColumnSet": sdk.ColumnSet,
        "Column": sdk.Column,
        "FactSet": sdk.FactSet,
        "ActionSet": sdk.ActionSet,
        "Input.Text": sdk.TextInput,
        "Input.ChoiceSet": sdk.ChoiceSetInput,
        "Input.Toggle": sdk.ToggleInput,
    }
    actions: dict[str, type[BaseModel]] = {
        "Action.Execute": sdk.ExecuteAction,
        "Action.OpenUrl": sdk.OpenUrlAction,
        "Action.Submit": sdk.SubmitAction,
        "Action.ShowCard": sdk.ShowCardAction,
    }
    return elements, actions


def _properties(model: type[BaseModel]) -> set[str]:
    """The JSON property names a model of the SDK knows."""
    names = set()
    for name, info in model.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else None
        names.add(alias or info.alias or name)
    return names


def _text(data: dict[str, Any], key: str, path: str, *, empty: bool = False) -> None:
    value = data.get(key)
    if not isinstance(value, str) or (not empty and not value):
        raise ValueError(f"{path}: {key} must be a{'' if empty else ' non-empty'} string")


class _CardChecker:
    def __init__(self) -> None:
        self.elements, self.actions = _sdk_models()
        self.input_ids: set[str] = set()
        self.texts: list[str] = []

    def sdk(self, model: type[BaseModel], data: dict[str, Any], path: str, *extra: str) -> None:
        unknown = set(data) - _properties(model) - set(extra)
        if unknown:
            raise ValueError(f"{path}: unknown properties {sorted(unknown)}")
        try:
            model.model_validate(data)
        except ValidationError as exc:
            raise ValueError(f"{path}: the Teams SDK refuses it: {exc}") from exc

    def card(self, card: Any, path: str, *, top: bool) -> None:
        from microsoft_teams.cards import AdaptiveCard

        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            raise ValueError(f"{path}: not an AdaptiveCard")
        version = card.get("version")
        if (top or version is not None) and version not in VERSIONS:
            raise ValueError(f"{path}: version {version!r} is not 1.5 or earlier")
        allowed = CARD_PROPERTIES | ({TEAMS_PROPERTY} if top else set())
        unknown = set(card) - allowed
        if unknown:
            raise ValueError(f"{path}: properties not in schema 1.5: {sorted(unknown)}")
        self.sdk(AdaptiveCard, card, path, "$schema")
        for index, element in enumerate(self.listed(card, "body", path)):
            self.element(element, f"{path}.body[{index}]")
        for index, action in enumerate(self.listed(card, "actions", path)):
            self.action(action, f"{path}.actions[{index}]")

    def listed(
        self, data: dict[str, Any], key: str, path: str, *, required: bool = False
    ) -> list[Any]:
        value = data.get(key, None if required else [])
        if not isinstance(value, list):
            raise ValueError(f"{path}: {key} must be a list")
        return value

    def element(self, element: Any, path: str) -> None:
        kind = element.get("type") if isinstance(element, dict) else None
        model = self.elements.get(kind) if isinstance(kind, str) else None
        if model is None:
            raise ValueError(f"{path}: element type {kind!r} is not in schema 1.5 (or not used)")
        kind = str(kind)
        self.sdk(model, element, path)
        if kind == "TextBlock":
            _text(element, "text", path, empty=True)
            self.texts.append(element["text"])
        elif kind == "Image":
            _text(element, "url", path)
        elif kind in ("Container", "Column"):
            for index, item in enumerate(self.listed(element, "items", path)):
                self.element(item, f"{path}.items[{index}]")
        elif kind == "ColumnSet":
            for index, column in enumerate(self.listed(element, "columns", path)):
                if not isinstance(column, dict) or column.get("type", "Column") != "Column":
                    raise ValueError(f"{path}.columns[{index}]: not a Column")
                self.element({"type": "Column", **column}, f"{path}.columns[{index}]")
        elif kind == "FactSet":
            for index, fact in enumerate(self.listed(element, "facts", path, required=True)):
                _text(fact, "title", f"{path}.facts[{index}]", empty=True)
                _text(fact, "value", f"{path}.facts[{index}]", empty=True)
        elif kind == "ActionSet":
            for index, action in enumerate(self.listed(element, "actions", path, required=True)):
                self.action(action, f"{path}.actions[{index}]")
        elif kind.startswith("Input."):
            self.input(element, kind, path)
        if isinstance(element.get("selectAction"), dict):
            self.action(element["selectAction"], f"{path}.selectAction")
        if isinstance(element.get("fallback"), dict):
            self.element(element["fallback"], f"{path}.fallback")

    def input(self, element: dict[str, Any], kind: str, path: str) -> None:
        _text(element, "id", path)
        if element["id"] in self.input_ids:
            raise ValueError(f"{path}: input id {element['id']!r} is used twice")
        self.input_ids.add(element["id"])
        if kind == "Input.ChoiceSet":
            if element.get("style", "compact") not in CHOICE_STYLES:
                raise ValueError(f"{path}: style {element['style']!r} is not in schema 1.5")
            for index, choice in enumerate(self.listed(element, "choices", path)):
                _text(choice, "title", f"{path}.choices[{index}]", empty=True)
                _text(choice, "value", f"{path}.choices[{index}]", empty=True)
        elif kind == "Input.Toggle":
            _text(element, "title", path)
        if isinstance(element.get("inlineAction"), dict):
            self.action(element["inlineAction"], f"{path}.inlineAction")

    def action(self, action: Any, path: str) -> None:
        kind = action.get("type") if isinstance(action, dict) else None
        model = self.actions.get(kind) if isinstance(kind, str) else None
        if model is None:
            raise ValueError(f"{path}: action type {kind!r} is not in schema 1.5 (or not used)")
        self.sdk(model, action, path)
        if kind == "Action.Execute":
            _text(action, "verb", path)
        elif kind == "Action.OpenUrl":
            _text(action, "url", path)
        elif kind == "Action.ShowCard":
            self.card(action.get("card"), f"{path}.card", top=False)
        if isinstance(action.get("fallback"), dict):
            self.action(action["fallback"], f"{path}.fallback")

    def mentions(self, card: dict[str, Any]) -> None:
        teams = card.get(TEAMS_PROPERTY, {})
        if not isinstance(teams, dict) or set(teams) - {"entities"}:
            raise ValueError("card.msteams: only mention entities are sent")
        for index, entity in enumerate(teams.get("entities") or []):
            path = f"card.msteams.entities[{index}]"
            if entity.get("type") != "mention":
                raise ValueError(f"{path}: not a mention")
            _text(entity, "text", path)
            mentioned = entity.get("mentioned")
            if not isinstance(mentioned, dict):
                raise ValueError(f"{path}: mentioned is missing")
            _text(mentioned, "id", f"{path}.mentioned")
            _text(mentioned, "name", f"{path}.mentioned")
            if not any(entity["text"] in text for text in self.texts):
                raise ValueError(f"{path}: {entity['text']!r} appears in no TextBlock")


def validate_card(card: dict[str, Any], *, limit: int | None = None) -> None:
    """Raise ValueError unless ``card`` is a valid Adaptive Card for Teams: version 1.5 or
    earlier; only the element and action types of schema 1.5 that Deskboard uses; required
    properties present; input ids unique; every mention entity found in the text; each
    element, action and the card itself loaded by the Teams SDK's models
    (``microsoft_teams.cards``) with no property they do not know; and, with ``limit``, at
    most that many bytes of JSON."""
    checker = _CardChecker()
    checker.card(card, "card", top=True)
    checker.mentions(card)
    if limit is not None and card_size(card) > limit:
        raise ValueError(f"card: {card_size(card)} bytes, more than {limit}")
