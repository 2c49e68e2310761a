"""Cards against the official Adaptive Card 1.5.0 JSON schema (``schemas/adaptive-card-1.5.json``,
see ``schemas/README.md`` for its source and version).

The official file is used unchanged. The one property Teams needs that it does not declare,
the card's ``msteams`` with mention ``entities``, is taken off the card and checked against the
shape Microsoft documents for it (``TEAMS_MENTIONS``: nothing else may be in it); the rest of
the card is checked against the official schema.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import ValidationError

SCHEMA_FILE = Path(__file__).with_name("schemas") / "adaptive-card-1.5.json"

TEAMS_MENTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["entities"],
    "properties": {
        "entities": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "text", "mentioned"],
                "properties": {
                    "type": {"enum": ["mention"]},
                    "text": {"type": "string", "pattern": "^<at>[^<>]+</at>$"},
                    "mentioned": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["id", "name"],
                        "properties": {
                            "id": {"type": "string", "minLength": 1},
                            "name": {"type": "string", "minLength": 1},
                            "type": {"enum": ["tag"]},  # a tag mention (an alert's mention)
                        },
                    },
                },
            },
        }
    },
}
"""``msteams`` as "Mention support within Adaptive Cards" documents it (Teams platform docs,
task-modules-and-cards/cards/cards-format): entities of type mention, each with the
``<at>…</at>`` text found in the card and the Teams user it stands for, or a team's tag
(``mentioned.type`` "tag", as the docs' tag mentions in channel conversations have it)."""


@cache
def official_schema() -> dict[str, Any]:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft6Validator.check_schema(schema)
    assert schema["id"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    return dict(schema)


@cache
def _validators() -> tuple[Draft6Validator, Draft6Validator]:
    return Draft6Validator(official_schema()), Draft6Validator(TEAMS_MENTIONS)


def _where(error: ValidationError) -> str:
    return "card" + "".join(f"[{p!r}]" for p in error.absolute_path)


def _branch_errors(error: ValidationError) -> list[ValidationError] | None:
    """For "not valid under any of the given schemas" on an element or action: the errors of
    the branch for its own ``type`` (the branch that does not refuse the type)."""
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        by_branch.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
    for errors in by_branch.values():
        if not any(list(e.relative_path) == ["type"] for e in errors):
            return errors
    return None


def _explain(error: ValidationError) -> list[str]:
    if error.validator == "anyOf":
        branch = _branch_errors(error)
        if branch:
            return [line for sub in branch for line in _explain(sub)]
    return [f"{_where(error)}: {error.message[:300]}"]


def schema_errors(card: dict[str, Any]) -> list[str]:
    """Everything the official 1.5 schema (and the documented ``msteams`` shape) refuses."""
    official, mentions = _validators()
    rest = {key: value for key, value in card.items() if key != "msteams"}
    problems = [line for error in official.iter_errors(rest) for line in _explain(error)]
    if "msteams" in card:
        problems += [
            f"card['msteams']{''.join(f'[{p!r}]' for p in e.absolute_path)}: {e.message[:300]}"
            for e in mentions.iter_errors(card["msteams"])
        ]
    return problems


def assert_schema_valid(card: dict[str, Any]) -> None:
    problems = schema_errors(card)
    assert not problems, "not a valid Adaptive Card 1.5:\n" + "\n".join(problems)
